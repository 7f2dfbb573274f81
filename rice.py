"""Rice aid in kind (bantuan beras): programmes by stage (tahap), the cooking test (uji tanak),
hand-overs at distribution points, returns and their replacements, and progress.

No Flask imports, so the views, the CSV import and the tests call these rules directly. What must
never break is enforced by the database: one hand-over per programme, stage and family card (a
unique index: two distribution points recording the same family at once cannot both succeed),
one place per family on a programme's list, one batch code per programme stage. Quantities are
integers in grams, so every total adds up exactly.
"""
from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from peewee import (
    AutoField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    SqliteDatabase,
    TextField,
)

import models
from models import BaseModel, Person, Region, Scheme, User, db, today, utcnow

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


class RiceError(Exception):
    """A change the rules forbid; str(error) is the Indonesian message, `field` the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AlreadyHandedOver(RiceError):
    """The database refused a second hand-over of a stage to a family; `handover` is the first."""

    def __init__(self, handover: Handover):
        super().__init__(f"Keluarga ini sudah menerima beras tahap {handover.tahap}; "
                         "penyerahan kedua ditolak.")
        self.handover = handover


def parse_kg(value: str | None, label: str = "Jumlah") -> int:
    """`15`, `2,5` or `2.5` (kg) -> grams; RiceError with a plain message otherwise."""
    text = (value or "").strip().lower().removesuffix("kg").strip().replace(",", ".")
    if not text:
        raise RiceError(f"{label} wajib diisi (dalam kg, misalnya 15).")
    try:
        grams = Decimal(text) * 1000
    except InvalidOperation:
        raise RiceError(f"{label} harus berupa angka kg, misalnya 15 atau 2,5.") from None
    if grams != grams.to_integral_value():
        raise RiceError(f"{label} paling teliti sampai gram (3 angka di belakang koma).")
    if not 0 < grams <= 1_000_000:
        raise RiceError(f"{label} harus lebih dari 0 dan paling banyak 1.000 kg.")
    return int(grams)


def parse_date(text: str | None) -> datetime.date | None:
    """`2020-05-12` (a date input), `12-05-2020` or `12/05/2020` (typed, spreadsheets)."""
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def number(n: int) -> str:
    """Indonesian digit grouping: 3005820 -> `3.005.820`."""
    return f"{n:,}".replace(",", ".")


def format_kg(grams: int | None) -> str:
    """15000 -> `15 kg`, 2500 -> `2,5 kg`, 3005820000 -> `3.005.820 kg`."""
    grams = grams or 0
    kg, rest = divmod(grams, 1000)
    fraction = f",{rest:03d}".rstrip("0") if rest else ""
    return f"{number(kg)}{fraction} kg"


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


MODELS = [Programme, Stage, Family, Batch, CookingTest, Handover, Return]
models.ALL_MODELS.extend(m for m in MODELS if m not in models.ALL_MODELS)


def refresh_statistics(table: str) -> None:
    """PostgreSQL: ANALYZE a table after a bulk change, so the next queries are planned on
    its real size rather than on the (empty) one autovacuum last saw."""
    if not isinstance(db.obj, SqliteDatabase):
        db.execute_sql(f"ANALYZE {table}")


def _locked(query, share: bool = False):
    """The first row of `query`, row-locked on PostgreSQL (SQLite's IMMEDIATE transactions
    already admit one writer at a time)."""
    if getattr(db.obj, "for_update", False):
        query = query.for_update("FOR SHARE" if share else "FOR UPDATE")
    return query.first()


def _text(value: str | None, label: str, field: str, limit: int, required=True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise RiceError(f"{label} wajib diisi.", field)
    if len(text) > limit:
        raise RiceError(f"{label} terlalu panjang ({len(text)} huruf; paling banyak {limit}).",
                        field)
    return text


def batch_code(value: str | None) -> str:
    """Batch codes are compared without case or surrounding spaces (`b-07 ` = `B-07`)."""
    return " ".join((value or "").split()).upper()


def create_programme(nama: str, skema: str, jumlah_tahap: int, gram_per_tahap: int,
                     gudang: str, rencana: list[datetime.date],
                     user: User | None = None) -> Programme:
    """A new programme with its stages; its family list is filled from the register at once."""
    nama = _text(nama, "Nama program", "nama", 200)
    scheme = Scheme.get_or_none(Scheme.kode == skema)
    if scheme is None:
        raise RiceError("Pilih skema yang keluarganya menerima beras.", "skema")
    if scheme.satuan != "keluarga":
        raise RiceError(f"Skema {scheme.kode} untuk perorangan; beras dibagikan per keluarga, "
                        "jadi pilih skema keluarga (misalnya PKH).", "skema")
    if not 1 <= jumlah_tahap <= MAX_STAGES:
        raise RiceError(f"Jumlah tahap harus 1 sampai {MAX_STAGES}.", "jumlah_tahap")
    gudang = _text(gudang, "Gudang asal", "gudang", 200)
    if len(rencana) != jumlah_tahap or any(d is None for d in rencana):
        raise RiceError("Isi tanggal rencana untuk setiap tahap.", "rencana")
    if any(b < a for a, b in zip(rencana, rencana[1:], strict=False)):
        raise RiceError("Tanggal rencana tiap tahap harus urut: tahap berikutnya tidak boleh "
                        "lebih awal.", "rencana")
    with db.atomic():
        programme = Programme.create(nama=nama, scheme=scheme, jumlah_tahap=jumlah_tahap,
                                     gram_per_tahap=gram_per_tahap, gudang=gudang,
                                     dibuat_oleh=user)
        Stage.insert_many([{"programme": programme.id, "tahap": i, "rencana": day}
                           for i, day in enumerate(rencana, start=1)]).execute()
        programme.sync_families()
    return programme


def record_test(programme: Programme, tahap: int, kode: str, gudang: str,
                tanggal: datetime.date | None, tempat: str, hadir: str, hasil: str,
                catatan: str = "", user: User | None = None) -> CookingTest:
    """Record a cooking test of a stage's batch; the batch's status follows (one failure blocks
    it for good, otherwise it is cleared from the date of its first passing test)."""
    problem = programme.stage_problem(tahap)
    if problem:
        raise RiceError(problem, "tahap")
    kode = batch_code(_text(kode, "Kode batch", "batch", 50))
    gudang = _text(gudang, "Gudang", "gudang", 200)
    if tanggal is None:
        raise RiceError("Tanggal uji tanak wajib diisi.", "tanggal")
    if tanggal > today():
        raise RiceError("Tanggal uji tanak tidak boleh sesudah hari ini.", "tanggal")
    tempat = _text(tempat, "Tempat uji tanak", "tempat", 200)
    hadir = _text(hadir, "Yang hadir", "hadir", 1000)
    if hasil not in TEST_RESULTS:
        raise RiceError("Pilih hasil uji tanak: layak atau tidak layak.", "hasil")
    catatan = _text(catatan, "Catatan", "catatan", 1000, required=hasil == "tidak-layak")
    with db.atomic():
        Batch.insert(programme=programme.id, tahap=tahap, kode=kode,
                     gudang=gudang).on_conflict_ignore().execute()
        # Locked: a hand-over from this batch waits for the new status (FOR SHARE there).
        batch = _locked(Batch.select().where(Batch.programme == programme.id,
                                             Batch.tahap == tahap, Batch.kode == kode))
        test = CookingTest.create(batch=batch, tanggal=tanggal, tempat=tempat, hadir=hadir,
                                  hasil=hasil, catatan=catatan, dicatat_oleh=user)
        results = list(CookingTest.select(CookingTest.hasil, CookingTest.tanggal)
                       .where(CookingTest.batch == batch).tuples())
        passed = [day for result, day in results if result == "layak"]
        if any(result == "tidak-layak" for result, _ in results):
            status, cleared = "tidak-layak", None
        else:
            status, cleared = "layak", min(passed)
        Batch.update(status=status, lulus_tanggal=cleared).where(Batch.id == batch.id).execute()
        batch.status, batch.lulus_tanggal = status, cleared
    return test


def batch_problem(batch: Batch | None, programme: Programme, tahap: int,
                  day: datetime.date) -> str | None:
    """Why rice of this batch may not be handed out for this stage on this day, or None."""
    if batch is None or batch.program_id != programme.id or batch.tahap != tahap:
        return f"Pilih batch beras tahap {tahap} yang sudah lulus uji tanak."
    if batch.status == "tidak-layak":
        return (f"Batch {batch.kode} gagal uji tanak: berasnya tidak boleh dibagikan. "
                "Minta batch pengganti dari gudang.")
    if batch.status != "layak":
        return (f"Batch {batch.kode} belum diuji tanak: beras tahap {tahap} baru boleh "
                "dibagikan sesudah uji tanak dinyatakan layak.")
    if day < batch.lulus_tanggal:
        return (f"Batch {batch.kode} baru lulus uji tanak pada {batch.lulus_tanggal:%d-%m-%Y}; "
                "beras tidak boleh dibagikan sebelum uji tanak.")
    return None


def find_family(programme: Programme, *, nik: str | None = None,
                no_kk: str | None = None) -> Family:
    """The family on the programme's list, by a member's NIK or the family card number.

    A family enrolled in the scheme after the list was made is added on the spot."""
    if nik:
        person = Person.get_or_none(Person.nik == nik)
        if person is None:
            raise RiceError("NIK ini tidak ada di data penduduk.", "nomor")
        if not person.no_kk:
            raise RiceError("NIK ini belum tercatat dengan No. KK di data penduduk; cari "
                            "dengan No. KK keluarganya.", "nomor")
        no_kk = person.no_kk
    def listed():  # a fresh query each time: Peewee caches a query's result
        return Family.get_or_none(Family.programme == programme.id, Family.no_kk == no_kk)

    family = listed()
    if family is None and programme.sync_families(no_kk):
        family = listed()
    if family is None:
        raise RiceError(f"Keluarga ini tidak terdaftar sebagai penerima {programme.skema_kode}, "
                        "jadi tidak termasuk penerima beras program ini.", "nomor")
    return family


def hand_over(programme: Programme, tahap: int, no_kk: str, batch_id: int | None, *,
              petugas: User | None = None, titik: str = "", nik_pengambil: str | None = None,
              sumber: str = "loket") -> Handover:
    """Record that a family received one stage; RiceError if the rules forbid it, and
    AlreadyHandedOver when the database refuses a second hand-over of that stage."""
    problem = programme.stage_problem(tahap)
    if problem:
        raise RiceError(problem, "tahap")
    day = today()
    with db.atomic():
        family = find_family(programme, no_kk=no_kk)
        batch = _locked(Batch.select().where(Batch.id == batch_id), share=True)
        problem = batch_problem(batch, programme, tahap, day)
        if problem:
            raise RiceError(problem, "batch")
        try:
            with db.atomic():
                return Handover.create(
                    programme=programme.id, tahap=tahap, no_kk=no_kk,
                    kecamatan=family.kecamatan_kode, batch=batch.id, tanggal=day,
                    petugas=petugas, titik=titik[:150], sumber=sumber,
                    nik_pengambil=nik_pengambil)
        except IntegrityError:
            pass  # the unique index: this stage was already handed to this family
    first = Handover.get(Handover.programme == programme.id, Handover.no_kk == no_kk,
                         Handover.tahap == tahap)
    raise AlreadyHandedOver(first)


def record_return(handover: Handover, gram: int, alasan: str, catatan: str = "",
                  user: User | None = None) -> Return:
    """A family brings rice back: an open return, at most what that stage gave them."""
    if alasan not in RETURN_REASONS:
        raise RiceError("Pilih alasan pengembalian.", "alasan")
    catatan = _text(catatan, "Keterangan", "catatan", 500, required=alasan == "lainnya")
    with db.atomic():
        handover = _locked(Handover.select().where(Handover.id == handover.id))
        stage_gram = Programme.get_by_id(handover.program_id).gram_per_tahap
        returned = (Return.select(Return.gram).where(Return.handover == handover.id)
                    .tuples())
        already = sum(g for (g,) in returned)
        if gram <= 0 or already + gram > stage_gram:
            left = stage_gram - already
            raise RiceError(f"Jumlah yang dikembalikan paling banyak {format_kg(left)} (tahap "
                            f"{handover.tahap} memberi {format_kg(stage_gram)}"
                            + (f", sudah dikembalikan {format_kg(already)}" if already else "")
                            + ").", "kg")
        return Return.create(handover=handover.id, gram=gram, alasan=alasan, catatan=catatan,
                             tanggal=today(), dicatat_oleh=user)


def record_replacement(ret: Return, batch_id: int | None, catatan: str = "",
                       user: User | None = None) -> Return:
    """The replacement of a return: the same quantity, from a batch cleared for that stage."""
    catatan = _text(catatan, "Catatan", "catatan", 500, required=False)
    day = today()
    with db.atomic():
        handover = Handover.get_by_id(ret.serah_id)
        programme = Programme.get_by_id(handover.program_id)
        batch = _locked(Batch.select().where(Batch.id == batch_id), share=True)
        problem = batch_problem(batch, programme, handover.tahap, day)
        if problem:
            raise RiceError(problem, "batch")
        changed = (Return.update(tanggal_ganti=day, batch_ganti=batch.id, diganti_oleh=user,
                                 catatan_ganti=catatan)
                   .where(Return.id == ret.id, Return.tanggal_ganti.is_null()).execute())
        if not changed:
            raise RiceError("Pengembalian ini sudah diganti sebelumnya.")
    return Return.get_by_id(ret.id)


def returns_of(programme: Programme, only_open: bool = False):
    query = (Return.select(Return, Handover).join(Handover)
             .where(Handover.programme == programme.id))
    if only_open:
        query = query.where(Return.tanggal_ganti.is_null())
    return query.order_by(Return.tanggal_ganti.is_null(False), Return.tanggal, Return.id)
