"""Every file the app exports reads back without edits: the recipient exports (CSV for
spreadsheets with ="…" cells, comma or semicolon, CSV data, .xlsx) into the import, changing
nothing; the report exports and the bulk check's answers into the bulk check; the rejected rows
of an import into the import, with the same problems."""
from __future__ import annotations

from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import models
from cases import casework
from imports import recipients as importer
from office import bulk_check
from office.desil import FamilyDesil
from tests.conftest import DESA, add_person, login, new_nik

KK1, KK2, KK3 = "3510160101200061", "3510010101200062", "3510160101200063"


@pytest.fixture
def admin(client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


@pytest.fixture
def register(app):
    a = add_person(no_kk=KK1, nama="NURʼAINI", alamat='Jl. "Mawar", 1; RT 001')
    b = add_person(no_kk=KK2, nama="=HYPERLINK(\"http://x\")", desa="35.10.01.2001")
    c = add_person(no_kk=KK3, nama="-BUDI")
    models.enrol(a, "PKH", sumber="impor:pusat.csv")
    models.enrol(b, "RANTANG-KASIH", sumber="impor:kab.csv")
    models.enrol(c, "DISABILITAS-BWI", sumber="impor:kab.csv")
    FamilyDesil.create(no_kk=KK1, desil=3, sumber="tes")
    return a, b, c


def state():
    people = list(models.Person.select().order_by(models.Person.nik).tuples())
    enrolments = list(models.Enrolment.select(models.Enrolment.person, models.Enrolment.scheme,
                                              models.Enrolment.berakhir)
                      .order_by(models.Enrolment.id).tuples())
    return people, enrolments, list(FamilyDesil.select().tuples())


@pytest.mark.parametrize("query, suffix", [
    ("", "csv"), ("?pemisah=%3B", "csv"), ("?format=data", "csv"), ("", "xlsx"),
])
def test_recipient_exports_reimport_changing_nothing(admin, register, tmp_path, query, suffix):
    before = state()
    response = admin.get(f"/admin/ekspor/penerima.{suffix}{query}")
    assert response.status_code == 200
    path = tmp_path / f"penerima.{suffix}"
    path.write_bytes(response.get_data())
    result = importer.import_register(str(path))
    assert result.ok, [str(p) for p in result.problems]
    assert (result.rows, result.people_unchanged, result.already_enrolled) == (3, 3, 3)
    assert (result.people_added, result.people_updated, result.enrolled) == (0, 0, 0)
    assert state() == before


def test_recipient_export_carries_the_desil_into_a_fresh_register(admin, register, tmp_path):
    response = admin.get("/admin/ekspor/penerima.xlsx")
    path = tmp_path / "penerima.xlsx"
    path.write_bytes(response.get_data())
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert sheet[0][:7] == ["nik", "no_kk", "nama", "alamat", "kode_desa", "skema", "desil"]
    assert all(isinstance(row[0], str) and len(row[0]) == 16 for row in sheet[1:])
    before = state()
    models.Enrolment.delete().execute()
    FamilyDesil.delete().execute()
    models.Person.delete().execute()
    result = importer.import_register(str(path))
    assert result.ok and (result.people_added, result.enrolled) == (3, 3)
    assert state()[0] == before[0] and state()[2][0][:2] == (KK1, 3)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_report_exports_read_into_the_bulk_check(admin, register, tmp_path, suffix):
    a, _b, _c = register
    stranger = new_nik()
    for nik in (a, stranger):
        casework.submit_report(
            {"nik": nik, "nama": "SESEORANG", "no_kk": None, "alamat": "Jl. Kenanga",
             "desa": DESA, "kategori": "kehilangan-penghasilan", "keterangan": "=1+1"},
            {"hubungan": "orang-lain", "nama": "TETANGGA", "nik": None,
             "telepon": "081234567890"})
    response = admin.get(f"/admin/ekspor/laporan.{suffix}")
    path = tmp_path / f"laporan.{suffix}"
    path.write_bytes(response.get_data())
    token, summary = bulk_check.run(path, tmp_path / "cek", "laporan", owner=1)
    assert not summary.problem and summary.rows == 2
    answers = {row[1]: row[3] for row in bulk_check.all_answers(tmp_path / "cek", token)}
    assert answers == {a: "terdaftar", stranger: "belum-terdaftar"}


def test_bulk_check_answers_read_back_as_xlsx(app, register, tmp_path):
    source = tmp_path / "daftar.csv"
    source.write_text("nik\n" + "\n".join(register) + "\n")
    token, _ = bulk_check.run(source, tmp_path / "cek", "daftar", owner=1)
    from office import exports

    workbook = tmp_path / "jawaban.xlsx"
    exports.write_xlsx(workbook, bulk_check.COLUMNS, bulk_check.all_answers(tmp_path / "cek",
                                                                            token), "cek")
    again, summary = bulk_check.run(workbook, tmp_path / "cek", "jawaban", owner=1)
    assert summary.rows == 3 and summary.counts["terdaftar"] == 3


def test_rejected_rows_read_back_with_the_same_problems(admin, app, tmp_path):
    from imports import files as import_files

    folder = Path(tmp_path / "tugas")
    folder.mkdir()
    good = new_nik()
    text = ("NIK;NO KK;NAMA;KODE WILAYAH;SKEMA\n"
            f"{good};{KK1};SITI;{DESA};PKH\n"
            f"{new_nik()};351016;BUDI;{DESA};\n"
            f"3.51016E+15;{KK1};TONO;{DESA};\n")
    (folder / import_files.UPLOAD).write_text(text)
    first = importer.import_register(str(folder / import_files.UPLOAD))
    import_files.write_problem_files(folder, first.problems)
    rejected = (folder / import_files.REJECTED).read_bytes()
    assert rejected.startswith("\ufeffNIK;NO KK;NAMA;KODE WILAYAH;SKEMA;alasan".encode())
    again = importer.import_register(importer.read_text(rejected.decode("utf-8-sig")))
    assert [p.message for p in again.problems] == [p.message for p in first.problems]
    assert [p.line for p in again.problems] == [2, 3]


def test_rejected_rows_of_a_spreadsheet_are_written_as_csv(app, tmp_path):
    from imports import files as import_files
    from tests.spreadsheets import write_xlsx

    folder = tmp_path / "tugas"
    folder.mkdir()
    write_xlsx(folder / import_files.UPLOAD, [
        ["Daftar penerima Desa Kemiren"], [],  # a title above the table
        ["NIK", "NO KK", "NAMA", "KODE WILAYAH"],
        [new_nik(), KK1, "SITI", DESA],
        ["123", 3510160101200010.0, "BUDI", DESA],
    ])
    result = importer.import_register(str(folder / import_files.UPLOAD))
    assert [p.line for p in result.problems] == [5, 5]
    import_files.write_problem_files(folder, result.problems)
    text = (folder / import_files.REJECTED).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "NIK,NO KK,NAMA,KODE WILAYAH,alasan"
    assert lines[1].startswith('"=""123""",3.51016010120001E+15,BUDI,35.10.16.1001,')
    again = importer.import_register(importer.read_text(text))
    assert [p.message for p in again.problems] == [p.message for p in result.problems]
