"""Exports read back as a spreadsheet would: UTF-8 with BOM, every NIK and No. KK digit intact,
the filters applied, streamed rather than built in memory, formulas typed by residents inert."""
from __future__ import annotations

import csv
import datetime
import io

import pytest

import models
from cases import casework
from office import exports
from tests.conftest import add_person, login, new_nik

KK_A, KK_B = "3510160101200031", "3510010101200032"
DESA_KEC_BANYUWANGI, DESA_KEC_PESANGGARAN = "35.10.16.1001", "35.10.01.2001"


@pytest.fixture
def admin(client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


def read(response, delimiter=","):
    """Parse as a spreadsheet does: BOM means UTF-8; ="..." is the text inside."""
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8")[1:]), delimiter=delimiter))
    for row in rows:
        for key, value in row.items():
            if value.startswith('="') and value.endswith('"'):
                row[key] = value[2:-1]
    return rows


@pytest.fixture
def register(app):
    a = add_person(no_kk=KK_A, nama="NURʼAINI")
    b = add_person(no_kk=KK_B, nama="=HYPERLINK(\"http://x\")", desa=DESA_KEC_PESANGGARAN)
    c = add_person(no_kk=KK_A, nama="BUDI")
    models.enrol(a, "PKH", sumber="impor:pusat.csv")
    models.enrol(b, "RANTANG-KASIH", sumber="impor:kab.csv")
    return a, b, c


def test_recipients_with_every_digit_intact(admin, register):
    a, b, _ = register
    response = admin.get("/admin/ekspor/penerima.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="penerima-' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    raw = response.get_data(as_text=True)
    assert f'"=""{a}"""' in raw  # the cell is ="3510...", quoted by the CSV writer
    rows = read(response)
    by_nik = {r["nik"]: r for r in rows}
    assert set(by_nik) == {a, b}  # the unenrolled family member is not a recipient
    assert by_nik[a]["no_kk"] == KK_A and len(by_nik[a]["no_kk"]) == 16
    assert by_nik[a]["nama"] == "NURʼAINI"  # UTF-8 survives
    assert by_nik[a]["skema"] == "PKH" and by_nik[a]["tingkat"] == "pusat"
    assert by_nik[a]["kecamatan"] == "Banyuwangi"
    # A name that looks like a formula is made inert with a leading apostrophe.
    assert by_nik[b]["nama"].startswith("'=HYPERLINK")


@pytest.mark.parametrize("query, expected", [
    ("skema=PKH", "a"), ("tingkat=kabupaten", "b"), ("kecamatan=35.10.01", "b"),
    ("kecamatan=35.10.16&tingkat=pusat", "a"), ("skema=BST", ""),
])
def test_recipient_filters(admin, register, query, expected):
    names = {"a": register[0], "b": register[1]}
    rows = read(admin.get(f"/admin/ekspor/penerima.csv?{query}"))
    assert [r["nik"] for r in rows] == [names[k] for k in expected]


def test_data_mode_and_semicolons(admin, register):
    response = admin.get("/admin/ekspor/penerima.csv?format=data&pemisah=%3B&skema=PKH")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffnik;no_kk;nama;")
    assert f"{register[0]};{KK_A};" in text  # plain digits for programs


def test_unknown_filter_is_explained(admin):
    response = admin.get("/admin/ekspor/penerima.csv?skema=TIDAK-ADA")
    assert response.status_code == 400
    assert "Skema tidak dikenal" in response.get_data(as_text=True)
    response = admin.get("/admin/ekspor/laporan.csv?dari=2026-13-01")
    assert "Tanggal awal tidak dapat dibaca" in response.get_data(as_text=True)


def _report(nik, no_kk=None, nama="RINI"):
    subject = dict(nik=nik, nama=nama, no_kk=no_kk, alamat="Jl. Kenanga 2",
                   desa="35.10.16.1001", kategori="lansia-sebatang-kara", keterangan="+62 sakit")
    reporter = dict(hubungan="diri-sendiri", nama=nama, nik=nik, telepon=None)
    return casework.submit_report(subject, reporter)[0]


def test_reports_by_status_and_period(admin):
    first = _report(new_nik(), no_kk="3510160101200099")
    second = _report(new_nik())
    models.Report.update(tanggal_lapor=datetime.date(2026, 1, 5)).where(
        models.Report.id == second.id).execute()
    rows = read(admin.get("/admin/ekspor/laporan.csv"))
    assert {r["kode_laporan"] for r in rows} == {first.kode, second.kode}
    row = next(r for r in rows if r["kode_laporan"] == first.kode)
    assert row["nik"] == first.nik and row["no_kk"] == "3510160101200099"
    assert row["status"] == "menunggu-penilaian" and row["kecamatan"] == "Banyuwangi"
    assert row["keterangan"] == "'+62 sakit"
    rows = read(admin.get("/admin/ekspor/laporan.csv?dari=2026-01-01&sampai=2026-01-31"))
    assert [r["kode_laporan"] for r in rows] == [second.kode]
    rows = read(admin.get("/admin/ekspor/laporan.csv?status=tersalurkan"))
    assert rows == []


def test_export_is_streamed_in_pages(app, monkeypatch):
    """More rows than a page: every one comes out once, in chunks, never as one big list."""
    monkeypatch.setattr(exports, "PAGE", 7)
    niks = []
    for i in range(40):
        nik = add_person(no_kk=f"35101601012{i:05d}")
        models.enrol(nik, "BST", sumber="t")
        niks.append(nik)
    chunks = list(exports.stream_csv(exports.RECIPIENT_COLUMNS, exports.recipients()))
    rows = read_text("".join(chunks))
    assert sorted(r["nik"] for r in rows) == sorted(niks)
    generator = exports.recipients()
    assert iter(generator) is generator  # a generator, not a list


def read_text(text: str):
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:
        row["nik"] = row["nik"][2:-1]
    return rows


def test_export_form(admin):
    page = admin.get("/admin/ekspor").get_data(as_text=True)
    assert 'action="/admin/ekspor/penerima.csv"' in page and 'name="kecamatan"' in page
    assert 'action="/admin/ekspor/laporan.csv"' in page and 'type="date"' in page
