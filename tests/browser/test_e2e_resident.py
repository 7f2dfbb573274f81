"""A resident on a phone: checks a NIK, then reports someone left out, with JavaScript on (htmx
swaps the answer in) and off (plain form posts and redirects)."""
from __future__ import annotations

import re

import pytest
from e2e_support import check_nik, fill_report, submit_report


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_check_then_report(new_page, live_server, js):
    page = new_page(js=js)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.goto("/")
    assert page.title().startswith("Cek penerima bantuan sosial")
    live = page.query_selector("[aria-live]:has(#hasil-cek)")
    assert live is not None, "the check result is not inside a live region"

    # Every answer a check can give, each one replacing the previous.
    assert check_nik(page, live_server.covered[0], js=js) == "terdaftar"
    assert "Sudah menerima bantuan" in page.inner_text("#hasil-cek")
    assert check_nik(page, live_server.family_covered[0], js=js) == "keluarga-terdaftar"
    bad_month = live_server.covered[0][:8] + "13" + live_server.covered[0][10:]
    assert check_nik(page, bad_month, js=js) == "tidak-valid"
    assert "bulan" in page.inner_text("#hasil-cek").lower()
    person = live_server.take_uncovered()
    assert check_nik(page, person.nik, js=js) == "belum-terdaftar"
    text = page.inner_text("#hasil-cek")
    assert person.nik not in text and person.nama not in text  # masked name, no NIK
    assert person.nik not in page.url
    cek_posts = [r for r in posts if r.url.endswith("/cek")]
    assert len(cek_posts) == 4
    if js:
        # htmx: the answer came as a fragment into the same page, no navigation.
        assert all(r.headers.get("hx-request") == "true" for r in cek_posts)
        assert all(not r.is_navigation_request() for r in cek_posts)
        # The live region stayed while its content changed: screen readers announce answers.
        assert live.evaluate("el => el.isConnected && !!el.querySelector('#hasil-cek')")
    else:
        assert all(r.is_navigation_request() for r in cek_posts)

    # "Laporkan orang ini" opens the report form with the NIK filled in (sealed, never in a URL).
    with page.expect_navigation(url=re.compile(r"/lapor$")):
        page.click("#hasil-cek button")
    assert page.input_value("#nik") == person.nik
    assert person.nik not in page.url

    # A first try with the name left empty: the error summary names it and links to the field.
    page.fill("#pelapor_nama", "")
    page.click("button:has-text('Kirim laporan')")
    page.wait_for_selector("#ringkasan-galat")
    summary = page.inner_text("#ringkasan-galat")
    assert "Periksa lagi" in summary and "nama Anda" in summary
    assert page.input_value("#nik") == person.nik  # what was typed is kept

    fill_report(page, person, js=js)
    kode, status = submit_report(page)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", kode)
    assert status == "menunggu-penilaian"
    assert "Laporan Anda sudah diterima" in page.inner_text("h1")
    assert "Apa selanjutnya?" in page.inner_text("#status-laporan")

    # Tracking the code later, typed in lower case without the dash.
    page.goto("/lacak")
    page.fill("#kode", kode.replace("-", "").lower())
    page.click("form.cek button")
    page.wait_for_url(re.compile(r"/laporan/" + kode.replace("-", "") + "$"))
    assert page.get_attribute("#status-laporan", "data-status") == "menunggu-penilaian"
    assert page.inner_text("#kode-laporan") == kode


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_report_about_a_covered_family_is_rejected_at_once(new_page, live_server, js):
    page = new_page(js=js)
    page.goto("/lapor")
    nik = live_server.family_covered[1 if js else 2]
    person = live_server.take_uncovered()  # only its desa and name fill the form
    page.fill("#nik", nik)
    fill_report(page, person, js=js)
    kode, status = submit_report(page)
    assert status == "ditolak-otomatis"
    assert "ditolak otomatis" in page.inner_text("h1")
    assert "Keluarga orang ini" in page.inner_text("#status-laporan")
