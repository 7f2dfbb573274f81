"""Office staff in real browsers: the kiosk takes a report in person and prints a receipt; the
assessment team decides a case and records the delivery."""
from __future__ import annotations

import re

import pytest
from e2e_support import (
    PETUGAS,
    VERIFIKATOR,
    check_nik,
    fill_report,
    login,
    submit_report,
)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_kiosk_report_receipt_then_clean_form(new_page, live_server, js):
    page = new_page(js=js, viewport={"width": 1024, "height": 768})
    login(page, PETUGAS)
    assert page.url.endswith("/kios")

    person = live_server.take_uncovered()
    page.fill("#cek-nik", person.nik)
    with page.expect_navigation(url=re.compile(r"/kios$")):
        page.click("form[action$='/kios/cek'] button")
    assert page.get_attribute("#hasil-cek", "data-status") == "belum-terdaftar"
    assert page.input_value("#nik") == person.nik  # carried into the report form
    masked = page.inner_text("#hasil-cek b")
    assert "*" in masked

    fill_report(page, person, js=js, reporter=person.nama.title())
    page.check("#hubungan")  # the person came in themselves
    page.fill("#pelapor_nik", person.nik)
    with page.expect_navigation(url=re.compile(r"/kios/tanda-terima$")):
        page.click("button:has-text('Kirim laporan')")
    kode = page.inner_text("#kode-laporan").strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", kode)
    assert page.get_attribute("#status-laporan", "data-status") == "menunggu-penilaian"
    receipt = page.inner_text("main")
    assert "Bukti laporan" in receipt and "Pakis" in receipt and PETUGAS in receipt
    assert person.nik not in receipt

    # "Laporan berikutnya": the next person sees nothing of the previous one.
    with page.expect_navigation(url=re.compile(r"/kios$")):
        page.click("button:has-text('Laporan berikutnya')")
    assert page.locator("#hasil-cek").count() == 0
    content = page.content()
    for trace in (kode, kode.replace("-", ""), person.nik, masked, person.nama.title()):
        assert trace not in content
    for field in page.query_selector_all("form input:not([type=hidden]):not([type=radio]), "
                                         "form textarea"):
        assert field.input_value() == ""
    assert page.locator("input[type=radio]:checked").count() == 0
    # Nor does the back button bring the receipt back.
    page.go_back()
    page.wait_for_load_state()
    assert kode not in page.content() and person.nik not in page.content()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_reviewer_decides_and_records_delivery(new_page, live_server, js):
    resident = new_page(js=True)
    person = live_server.take_uncovered()
    resident.goto("/lapor")
    resident.fill("#nik", person.nik)
    fill_report(resident, person, js=True)
    kode, status = submit_report(resident)
    assert status == "menunggu-penilaian"
    code = kode.replace("-", "")

    page = new_page(js=js, viewport={"width": 1280, "height": 800})
    login(page, VERIFIKATOR)
    # The queue, narrowed to the person's kecamatan.
    page.select_option("#kecamatan", person.kecamatan)
    if not js:
        page.click("form.saring button")
    row = page.locator(f'#antrian tr[data-kode="{code}"]')
    row.wait_for()
    assert row.get_attribute("data-status") == "menunggu-penilaian"
    assert row.get_attribute("data-sisa-hari") == "7"
    with page.expect_navigation(url=re.compile(rf"/verifikasi/{code}$")):
        row.locator("a").click()
    assert page.get_attribute("#kasus", "data-status") == "menunggu-penilaian"

    # Stage 2: eligible, enrolled in a kabupaten scheme.
    page.select_option("#layak-skema", "DISABILITAS-BWI")
    page.fill("#layak-catatan", "Dikunjungi petugas; tidak bisa bekerja.")
    page.click("button:has-text('Putuskan layak')")
    page.wait_for_selector('#kasus[data-status="layak"]')
    assert "Layak" in page.inner_text("#status-kasus")
    assert page.get_attribute("#kasus", "data-sisa-hari") == "7"  # the seven-day SOP

    # Delivery, today: the case closes on time.
    page.fill("#salurkan-keterangan", "Bantuan Rp300.000 diserahkan oleh petugas desa.")
    page.click("button:has-text('Catat penyaluran')")
    page.wait_for_selector('#kasus[data-status="tersalurkan"]')
    assert "tepat waktu" in page.inner_text("#status-kasus")

    # The reporter sees it on the tracking page; the register now counts the person as covered.
    resident.goto(f"/laporan/{code}")
    assert resident.get_attribute("#status-laporan", "data-status") == "tersalurkan"
    resident.goto("/")
    assert check_nik(resident, person.nik, js=True) == "terdaftar"
    assert "DISABILITAS-BWI" in resident.inner_text("#hasil-cek")
