"""Reports from residents: the report form, its confirmation, and tracking by code."""
from __future__ import annotations

import datetime

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block
from peewee import OperationalError

import models
from cases import casework
from extensions import limiter
from vocabulary import ACTOR_LABELS
from web.forms import ANONYMOUS, ReportForm, open_nik, region_code
from web.fragments import cacheable, wants_fragment
from web.limits import CAKUPAN, KIRIM, LAPORAN
from web.origin import anonymous_form

bp = Blueprint("reports", __name__)
OUTCOMES = ("baru", "gabung", "ditolak")  # what the confirmation says, from submit_report

# Fields whose presence marks a filled-in report; a POST with only `nik` or `token_nik`
# (the check result's "Laporkan orang ini" button) opens the form prefilled instead.
FILLED_FIELDS = frozenset((
    "hubungan", "pelapor_nama", "pelapor_nik", "pelapor_telepon", "nama", "no_kk", "alamat",
    "kode_desa", "kategori", "keterangan"))
# The database could not write (locked too long, a write kept colliding, or the server's disk
# is full): nothing was stored, and the form comes back with everything typed so one more tap
# sends it once the service can save again.
BUSY = ("Laporan belum tersimpan: layanan tidak dapat menyimpan data saat ini. Isian Anda "
        "masih ada; tekan “Kirim laporan” lagi sebentar lagi.")
ACTORS = ACTOR_LABELS  # one label per role on every page (vocabulary.py)


def no_store(response):
    """Personal data: never kept by the browser, a proxy, or the back button's cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_prefill() -> bool:
    return not FILLED_FIELDS.intersection(request.form.keys())


def prefilled_form(meta: dict | None = None) -> tuple[ReportForm, str | None]:
    """The form opened from a check result (sealed NIK) or with a NIK typed elsewhere."""
    notice = None
    nik = None
    if "token_nik" in request.form:
        nik = open_nik(request.form["token_nik"])
        if nik is None:
            notice = "Data dari hasil cek sudah kedaluwarsa. Silakan isi NIK lagi."
    else:
        nik = request.form.get("nik", "").strip() or None
    return ReportForm(formdata=None, data={"nik": nik}, meta=meta or {}), notice


def form_context(form: ReportForm) -> dict:
    """The kecamatan list, and the villages of the chosen (or implied) kecamatan."""
    kec = form.kecamatan.data or region_code(form.kode_desa.data)[:8] or None
    Region = models.Region
    kecamatan = (Region.select(Region.kode, Region.nama)
                 .where(Region.tingkat == "kecamatan").order_by(Region.nama).tuples())
    villages = []
    if kec:
        villages = list(Region.select(Region.kode, Region.nama)
                        .where(Region.kecamatan == kec).order_by(Region.nama).tuples())
    return {"form": form, "kecamatan_list": kecamatan, "kec": kec if villages else None,
            "villages": villages, "categories": models.CATEGORIES,
            "sms_on": bool(current_app.config.get("SMS_URL"))}


def render_form(form: ReportForm, *, kiosk: bool = False, notice: str | None = None,
                status: int = 200, **extra):
    if form.errors:
        form.show_as_typed()
    context = form_context(form)
    context.update(kiosk=kiosk, notice=notice, **extra)
    return no_store(make_response(render_template("reports/form.html", **context), status))


def submit(form: ReportForm):
    """Stage 1 and storage; a petugas signed in is taking the report at the office.

    Only a stored report counts against the client's report allowance; its stage-1 result
    answers a coverage question (of the person, or of the family card typed), so it counts
    against the same coverage allowance as a check.
    """
    limiter.check(LAPORAN)
    limiter.hit(CAKUPAN)
    petugas = current_user if getattr(current_user, "role", None) == "petugas" else None
    stored = casework.submit_report(
        form.subject(), form.reporter(),
        assessment_days=current_app.config["ASSESSMENT_DAYS"],
        kantor=petugas.kantor_kode if petugas else None, petugas=petugas)
    limiter.hit(LAPORAN)
    return stored


@bp.route("/lapor", methods=["GET", "POST"])
@anonymous_form
def report_form():
    """Report someone left out; a report about someone already covered is rejected at once."""
    if request.method == "GET":
        return cacheable(make_response(render_template(
            "reports/form.html", **form_context(ReportForm(formdata=None, meta=ANONYMOUS)))))
    limiter.hit(KIRIM)
    if wants_prefill():
        form, notice = prefilled_form(ANONYMOUS)
        return render_form(form, notice=notice)
    form = ReportForm(meta=ANONYMOUS)
    if request.form.get("aksi") == "desa":
        # "Tampilkan desa" without JavaScript: the same form back, villages narrowed.
        return render_form(form)
    if not form.validate():
        return render_form(form)
    try:
        report, outcome = submit(form)
    except (casework.CaseError, OperationalError):
        return render_form(form, notice=BUSY, status=503)
    # Which heading the confirmation shows (new, merged or rejected), in the address rather
    # than a cookie: a resident never gets one.
    return redirect(url_for("reports.status", kode=report.kode, hasil=outcome), code=303)


@bp.get("/lapor/desa")
def villages():
    """The desa list of one kecamatan (htmx narrows the select; without it, the whole form)."""
    form = ReportForm(formdata=None, data={"kecamatan": request.args.get("kecamatan")},
                      meta=ANONYMOUS)
    form.kecamatan.data = region_code(form.kecamatan.data) or None
    context = form_context(form)
    if wants_fragment():
        response = make_response(render_block("reports/form.html", "desa", **context))
    else:
        response = make_response(render_template("reports/form.html", **context))
    response.vary.add("HX-Request")
    return response


def report_page_context(report: models.Report) -> dict:
    events = list(report.events.order_by(models.ReportEvent.at, models.ReportEvent.id))
    history, previous = [], None
    for event in events:
        if event.status == "diterima":
            label = "Laporan diterima"
        elif event.status == previous:
            label = "Laporan tambahan dari pelapor lain"
        else:
            label = models.STATUSES.get(event.status, event.status)
        previous = event.status if event.status != "diterima" else previous
        history.append((event.at, label, ACTORS.get(event.actor, event.actor)))
    return {"r": report, "history": history, "statuses": models.STATUSES,
            "reasons": models.REJECTION_REASONS,
            "delivery_days": current_app.config["DELIVERY_DAYS"],
            # While waiting, the stored deadline; afterwards, when the decision was due.
            "decision_due": report.tenggat if report.status == "menunggu-penilaian"
            else report.tanggal_lapor + datetime.timedelta(
                days=int(current_app.config["ASSESSMENT_DAYS"]))}


@bp.get("/laporan/<kode>")
def status(kode):
    """The confirmation right after reporting, and the tracking page ever after."""
    report = models.Report.by_code(kode)
    if report is None:
        return not_found(kode)
    outcome = request.args.get("hasil") if request.args.get("hasil") in OUTCOMES else None
    return no_store(make_response(render_template(
        "reports/laporan.html", outcome=outcome, **report_page_context(report))))


def not_found(kode: str):
    message = (f"Laporan dengan kode {kode[:20].upper()} tidak ditemukan. "
               "Periksa lagi kode pada bukti laporan Anda: 8 huruf dan angka, "
               "misalnya ABCD-2345.")
    return render_template("reports/lacak.html", kode=kode[:20], error=message), 404


@bp.get("/lacak")
def track():
    """Type a tracking code (any case, with or without the dash) to open the report."""
    kode = request.args.get("kode", "").strip()
    if not kode:
        return cacheable(make_response(render_template("reports/lacak.html", kode="",
                                                       error=None)))
    report = models.Report.by_code(kode)
    if report is None:
        from cases.objections import Objection  # an objection's code is tracked here too

        objection = Objection.by_code(kode)
        if objection is not None:
            return redirect(url_for("transparency.status", kode=objection.kode), code=303)
        return not_found(kode)
    return redirect(url_for("reports.status", kode=report.kode), code=303)
