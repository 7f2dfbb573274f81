"""The recipient-list import: every problem by line number, all or nothing, re-import no-op."""
import datetime

import pytest

import models
from imports import bulk
from imports import recipients as importer
from nik import make_nik
from tests.conftest import add_person, new_nik

HEADER = "nik,no_kk,nama,alamat,kode_desa,skema"
DESA = "35.10.16.1001"
KK1, KK2, KK3 = "3510160101200011", "3510160101200012", "3510160101200013"
FIXED = make_nik("351016", datetime.date(1975, 3, 2), False, 4321)  # never a new_nik()


def csv(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def row(nik, no_kk=KK1, nama="SITI WAHYUNI", alamat="Jl. Mawar 1 RT 001 RW 002", desa=DESA,
        skema=""):
    return f"{nik},{no_kk},{nama},{alamat},{desa},{skema}"


def run(text, **kwargs):
    return importer.import_register(importer.read_text(text), **kwargs)


def counts():
    return models.Person.select().count(), models.Enrolment.select().count()


def problems(result):
    return [(p.line, p.message) for p in result.problems]


def test_valid_file_is_written(app):
    head, child, elder, single = new_nik(), new_nik(), new_nik(), new_nik(female=True)
    result = run(csv(row(head, skema="PKH"), row(child, nama="BUDI SANTOSO"),
                     row(elder, no_kk=KK2, skema="RANTANG-KASIH"), row(single, no_kk=KK3)))
    assert result.ok and result.written
    assert (result.rows, result.people_added, result.enrolled) == (4, 4, 2)
    assert counts() == (4, 2)
    assert models.covering(head).status == "terdaftar"
    assert models.covering(child).status == "keluarga-terdaftar"
    assert models.covering(elder).skema == "RANTANG-KASIH"
    assert models.covering(single).status == "belum-terdaftar"
    family = models.Enrolment.get(models.Enrolment.person == head)
    assert (family.family_kk, family.sumber, family.sejak) == (KK1, "impor", models.today())
    personal = models.Enrolment.get(models.Enrolment.person == elder)
    assert personal.family_kk is None


def test_reimport_changes_nothing(app, tmp_path):
    text = csv(row(new_nik(), skema="BST"), row(new_nik()),
               row(new_nik(), no_kk=KK2, skema="DISABILITAS-BWI"))
    path = tmp_path / "daftar.csv"
    path.write_text(text)
    first = importer.import_register(str(path))
    assert first.ok and first.enrolled == 2
    before = list(models.Enrolment.select().order_by(models.Enrolment.id).tuples())
    again = importer.import_register(str(path))
    assert again.ok
    assert (again.people_added, again.people_updated, again.people_unchanged) == (0, 0, 3)
    assert (again.enrolled, again.already_enrolled) == (0, 2)
    assert list(models.Enrolment.select().order_by(models.Enrolment.id).tuples()) == before
    assert before[0][5] == "impor:daftar.csv"  # sumber names the file


def test_changed_person_is_updated_only_where_different(app):
    nik, other = new_nik(), new_nik()
    run(csv(row(nik), row(other)))
    result = run(csv(row(nik, alamat="Jl. Melati 9"), row(other)))
    assert (result.people_added, result.people_updated, result.people_unchanged) == (0, 1, 1)
    assert models.Person.get_by_id(nik).alamat == "Jl. Melati 9"


@pytest.mark.parametrize("bad_row, message", [
    (row("351016170580001"), "NIK harus 16 angka, yang diisi 15 angka."),
    (row("9910161705800001"), "Kode provinsi 99"),
    (row("3510163202800001"), "Tanggal lahir pada NIK tidak mungkin"),
    (row("3510161713800001"), "Bulan lahir pada NIK tidak mungkin"),
    (row("3510163002800001"), "tidak ada di kalender: 30-02-1980"),
    (row("3510161705800000"), "tidak boleh 0000"),
    (row("35101617058000AB"), "NIK hanya boleh berisi angka"),
    (row(FIXED, no_kk="351016"), "No. KK harus 16 angka"),
    (row(FIXED, no_kk=""), "No. KK wajib diisi."),
    (row(FIXED, nama="  "), "Nama wajib diisi."),
    (row(FIXED, nama="A" * 151), "Nama terlalu panjang"),
    (row(FIXED, desa="35.10.16.9999"), "Kode desa 35.10.16.9999 tidak dikenal"),
    (row(FIXED, desa="35.10.16"), "kode kecamatan"),
    (row(FIXED, desa=""), "Kode desa wajib diisi"),
    (row(FIXED, skema="BANSOS-X"), "Skema BANSOS-X tidak dikenal"),
    (f"{FIXED},3510160101200011,SITI", "berisi 3 kolom; seharusnya 6"),
])
def test_each_problem_is_reported_with_its_line(app, bad_row, message):
    result = run(csv(row(new_nik()), row(new_nik()), bad_row, row(new_nik())))
    assert not result.written and result.skipped == 1
    [(line, text)] = problems(result)
    assert line == 4 and message in text
    assert counts() == (0, 0)


def test_every_problem_of_every_row_is_reported(app):
    result = run(csv(row("123", desa="35.10.99.1001", skema="XYZ"), row(new_nik()),
                     row(new_nik(), nama="")))
    assert [line for line, _ in problems(result)] == [2, 2, 2, 4]


def test_inactive_scheme(app):
    models.Scheme.update(aktif=False).where(models.Scheme.kode == "BLT-DD").execute()
    result = run(csv(row(new_nik(), skema="BLT-DD")))
    assert "BLT-DD sudah tidak aktif" in result.problems[0].message


def test_lowercase_scheme_and_spaces_are_accepted(app):
    nik = new_nik()
    result = run(csv(f" {nik[:8]} {nik[8:]} , {KK1},  SITI  , Jl. Mawar , {DESA} , pkh "))
    assert result.ok
    assert models.covering(nik).skema == "PKH"
    assert models.Person.get_by_id(nik).nama == "SITI"


def test_same_nik_twice_in_the_file(app):
    nik = new_nik()
    result = run(csv(row(nik), row(new_nik()), row(nik, nama="LAIN")))
    assert problems(result) == [(4, "NIK ini sudah ada di baris 2; setiap NIK hanya boleh "
                                    "muncul sekali dalam satu file.")]


def test_enrolled_in_another_scheme_in_the_register(app):
    nik = add_person()
    models.enrol(nik, "RANTANG-KASIH", sumber="test")
    result = run(csv(row(nik, skema="BST")))
    assert problems(result) == [(2, "NIK ini sudah terdaftar sebagai penerima RANTANG-KASIH.")]


def test_same_scheme_already_in_the_register_is_a_no_op(app):
    nik = add_person(no_kk=KK1)
    models.enrol(nik, "PKH", sumber="test")
    result = run(csv(row(nik, skema="PKH")))
    assert result.ok and (result.enrolled, result.already_enrolled) == (0, 1)


def test_family_rule_through_the_register(app):
    father = add_person(no_kk=KK1)
    models.enrol(father, "BST", sumber="test")
    son, daughter = new_nik(), new_nik(female=True)
    result = run(csv(row(son, skema="RANTANG-KASIH"), row(daughter, skema="PKH")))
    assert problems(result) == [
        (2, "Keluarga NIK ini (No. KK yang sama) sudah menerima BST."),
        (3, "Keluarga NIK ini (No. KK yang sama) sudah menerima BST."),
    ]


def test_family_scheme_refused_when_a_member_has_a_personal_one(app):
    grandmother = add_person(no_kk=KK1)
    models.enrol(grandmother, "RANTANG-KASIH", sumber="test")
    result = run(csv(row(new_nik(), skema="BPNT")))
    [(line, message)] = problems(result)
    assert line == 2 and f"Anggota keluarga dengan NIK {grandmother}" in message


def test_family_rule_within_the_file(app):
    head, member, elder, mother = new_nik(), new_nik(), new_nik(), new_nik(female=True)
    result = run(csv(row(head, skema="PKH"), row(mother, no_kk=KK2, skema="NUTRISI-BUMIL"),
                     row(member, skema="BPNT"), row(elder, skema="RANTANG-KASIH"),
                     row(new_nik(), no_kk=KK2, skema="SEMBAKO-BWI")))
    assert problems(result) == [
        (4, "Keluarga NIK ini (No. KK yang sama) sudah menerima PKH (lihat baris 2)."),
        (5, "Keluarga NIK ini (No. KK yang sama) sudah menerima PKH (lihat baris 2)."),
        (6, f"Anggota keluarga dengan NIK {mother} sudah "
            "menerima NUTRISI-BUMIL; satu keluarga hanya boleh menerima satu bantuan "
            "(lihat baris 3)."),
    ]


def test_conflicting_file_writes_nothing(app):
    existing = add_person(no_kk=KK3)
    models.enrol(existing, "BST", sumber="test")
    before = counts()
    result = run(csv(row(new_nik(), skema="PKH"), row(new_nik()),
                     row(new_nik(), no_kk=KK3, skema="PKH")))
    assert not result.written and [p.line for p in result.problems] == [4]
    assert counts() == before


def test_skip_invalid_writes_the_valid_rows(app):
    good, conflict, member = new_nik(), new_nik(), new_nik()
    result = run(csv(row(good, skema="PKH"), row("1234"), row(conflict, skema="BST"),
                     row(member)), skip_invalid=True)
    assert result.written and not result.ok
    assert [p.line for p in result.problems] == [3, 4] and result.skipped == 2
    assert (result.people_added, result.enrolled) == (2, 1)
    assert models.Person.get_or_none(models.Person.nik == conflict) is None
    assert models.covering(member).status == "keluarga-terdaftar"


def test_header_must_name_the_columns(app):
    result = run("nik,no_kk,kampung\n3510161705800001,3510160101200011,SITI\n")
    [(line, message)] = problems(result)
    assert line == 1 and result.needs_mapping and not result.written
    assert message.startswith("Kolom Nama tidak ditemukan di baris judul. Judul yang tidak "
                              "dikenali: kampung.")
    assert "petakan kolomnya sekali di halaman Impor" in message
    # NIK and NAMA alone make a short list, which needs a scheme for the whole upload.
    result = run("nik,no_kk,nama\n3510161705800001,3510160101200011,SITI\n")
    assert problems(result) == [(0, "Daftar ini hanya berisi NIK dan nama: pilih skema "
                                    "bantuan untuk seluruh daftar, lalu impor lagi.")]


def test_quotes_semicolons_blank_lines_and_column_order(app):
    first, second = new_nik(), new_nik()
    text = ("skema;kode_desa;nama;nik;no_kk;alamat\r\n"
            f'PKH;{DESA};"WAHYUNI; S.Pd";{first};{KK1};"Jl. Mawar 1,\r\nRT 001"\r\n'
            "\r\n"
            f";{DESA};BUDI;{second};{KK1};Jl. Mawar 1\r\n")
    result = run(text)
    assert result.ok and result.rows == 2
    assert models.Person.get_by_id(first).nama == "WAHYUNI; S.Pd"
    assert models.Person.get_by_id(first).alamat == "Jl. Mawar 1, RT 001"
    bad = run(text.replace(f";{DESA};BUDI", f";{DESA};"))
    assert [p.line for p in bad.problems] == [5]  # the quoted field ran over two lines


def test_progress_and_cancellation(app, monkeypatch):
    monkeypatch.setattr(importer, "REPORT_EVERY", 2)
    seen = []

    def progress(phase, done, total):
        seen.append(phase)
        return phase == "menulis"

    monkeypatch.setattr(bulk, "BATCH", 2)
    result = run(csv(*(row(new_nik()) for _ in range(5))), progress=progress)
    assert result.cancelled and not result.written
    assert {"membaca", "menulis"} <= set(seen)
    assert counts() == (0, 0)



@pytest.mark.parametrize("body", [
    "x\n" * 45_000,  # nothing but rows of the wrong width: every one a problem
    ("3510161705800001," + "x" * 60_000 + ",SITI,Jl. Mawar,35.10.16.1001,\n") * 70,  # long rows
], ids=["problem-rows", "long-rows"])
def test_a_cancel_while_reading_is_honoured_whatever_the_rows(app, body):
    """The reader asks whether to go on every REPORT_EVERY rows, problems included, and every
    TICK_CHARS characters: a file of nothing but problems, or of a few very long rows, is
    cancelled while it is read, as a good one is."""
    asked = []

    def progress(phase, done, total):
        asked.append((phase, done))
        return True

    result = run(HEADER + "\n" + body, progress=progress)
    assert result.cancelled and not result.written
    assert asked[0][0] == "membaca" and asked[0][1] <= importer.REPORT_EVERY
    assert counts() == (0, 0)

def test_bulk_load_rebuilds_plain_indexes(app, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_AT", 1)
    nik = new_nik()
    assert run(csv(row(nik, skema="PKH"), row(new_nik()))).ok
    if isinstance(models.db.obj, bulk.SqliteDatabase):
        names = {r[0] for r in models.db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'penduduk'")}
        assert "person_no_kk" in names
        assert models.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert models.covering(nik).status == "terdaftar"


def test_command_line(runner, tmp_path):
    nik = FIXED
    bad = tmp_path / "salah.csv"
    bad.write_text(csv(row(nik), row("35101617058")))
    result = runner.invoke(args=["import-data", str(bad)])
    assert result.exit_code == 1
    assert "Baris 3: NIK harus 16 angka, yang diisi 11 angka." in result.output
    assert "Tidak ada data yang disimpan" in result.output
    result = runner.invoke(args=["import-data", "--skip-invalid", str(bad)])
    assert result.exit_code == 0 and "1 baris bermasalah dilewati" in result.output
    good = tmp_path / "benar.csv"
    good.write_text(csv(row(nik)))
    result = runner.invoke(args=["import-data", str(good)])
    assert result.exit_code == 0
    assert "Penduduk: 0 baru, 0 diperbarui, 1 tidak berubah" in result.output
    # Every run is in the audit log, by the system, with its file, its outcome and no NIK.
    from office import audit

    subjects = [entry.subject for entry in audit.entries("impor")]
    assert subjects == ["import-data benar.csv: 1 baris, disimpan, 0 masalah",
                        "import-data salah.csv: 2 baris, disimpan, 1 masalah",
                        "import-data salah.csv: 2 baris, tidak disimpan, 1 masalah"]
    assert all(entry.actor == audit.SYSTEM for entry in audit.entries("impor"))
