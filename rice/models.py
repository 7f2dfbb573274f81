"""The tables of rice aid in kind: programmes, stages, the family list, batches and their
cooking tests, hand-overs and returns; the errors and quantities its rules speak in.

Quantities are integers in grams, so every total adds up exactly.
"""
from __future__ import annotations

import datetime

from peewee import (
    AutoField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    SqliteDatabase,
    TextField,
)

from database import BaseModel, db
from errors import RuleError
from formats import number, today, utcnow
from models import Region, Scheme, User

MAX_STAGES = 12
BIG_CHANGE = 50_000  # rows; after a bulk change this big, PostgreSQL's statistics are renewed
RETURN_REASONS = {
    "kuning": "Beras menguning",
    "apek": "Berbau apek",
    "berkutu": "Berkutu",
    "basah": "Basah atau menggumpal",
    "lainnya": "Alasan lain",
}
TEST_RESULTS = {"layak": "Layak dibagikan", "tidak-layak": "Tidak layak dibagikan"}
BATCH_STATUSES = {"belum-diuji": "Belum diuji tanak", "layak": "Lulus uji tanak",
                  "tidak-layak": "Gagal uji tanak"}


class RiceError(RuleError):
    """A change the rice rules forbid."""


class AlreadyHandedOver(RiceError):
    """The database refused a second hand-over of a stage to a family; `handover` is the first."""

    def __init__(self, handover: Handover):
        super().__init__(f"Keluarga ini sudah menerima beras tahap {handover.tahap}; "
                         "penyerahan kedua ditolak.")
        self.handover = handover


def format_kg(grams: int | None) -> str:
    """15000 -> `15 kg`, 2500 -> `2,5 kg`, 3005820000 -> `3.005.820 kg`."""
    grams = grams or 0
    kg, rest = divmod(grams, 1000)
    fraction = f",{rest:03d}".rstrip("0") if rest else ""
    return f"{number(kg)}{fraction} kg"


def refresh_statistics(table: str) -> None:
    """PostgreSQL: ANALYZE a table after a bulk change, so the next queries are planned on
    its real size rather than on the (empty) one autovacuum last saw."""
    if not isinstance(db.obj, SqliteDatabase):
        db.execute_sql(f"ANALYZE {table}")


class Programme(BaseModel):
    """A distribution programme: a scheme's families receive `gram_per_tahap` in each stage."""

    id = AutoField()
    nama = CharField(max_length=200)
    scheme = ForeignKeyField(Scheme, column_name="skema_kode")
    jumlah_tahap = IntegerField()
    gram_per_tahap = IntegerField()
    gudang = CharField(max_length=200)  # the source warehouse (e.g. Gudang Bulog Banyuwangi)
    created_at = DateTimeField(default=utcnow)
    dibuat_oleh = ForeignKeyField(User, null=True, column_name="dibuat_oleh_id")
    daftar_at = DateTimeField(null=True)  # when the family list was last brought up to date

    class Meta:
        table_name = "program_beras"

    @property
    def stage_numbers(self) -> range:
        return range(1, self.jumlah_tahap + 1)

    @property
    def kg_label(self) -> str:
        return format_kg(self.gram_per_tahap)

    def stage_problem(self, tahap) -> str | None:
        if not isinstance(tahap, int) or not 1 <= tahap <= self.jumlah_tahap:
            return f"Tahap harus 1 sampai {self.jumlah_tahap}."
        return None

    def sync_families(self, no_kk: str | None = None) -> int:
        """Add to this programme's list every family actively enrolled in its scheme that is not
        on it yet (or only the family `no_kk`); returns how many were added.

        The list is the register's answer at that moment, kept so that what is due, and where,
        stays fixed for the counts (a family that later leaves the scheme keeps its place).
        """
        p = db.param
        # SQLite would read CAST(... AS TIMESTAMP) as a number; PostgreSQL needs the type.
        stamp = p if isinstance(db.obj, SqliteDatabase) else f"CAST({p} AS TIMESTAMP)"
        sql = (
            "INSERT INTO penerima_beras (program_id, no_kk, nik, desa_kode, kecamatan_kode, "
            "ditambahkan_at) "
            f"SELECT CAST({p} AS INTEGER), e.family_kk, e.nik, d.kode, d.kecamatan_kode, "
            f"{stamp} FROM kepesertaan e "
            "JOIN penduduk pe ON pe.nik = e.nik JOIN wilayah d ON d.kode = pe.desa_kode "
            f"WHERE e.skema_kode = {p} AND e.berakhir IS NULL AND e.family_kk IS NOT NULL "
            + (f"AND e.family_kk = {p} " if no_kk else "")
            # Families already listed are skipped by the unique index, one probe each: no
            # anti-join, whose plan PostgreSQL may get badly wrong before a table's first
            # ANALYZE (a freshly loaded register).
            + "ON CONFLICT DO NOTHING")
        now = utcnow()
        params = [self.id, now.isoformat(sep=" "), self.skema_kode] + ([no_kk] if no_kk else [])
        with db.atomic():
            added = db.execute_sql(sql, params).rowcount
            if added >= BIG_CHANGE:
                refresh_statistics("penerima_beras")
            if no_kk is None:
                Programme.update(daftar_at=now).where(Programme.id == self.id).execute()
                self.daftar_at = now
        return max(added, 0)

    def family_count(self) -> int:
        return Family.select().where(Family.programme == self.id).count()

    def cleared_batches(self, tahap: int | None = None):
        """Batches that passed their cooking test and never failed one: rice that may go out."""
        query = Batch.select().where(Batch.programme == self.id, Batch.status == "layak")
        if tahap is not None:
            query = query.where(Batch.tahap == tahap)
        return query.order_by(Batch.tahap, Batch.kode)


class Stage(BaseModel):
    """A stage (tahap) of a programme and its planned distribution date."""

    id = AutoField()
    programme = ForeignKeyField(Programme, backref="stages", column_name="program_id",
                                on_delete="CASCADE", index=False)
    tahap = IntegerField()
    rencana = DateField()

    class Meta:
        table_name = "tahap_beras"
        indexes = ((("programme", "tahap"), True),)


class Family(BaseModel):
    """A family on a programme's list (KPM): the family card and the member whose enrolment in
    the scheme makes it due, with the desa and kecamatan the progress counts group by."""

    id = AutoField()
    programme = ForeignKeyField(Programme, column_name="program_id", index=False)
    no_kk = CharField(max_length=16)
    nik = CharField(max_length=16)
    desa = ForeignKeyField(Region, column_name="desa_kode", index=False)
    kecamatan = ForeignKeyField(Region, column_name="kecamatan_kode", index=False)
    ditambahkan_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "penerima_beras"
        indexes = ((("programme", "no_kk"), True), (("programme", "kecamatan"), False))


class Batch(BaseModel):
    """A batch of rice from a warehouse for one stage. `status` follows its cooking tests: one
    failed test blocks it for good (the warehouse replaces it with a new batch)."""

    id = AutoField()
    programme = ForeignKeyField(Programme, column_name="program_id", index=False)
    tahap = IntegerField()
    kode = CharField(max_length=50)
    gudang = CharField(max_length=200)
    status = CharField(max_length=12, default="belum-diuji")
    lulus_tanggal = DateField(null=True)  # the first passing test: hand-overs start that day

    class Meta:
        table_name = "batch_beras"
        indexes = ((("programme", "tahap", "kode"), True),)

    @property
    def status_label(self) -> str:
        return BATCH_STATUSES[self.status]


class CookingTest(BaseModel):
    """A cooking test (uji tanak) of a batch: cooked and tasted before it is handed out."""

    id = AutoField()
    batch = ForeignKeyField(Batch, backref="tests", column_name="batch_id")
    tanggal = DateField()
    tempat = CharField(max_length=200)
    hadir = TextField()  # who was present: Dinas Sosial, PKH facilitators, Bulog, ...
    hasil = CharField(max_length=12)  # layak | tidak-layak
    catatan = TextField(default="")
    dicatat_oleh = ForeignKeyField(User, null=True, column_name="dicatat_oleh_id")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "uji_tanak"


class Handover(BaseModel):
    """One stage of rice handed to one family (at a counter, or imported from another list)."""

    id = AutoField()
    programme = ForeignKeyField(Programme, column_name="program_id", index=False)
    tahap = IntegerField()
    no_kk = CharField(max_length=16)
    kecamatan = ForeignKeyField(Region, column_name="kecamatan_kode", index=False)
    batch = ForeignKeyField(Batch, column_name="batch_id", index=False)
    tanggal = DateField()  # the WIB calendar date of the hand-over
    dicatat_at = DateTimeField(default=utcnow)
    petugas = ForeignKeyField(User, null=True, column_name="petugas_id", index=False)
    titik = CharField(max_length=150, default="")  # the distribution point
    sumber = CharField(max_length=200)  # loket | impor:<file>
    nik_pengambil = CharField(max_length=16, null=True)  # who collected it, when typed

    class Meta:
        table_name = "serah_beras"
        # (program, no_kk, tahap) unique is the rule "one hand-over per stage and family"; in
        # this column order it also finds a family's hand-overs at the counter. The second
        # index covers the progress query: one scan counts per stage, kecamatan and day.
        indexes = ((("programme", "no_kk", "tahap"), True),
                   (("programme", "tahap", "kecamatan", "tanggal"), False))


class Return(BaseModel):
    """Rice a family brought back (pengembalian); open until its replacement is recorded."""

    id = AutoField()
    handover = ForeignKeyField(Handover, backref="returns", column_name="serah_id")
    gram = IntegerField()
    alasan = CharField(max_length=10)
    catatan = TextField(default="")
    tanggal = DateField()
    dicatat_oleh = ForeignKeyField(User, null=True, column_name="dicatat_oleh_id", index=False)
    created_at = DateTimeField(default=utcnow)
    # The replacement: the same quantity from a batch that passed the cooking test.
    tanggal_ganti = DateField(null=True)
    batch_ganti = ForeignKeyField(Batch, null=True, column_name="batch_ganti_id", index=False)
    diganti_oleh = ForeignKeyField(User, null=True, column_name="diganti_oleh_id", index=False)
    catatan_ganti = TextField(default="")

    class Meta:
        table_name = "pengembalian_beras"

    @property
    def is_open(self) -> bool:
        return self.tanggal_ganti is None

    def days_open(self, on: datetime.date | None = None) -> int:
        return ((self.tanggal_ganti or on or today()) - self.tanggal).days

    def overdue(self, limit_days: int) -> bool:
        return self.is_open and self.days_open() > limit_days


TABLES = [Programme, Stage, Family, Batch, CookingTest, Handover, Return]
