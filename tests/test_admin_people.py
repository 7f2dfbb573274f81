"""A person's page, reached without a NIK in any URL, and ending an enrolment: a confirmation
page, a reason and a date, the history kept, the person free to be enrolled elsewhere."""
from __future__ import annotations

import datetime

import pytest

import models
from models import Enrolment
from tests.conftest import add_person, csrf_token, login

KK = "3510160101200051"


@pytest.fixture
def admin(client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


def find(client, nik):
    token = csrf_token(client, "/admin/penduduk")
    return client.post("/admin/penduduk", data={"nik": nik, "csrf_token": token})


def test_search_redirects_to_a_page_whose_url_holds_no_nik(admin):
    nik = add_person(no_kk=KK, nama="SITI WAHYUNI")
    response = find(admin, f"{nik[:6]} {nik[6:]}")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert nik not in location and nik[:8] not in location and KK not in location
    page = admin.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "SITI WAHYUNI" in html and nik in html
    assert page.headers["Cache-Control"] == "no-store"
    # A forged or expired link leads back to the search, not to an error page.
    assert admin.get("/admin/penduduk/bukan-token").headers["Location"].startswith(
        "/admin/penduduk?kedaluwarsa=1")


def test_unknown_or_bad_nik(admin):
    response = find(admin, "3510161705809999")
    assert response.status_code == 404 and "tidak ada di data penduduk" in response.get_data(
        as_text=True)
    assert find(admin, "12345").status_code == 422


def test_end_an_enrolment_keeps_history_and_frees_the_person(admin):
    nik = add_person(no_kk=KK)
    member = add_person(no_kk=KK, nama="BUDI")
    enrolment = models.enrol(nik, "PKH", sumber="impor:pusat.csv",
                             sejak=datetime.date(2024, 1, 1))
    assert models.covering(member).status == "keluarga-terdaftar"
    assert find(admin, nik).status_code == 303
    confirm = admin.get(f"/admin/kepesertaan/{enrolment.id}/akhiri").get_data(as_text=True)
    assert "Akhiri kepesertaan PKH?" in confirm and 'method="post"' in confirm
    assert "seluruh keluarga" in confirm
    assert models.covering(nik).status == "terdaftar"  # looking changes nothing
    response = admin.post(f"/admin/kepesertaan/{enrolment.id}/akhiri", data={
        "alasan": "pindah", "keterangan": "ke Kabupaten Jember", "tanggal": "2026-01-15",
        "csrf_token": csrf_token(admin, f"/admin/kepesertaan/{enrolment.id}/akhiri")})
    assert response.status_code == 303 and nik not in response.headers["Location"]
    ended = Enrolment.get_by_id(enrolment.id)
    assert ended.berakhir == datetime.date(2026, 1, 15)
    assert ended.alasan_berakhir == "Pindah domisili: ke Kabupaten Jember"
    assert ended.diakhiri_oleh_id == models.User.get(models.User.username == "kepala").id
    assert models.covering(nik).status == models.covering(member).status == "belum-terdaftar"
    models.enrol(nik, "SEMBAKO-BWI", sumber="laporan:X")  # enrolled elsewhere now
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pindah domisili: ke Kabupaten Jember (oleh kepala)" in html  # the history stays
    assert "SEMBAKO-BWI" in html and "Kepesertaan PKH diakhiri" in html


@pytest.mark.parametrize("form, message", [
    ({}, "Pilih alasan kepesertaan diakhiri."),
    ({"alasan": "lainnya"}, "Untuk alasan lain, tulis keterangannya."),
    ({"alasan": "meninggal", "tanggal": "kemarin"}, "Tanggal tidak dapat dibaca"),
    ({"alasan": "meninggal", "tanggal": "2999-01-01"}, "tidak boleh di masa depan"),
    ({"alasan": "meninggal", "tanggal": "2000-01-01"}, "sebelum kepesertaan dimulai"),
])
def test_ending_refuses_bad_input(admin, form, message):
    nik = add_person(no_kk=KK)
    enrolment = models.enrol(nik, "BST", sumber="t", sejak=datetime.date(2024, 1, 1))
    form["csrf_token"] = csrf_token(admin, f"/admin/kepesertaan/{enrolment.id}/akhiri")
    response = admin.post(f"/admin/kepesertaan/{enrolment.id}/akhiri", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert Enrolment.get_by_id(enrolment.id).berakhir is None


def test_ending_twice_is_refused(admin):
    nik = add_person(no_kk=KK)
    enrolment = models.enrol(nik, "BST", sumber="t")
    models.end_enrolment(enrolment.id, "Meninggal dunia")
    assert admin.get(f"/admin/kepesertaan/{enrolment.id}/akhiri").status_code == 200
    response = admin.post(f"/admin/kepesertaan/{enrolment.id}/akhiri", data={
        "alasan": "meninggal", "csrf_token": csrf_token(admin, "/admin/penduduk")})
    assert response.status_code == 409 and "sudah berakhir" in response.get_data(as_text=True)
