"""The reviewer's desk: the queue by days left, the case page, decisions and delivery."""
from __future__ import annotations

import datetime
import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from peewee import JOIN, SQL, fn

import models
import objections
from casework import CaseError, decide_eligible, decide_ineligible, record_delivery
from models import Enrolment, Person, Region, Report, Reporter, ReportEvent, Scheme, User
from nik import NikError, clean, parse_nik, parse_no_kk
from views import page_or_fragment, wants_fragment

bp = Blueprint("review", __name__)

REVIEWER_ROLES = ("verifikator", "admin")
PAGE_SIZE = 50
STAGES = {"menunggu-penilaian": "Menunggu penilaian", "layak": "Layak, menunggu penyaluran",
          "sanggahan": "Sanggahan terhadap penerima"}
LEVEL_ORDER = {"kabupaten": 0, "provinsi": 1, "pusat": 2}
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
# Schemes whose target group the NIK can contradict: code -> (who it is for, test on the NIK).
SCHEME_FIT = {
    "RANTANG-KASIH": ("lansia (60 tahun ke atas)", lambda age, female: age >= 60),
    "NUTRISI-BUMIL": ("ibu hamil dan menyusui", lambda age, female: female and 15 <= age <= 50),
}


@bp.before_request
def _reviewers_only():
    """Every route here: anonymous users sign in first, other roles are refused."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role not in REVIEWER_ROLES:
        abort(403)
    return None


@bp.errorhandler(403)
def _forbidden(exc):
    return render_template("errors/error.html", code=403, title="Tidak diizinkan",
                           message="Halaman ini hanya untuk tim verifikasi."), 403


@bp.context_processor
def _helpers():
    return {"tanggal": format_date, "sisa_hari": days_left_words, "STAGES": STAGES,
            "STATUSES": models.STATUSES}


def format_date(day: datetime.date | datetime.datetime | None) -> str:
    """`17 Mei 2020`; a timestamp (stored in UTC) is shown in WIB with its time."""
    if day is None:
        return "–"
    if isinstance(day, datetime.datetime):
        moment = models.to_wib(day)
        return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H.%M} WIB"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def days_left_words(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"terlambat {-days} hari"
    if days == 0:
        return "hari ini batas akhir (sisa 0 hari)"
    return f"sisa {days} hari"


def _me() -> User:
    return current_user._get_current_object()


def _scope() -> str | None:
    """A verifikator with an office sees only that kecamatan; admins see the whole kabupaten."""
    return current_user.kecamatan_scope if current_user.role == "verifikator" else None


def _kecamatan_arg(value: str | None) -> str | None:
    """A kecamatan code from a URL, dotted (`35.10.16`) or not (`351016`); None if unknown."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if len(digits) != 6:
        return None
    code = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
    return code if Region.get_or_none(Region.kode == code, Region.tingkat == "kecamatan") else None


def _page_arg() -> int:
    value = request.args.get("hal", "1")
    return max(int(value), 1) if value.isdigit() and len(value) < 7 else 1


@bp.get("/verifikasi")
def queue():
    """Open cases by days left, most urgent (most overdue) first, then oldest submission."""
    scope = _scope()
    kecamatan = scope or _kecamatan_arg(request.args.get("kecamatan"))
    stage = request.args.get("tahap") or request.args.get("status")
    stage = stage if stage in STAGES else None
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
    scope = _scope()
    if report is None or (scope and report.kecamatan_kode != scope):
        abort(404)
    return report


def _region_names(*codes) -> dict[str, str]:
    wanted = [c for c in codes if c]
    return dict(Region.select(Region.kode, Region.nama).where(Region.kode.in_(wanted))
                .tuples()) if wanted else {}


def _family(no_kk: str, limit: int = 30) -> list:
    """Everyone the register lists on this family card, with what each is enrolled in."""
    return list(
        Person.select(Person.nik, Person.nama, Scheme.kode.alias("skema"),
                      Scheme.nama.alias("skema_nama"), Scheme.tingkat, Scheme.satuan)
        .join(Enrolment, JOIN.LEFT_OUTER,
              on=((Enrolment.person == Person.nik) & Enrolment.berakhir.is_null()))
        .join(Scheme, JOIN.LEFT_OUTER, on=(Scheme.kode == Enrolment.scheme))
        .where(Person.no_kk == no_kk).order_by(Person.nik).limit(limit).namedtuples())


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
                        f"(lahir {format_date(born)}).")
    elif age < 17 and report.kategori in ("kehilangan-penghasilan", "orang-tua-tunggal"):
        warnings.append(f"Kategori „{models.CATEGORIES.get(report.kategori)}“, tetapi menurut "
                        f"NIK umurnya baru {age} tahun.")
    if age > 110:
        warnings.append(f"Menurut NIK umurnya {age} tahun: periksa tanggal lahir di KTP.")
    if person is not None and " ".join(person.nama.upper().split()) != " ".join(
            report.nama.upper().split()):
        warnings.append(f"Nama di data penduduk „{person.nama}“ berbeda dengan nama di laporan "
                        f"„{report.nama}“.")
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
    names = _region_names(report.desa_kode, report.kecamatan_kode, report.kantor_kode,
                          person.desa_kode if person else None,
                          *(r.kantor_kode for r in reporters))
    info, warnings = nik_findings(report, person, today)
    decider = User.get_or_none(User.id == report.diputus_oleh_id) if report.diputus_oleh_id \
        else None
    deliverer = User.get_or_none(User.id == report.disalurkan_oleh_id) \
        if report.disalurkan_oleh_id else None
    context = {
        "report": report, "person": person, "reporters": reporters, "events": events,
        "coverage": models.covering(report.nik, report.no_kk),
        "families": [(kk, _family(kk)) for kk in cards], "names": names,
        "nik_info": info, "warnings": warnings, "today": today,
        "sisa": report.days_left, "schemes": _schemes() if report.status ==
        "menunggu-penilaian" else [],
        "needs_kk": not cards, "decider": decider, "deliverer": deliverer,
        "scheme": Scheme.get_or_none(Scheme.kode == report.skema_kode) if report.skema_kode
        else None,
        "CATEGORIES": models.CATEGORIES, "REASONS": models.REJECTION_REASONS,
        "error": None, "form": {}, "notices": get_flashed_messages(category_filter=["kasus"]),
    }
    context.update(extra)
    return context


def _render_case(report: Report, status: int = 200, **extra):
    # Under htmx a failed form still answers 200: htmx 2 does not swap 4xx responses.
    return page_or_fragment("review/case.html", "kasus", status=200 if wants_fragment()
                            else status, no_store=True, **_case_context(report, **extra))


@bp.get("/verifikasi/<kode>")
def case(kode):
    """Everything a reviewer needs to decide: subject, reporters, register, history."""
    if Report.by_code(kode) is None and objections.Objection.by_code(kode) is not None:
        from views import objection_desk  # it imports this module

        return objection_desk.case(kode)
    return _render_case(_case_or_404(kode))


def _done(report: Report, notice: str):
    """PRG without JavaScript; the updated case in place under htmx."""
    if wants_fragment():
        return _render_case(Report.get_by_id(report.id), notices=[notice])
    flash(notice, "kasus")
    return redirect(url_for("review.case", kode=report.kode), code=303)


@bp.post("/verifikasi/<kode>/putusan")
def decide(kode):
    """Decide a case: `layak` (enrol in a scheme) or `tidak-layak` (reason and note)."""
    report = _case_or_404(kode)
    form = request.form
    putusan = form.get("putusan", "")
    catatan = form.get("catatan", "").strip()[:1000]
    status, error, field = 422, None, None
    try:
        if putusan == "layak":
            skema = form.get("skema", "").strip()
            no_kk = None
            if not skema:
                error, field = "Pilih skema bantuan untuk orang yang layak.", "skema"
            elif clean(form.get("no_kk")):
                try:
                    no_kk = parse_no_kk(form.get("no_kk"))
                except NikError as exc:
                    error, field = str(exc), "no_kk"
            if error is None:
                updated = decide_eligible(
                    report, skema, _me(), no_kk=no_kk, catatan=catatan,
                    delivery_days=int(current_app.config["DELIVERY_DAYS"]))
                return _done(updated, f"Putusan tersimpan: layak, didaftarkan di "
                                      f"{updated.skema_kode}. Bantuan harus disalurkan paling "
                                      f"lambat {format_date(updated.tenggat)}.")
        elif putusan == "tidak-layak":
            alasan = form.get("alasan", "")
            if alasan not in models.REJECTION_REASONS:
                error, field = "Pilih alasan tidak layak.", "alasan"
            else:
                decide_ineligible(report, alasan, _me(), catatan)
                return _done(report, "Putusan tersimpan: tidak layak "
                                     f"({models.REJECTION_REASONS[alasan].lower()}).")
        else:
            error = "Pilih putusan: layak atau tidak layak."
    except CaseError as exc:
        # A field problem is the reviewer's to fix (422); anything else is a conflict (409).
        status, error, field = (422 if exc.field else 409), str(exc), exc.field
    return _render_case(Report.get_by_id(report.id), status=status, error=error,
                        error_field=field, error_form=putusan, form=form)


def _parse_day(value: str | None) -> datetime.date | None:
    """`2020-05-17` from a date input, or `17-05-2020` / `17/05/2020` typed by hand."""
    value = (value or "").strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


@bp.post("/verifikasi/<kode>/salurkan")
def deliver(kode):
    """Record that the aid was handed over (today when no date is given)."""
    report = _case_or_404(kode)
    keterangan = request.form.get("keterangan", "").strip()[:500]
    try:
        raw = request.form.get("tanggal", "").strip()
        day = _parse_day(raw) if raw else None
        updated = record_delivery(report, _me(), day, keterangan)
    except ValueError:
        error, field = "Tanggal penyaluran tidak dapat dibaca. Tulis seperti 17-05-2020.", "tanggal"
        status = 422
    except CaseError as exc:
        error, field, status = str(exc), exc.field, (422 if exc.field else 409)
    else:
        when = ("tepat waktu" if updated.tepat_waktu else
                f"terlambat {(updated.tanggal_salur - updated.tenggat).days} hari")
        return _done(updated, f"Penyaluran tercatat pada {format_date(updated.tanggal_salur)} "
                              f"({when}). Kasus ditutup.")
    return _render_case(Report.get_by_id(report.id), status=status, error=error,
                        error_field=field, error_form="salurkan", form=request.form)
