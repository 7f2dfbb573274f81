"""The office kiosk: check and report in large type for people without a phone.

A shared screen: every step is Post/Redirect/Get, what the screen shows between steps lives in
the session (the NIK sealed), and each report form carries a one-time token, so neither the back
button nor a reload shows the previous person's data or submits their report twice.
"""
from __future__ import annotations

import datetime
import secrets

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from peewee import OperationalError

import models
from cases import casework, lookup
from extensions import limiter
from views.reports import (
    BUSY,
    no_store,
    prefilled_form,
    render_form,
    report_page_context,
    submit,
    wants_prefill,
)
from web.forms import CheckForm, ReportForm, open_nik, seal_nik
from web.gates import me, roles
from web.limits import CAKUPAN

bp = Blueprint("staff", __name__)

CHECK, ONCE, RECEIPT = "kios_cek", "kios_sekali", "kios_terima"


petugas_required = roles(
    "petugas", title="Khusus petugas kantor",
    message="Kios pelayanan hanya untuk akun petugas kantor desa/kelurahan atau kecamatan.")
"""Signed-in office staff only; others are sent to sign in, or refused."""


def clear_kiosk() -> None:
    for key in (CHECK, ONCE, RECEIPT):
        session.pop(key, None)


def once_token() -> str:
    if ONCE not in session:
        session[ONCE] = secrets.token_urlsafe(12)
    return session[ONCE]


def kiosk_page(form: ReportForm, *, check=None, notice=None, status=200):
    return render_form(form, kiosk=True, notice=notice, status=status, check=check,
                       check_form=CheckForm(formdata=None), once=once_token())


def check_result(stored: dict | None) -> tuple[lookup.Answer | None, str | None]:
    """The check shown on screen (from the session) and the NIK to prefill the report with."""
    if not stored:
        return None, None
    if "galat" in stored:
        return lookup.invalid(stored["galat"]), None
    nik = open_nik(stored.get("token"))
    if nik is None:
        return None, None
    result = lookup.answer(nik)
    return result, nik if result.invites_report else None


@bp.get("/kios")
@petugas_required
def kiosk():
    """The kiosk screen: a NIK check and a clean report form."""
    session.pop(RECEIPT, None)
    check, nik = check_result(session.get(CHECK))
    form = ReportForm(formdata=None, data={"nik": nik})
    return kiosk_page(form, check=check)


@bp.post("/kios/cek")
@petugas_required
def check():
    """Check a NIK at the office; the answer is shown after a redirect (no re-post on back)."""
    form = CheckForm()
    if form.validate():
        limiter.hit(CAKUPAN)  # the kiosk account's own allowance, never the residents'
        session[CHECK] = {"token": seal_nik(form.nik.data)}
    else:
        session[CHECK] = {"galat": form.nik.errors[0]}
    return redirect(url_for("staff.kiosk"), code=303)


@bp.post("/kios")
@petugas_required
def report():
    """Take a report in person: stamped with channel `kantor`, this office and this petugas."""
    if request.form.get("sekali") != session.get(ONCE):
        # A form already sent (back button, reload, double tap) or from an old screen.
        if session.get(RECEIPT):
            return redirect(url_for("staff.receipt"), code=303)
        flash("Formulir itu sudah terkirim atau sudah lama. Silakan isi laporan baru.")
        return redirect(url_for("staff.kiosk"), code=303)
    if wants_prefill():
        form, notice = prefilled_form()
        return kiosk_page(form, notice=notice)
    form = ReportForm()
    if request.form.get("aksi") == "desa" or not form.validate():
        return kiosk_page(form)
    try:
        report, _outcome = submit(form)
    except (casework.CaseError, OperationalError):
        return kiosk_page(form, notice=BUSY, status=503)
    clear_kiosk()
    session[RECEIPT] = report.kode
    return redirect(url_for("staff.receipt"), code=303)


@bp.get("/kios/tanda-terima")
@petugas_required
def receipt():
    """The printable receipt of the report just taken; gone once the next person starts."""
    report = models.Report.by_code(session.get(RECEIPT))
    if report is None:
        return redirect(url_for("staff.kiosk"), code=303)
    return no_store(make_response(render_template(
        "staff/receipt.html", **report_page_context(report))))


def todays_reports(limit: int = 10) -> list:
    """The reports this account took today (WIB), latest first: (code, time) to reprint."""
    start = datetime.datetime.combine(models.today(), datetime.time(), models.WIB)
    return list(models.Reporter.select(models.Report.kode, models.Reporter.created_at)
                .join(models.Report)
                .where(models.Reporter.petugas == me().id,
                       models.Reporter.created_at >= start.astimezone(datetime.UTC)
                       .replace(tzinfo=None))
                .order_by(models.Reporter.created_at.desc()).limit(limit).tuples())


@bp.get("/kios/cetak-ulang")
@petugas_required
def reprints():
    """The reports this account took today, to print a receipt again: a page of its own, so
    the kiosk screen the next person sees shows nothing of the previous ones."""
    clear_kiosk()
    return no_store(make_response(render_template("staff/cetak_ulang.html",
                                                  reports=todays_reports())))


@bp.post("/kios/cetak-ulang")
@petugas_required
def reprint():
    """Show again the receipt of a report this account took today (a jammed printer)."""
    kode = request.form.get("kode", "")
    if kode not in {k for k, _at in todays_reports()}:
        flash("Bukti laporan itu tidak dapat dicetak ulang di kios ini.")
        return redirect(url_for("staff.kiosk"), code=303)
    clear_kiosk()
    session[RECEIPT] = kode
    return redirect(url_for("staff.receipt"), code=303)


@bp.post("/kios/selesai")
@petugas_required
def clear():
    """"Laporan berikutnya" / "Bersihkan layar": forget the previous person, show a clean form."""
    clear_kiosk()
    return redirect(url_for("staff.kiosk"), code=303)
