"""The reviewer's desk: the queue by days left, the case page, decisions and delivery."""
from __future__ import annotations

import datetime
import math

from flask import (
    Blueprint,
    abort,
    current_app,
    get_flashed_messages,
    request,
)
from peewee import JOIN, SQL, fn

import models
from cases import objections
from cases.casework import decide_eligible, decide_ineligible, record_delivery
from covering import scheme_verdicts, standing
from formats import whole_number
from models import Person, Region, Report, Reporter, ReportEvent, Scheme, User
from nik import NikError, clean, parse_nik, parse_no_kk
from office.desil import desil_of, verdicts
from sms.models import OutboundMessage
from vocabulary import QUEUE_STAGES, mid_sentence
from web import desk
from web.fragments import page_or_fragment
from web.gates import gate

bp = Blueprint("review", __name__)
gate(bp, *desk.REVIEWER_ROLES, message=desk.FOR_REVIEWERS)
bp.context_processor(desk.helpers)

PAGE_SIZE = 50
LEVEL_ORDER = {"kabupaten": 0, "provinsi": 1, "pusat": 2}

LEVEL_ORDER = {"kabupaten": 0, "provinsi": 1, "pusat": 2}
# Schemes whose target group the NIK can contradict: code -> (who it is for, test on the NIK).
SCHEME_FIT = {
    "RANTANG-KASIH": ("lansia (60 tahun ke atas)", lambda age, female: age >= 60),
    "NUTRISI-BUMIL": ("ibu hamil dan menyusui", lambda age, female: female and 15 <= age <= 50),
}


def _kecamatan_arg(value: str | None) -> str | None:
    """A kecamatan code from a URL, dotted (`35.10.16`) or not (`351016`); None if unknown."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if len(digits) != 6:
        return None
    code = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
    return code if Region.get_or_none(Region.kode == code, Region.tingkat == "kecamatan") else None


def _page_arg() -> int:
    return whole_number(request.args.get("hal"), 1, 999_999) or 1


@bp.get("/verifikasi")
def queue():
    """Open cases by days left, most urgent (most overdue) first, then oldest submission."""
    scope = desk.reviewer_scope()
    kecamatan = scope or _kecamatan_arg(request.args.get("kecamatan"))
    stage = request.args.get("tahap") or request.args.get("status")
    stage = stage if stage in QUEUE_STAGES else None
    today = models.today()  # read on every request: deadlines move with the calendar
    query = Report.open_queue(kecamatan, None if stage == "sanggahan" else stage)
    # Counted inside the covering queue index (two range counts beat one SUM(CASE ...)).
    total = query.select(fn.COUNT(SQL("*"))).order_by().scalar() if stage != "sanggahan" else 0
    overdue = (query.where(Report.tenggat < today).select(fn.COUNT(SQL("*"))).order_by()
               .scalar()) if total else 0
    # Objections (sanggahan) wait on the same seven-day clock and sort with the reports.
    objection_total, objection_overdue = objections.queue_counts(kecamatan, stage, today)
    total, overdue = total + objection_total, overdue + objection_overdue
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(_page_arg(), pages)
    columns = (Report.id, Report.kode, Report.status, Report.nama, Report.desa,
               Report.kecamatan, Report.jumlah_pelapor, Report.tenggat, Report.tanggal_lapor)
    keys = None
    if objection_total or stage == "sanggahan":
        keys = objections.merged_queue(kecamatan, stage, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        rows = Report.select(*columns).where(Report.id.in_([i for k, i in keys if k == "L"]))
    elif page == 1:
        rows = query.select(*columns).limit(PAGE_SIZE)
    else:
        # A deep OFFSET walks only the covering index for ids, then reads 50 rows: PostgreSQL
        # would otherwise sort the whole queue (90 ms at page 1000 of 50,000 cases, now 4 ms).
        ids = query.select(Report.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        rows = (Report.select(*columns).where(Report.id.in_(ids))
                .order_by(Report.tenggat, Report.created_at, Report.id))
    rows = list(rows.namedtuples())
    cases = [{
        "id": r.id, "jenis": "laporan", "kode": r.kode, "tampil": f"{r.kode[:4]}-{r.kode[4:]}",
        "status": r.status, "nama": models.mask_name(r.nama), "desa": r.desa,
        "kecamatan": r.kecamatan, "pelapor": r.jumlah_pelapor,
        "tenggat": r.tenggat, "lapor": r.tanggal_lapor,
        "sisa": (r.tenggat - today).days if r.tenggat else None,
    } for r in rows]
    if keys is not None:
        found = objections.queue_rows([i for k, i in keys if k == "S"], today)
        by_id = {c["id"]: c for c in cases}
        cases = [by_id[i] if k == "L" else found[i] for k, i in keys]
    codes = {c["desa"] for c in cases} | {c["kecamatan"] for c in cases}
    names = dict(Region.select(Region.kode, Region.nama).where(Region.kode.in_(list(codes)))
                 .tuples()) if codes else {}
    for c in cases:
        c["desa"], c["kecamatan"] = names.get(c["desa"], c["desa"]), names.get(
            c["kecamatan"], c["kecamatan"])
    filters = {k: v for k, v in (("kecamatan", None if scope else kecamatan),
                                 ("tahap", stage)) if v}
    return page_or_fragment(
        "review/queue.html", "antrian", cases=cases, total=total, overdue=overdue, page=page,
        pages=pages, filters=filters, kecamatan=kecamatan, stage=stage, scope=scope,
        scope_name=Region.get_by_id(scope).nama if scope else None,
        kecamatan_list=[] if scope else
        Region.kecamatan_list().select(Region.kode, Region.nama).tuples(),
        today=today, no_store=True)


def _case_or_404(kode: str) -> Report:
    """The case with this code, if it exists and lies within the reviewer's kecamatan."""
    report = Report.by_code(kode)
    scope = desk.reviewer_scope()
    if report is None or (scope and report.kecamatan_kode != scope):
        abort(404)
    return report


def nik_findings(report: Report, person: Person | None, today: datetime.date):
    """What the NIK says about birth date and sex, and where it disagrees with the report."""
    warnings: list[str] = []
    try:
        parsed = parse_nik(report.nik, today)
    except NikError as exc:
        return None, [f"NIK tidak dapat dibaca: {exc} Periksa KTP atau KK orang ini."]
    born = parsed.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    info = {"lahir": born, "umur": age, "kelamin": "perempuan" if parsed.female else "laki-laki"}
    if report.kategori == "lansia-sebatang-kara" and age < 60:
        warnings.append(f"Dilaporkan sebagai lansia, tetapi menurut NIK umurnya {age} tahun "
                        f"(lahir {desk.format_date(born)}).")
    elif age < 17 and report.kategori in ("kehilangan-penghasilan", "orang-tua-tunggal"):
        warnings.append(f"Kategori “{models.CATEGORIES.get(report.kategori)}”, tetapi menurut "
                        f"NIK umurnya baru {age} tahun.")
    if age > 110:
        warnings.append(f"Menurut NIK umurnya {age} tahun: periksa tanggal lahir di KTP.")
    if person is not None and " ".join(person.nama.upper().split()) != " ".join(
            report.nama.upper().split()):
        warnings.append(f"Nama di data penduduk “{person.nama}” berbeda dengan nama di laporan "
                        f"“{report.nama}”.")
    if person is not None and person.no_kk and report.no_kk and person.no_kk != report.no_kk:
        warnings.append(f"No. KK di data penduduk ({person.no_kk}) berbeda dengan No. KK di "
                        f"laporan ({report.no_kk}).")
    for kode, (target, fits) in SCHEME_FIT.items():
        if not fits(age, parsed.female):
            info.setdefault("tidak_cocok", {})[kode] = (
                f"{kode} untuk {target}; menurut NIK orang ini {info['kelamin']}, {age} tahun.")
    return info, warnings


def _schemes():
    """Active schemes for the decision, kabupaten ones first (the usual choice)."""
    schemes = list(Scheme.select().where(Scheme.aktif == True))  # noqa: E712
    return sorted(schemes, key=lambda s: (LEVEL_ORDER.get(s.tingkat, 9), s.nama))


def _case_context(report: Report, **extra) -> dict:
    today = models.today()
    person = Person.get_or_none(Person.nik == report.nik)
    reporters = list(Reporter.select(Reporter, User).join(User, JOIN.LEFT_OUTER)
                     .where(Reporter.report == report).order_by(Reporter.created_at, Reporter.id))
    events = list(ReportEvent.select(ReportEvent, User).join(User, JOIN.LEFT_OUTER)
                  .where(ReportEvent.report == report).order_by(ReportEvent.at, ReportEvent.id))
    cards = [kk for kk in dict.fromkeys([person.no_kk if person else None, report.no_kk]) if kk]
    names = desk.region_names(report.desa_kode, report.kecamatan_kode, report.kantor_kode,
                          person.desa_kode if person else None,
                          *(r.kantor_kode for r in reporters))
    info, warnings = nik_findings(report, person, today)
    desil = desil_of(cards[0] if cards else None)
    schemes = _schemes() if report.status == "menunggu-penilaian" else []
    # The card a decision would weigh (casework.decide_eligible): the register's, else the
    # reporter's; the one standing both this page and models.enrol read.
    found = desk.scoped_standing(
        standing(report.nik, (person.no_kk if person else None) or report.no_kk))
    decider = User.get_or_none(User.id == report.diputus_oleh_id) if report.diputus_oleh_id \
        else None
    deliverer = User.get_or_none(User.id == report.disalurkan_oleh_id) \
        if report.disalurkan_oleh_id else None
    context = {
        "report": report, "person": person, "reporters": reporters, "events": events,
        "coverage": found.coverage, "standing": found,
        "register_verdicts": {s.kode: (allowed, why) for s, allowed, why
                              in scheme_verdicts(found, schemes)},
        "families": [(kk, desk.family(kk)) for kk in cards], "names": names,
        "nik_info": info, "warnings": warnings, "today": today,
        "sisa": report.days_left, "schemes": schemes, "desil": desil,
        "desil_verdicts": {s.kode: (allowed, why) for s, allowed, why in verdicts(desil, schemes)},
        "needs_kk": not cards, "decider": decider, "deliverer": deliverer,
        "scheme": Scheme.get_or_none(Scheme.kode == report.skema_kode) if report.skema_kode
        else None,
        "sms": list(OutboundMessage.of_report(report.id)),
        "CATEGORIES": models.CATEGORIES, "REASONS": models.REJECTION_REASONS,
        "error": None, "form": {}, "notices": get_flashed_messages(category_filter=["kasus"]),
    }
    context.update(extra)
    return context


def _render_case(report: Report, status: int = 200, **extra):
    return page_or_fragment("review/case.html", "kasus", status=status, no_store=True,
                            **_case_context(report, **extra))


@bp.get("/verifikasi/<kode>")
def case(kode):
    """Everything a reviewer needs to decide: subject, reporters, register, history."""
    if Report.by_code(kode) is None and objections.Objection.by_code(kode) is not None:
        # One address for every case code: an objection's page is the objection desk's view.
        return current_app.view_functions["objection_desk.case"](kode)
    return _render_case(_case_or_404(kode))


@bp.post("/verifikasi/<kode>/putusan")
def decide(kode):
    """Decide a case: `layak` (enrol in a scheme) or `tidak-layak` (reason and note)."""
    report = _case_or_404(kode)
    form, putusan, catatan = desk.decision_form()

    def action():
        if putusan == "layak":
            skema = form.get("skema", "").strip()
            if not skema:
                raise desk.FormProblem("Pilih skema bantuan untuk orang yang layak.", "skema")
            no_kk = None
            if clean(form.get("no_kk")):
                try:
                    no_kk = parse_no_kk(form.get("no_kk"))
                except NikError as exc:
                    raise desk.FormProblem(str(exc), "no_kk") from None
            updated = decide_eligible(report, skema, desk.me(), no_kk=no_kk, catatan=catatan,
                                      delivery_days=int(current_app.config["DELIVERY_DAYS"]))
            return updated, (f"Putusan tersimpan: layak, didaftarkan di {updated.skema_kode}. "
                             "Bantuan harus disalurkan paling lambat "
                             f"{desk.format_date(updated.tenggat)}.")
        if putusan == "tidak-layak":
            alasan = form.get("alasan", "")
            if alasan not in models.REJECTION_REASONS:
                raise desk.FormProblem("Pilih alasan tidak layak.", "alasan")
            decide_ineligible(report, alasan, desk.me(), catatan)
            return report, ("Putusan tersimpan: tidak layak "
                            f"({mid_sentence(models.REJECTION_REASONS[alasan])}).")
        raise desk.FormProblem("Pilih putusan: layak atau tidak layak.")

    return _decision(report, action, putusan, form)


def _decision(report: Report, action, form_name: str, form):
    return desk.decision(action, render=_render_case, reload=lambda: Report.get_by_id(report.id),
                    endpoint="review.case", category="kasus", form_name=form_name, form=form)


@bp.post("/verifikasi/<kode>/salurkan")
def deliver(kode):
    """Record that the aid was handed over (today when no date is given)."""
    report = _case_or_404(kode)
    keterangan = request.form.get("keterangan", "").strip()[:500]

    def action():
        day = desk.typed_day(request.form.get("tanggal"),
                        "Tanggal penyaluran tidak dapat dibaca. Tulis seperti 17-05-2020.")
        updated = record_delivery(report, desk.me(), day, keterangan)
        when = ("tepat waktu" if updated.tepat_waktu else
                f"terlambat {(updated.tanggal_salur - updated.tenggat).days} hari")
        return updated, ("Penyaluran tercatat pada "
                         f"{desk.format_date(updated.tanggal_salur)} ({when}). Kasus ditutup.")

    return _decision(report, action, "salurkan", request.form)
