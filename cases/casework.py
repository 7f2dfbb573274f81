"""The life of a report: submission with stage 1, assessment (stage 2) and delivery.

Each function is one transaction. Conditional updates (`WHERE status = ...`) make sure that of
two reviewers acting on one case at once exactly one succeeds, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime
import secrets

from peewee import IntegrityError

import models
from errors import RuleError
from formats import long_date, to_wib
from models import Person, Report, Reporter, ReportEvent, User
from sms import notify

# No O/0 or I/1: easy to read aloud and to type on a phone keypad.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class CaseError(RuleError):
    """An action the case's state or the register's rules forbid; the message is for staff."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _actor(user: User | None) -> str:
    return user.role if user is not None else "warga"


def _log(report: Report, status: str, actor: str, user: User | None = None, note: str = ""):
    ReportEvent.create(report=report, status=status, actor=actor, user=user, note=note)


def submit_report(subject: dict, reporter: dict, *, assessment_days: int = 7,
                  kantor: str | None = None, petugas: User | None = None):
    """Store a report and run stage 1. Returns (report, outcome).

    outcome: `baru` (a new case awaiting assessment), `ditolak` (rejected at once because the
    person or their family is already covered) or `gabung` (attached to the open case about the
    same NIK; the reporter gets that case's code).
    subject: nik, nama, no_kk (or None), alamat, desa (code), kategori, keterangan.
    reporter: hubungan, nama, nik (or None), telepon (or None).
    """
    kanal = "kantor" if petugas is not None else "daring"
    actor = _actor(petugas)
    reporter_row = dict(reporter, kanal=kanal, kantor=kantor, petugas=petugas)
    for _attempt in range(3):
        with models.db.atomic():
            existing = _open_case(subject["nik"])
            if existing is not None:
                report = _attach(existing, reporter_row, actor, petugas)
                notify.report_received(report, reporter, "gabung")
                return report, "gabung"
            coverage = models.covering(subject["nik"], subject.get("no_kk"))
            now = models.utcnow()
            submitted = to_wib(now).date()
            fields = dict(subject, kecamatan=subject["desa"][:8], kanal=kanal, kantor=kantor,
                          created_at=now, tanggal_lapor=submitted)
            if coverage.covered:
                fields.update(status="ditolak-otomatis", skema_penutup=coverage.skema,
                              penutup_via="nik" if coverage.status == "terdaftar"
                              else "keluarga")
            else:
                fields.update(status="menunggu-penilaian",
                              tenggat=submitted + datetime.timedelta(days=assessment_days))
            try:
                # A savepoint: on PostgreSQL a failed insert must not poison the transaction.
                with models.db.atomic():
                    report = _insert(Report, dict(fields, kode=new_code()))
            except IntegrityError:
                # Another worker opened a case about this NIK a moment ago (or, once in a
                # trillion, the random code was taken): look again.
                continue
            _insert(Reporter, dict(reporter_row, report=report, created_at=now))
            received = dict(report=report, status="diterima", actor=actor, user=petugas,
                            note="Laporan diterima.", at=now)
            if coverage.covered:
                stage1 = dict(status="ditolak-otomatis", note=(
                    f"{'NIK' if coverage.status == 'terdaftar' else 'Keluarga'} sudah "
                    f"terdaftar di {coverage.skema} (tingkat {coverage.level_label})."))
            else:
                stage1 = dict(status="menunggu-penilaian",
                              note="Lolos tahap 1: belum terdaftar di bantuan mana pun.")
            _insert(ReportEvent, received)
            _insert(ReportEvent, dict(received, actor="sistem", user=None, **stage1))
            outcome = "ditolak" if coverage.covered else "baru"
            notify.report_received(report, reporter, outcome)
            return report, outcome
    raise CaseError("Laporan tidak dapat disimpan saat ini. Silakan coba lagi.")


# Submission is the hot write path (every resident's report, several workers at once): its
# statements are compiled once per backend and run through the DB-API, as models.covering does,
# because building them with Peewee's query builder costs more than the database running them.
_compiled: dict[tuple, str] = {}


def _open_case(nik: str) -> Report | None:
    # The literal IN (...) repeats the partial unique index's WHERE term, so SQLite uses it.
    database = models.db
    sql = _compiled.get(("open", database.param))
    if sql is None:
        statuses = ", ".join(f"'{status}'" for status in models.OPEN_STATUSES)
        sql = _compiled[("open", database.param)] = (
            f"SELECT id FROM laporan WHERE nik = {database.param} AND status IN ({statuses})")
    row = database.execute_sql(sql, (nik,)).fetchone()
    return None if row is None else Report.get_by_id(row[0])


def _insert(model, values: dict):
    """`model.create(**values)` with the INSERT compiled once per model, columns and backend."""
    database, meta = models.db, model._meta
    row = dict(values)
    for field, default in meta.defaults.items():
        if field.name not in row:
            row[field.name] = default() if callable(default) else default
    key = (model, tuple(row), database.param)
    sql = _compiled.get(key)
    if sql is None:
        columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in row)
        marks = ", ".join([database.param] * len(row))
        sql = f'INSERT INTO "{meta.table_name}" ({columns}) VALUES ({marks})'
        if database.returning_clause:
            sql += ' RETURNING "id"'
        _compiled[key] = sql
    cursor = database.execute_sql(
        sql, [meta.fields[name].db_value(value) for name, value in row.items()])
    new_id = cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid
    return model(id=new_id, **row)


def _attach(report: Report, reporter_row: dict, actor: str, petugas: User | None) -> Report:
    Reporter.create(report=report, **reporter_row)
    (Report.update(jumlah_pelapor=Report.jumlah_pelapor + 1)
     .where(Report.id == report.id).execute())
    _log(report, report.status, actor, petugas, "Pelapor tambahan untuk orang yang sama.")
    return Report.get_by_id(report.id)


def _transition(report: Report, old: str, **changes) -> None:
    """Move the case on only if it is still in `old`; otherwise someone else got there first."""
    updated = (Report.update(**changes)
               .where(Report.id == report.id, Report.status == old).execute())
    if updated != 1:
        current = Report.get_by_id(report.id)
        raise CaseError(
            f"Laporan ini sudah diproses petugas lain (status sekarang: "
            f"{models.STATUSES[current.status].lower()}). Tidak ada yang diubah; "
            "muat ulang halaman untuk melihat keadaan terbaru.")


def decide_eligible(report: Report, scheme: str, user: User, *, no_kk: str | None = None,
                    catatan: str = "", delivery_days: int = 7) -> Report:
    """`layak`: enrol the person in `scheme` in the same transaction, start the delivery clock.

    Any failure (already decided, scheme closed, the person or family enrolled meanwhile) rolls
    the whole transaction back: status, register and history stay as they were.
    """
    with models.db.atomic():
        scheme_row = models.Scheme.get_or_none(models.Scheme.kode == scheme)
        if scheme_row is None:
            raise CaseError("Skema bantuan tidak dikenal. Pilih skema dari daftar.", "skema")
        if not scheme_row.aktif:
            raise CaseError(f"Skema {scheme_row.kode} sudah tidak menerima peserta baru.",
                            "skema")
        now = models.utcnow()
        decided = to_wib(now).date()
        _transition(report, "menunggu-penilaian", status="layak", skema=scheme_row.kode,
                    diputus_at=now, tanggal_putusan=decided, diputus_oleh=user,
                    catatan=catatan,
                    tenggat=decided + datetime.timedelta(days=delivery_days))
        person = Person.get_or_none(Person.nik == report.nik)
        register_card = person.no_kk if person is not None else None
        # The register's card stands; otherwise the one typed now, else the reporter's.
        family_card = register_card or no_kk or report.no_kk
        if scheme_row.satuan == "keluarga" and not family_card:
            raise CaseError(f"Skema {scheme_row.kode} adalah bantuan keluarga: isi No. KK "
                            "keluarga ini.", field="no_kk")
        if person is None:
            # A savepoint-free insert that tolerates an import adding the person meanwhile.
            Person.insert(nik=report.nik, no_kk=family_card, nama=report.nama,
                          alamat=report.alamat,
                          desa=report.desa_kode).on_conflict_ignore().execute()
        try:
            models.enrol(report.nik, scheme_row, sumber=f"laporan:{report.kode}", sejak=decided,
                         no_kk=None if register_card else family_card)
        except models.RegisterError as exc:
            raise CaseError(f"Tidak dapat didaftarkan: {exc} Putusan tidak disimpan.") from None
        if family_card and report.no_kk != family_card:
            Report.update(no_kk=family_card).where(Report.id == report.id).execute()
        _log(report, "layak", user.role, user,
             f"Layak; didaftarkan di {scheme_row.kode}." + (f" {catatan}" if catatan else ""))
        return _tell(report, notify.report_decided)


def decide_ineligible(report: Report, alasan: str, user: User, catatan: str = "") -> Report:
    """`tidak layak` with a reason code and a note; the case closes."""
    if alasan not in models.REJECTION_REASONS:
        raise CaseError("Pilih alasan tidak layak.", "alasan")
    if alasan == "lainnya" and not catatan.strip():
        raise CaseError("Untuk alasan lain, tulis penjelasannya di catatan.", "catatan")
    with models.db.atomic():
        now = models.utcnow()
        _transition(report, "menunggu-penilaian", status="tidak-layak", alasan=alasan,
                    catatan=catatan, diputus_at=now,
                    tanggal_putusan=to_wib(now).date(), diputus_oleh=user, tenggat=None)
        _log(report, "tidak-layak", user.role, user,
             models.REJECTION_REASONS[alasan] + (f". {catatan}" if catatan else ""))
        return _tell(report, notify.report_decided)


def record_delivery(report: Report, user: User, tanggal: datetime.date | None = None,
                    keterangan: str = "") -> Report:
    """The aid was handed over: the case closes, and whether it met the deadline is kept."""
    today = models.today()
    day = tanggal or today
    if day > today:
        raise CaseError("Tanggal penyaluran tidak boleh di masa depan.", "tanggal")
    with models.db.atomic():
        # Read again inside the transaction: the decision date and deadline must be current.
        current = Report.get_by_id(report.id)
        if current.status != "layak":
            if current.status == "menunggu-penilaian":
                raise CaseError("Laporan ini belum dinyatakan layak; penyaluran belum dapat "
                                "dicatat.")
            raise CaseError(f"Penyaluran tidak dapat dicatat: status laporan sekarang "
                            f"{models.STATUSES[current.status].lower()}.")
        if current.tanggal_putusan and day < current.tanggal_putusan:
            raise CaseError("Tanggal penyaluran tidak boleh sebelum tanggal putusan layak ("
                            f"{long_date(current.tanggal_putusan)}).", "tanggal")
        on_time = current.tenggat is not None and day <= current.tenggat
        _transition(current, "layak", status="tersalurkan", tanggal_salur=day,
                    disalurkan_oleh=user, keterangan_salur=keterangan, tepat_waktu=on_time)
        late = (f" ({(day - current.tenggat).days} hari lewat tenggat)"
                if current.tenggat and not on_time else "")
        _log(report, "tersalurkan", user.role, user,
             f"Disalurkan {long_date(day)}, " + ("tepat waktu." if on_time else f"terlambat{late}.")
             + (f" {keterangan}" if keterangan else ""))
        return _tell(report, notify.report_delivered)


def _tell(report: Report, update) -> Report:
    """The case as it now stands; its reporters who asked for updates get one by SMS, queued
    in the same transaction as the change."""
    current = Report.get_by_id(report.id)
    update(current)
    return current
