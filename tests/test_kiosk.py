"""The office kiosk: petugas only, reports stamped with the office, receipts, a clean screen."""
from __future__ import annotations

import re

import models
from tests.conftest import DESA, add_person, csrf_token, login, new_nik

OFFICE = "35.10.16.1001"


def kiosk_form(client):
    """The report form on the kiosk screen, as the browser would send it back."""
    html = client.get("/kios").get_data(as_text=True)
    return {"csrf_token": csrf_token(client, "/kios"),
            "sekali": re.search(r'name="sekali" value="([^"]+)"', html).group(1)}


def kiosk_report(client, **changes):
    data = kiosk_form(client)
    data.update({"hubungan": "orang-lain", "pelapor_nama": "Pak RT", "pelapor_nik": "",
                 "pelapor_telepon": "", "nik": new_nik(), "nama": "MBAH SUMIATI",
                 "no_kk": "", "alamat": "Dusun Krajan RT 002 RW 001", "kecamatan": "",
                 "kode_desa": DESA, "kategori": "lansia-sebatang-kara", "keterangan": ""})
    data.update(changes)
    return client.post("/kios", data=data), data


def petugas(client, make_user, kantor=OFFICE):
    user = make_user("petugas1", role="petugas", kantor=kantor)
    login(client, "petugas1")
    return user


def test_kiosk_is_for_signed_in_petugas_only(client, make_user):
    response = client.get("/kios")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    make_user("verif", role="verifikator")
    login(client, "verif")
    assert client.get("/kios").status_code == 403
    assert client.post("/kios/cek", data={"csrf_token": csrf_token(client, "/lapor"),
                                          "nik": new_nik()}).status_code == 403


def test_kiosk_screen_is_large_and_forgets_nothing_into_autocomplete(client, make_user):
    petugas(client, make_user)
    response = client.get("/kios")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<body class="kios">' in html
    assert '<form method="post" action="/kios" novalidate autocomplete="off">' in html
    assert 'action="/kios/cek"' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_check_at_the_kiosk_prefills_the_report(client, make_user):
    petugas(client, make_user)
    nik = add_person(nama="SUMIATI", no_kk="3510160303200003")
    response = client.post("/kios/cek", data={"nik": nik, "csrf_token": csrf_token(client,
                                                                                   "/kios")})
    assert response.status_code == 303 and nik not in response.headers["Location"]
    html = client.get("/kios").get_data(as_text=True)
    assert 'data-status="belum-terdaftar"' in html and "S*****I" in html
    assert re.search(rf'<input[^>]* id="nik"[^>]* value="{nik}">', html)
    # "Bersihkan layar" forgets it.
    client.post("/kios/selesai", data={"csrf_token": csrf_token(client, "/kios")})
    html = client.get("/kios").get_data(as_text=True)
    assert nik not in html and "S*****I" not in html


def test_kiosk_report_is_stamped_with_office_and_petugas(client, make_user):
    user = petugas(client, make_user)
    response, data = kiosk_report(client)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/kios/tanda-terima")
    report = models.Report.get(models.Report.nik == data["nik"])
    assert (report.kanal, report.kantor_kode) == ("kantor", OFFICE)
    reporter = report.reporters.get()
    assert (reporter.kanal, reporter.kantor_kode, reporter.petugas_id) == (
        "kantor", OFFICE, user.id)
    first = report.events.order_by(models.ReportEvent.id).first()
    assert (first.status, first.actor, first.user_id) == ("diterima", "petugas", user.id)


def test_receipt_is_printable_then_the_next_person_sees_nothing(client, make_user):
    petugas(client, make_user)
    response, data = kiosk_report(client)
    report = models.Report.get(models.Report.nik == data["nik"])
    receipt = client.get("/kios/tanda-terima")
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200 and receipt.headers["Cache-Control"] == "no-store"
    assert report.kode_display in html and 'data-status="menunggu-penilaian"' in html
    office = models.Region.get_by_id(OFFICE)
    assert "Apa selanjutnya?" in html and f"{office.tingkat.capitalize()} {office.nama}" in html
    assert "M**H S*****I" in html
    for private in (data["nik"], data["nama"], data["alamat"]):
        assert private not in html
    assert 'class="tidak-cetak"' in html  # the button is hidden on paper

    # "Laporan berikutnya": a clean form, and the back button cannot bring the receipt back.
    response = client.post("/kios/selesai", data={"csrf_token": csrf_token(client, "/lapor")})
    assert response.status_code == 303 and response.headers["Location"].endswith("/kios")
    clean = client.get("/kios").get_data(as_text=True)
    for previous in (report.kode_display, "M**H S*****I", data["nik"], data["alamat"]):
        assert previous not in clean
    again = client.get("/kios/tanda-terima")
    assert again.status_code == 303 and again.headers["Location"].endswith("/kios")


def test_back_button_resubmission_stores_nothing_twice(client, make_user):
    petugas(client, make_user)
    response, data = kiosk_report(client)
    assert response.status_code == 303
    replay = client.post("/kios", data=data)  # the same form, the same one-time token
    assert replay.status_code == 303
    report = models.Report.get(models.Report.nik == data["nik"])
    assert report.jumlah_pelapor == 1 and models.Reporter.select().count() == 1
    # After "Laporan berikutnya" the old form is refused with a plain message.
    client.post("/kios/selesai", data={"csrf_token": csrf_token(client, "/lapor")})
    replay = client.post("/kios", data=data)
    assert replay.headers["Location"].endswith("/kios")
    assert "sudah terkirim" in client.get("/kios").get_data(as_text=True)
    assert models.Reporter.select().count() == 1


def test_kiosk_form_errors_keep_values_and_token(client, make_user):
    petugas(client, make_user)
    response, data = kiosk_report(client, nik="123", kode_desa="")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "galat-ringkas" in html
    assert 'value="MBAH SUMIATI"' in html and f'value="{data["sekali"]}"' in html
    assert models.Report.select().count() == 0
    fixed, _ = kiosk_report(client, nik=new_nik())
    assert fixed.status_code == 303


def test_petugas_using_the_public_form_is_still_stamped(client, make_user):
    petugas(client, make_user)
    token = csrf_token(client, "/lapor")
    nik = new_nik()
    client.post("/lapor", data={
        "csrf_token": token, "hubungan": "orang-lain", "pelapor_nama": "Pak RT", "nik": nik,
        "nama": "WARGA", "alamat": "Dusun Krajan", "kode_desa": DESA,
        "kategori": "disabilitas"})
    report = models.Report.get(models.Report.nik == nik)
    assert (report.kanal, report.kantor_kode) == ("kantor", OFFICE)
