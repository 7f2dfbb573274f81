"""Issue 17, what residents looked for: the benefit and schedule with the check, each office's
contact details, printing and reprinting receipts and the desa sheet."""
from __future__ import annotations

import re

import models
from tests.conftest import add_person, login
from tests.test_casework_ux import _check

# 10. The check names the benefit and the scheme's distribution schedule -----------------------

def test_check_names_the_benefit_and_the_schedule(client, make_user):
    import datetime

    from formats import today
    from tests.conftest import csrf_token

    nik = add_person(no_kk="3510160101200044", nama="SITI")
    models.enrol(nik, "BST", sumber="uji")
    make_user("kepala", "admin")
    login(client, "kepala")
    path = "/admin/skema/BST/jadwal"
    bad = client.post(path, data={"nama_periode": "Tahap 4", "mulai": "2026-12-31",
                                  "selesai": "2026-10-01", "csrf_token": csrf_token(client, path)})
    assert bad.status_code == 422 and "tidak boleh sebelum" in bad.get_data(as_text=True)
    year = today().year
    for name, start, end in (("Tahap 3", datetime.date(year - 1, 7, 1),
                              datetime.date(year - 1, 9, 30)),
                             ("Tahap 4", datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
                             ("Tahap 5", datetime.date(year + 1, 1, 1),
                              datetime.date(year + 1, 3, 31))):
        response = client.post(path, data={"nama_periode": name, "mulai": start.isoformat(),
                                           "selesai": end.isoformat(),
                                           "csrf_token": csrf_token(client, path)})
        assert response.status_code == 303
    other = client.application.test_client()
    html = _check(other, nik, htmx=True).get_data(as_text=True)
    assert "Manfaat: Rp300.000 per bulan." in html
    assert (f"Jadwal penyaluran: Tahap 4: Januari–Desember {year}; "
            f"Tahap 5: Januari–Maret {year + 1}.") in html
    assert "Tahap 3" not in html  # a period over is not shown
    assert len(_check(other, nik, htmx=True).data) <= 1000
    # The check's facts are kept per worker: an admin's save shows at once all the same.
    response = client.post("/admin/skema/BST", data={
        "nama": "BST", "manfaat": "Rp600.000 per dua bulan", "desil_maks": "",
        "csrf_token": csrf_token(client, "/admin/skema/BST")})
    assert response.status_code == 303
    assert "Manfaat: Rp600.000 per dua bulan." in _check(other, nik, htmx=True).get_data(
        as_text=True)


def test_month_range():
    import datetime

    from formats import month_range

    assert month_range(datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)) == \
        "Oktober–Desember 2026"
    assert month_range(datetime.date(2026, 12, 1), datetime.date(2027, 2, 28)) == \
        "Desember 2026–Februari 2027"
    assert month_range(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)) == \
        "Oktober 2026"


# 8. Where to get help: the Dinas Sosial on public pages, the office on receipts and cases ------

def test_office_contacts_on_public_pages_receipts_and_case_pages(client, make_user):
    from tests.conftest import csrf_token
    from tests.test_kiosk import OFFICE, kiosk_report, petugas

    make_user("kepala", "admin")
    login(client, "kepala")
    bad = client.post("/admin/kantor/dinsos", data={
        "nama": "Dinas Sosial", "telepon": "telp kantor",
        "csrf_token": csrf_token(client, "/admin/kantor/dinsos")})
    assert bad.status_code == 422 and "angka" in bad.get_data(as_text=True)
    for kode, nama, telepon in (("dinsos", "Dinas Sosial Kabupaten Banyuwangi", "0333 424242"),
                                (OFFICE, "Kantor Kelurahan Kampung Mandar", "0333 111222")):
        response = client.post(f"/admin/kantor/{kode}", data={
            "nama": nama, "alamat": "Jl. Contoh 1", "telepon": telepon,
            "whatsapp": "0812 3456 7890", "jam_buka": "Senin–Jumat 08.00–15.00 WIB",
            "csrf_token": csrf_token(client, f"/admin/kantor/{kode}")})
        assert response.status_code == 303
    home = client.application.test_client().get("/").get_data(as_text=True)
    assert "Dinas Sosial Kabupaten Banyuwangi</b>, Jl. Contoh 1. Telepon 0333 424242." in home
    assert 'href="https://wa.me/6281234567890"' in home
    assert "Senin–Jumat 08.00–15.00 WIB" in home
    kiosk = client.application.test_client()
    petugas(kiosk, make_user)
    response, _data = kiosk_report(kiosk)
    receipt = kiosk.get("/kios/tanda-terima").get_data(as_text=True)
    assert '<p class="kontak" id="kontak-kantor"><b>Kantor Kelurahan Kampung Mandar</b>' \
        in receipt
    report = models.Report.select().order_by(models.Report.id.desc()).get()
    make_user("verif", "verifikator")
    desk = client.application.test_client()
    login(desk, "verif")
    page = desk.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert '<p class="kontak" id="kontak-kantor"><b>Kantor Kelurahan Kampung Mandar</b>' in page


# 9. Print and reprint; 4. the A4 sheet ---------------------------------------------------------

def test_receipt_has_a_print_button_and_the_kiosk_reprints_todays(client, make_user):
    from tests.conftest import csrf_token
    from tests.test_kiosk import kiosk_report, petugas

    petugas(client, make_user)
    kiosk_report(client)
    receipt = client.get("/kios/tanda-terima").get_data(as_text=True)
    assert '<button type="button" data-cetak hidden>Cetak</button>' in receipt
    assert re.search(r'<script src="/static/cetak-[0-9a-f]+\.js" defer></script>', receipt)
    assert "<script>" not in receipt  # the CSP forbids inline script
    kode = models.Report.select().order_by(models.Report.id.desc()).get().kode
    client.post("/kios/selesai", data={"csrf_token": csrf_token(client, "/kios")})
    kiosk = client.get("/kios").get_data(as_text=True)
    assert kode not in kiosk and 'href="/kios/cetak-ulang"' in kiosk  # the next person sees none
    listed = client.get("/kios/cetak-ulang").get_data(as_text=True)
    assert f'<button name="kode" value="{kode}" class="kedua">' in listed
    again = client.post("/kios/cetak-ulang", data={
        "kode": kode, "csrf_token": csrf_token(client, "/kios/cetak-ulang")})
    assert again.status_code == 303 and again.headers["Location"] == "/kios/tanda-terima"
    assert kode[:4] in client.get("/kios/tanda-terima").get_data(as_text=True)
    # Another kiosk account cannot reprint it.
    other = client.application.test_client()
    make_user("petugas2", role="petugas", kantor="35.10.16.1001")
    login(other, "petugas2")
    refused = other.post("/kios/cetak-ulang", data={"kode": kode,
                                                   "csrf_token": csrf_token(other, "/kios")})
    assert refused.headers["Location"] == "/kios"
    assert other.get("/kios/tanda-terima").headers["Location"] == "/kios"


def test_desa_sheet_prints_from_page_one_with_the_right_count(client, app):
    from pathlib import Path

    css = (Path(app.root_path) / "static" / "style.css").read_text()
    assert ".lembar main{page:lembar}" not in css and "body.lembar{page:lembar" in css
    assert 'counter(page) " dari " counter(pages)' in css
    assert "thead{display:table-header-group}" in css
    add_person(no_kk="3510160101200033", nama="SITI")
    models.enrol(models.Person.get(models.Person.nama == "SITI").nik, "BST", sumber="uji")
    html = client.get("/daftar/35.10.16.1001/cetak").get_data(as_text=True)
    assert "Lembar 1 dari 1" not in html and "1 penerima." in html
    assert '<button type="button" data-cetak hidden>Cetak</button>' in html
