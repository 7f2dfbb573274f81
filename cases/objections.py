"""Objections (sanggahan): a resident disputes a listed recipient; a reviewer keeps or ends it.

No Flask imports, like models.py. An objection is a case about one active enrolment: while it is
open, a further objection about the same enrolment attaches to it (its objector gets the same
tracking code), as duplicate reports do. Deciding it either keeps the enrolment or ends it through
models.end_enrolment, in one transaction with the status change. Objectors are known to staff
only; the public tracking page never names them.
"""
from __future__ import annotations

import datetime
import hashlib
import heapq
import re

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
    fn,
)

import models
from cases.casework import CaseError, new_code
from database import BaseModel
from formats import long_date, to_wib, whole_number
from models import Enrolment, Person, Region, Report, Scheme, TrackedCase, User
from sms import models as sms_log
from sms import notify

REASONS = {
    "mampu": "Sudah mampu, tidak perlu dibantu lagi",
    "meninggal": "Sudah meninggal dunia",
    "pindah": "Sudah pindah tempat tinggal",
    "ganda": "Terdaftar ganda (menerima bantuan lain atau di tempat lain)",
    "lainnya": "Alasan lain",
}
OPEN = "menunggu-penilaian"
STATUSES = {
    OPEN: "Menunggu penilaian",
    "dipertahankan": "Penerima tetap terdaftar (sanggahan tidak diterima)",
    "diakhiri": "Kepesertaan diakhiri (sanggahan diterima)",
}
MAX_TEXT = 500


class Objection(TrackedCase, BaseModel):
    """A case about one listed recipient (an active enrolment); objectors attach to it."""

    OPEN = ("menunggu-penilaian",)

    id = AutoField()
    kode = CharField(max_length=8, unique=True)
    enrolment = ForeignKeyField(Enrolment, column_name="kepesertaan_id")
    status = CharField(max_length=20)
    alasan = CharField(max_length=10)  # the first objector's reason
    # Denormalised from the recipient so the queue filters and scopes on one index.
    desa = ForeignKeyField(Region, column_name="desa_kode")
    kecamatan = ForeignKeyField(Region, column_name="kecamatan_kode")
    created_at = DateTimeField(default=models.utcnow)
    tanggal_sanggah = DateField()  # WIB date of submission
    tenggat = DateField(null=True)  # the same seven-day clock as reports
    jumlah_penyanggah = IntegerField(default=1)
    diputus_at = DateTimeField(null=True)
    tanggal_putusan = DateField(null=True)
    diputus_oleh = ForeignKeyField(User, null=True, column_name="diputus_oleh_id")
    alasan_berakhir = CharField(max_length=10, null=True)  # reason code when ended
    tanggal_berakhir = DateField(null=True)
    catatan = TextField(default="")  # the reviewer's note: staff only

    class Meta:
        table_name = "sanggahan"

    @classmethod
    def open_queue(cls, kecamatan: str | None = None):
        """Open objections, earliest deadline first, then oldest (the reports' order)."""
        query = cls.select().where(cls.status == OPEN)
        if kecamatan:
            query = query.where(cls.kecamatan == kecamatan)
        return query.order_by(cls.tenggat, cls.created_at, cls.id)


class Objector(BaseModel):
    """One person who objected (penyanggah): shown to staff, never to the public."""

    id = AutoField()
    objection = ForeignKeyField(Objection, backref="objectors", on_delete="CASCADE",
                                column_name="sanggahan_id")
    alasan = CharField(max_length=10)
    keterangan = TextField(default="")
    nama = CharField(max_length=150)
    telepon = CharField(max_length=20)
    kabar_sms = BooleanField(default=False)  # updates on the objection by SMS (sms/notify.py)
    created_at = DateTimeField(default=models.utcnow)

    class Meta:
        table_name = "penyanggah"


class ObjectionEvent(BaseModel):
    """The audit trail of an objection: every status change, who made it and when."""

    id = AutoField()
    objection = ForeignKeyField(Objection, backref="events", on_delete="CASCADE",
                                column_name="sanggahan_id")
    status = CharField(max_length=20)
    at = DateTimeField(default=models.utcnow)
    actor = CharField(max_length=12)  # warga | verifikator | admin | sistem
    user = ForeignKeyField(User, null=True, column_name="user_id")
    note = TextField(default="")

    class Meta:
        table_name = "riwayat_sanggahan"


class DailyQuota(BaseModel):
    """Objections sent per phone number *and client* per WIB day; rows of past days are deleted.
    `telepon` holds quota_key(): a hash of the number with the sender's client, so a stranger
    who types someone's number spends only the stranger's own count, never the owner's."""

    tanggal = DateField()
    telepon = CharField(max_length=20)
    jumlah = IntegerField(default=0)

    class Meta:
        table_name = "kuota_sanggah"
        primary_key = CompositeKey("tanggal", "telepon")


TABLES = [Objection, Objector, ObjectionEvent, DailyQuota]


class QuotaExceeded(CaseError):
    """This phone number has sent its objections for today."""


def phone_key(phone: str) -> str:
    """One key per number however it is written: `+62 812-3456`, `62812...`, `0812...`."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits


def quota_key(phone: str, client: str = "") -> str:
    """The DailyQuota key of a number sent from a client (an address, an SMS sender): a short
    hash, so the table holds no phone number either."""
    return hashlib.sha256(f"{phone}|{client}".encode()).hexdigest()[:20]


def _count_against_quota(phone: str, day: datetime.date, per_day: int) -> None:
    """Add one to today's count for this number, or raise QuotaExceeded (the caller's
    transaction then rolls the increment back). The upsert takes the row's lock, so two
    objections from one number at the same moment are counted one after the other."""
    DailyQuota.delete().where(DailyQuota.tanggal < day).execute()
    (DailyQuota.insert(tanggal=day, telepon=phone, jumlah=1)
     .on_conflict(conflict_target=[DailyQuota.tanggal, DailyQuota.telepon],
                  update={DailyQuota.jumlah: DailyQuota.jumlah + 1})
     .execute())
    count = (DailyQuota.select(DailyQuota.jumlah)
             .where(DailyQuota.tanggal == day, DailyQuota.telepon == phone).scalar())
    if count > per_day:
        raise QuotaExceeded(
            f"Satu nomor HP hanya boleh mengirim {per_day} sanggahan per hari. "
            "Silakan kirim lagi besok.", "telepon")


def listed_enrolment(enrolment_id) -> Enrolment | None:
    """An active enrolment, as the public lists show it; None if unknown or ended."""
    if whole_number(enrolment_id) is None:
        return None
    return (Enrolment.select(Enrolment, Person, Scheme)
            .join(Person).switch(Enrolment).join(Scheme)
            .where(Enrolment.id == whole_number(enrolment_id), Enrolment.berakhir.is_null())
            .first())


def submit_objection(enrolment_id: int, objector: dict, *, assessment_days: int = 7,
                     per_day: int = 3, client: str = "") -> tuple[Objection, str]:
    """Store an objection against a listed recipient. Returns (objection, outcome).

    outcome: `baru` (a new case in the queue) or `gabung` (attached to the open objection about
    the same recipient; the objector gets its code). objector: alasan, keterangan, nama, telepon.
    Raises CaseError when the recipient is no longer listed and QuotaExceeded past `per_day`
    objections from one phone number and one client (an address) in one WIB day.
    """
    if objector["alasan"] not in REASONS:
        raise CaseError("Pilih alasan sanggahan.", "alasan")
    now = models.utcnow()
    day = to_wib(now).date()
    row = dict(objector, telepon=phone_key(objector["telepon"]), created_at=now)
    with models.db.atomic():
        _count_against_quota(quota_key(row["telepon"], client), day, per_day)
        enrolment = listed_enrolment(enrolment_id)
        if enrolment is None:
            raise CaseError("Penerima ini sudah tidak ada di daftar.")
        for _attempt in range(3):
            existing = Objection.get_or_none(Objection.enrolment == enrolment.id,
                                             Objection.status == OPEN)
            if existing is not None:
                Objector.create(objection=existing, **row)
                (Objection.update(jumlah_penyanggah=Objection.jumlah_penyanggah + 1)
                 .where(Objection.id == existing.id).execute())
                _log(existing, OPEN, "warga", note="Penyanggah tambahan untuk penerima yang sama.")
                notify.objection_received(existing, row["telepon"], row.get("kabar_sms"))
                return Objection.get_by_id(existing.id), "gabung"
            desa = enrolment.person.desa_kode
            code = new_code()
            while Report.select().where(Report.kode == code).exists():
                code = new_code()  # one code space with reports, so /lacak finds either
            try:
                with models.db.atomic():  # a savepoint, so PostgreSQL can carry on after it
                    objection = Objection.create(
                        kode=code, enrolment=enrolment.id, status=OPEN, alasan=row["alasan"],
                        desa=desa, kecamatan=desa[:8], created_at=now, tanggal_sanggah=day,
                        tenggat=day + datetime.timedelta(days=assessment_days))
            except IntegrityError:
                # Another objection about this recipient was opened a moment ago (or the random
                # code was taken): look again, and attach to it.
                continue
            Objector.create(objection=objection, **row)
            _log(objection, "diterima", "warga", note="Sanggahan diterima.")
            _log(objection, OPEN, "sistem", note="Masuk antrian tim verifikasi.")
            notify.objection_received(objection, row["telepon"], row.get("kabar_sms"))
            return objection, "baru"
        raise CaseError("Sanggahan tidak dapat disimpan saat ini. Silakan coba lagi.")


def _log(objection: Objection, status: str, actor: str, user: User | None = None,
         note: str = "") -> None:
    ObjectionEvent.create(objection=objection, status=status, actor=actor, user=user, note=note)


def _transition(objection: Objection, **changes) -> None:
    """Decide only an objection still open; of two reviewers at once, one succeeds."""
    updated = (Objection.update(**changes)
               .where(Objection.id == objection.id, Objection.status == OPEN).execute())
    if updated != 1:
        current = Objection.get_by_id(objection.id)
        raise CaseError(f"Sanggahan ini sudah diputus petugas lain ("
                        f"{STATUSES[current.status].lower()}). Tidak ada yang diubah; muat "
                        "ulang halaman untuk melihat keadaan terbaru.")


def keep(objection: Objection, user: User, catatan: str = "") -> Objection:
    """The recipient stays listed: the objection closes as not accepted."""
    with models.db.atomic():
        now = models.utcnow()
        _transition(objection, status="dipertahankan", diputus_at=now,
                    tanggal_putusan=to_wib(now).date(), diputus_oleh=user,
                    catatan=catatan, tenggat=None)
        enrolment = Enrolment.get_by_id(objection.kepesertaan_id)
        if enrolment.berakhir is not None:  # ended meanwhile (by the admin, say): roll back
            raise CaseError(f"Kepesertaan ini sudah berakhir pada "
                            f"{long_date(enrolment.berakhir)} ({enrolment.alasan_berakhir}), "
                            "jadi tidak dapat dipertahankan. Pilih “Akhiri kepesertaan” "
                            "untuk menutup sanggahan ini.")
        _log(objection, "dipertahankan", user.role, user,
             "Penerima tetap terdaftar." + (f" {catatan}" if catatan else ""))
        return _decided(objection)


def end(objection: Objection, user: User, alasan: str, tanggal: datetime.date | None = None,
        catatan: str = "") -> Objection:
    """The objection is accepted: the enrolment ends (models.end_enrolment) with the reason, in
    the same transaction. If it had already ended (by the admin, say), the objection just closes.
    """
    if alasan not in REASONS:
        raise CaseError("Pilih alasan kepesertaan diakhiri.", "alasan")
    if alasan == "lainnya" and not catatan.strip():
        raise CaseError("Untuk alasan lain, tulis penjelasannya di catatan.", "catatan")
    day = tanggal or models.today()
    if day > models.today():
        raise CaseError("Tanggal berakhir tidak boleh di masa depan.", "tanggal")
    with models.db.atomic():
        now = models.utcnow()
        enrolment = Enrolment.get_by_id(objection.kepesertaan_id)
        already = enrolment.berakhir
        _transition(objection, status="diakhiri", diputus_at=now,
                    tanggal_putusan=to_wib(now).date(), diputus_oleh=user,
                    alasan_berakhir=alasan, tanggal_berakhir=already or day,
                    catatan=catatan, tenggat=None)
        if already is None:
            reason = f"{REASONS[alasan]} (sanggahan {objection.kode_display})"
            if alasan == "lainnya":
                reason = f"{catatan.strip()} (sanggahan {objection.kode_display})"
            try:
                models.end_enrolment(enrolment.id, reason[:200], day, user)
            except models.RegisterError as exc:
                raise CaseError(f"{exc} Putusan tidak disimpan.",
                                "tanggal" if exc.field == "tanggal" else None) from None
            note = (f"Kepesertaan {enrolment.skema_kode} diakhiri per {long_date(day)}: "
                    f"{REASONS[alasan]}.")
        else:
            note = (f"Kepesertaan sudah berakhir sebelumnya ({long_date(already)}: "
                    f"{enrolment.alasan_berakhir}); sanggahan ditutup.")
        _log(objection, "diakhiri", user.role, user, note + (f" {catatan}" if catatan else ""))
        return _decided(objection)


def _decided(objection: Objection) -> Objection:
    """The decided objection; its objectors who asked for updates get one by SMS."""
    decided = Objection.get_by_id(objection.id)
    phones = [phone for (phone,) in Objector.select(Objector.telepon).where(
        Objector.objection == objection.id, Objector.kabar_sms == True).tuples()]  # noqa: E712
    notify.objection_decided(decided, phones)
    return decided


def anonymise(cutoff: datetime.date) -> int:
    """Retention: blank the objectors' names, phones and texts, and the reviewer's note, of
    objections decided before `cutoff`; returns how many objectors. The decision, its dates and
    reason codes stay for the statistics and the audit. Meant for the nightly retention run."""
    decided = Objection.select(Objection.id).where(Objection.status != OPEN,
                                                   Objection.tanggal_putusan < cutoff)
    with models.db.atomic():
        count = (Objector.update(nama="", telepon="", keterangan="")
                 .where(Objector.objection.in_(decided), Objector.nama != "").execute())
        Objection.update(catatan="").where(Objection.id.in_(decided)).execute()
        sms_log.forget(objection_ids=decided)
        (ObjectionEvent.update(note="")
         .where(ObjectionEvent.objection.in_(decided), ObjectionEvent.user.is_null(False))
         .execute())
    return count


def queue_counts(kecamatan: str | None, stage: str | None,
                 today: datetime.date) -> tuple[int, int]:
    """(open, overdue) objections for the queue's filters; counted inside the queue index."""
    if stage not in (None, "sanggahan"):
        return 0, 0
    query = Objection.open_queue(kecamatan).order_by()
    total = query.select(fn.COUNT(SQL("*"))).scalar()
    overdue = (query.where(Objection.tenggat < today).select(fn.COUNT(SQL("*"))).scalar()
               if total else 0)
    return total, overdue


def merged_queue(kecamatan: str | None, stage: str | None, offset: int, limit: int):
    """One page of the reviewer queue with reports and objections in one order: deadline,
    then submission. Returns [(kind, id)], kind `L` (laporan) or `S` (sanggahan).

    Objections are few beside the reports, so rather than sorting a UNION of both (which at
    page 1000 of 50,000 cases costs ~100 ms) the page is found with a merge: the first
    offset + limit objections, and only the reports that can fall on this page. A report's
    place is its own index plus the objections before it, so the report at the page's first
    place has an index of at least offset minus the number of objections fetched; the reports
    are read from there along their covering queue index (as the reports-only queue does).
    """
    wanted = offset + limit
    objection_keys = []
    if stage in (None, "sanggahan"):
        objection_keys = [(tenggat, created, "S", pk) for pk, tenggat, created in
                          Objection.open_queue(kecamatan)
                          .select(Objection.id, Objection.tenggat, Objection.created_at)
                          .limit(wanted).tuples()]
    if stage == "sanggahan":
        return [(kind, pk) for *_, kind, pk in objection_keys[offset:wanted]]
    first = max(0, offset - len(objection_keys))
    report_keys = [(tenggat, created, "L", pk) for pk, tenggat, created in
                   Report.open_queue(kecamatan, stage)
                   .select(Report.id, Report.tenggat, Report.created_at)
                   .limit(wanted - first).offset(first).tuples()]
    page, reports_seen, objections_seen = [], 0, 0
    for _tenggat, _created, kind, pk in heapq.merge(report_keys, objection_keys):
        if kind == "S" and first and not reports_seen:
            # Before the first report read, so before report number `first`: its place is
            # below `offset` (first + the objections fetched <= offset).
            objections_seen += 1
            continue
        place = first + reports_seen + objections_seen
        if kind == "L":
            reports_seen += 1
        else:
            objections_seen += 1
        if place >= wanted:
            break
        if place >= offset:
            page.append((kind, pk))
    return page


def queue_rows(ids: list[int], today: datetime.date) -> dict[int, dict]:
    """The queue's view of these open objections, by id (masked names only)."""
    if not ids:
        return {}
    rows = (Objection.select(Objection.id, Objection.kode, Objection.desa, Objection.kecamatan,
                             Objection.jumlah_penyanggah, Objection.tenggat,
                             Objection.tanggal_sanggah, Person.nama)
            .join(Enrolment).join(Person)
            .where(Objection.id.in_(ids)).namedtuples())
    return {r.id: {
        "jenis": "sanggahan", "kode": r.kode, "tampil": f"{r.kode[:4]}-{r.kode[4:]}",
        "status": "sanggahan", "nama": models.mask_name(r.nama), "desa": r.desa,
        "kecamatan": r.kecamatan, "pelapor": r.jumlah_penyanggah, "tenggat": r.tenggat,
        "lapor": r.tanggal_sanggah, "sisa": (r.tenggat - today).days if r.tenggat else None,
    } for r in rows}
