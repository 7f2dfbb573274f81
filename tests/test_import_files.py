"""Recipient lists as offices really have them: .xlsx, .xls, .ods and CSV, headers written as
people write them, desa by code or by name, NIKs stored as numbers by the spreadsheet."""
from __future__ import annotations

import datetime

import pytest

import models
from imports import headers
from imports import recipients as importer
from imports.readers import cell_text
from nik import make_nik
from tests.conftest import add_person, new_nik
from tests.spreadsheets import WRITERS, number_nik, write_xlsx

DESA = "35.10.16.1001"
KK1, KK2 = "3510160101200011", "3510160101200012"
SIKS_HEADER = ["NIK", "NO KK", "NAMA LENGKAP", "ALAMAT", "RT", "RW", "KODE WILAYAH", "SKEMA"]


def problems(result):
    return [(p.line, p.message) for p in result.problems]


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods"])
def test_spreadsheets_with_numbers_and_siks_headers(app, tmp_path, kind):
    head, child = number_nik(), new_nik()
    path = WRITERS[kind](tmp_path / f"daftar.{kind}", [
        SIKS_HEADER,
        # Numbers as a spreadsheet stores them: NIK exact (ends in 1..9), RT 1, code 10 digits.
        [float(head), float(KK1), "Siti  Wahyuni", "Jl. Mawar 1", 1, 2, 3510161001.0, "PKH"],
        [child, KK1, "BUDI", "Jl. Mawar 1", "003", "004", DESA, ""],
    ])
    result = importer.import_register(str(path))
    assert result.ok, problems(result)
    assert (result.rows, result.people_added, result.enrolled) == (2, 2, 1)
    person = models.Person.get_by_id(head)
    assert (person.no_kk, person.nama, person.desa_kode) == (KK1, "Siti Wahyuni", DESA)
    assert person.alamat == "Jl. Mawar 1 RT 001 RW 002"
    assert models.Person.get_by_id(child).alamat == "Jl. Mawar 1 RT 003 RW 004"
    assert models.covering(child).status == "keluarga-terdaftar"
    assert models.Enrolment.get().sumber == f"impor:daftar.{kind}"


def test_a_nik_whose_last_digit_a_spreadsheet_may_have_lost_is_refused(app, tmp_path):
    exact = make_nik("351016", datetime.date(1980, 5, 17), False, 4321)
    lost = make_nik("351016", datetime.date(1980, 5, 17), False, 4320)  # Excel: 351...4320
    path = write_xlsx(tmp_path / "angka.xlsx", [
        ["nik", "no_kk", "nama", "kode_desa"],
        [float(exact), KK1, "SITI", DESA],
        [float(lost), KK1, "BUDI", DESA],
        [new_nik(), 3510160101200010.0, "TONO", DESA],
    ])
    result = importer.import_register(str(path))
    assert not result.written
    assert problems(result) == [
        (3, "NIK tersimpan sebagai angka (3.51016170580432E+15): spreadsheet hanya menyimpan 15 "
            "angka, jadi angka terakhirnya hilang. Ubah format kolom menjadi Teks, ketik ulang "
            "NIK lengkap 16 angka, lalu unggah lagi."),
        (4, "No. KK tersimpan sebagai angka (3.51016010120001E+15): spreadsheet hanya "
            "menyimpan 15 angka, jadi angka terakhirnya hilang. Ubah format kolom menjadi Teks, "
            "ketik ulang No. KK lengkap 16 angka, lalu unggah lagi."),
    ]
    assert importer.import_register(str(path), skip_invalid=True).people_added == 1
    assert models.Person.get_by_id(exact).no_kk == KK1  # the exact number, recovered


def test_scientific_notation_in_a_csv_is_refused_with_its_line(app):
    text = (f"nik,no_kk,nama,kode_desa\n{new_nik()},{KK1},SITI,{DESA}\n"
            f"3.51016E+15,{KK1},BUDI,{DESA}\n")
    result = importer.import_register(importer.read_text(text))
    [(line, message)] = problems(result)
    assert line == 3 and message.startswith("NIK tersimpan sebagai angka (3.51016E+15)")


def test_cell_text():
    assert cell_text(3510160101200001.0) == "3510160101200001"
    assert cell_text(3510160101200000.0) == "3.51016010120000E+15"
    assert cell_text(1.0) == "1" and cell_text(2.5) == "2.5"
    assert cell_text(datetime.date(2020, 5, 12)) == "2020-05-12"
    assert cell_text(datetime.datetime(2020, 5, 12)) == "2020-05-12"
    assert cell_text("  SITI \n WAHYUNI ") == "SITI WAHYUNI" and cell_text(None) == ""


@pytest.mark.parametrize("spellings", [
    ("NIK", "NO KK", "NAMA", "ALAMAT", "KODE WILAYAH", "SKEMA"),
    ("nik", "Nomor KK", "Nama Lengkap", "Alamat", "Kode Desa", "Program"),
    ("N.I.K.", "No. KK", "nama_penerima", "ALAMAT RUMAH", "kode_desa", "JENIS BANTUAN"),
    ("Nomor Induk Kependudukan", "NOMOR KARTU KELUARGA", "NAMA", "alamat", "KODE_WILAYAH",
     "skema"),
])
def test_header_spellings(app, spellings):
    nik = new_nik()
    text = ";".join(spellings) + f"\n{nik};{KK1};SITI;Jl. Mawar;3510161001;PKH\n"
    result = importer.import_register(importer.read_text(text))
    assert result.ok, problems(result)
    assert models.covering(nik).skema == "PKH"


def test_desa_by_name_and_kecamatan_with_ambiguity_per_line(app):
    ok, lost, twice, fixed = new_nik(), new_nik(), new_nik(), new_nik()
    text = ("NIK,NO KK,NAMA,DESA/KELURAHAN,KECAMATAN\n"
            f"{ok},{KK1},SITI,Desa Kemiren,Glagah\n"
            f"{lost},{KK1},BUDI,Kemirenn,Glagah\n"
            f"{twice},{KK2},TONO,Karangrejo,\n"
            f"{fixed},{KK2},TINI,KARANGREJO,Kecamatan Banyuwangi\n")
    result = importer.import_register(importer.read_text(text))
    assert [line for line, _ in problems(result)] == [3, 4]
    assert "Desa/kelurahan Kemirenn tidak ada di Kecamatan Glagah" in result.problems[0].message
    assert result.problems[1].message.startswith("Ada 2 desa bernama Karangrejo: Kecamatan ")
    assert "Isi kolom kecamatan atau kode desanya." in result.problems[1].message
    result = importer.import_register(importer.read_text(text), skip_invalid=True)
    assert result.written and result.people_added == 2
    kemiren = models.Region.get(models.Region.nama == "Kemiren")
    assert models.Person.get_by_id(ok).desa_kode == kemiren.kode
    assert models.Person.get_by_id(fixed).desa_kode.startswith("35.10.16.")


def test_unrecognised_header_is_mapped_once_and_remembered(app, tmp_path):
    header = ["No", "Identitas", "Kartu", "Penerima", "Lokasi"]
    nik = new_nik()
    path = write_xlsx(tmp_path / "kabupaten.xlsx", [header, [1, nik, KK1, "SITI", DESA]])
    first = importer.import_register(str(path))
    assert first.needs_mapping and first.header == header and not first.written
    assert "Judul yang tidak dikenali: No, Identitas, Kartu, Penerima, Lokasi" in \
        first.problems[0].message
    refused = headers.remember("penerima", header, ["", "nik", "no_kk", "", "kode_desa"], "kepala")
    assert not refused.remembered and "Kolom Nama tidak ditemukan" in refused.problem()
    mapped = headers.remember("penerima", header, ["", "nik", "no_kk", "nama", "kode_desa"],
                              "kepala")
    assert mapped.remembered and mapped.problem() is None
    again = importer.import_register(str(path))
    assert again.ok and models.Person.get_by_id(nik).nama == "SITI"
    # Another file with the same headers (case and spaces aside) needs no mapping.
    other = new_nik()
    text = f"NO;identitas;KARTU;penerima;lokasi\n2;{other};{KK2};BUDI;{DESA}\n"
    assert importer.import_register(importer.read_text(text)).ok
    assert models.Person.get_by_id(other).no_kk == KK2


def test_a_chosen_sheet(app, tmp_path):
    nik = new_nik()
    path = write_xlsx(tmp_path / "dua.xlsx", [["nik", "no_kk", "nama", "kode_desa"],
                                              [nik, KK1, "SITI", DESA]],
                      sheet="Penerima", before={"Keterangan": [["dibuat oleh desa"]]})
    first = importer.import_register(str(path))
    assert first.needs_mapping  # the first sheet holds no list
    assert importer.import_register(str(path), sheet="penerima").ok
    missing = importer.import_register(str(path), sheet="Lain")
    assert problems(missing) == [(0, "Lembar (sheet) “Lain” tidak ada di berkas ini. Lembar "
                                     "yang ada: Keterangan, Penerima.")]


def test_spreadsheet_line_numbers_count_rows_above_the_header(app, tmp_path):
    path = write_xlsx(tmp_path / "judul.xlsx", [
        [], [],  # two empty rows above the header: the header is row 3
        ["nik", "no_kk", "nama", "kode_desa"],
        [new_nik(), KK1, "SITI", DESA],
        [],
        ["123", KK1, "BUDI", DESA],
    ])
    result = importer.import_register(str(path))
    assert problems(result) == [(6, "NIK harus 16 angka, yang diisi 3 angka.")]


def test_a_file_that_is_no_spreadsheet(app, tmp_path):
    path = tmp_path / "rusak.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    result = importer.import_register(str(path))
    assert not result.written and result.problems[0].line == 0
    assert "rusak atau bukan spreadsheet" in result.problems[0].message


def test_command_line_reads_a_spreadsheet_and_a_sheet(runner, tmp_path):
    nik = new_nik()
    path = write_xlsx(tmp_path / "daftar.xlsx", [SIKS_HEADER,
                                                 [nik, KK1, "SITI", "Jl. Mawar", 1, 2, DESA,
                                                  "BST"]], sheet="Data")
    result = runner.invoke(args=["import-data", "--sheet", "Data", str(path)])
    assert result.exit_code == 0, result.output
    assert "Kepesertaan: 1 baru" in result.output
    assert models.covering(nik).skema == "BST"


def test_short_list_enrols_registered_people_and_reports_what_to_look_at(app):
    known = add_person(no_kk=KK1, nama="SITI WAHYUNI")
    other = add_person(no_kk=KK2, nama="BUDI SANTOSO")
    stranger = new_nik()
    text = ("NIK,NAMA\n"
            f"{known},Siti  wahyuni\n"  # case and spaces aside: the same name
            f"{other},BUDI SANTOSA\n"
            f"{stranger},TONO\n")
    result = importer.import_register(importer.read_text(text), skema="PKH")
    assert not result.written
    assert [line for line, _ in problems(result)] == [3, 4]
    assert ("Nama di berkas “BUDI SANTOSA” berbeda dengan nama di data penduduk “BUDI "
            "SANTOSO”") in result.problems[0].message
    assert "NIK ini belum ada di data penduduk" in result.problems[1].message
    result = importer.import_register(importer.read_text(text), skema="PKH", skip_invalid=True)
    assert result.written and result.enrolled == 1 and result.skipped == 2
    assert models.covering(known).skema == "PKH"
    assert models.covering(other).status == "belum-terdaftar"
    assert models.Person.get_or_none(models.Person.nik == stranger) is None
    assert models.Person.get_by_id(known).nama == "SITI WAHYUNI"  # a short list changes no one


def test_short_list_needs_a_scheme_and_follows_the_rules(app):
    nik = add_person(no_kk=KK1, nama="SITI")
    member = add_person(no_kk=KK1, nama="BUDI")
    text = f"nik;nama\n{nik};SITI\n{member};BUDI\n{nik};SITI\n"
    assert problems(importer.import_register(importer.read_text(text)))[0][0] == 0
    result = importer.import_register(importer.read_text(text), skema="BPNT")
    assert [line for line, _ in problems(result)] == [3, 4]
    assert "sudah ada di baris 2" in result.problems[1].message
    assert "(lihat baris 2)" in result.problems[0].message  # the family rule, within the file
    per_row = f"NIK,NAMA,SKEMA\n{nik},SITI,RANTANG-KASIH\n"
    assert importer.import_register(importer.read_text(per_row), skema="PKH").ok
    assert models.covering(nik).skema == "RANTANG-KASIH"
