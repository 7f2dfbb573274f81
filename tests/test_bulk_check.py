"""The bulk check: a desa operator uploads a list of NIKs and gets, per row, the public check's
answer (from the one covering rule), as a page and as CSV and .xlsx downloads."""
from __future__ import annotations

import csv
import io
import time

import pytest
from python_calamine import CalamineWorkbook

import models
from office import bulk_check
from tests.conftest import add_person, csrf_token, login, new_nik
from tests.spreadsheets import number_nik, write_xlsx

KK1, KK2 = "3510160101200041", "3510160101200042"


@pytest.fixture
def register(app):
    head = add_person(number_nik(), no_kk=KK1, nama="SITI WAHYUNI")
    member = add_person(no_kk=KK1, nama="BUDI SANTOSO")
    alone = add_person(no_kk=KK2, nama="TONO")
    models.enrol(head, "PKH", sumber="tes")
    return head, member, alone


@pytest.fixture
def operator(client, make_user, app, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "impor")
    make_user("desa", "petugas", kantor="35.10.16.1001")
    login(client, "desa")
    return client


def upload(client, content: bytes, name: str, **extra):
    data = {"csrf_token": csrf_token(client, "/cek-massal"),
            "berkas": (io.BytesIO(content), name), **extra}
    return client.post("/cek-massal", data=data, content_type="multipart/form-data")


def test_answers_like_the_public_check(operator, register, tmp_path):
    head, member, alone = register
    unknown = new_nik()
    path = write_xlsx(tmp_path / "desa.xlsx", [
        ["No", "NIK", "Nama"],
        [1, float(head), "siti"],  # a number cell, exact: recovered
        [2, member, "budi"],
        [3, alone, ""],
        [4, unknown, ""],
        [5, "3510161713800001", ""],
    ])
    response = upload(operator, path.read_bytes(), "desa.xlsx")
    assert response.status_code == 303
    page = operator.get(response.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "5 baris dicek" in html
    for status, count in (("terdaftar", 1), ("keluarga-terdaftar", 1), ("belum-terdaftar", 2),
                          ("tidak-valid", 1)):
        assert f'<tr data-status="{status}"><td>' in html
        assert html.split(f'data-status="{status}"')[1].split("</tr>")[0].endswith(
            f"<td>{count}</td>")
    assert "S**I W*****I" in html and "SITI WAHYUNI" not in html  # masked, as in public
    assert "Bulan lahir pada NIK tidak mungkin" in html
    rows = list(csv.DictReader(io.StringIO(
        operator.get(response.headers["Location"] + ".csv").get_data(as_text=True)[1:])))
    assert [r["status"] for r in rows] == ["terdaftar", "keluarga-terdaftar", "belum-terdaftar",
                                           "belum-terdaftar", "tidak-valid"]
    assert [r["baris"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert rows[0]["nik"] == f'="{head}"' and rows[0]["skema"] == "PKH"
    assert rows[0]["tingkat"] == "Pusat" and rows[1]["nama"] == "B**I S*****O"
    assert rows[1]["keterangan"].startswith("Keluarganya (No. KK yang sama) terdaftar di")
    for row, nik in zip(rows[:4], (head, member, alone, unknown), strict=True):
        expected = models.covering(nik)
        assert row["status"] == expected.status and row["skema"] == (expected.skema or "")
    from office import audit

    [entry] = audit.entries("cek.massal")
    assert (entry.actor, entry.subject) == ("desa", "5 baris, desa.xlsx")
    workbook = operator.get(response.headers["Location"] + ".xlsx")
    assert workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook.get_data())).get_sheet_by_index(0)
    cells = sheet.to_python()
    assert cells[0][:4] == ["baris", "nik", "no_kk", "status"]
    assert cells[1][1] == head and isinstance(cells[1][1], str)  # a text cell, all 16 digits


def test_no_kk_column_and_the_download_reads_back(operator, register, tmp_path):
    _head, _member, alone = register
    stranger = new_nik()
    text = f"NIK;NO. KK\n{stranger};{KK1}\n{alone};\n{stranger};12\n"
    first = upload(operator, text.encode(), "daftar.csv")
    rows = list(csv.DictReader(io.StringIO(
        operator.get(first.headers["Location"] + ".csv").get_data(as_text=True)[1:])))
    # A person unknown to the register, but with a family card that is covered.
    assert [r["status"] for r in rows] == ["keluarga-terdaftar", "belum-terdaftar",
                                           "tidak-valid"]
    assert rows[2]["keterangan"] == "No. KK harus 16 angka, yang diisi 2 angka."
    # The answers file is a list of NIKs with No. KK: checked again, the same answers.
    again = upload(operator, operator.get(first.headers["Location"] + ".csv").get_data(),
                   "jawaban.csv")
    second = list(csv.DictReader(io.StringIO(
        operator.get(again.headers["Location"] + ".csv").get_data(as_text=True)[1:])))
    assert [r["status"] for r in second] == [r["status"] for r in rows]


def test_only_the_owner_sees_the_answers(operator, register, client, make_user, app):
    response = upload(operator, f"nik\n{register[0]}\n".encode(), "a.csv")
    location = response.headers["Location"]
    login(operator, "desa")
    make_user("lain", "verifikator")
    other = app.test_client()
    login(other, "lain")
    assert other.get(location).status_code == 404
    assert other.get(location + ".csv").status_code == 404
    assert operator.get(location).status_code == 200


def test_refusals(operator, register, app):
    assert "Kolom NIK tidak ditemukan" in upload(operator, b"", "kosong.csv").get_data(
        as_text=True)
    html = upload(operator, b"nama\nSITI\n", "x.csv").get_data(as_text=True)
    assert "Kolom NIK tidak ditemukan di baris judul" in html
    assert "harus CSV" in upload(operator, b"nik\n1\n", "x.pdf").get_data(as_text=True)
    app.config["BULK_CHECK_MAX_ROWS"] = 2
    response = upload(operator, ("nik\n" + "1\n" * 3).encode(), "besar.csv")
    assert response.status_code == 422
    assert "lebih dari 2 baris" in response.get_data(as_text=True)


def test_reviewers_may_use_it_and_results_expire(app, client, make_user, register, tmp_path,
                                                 monkeypatch):
    app.config["IMPORT_DIR"] = str(tmp_path / "impor")
    make_user("verif", "verifikator")
    login(client, "verif")
    response = upload(client, f"nik\n{register[0]}\n".encode(), "a.csv")
    assert response.status_code == 303
    monkeypatch.setattr(bulk_check, "KEEP_SECONDS", -1)
    assert client.get(response.headers["Location"]).status_code == 404
    bulk_check.forget_old(tmp_path / "impor" / "cek-massal")
    assert not list((tmp_path / "impor" / "cek-massal").glob("*.csv"))


def test_answer_speed_is_per_row_covering(app, register):
    """The domain function alone: one covering query per row."""
    started = time.perf_counter()
    for _ in range(200):
        assert bulk_check.answer(register[1])[2] == "keluarga-terdaftar"
    assert time.perf_counter() - started < 2


def test_threads_give_the_same_answers_in_order(app, register, monkeypatch):
    asked = [(i + 2, nik, "") for i, nik in enumerate([*register, new_nik(), "123", *register])]
    alone = bulk_check.answers(asked)
    monkeypatch.setattr(bulk_check, "SLICE", 2)  # four threads over slices of two rows
    assert bulk_check.answers(asked) == alone
    assert [row[2] for row in alone] == ["terdaftar", "keluarga-terdaftar", "belum-terdaftar",
                                         "belum-terdaftar", "tidak-valid", "terdaftar",
                                         "keluarga-terdaftar", "belum-terdaftar"]
    assert models.db.execute_sql("SELECT 1").fetchone() == (1,)  # ours is still open
