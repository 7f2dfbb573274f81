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

from peewee import IntegrityError, fn

from database import db
from formats import long_date, today
from models import Person, Scheme, User
from rice.models import (
    MAX_STAGES,
    RETURN_REASONS,
    TEST_RESULTS,
    AlreadyHandedOver,
    Batch,
    CookingTest,
    Family,
    Handover,
    Programme,
    Return,
    RiceError,
    Stage,
    format_kg,
)


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
        return (f"Batch {batch.kode} baru lulus uji tanak pada {long_date(batch.lulus_tanggal)}; "
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


def returns_of(programme: Programme, only_open: bool = False, kecamatan: str | None = None):
    """The programme's returns; only those of families in `kecamatan` for a scoped reviewer."""
    query = (Return.select(Return, Handover).join(Handover)
             .where(Handover.programme == programme.id))
    if kecamatan:
        query = query.where(fn.EXISTS(
            Family.select(Family.id).where(Family.programme == Handover.programme,
                                           Family.no_kk == Handover.no_kk,
                                           Family.kecamatan == kecamatan)))
    if only_open:
        query = query.where(Return.tanggal_ganti.is_null())
    return query.order_by(Return.tanggal_ganti.is_null(False), Return.tanggal, Return.id)
