"""The recipient register and the rules that protect it.

No Flask imports here, so the CLI, the import and the tests call the rules directly. The database
enforces what must never break: one active enrolment per NIK, one active family enrolment per
family card (No. KK), one open case per NIK, one unique tracking code per report.

The tables of the other parts (objections, rice, import jobs) live with their code; every table
is listed once in schema.py.
"""
from __future__ import annotations

import datetime

from peewee import (
    OP,
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DeferredForeignKey,
    Expression,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from cases.tracking import TrackedCase
from covering import Coverage, covering, enrolment_conflict, standing  # noqa: F401
from database import BaseModel, db, replica  # noqa: F401  (replica: the check reads it)
from errors import RuleError
from formats import WIB, long_date, mask_name, today, utcnow  # noqa: F401  (WIB: for callers)
from office.desil import desil_of, desil_problem
from office.passwords import hash_password, verify_password
from vocabulary import (  # noqa: F401  (the labels, for callers that import the register)
    CATEGORIES,
    CLOSED_STATUSES,
    LEVELS,
    OPEN_STATUSES,
    REJECTION_REASONS,
    ROLES,
    STATUSES,
    UNITS,
)


class Region(BaseModel):
    """A kecamatan, desa or kelurahan of Banyuwangi, by its dotted Kemendagri code."""

    kode = CharField(max_length=13, primary_key=True)
    nama = CharField(max_length=100)
    tingkat = CharField(max_length=10)  # kecamatan | desa | kelurahan
    kecamatan = ForeignKeyField("self", null=True, column_name="kecamatan_kode",
                                backref="villages")

    class Meta:
        table_name = "wilayah"

    @classmethod
    def kecamatan_list(cls):
        return cls.select().where(cls.tingkat == "kecamatan").order_by(cls.nama)

    @classmethod
    def villages_of(cls, kecamatan_kode: str):
        return (cls.select().where(cls.kecamatan == kecamatan_kode)
                .order_by(cls.nama))

    @classmethod
    def village_choices(cls):
        """[(kecamatan name, [(desa code, desa name), ...]), ...] for grouped selects."""
        kec = Region.alias()
        rows = (cls.select(cls.kode, cls.nama, kec.nama.alias("kec_nama"))
                .join(kec, on=(cls.kecamatan == kec.kode))
                .where(cls.tingkat != "kecamatan")
                .order_by(kec.nama, cls.nama).tuples())
        groups: dict[str, list] = {}
        for kode, nama, kec_nama in rows:
            groups.setdefault(kec_nama, []).append((kode, nama))
        return list(groups.items())


class Scheme(BaseModel):
    """A programme (skema): PKH, BST, Rantang Kasih, ..."""

    kode = CharField(max_length=20, primary_key=True)
    nama = CharField(max_length=200)
    tingkat = CharField(max_length=10)  # pusat | provinsi | kabupaten
    satuan = CharField(max_length=10)  # keluarga | individu
    manfaat = TextField(default="")
    aktif = BooleanField(default=True)
    desil_maks = IntegerField(null=True)  # families up to this DTSEN desil only (office/desil)

    class Meta:
        table_name = "skema"

    @property
    def level_label(self) -> str:
        return LEVELS[self.tingkat]


class Person(BaseModel):
    """A resident in the Smart Kampung register: by name, by address, by NIK."""

    nik = CharField(max_length=16, primary_key=True)
    no_kk = CharField(max_length=16, null=True, index=True)
    nama = CharField(max_length=150)
    alamat = CharField(max_length=300)
    desa = ForeignKeyField(Region, column_name="desa_kode", index=False)

    class Meta:
        table_name = "penduduk"


class Enrolment(BaseModel):
    """One person's NIK in one scheme (kepesertaan). `family_kk` is set for family schemes.

    Partial unique indexes (migrations/0001) allow one active enrolment per NIK and one active
    family enrolment per No. KK; an ended enrolment (`berakhir` set) stays as history.
    """

    id = AutoField()
    person = ForeignKeyField(Person, column_name="nik")
    scheme = ForeignKeyField(Scheme, column_name="skema_kode")
    family_kk = CharField(max_length=16, null=True)
    sejak = DateField()
    sumber = CharField(max_length=200)
    berakhir = DateField(null=True)
    alasan_berakhir = CharField(max_length=200, null=True)
    created_at = DateTimeField(default=utcnow)
    # Who ended it (migrations/0006); set by end_enrolment.
    diakhiri_oleh = DeferredForeignKey("User", null=True, column_name="diakhiri_oleh_id")

    class Meta:
        table_name = "kepesertaan"


class RegisterError(RuleError):
    """A change the register's rules forbid: enrolling, ending an enrolment."""


def _lock(query) -> None:
    """Take row locks where the backend has them (PostgreSQL's SELECT ... FOR UPDATE)."""
    if getattr(db.obj, "for_update", False):
        list(query.for_update().tuples())


def enrol(nik: str, scheme: Scheme | str, sumber: str, sejak: datetime.date | None = None,
          no_kk: str | None = None) -> Enrolment:
    """Enrol a registered person in a scheme, or raise RegisterError. Runs in a transaction.

    `no_kk` is the family card to use for a family scheme when the register has none recorded
    for this person yet (it is then saved on the person).
    """
    with db.atomic():
        if not isinstance(scheme, Scheme):
            scheme = Scheme.get_or_none(Scheme.kode == scheme)
            if scheme is None:
                raise RegisterError("Skema bantuan tidak dikenal.")
        if not scheme.aktif:
            raise RegisterError(f"Skema {scheme.kode} sudah tidak menerima peserta baru.")
        person = Person.get_or_none(Person.nik == nik)
        if person is None:
            raise RegisterError("NIK ini belum ada di data penduduk.")
        if no_kk and person.no_kk != no_kk:
            person.no_kk = no_kk
            person.save()
        problem = desil_problem(scheme.kode, scheme.desil_maks, desil_of(person.no_kk))
        if problem:
            raise RegisterError(problem)
        # Serialise enrolments within one family: on PostgreSQL lock the card's member rows
        # (SQLite's IMMEDIATE transactions already admit one writer at a time).
        _lock(Person.select(Person.nik).where(
            Person.no_kk == person.no_kk if person.no_kk else Person.nik == nik)
            .order_by(Person.nik))
        # The same standing the reviewer's case page shows for each scheme (covering.py).
        problem = standing(nik).conflict(scheme.satuan)
        if problem:
            raise RegisterError(problem)
        try:
            with db.atomic():
                return Enrolment.create(
                    person=nik, scheme=scheme,
                    family_kk=person.no_kk if scheme.satuan == "keluarga" else None,
                    sejak=sejak or today(), sumber=sumber)
        except IntegrityError:
            # Another writer enrolled this NIK or family between our check and our insert.
            raise RegisterError(
                "NIK atau keluarga ini baru saja didaftarkan pada skema lain.") from None


def end_enrolment(enrolment_id: int, reason: str, date: datetime.date | None = None,
                  by: User | None = None) -> Enrolment:
    """End an active enrolment on `date` (today when None) for `reason`; raise RegisterError.

    The one rule for ending, shared by the admin pages and objection decisions. The row stays as
    history (berakhir, alasan_berakhir, diakhiri_oleh); from then on the NIK, and for a family
    scheme the family card, is free to be enrolled again. The date may lie in the past (a death
    reported late) but not in the future, nor before the enrolment began. A conditional update:
    of two staff ending the same enrolment at once, exactly one succeeds.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise RegisterError("Tulis alasan kepesertaan diakhiri.", "alasan")
    if len(reason) > 200:
        raise RegisterError("Alasan berakhir paling banyak 200 karakter.", "alasan")
    day = date or today()
    if day > today():
        raise RegisterError("Tanggal berakhir tidak boleh di masa depan.", "tanggal")
    with db.atomic():
        enrolment = Enrolment.get_or_none(Enrolment.id == enrolment_id)
        if enrolment is None:
            raise RegisterError("Kepesertaan tidak ditemukan.")
        if enrolment.berakhir is not None:
            raise RegisterError(f"Kepesertaan ini sudah berakhir pada "
                                f"{long_date(enrolment.berakhir)}.")
        if day < enrolment.sejak:
            raise RegisterError(f"Tanggal berakhir tidak boleh sebelum kepesertaan dimulai "
                                f"({long_date(enrolment.sejak)}).", "tanggal")
        updated = (Enrolment.update(berakhir=day, alasan_berakhir=reason,
                                    diakhiri_oleh=by.id if by is not None else None)
                   .where(Enrolment.id == enrolment_id, Enrolment.berakhir.is_null())
                   .execute())
        if updated != 1:
            raise RegisterError("Kepesertaan ini baru saja diakhiri oleh petugas lain.")
    return Enrolment.get_by_id(enrolment_id)


class User(BaseModel):
    """A staff account: petugas (office kiosk), verifikator (assessment team) or admin."""

    id = AutoField()
    username = CharField(max_length=50, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=12)
    kantor = ForeignKeyField(Region, null=True, column_name="kantor_kode")
    aktif = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # Part of every session's id: bumping it (sign-out, new password) ends all of them.
    sesi_epoch = IntegerField(default=0)
    totp_rahasia = CharField(max_length=255, null=True)  # encrypted; see totp.py
    totp_langkah = BigIntegerField(null=True)  # last accepted TOTP time step (no replays)

    class Meta:
        table_name = "pengguna"

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    @property
    def kecamatan_scope(self) -> str | None:
        """The kecamatan code a verifikator is limited to, or None for the whole kabupaten."""
        if self.kantor_kode is None:
            return None
        return self.kantor_kode[:8]

    # Flask-Login protocol, kept here so the model stays free of Flask imports.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.aktif

    def get_id(self) -> str:
        return f"{self.id}:{self.sesi_epoch}"

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_rahasia)

    def end_sessions(self) -> None:
        """End every session of this user, on every device: their ids carry the old epoch."""
        User.update(sesi_epoch=User.sesi_epoch + 1).where(User.id == self.id).execute()
        self.sesi_epoch = User.select(User.sesi_epoch).where(User.id == self.id).scalar()

    def change_password(self, password: str) -> None:
        """A new password, and every existing session of this user ends."""
        self.set_password(password)
        with db.atomic():
            User.update(password_hash=self.password_hash).where(User.id == self.id).execute()
            self.end_sessions()


class Report(TrackedCase, BaseModel):
    """A case about one person (subject) who was left out; reporters attach to it."""

    id = AutoField()
    kode = CharField(max_length=8, unique=True)
    status = CharField(max_length=20)
    nik = CharField(max_length=16, index=True)
    nama = CharField(max_length=150)
    no_kk = CharField(max_length=16, null=True)
    alamat = CharField(max_length=300)
    desa = ForeignKeyField(Region, column_name="desa_kode")
    # Denormalised from the desa so the queue filters and sorts on one index.
    kecamatan = ForeignKeyField(Region, column_name="kecamatan_kode")
    kategori = CharField(max_length=30)
    keterangan = TextField(default="")
    kanal = CharField(max_length=10)  # daring | kantor
    kantor = ForeignKeyField(Region, null=True, column_name="kantor_kode")
    created_at = DateTimeField(default=utcnow)
    tanggal_lapor = DateField()  # the WIB calendar date of submission
    tenggat = DateField(null=True)  # deadline of the current open stage
    jumlah_pelapor = IntegerField(default=1)
    # Stage 1: what already covered the person, for automatic rejections.
    skema_penutup = ForeignKeyField(Scheme, null=True, column_name="skema_penutup_kode")
    penutup_via = CharField(max_length=10, null=True)  # nik | keluarga
    # Stage 2: the assessment.
    diputus_at = DateTimeField(null=True)
    tanggal_putusan = DateField(null=True)
    diputus_oleh = ForeignKeyField(User, null=True, column_name="diputus_oleh_id")
    skema = ForeignKeyField(Scheme, null=True, column_name="skema_kode")
    alasan = CharField(max_length=30, null=True)
    catatan = TextField(default="")
    # Delivery (penyaluran).
    tanggal_salur = DateField(null=True)
    disalurkan_oleh = ForeignKeyField(User, null=True, column_name="disalurkan_oleh_id")
    keterangan_salur = TextField(default="")
    tepat_waktu = BooleanField(null=True)
    # Set when the retention command blanked the personal data of this closed case.
    dianonimkan_at = DateTimeField(null=True)

    class Meta:
        table_name = "laporan"

    @property
    def masked_name(self) -> str:
        return mask_name(self.nama)

    @classmethod
    def is_open(cls):
        """`status IN ('menunggu-penilaian', 'layak')` with literal values, not parameters:
        SQLite only uses the partial queue indexes when the query repeats their WHERE term."""
        literal = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
        return Expression(cls.status, OP.IN, SQL(f"({literal})"))

    @classmethod
    def open_queue(cls, kecamatan: str | None = None, stage: str | None = None):
        """Open cases, most urgent first (earliest deadline), then oldest submission."""
        query = cls.select().where(cls.is_open())
        if stage in OPEN_STATUSES:
            query = query.where(cls.status == stage)
        if kecamatan:
            query = query.where(cls.kecamatan == kecamatan)
        return query.order_by(cls.tenggat, cls.created_at, cls.id)



class Reporter(BaseModel):
    """One person who reported a case (pelapor); duplicates of a case add reporters."""

    id = AutoField()
    report = ForeignKeyField(Report, backref="reporters", on_delete="CASCADE")
    hubungan = CharField(max_length=12)  # diri-sendiri | orang-lain
    nama = CharField(max_length=150)
    nik = CharField(max_length=16, null=True)
    telepon = CharField(max_length=20, null=True)
    kabar_sms = BooleanField(default=False)  # updates on the case by SMS (sms/notify.py)
    kanal = CharField(max_length=10)
    kantor = ForeignKeyField(Region, null=True, column_name="kantor_kode")
    petugas = ForeignKeyField(User, null=True, column_name="petugas_id")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "pelapor"


class ReportEvent(BaseModel):
    """The audit trail of a case: every status change, who made it and when."""

    id = AutoField()
    report = ForeignKeyField(Report, backref="events", on_delete="CASCADE")
    status = CharField(max_length=20)
    at = DateTimeField(default=utcnow)
    actor = CharField(max_length=12)  # warga | petugas | verifikator | admin | sistem
    user = ForeignKeyField(User, null=True, column_name="user_id")
    note = TextField(default="")

    class Meta:
        table_name = "riwayat_laporan"
