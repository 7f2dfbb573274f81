"""Public lists and objections in Chromium, without JavaScript: a resident finds a recipient in
their desa list, objects, follows the code; a reviewer ends the enrolment; axe finds nothing."""
from __future__ import annotations

import re
import sqlite3

from e2e_support import VERIFIKATOR, login, run_axe, screenshot


def _listed_desa(db_path) -> tuple[str, str]:
    """A desa with recipients, and its kecamatan."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT p.desa_kode, w.kecamatan_kode FROM kepesertaan e JOIN penduduk p "
            "ON p.nik = e.nik JOIN wilayah w ON w.kode = p.desa_kode WHERE e.berakhir IS NULL "
            "GROUP BY p.desa_kode ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
    finally:
        conn.close()


def test_object_to_a_listed_recipient_without_javascript(new_page, live_server):
    desa, kecamatan = _listed_desa(live_server.db_path)
    page = new_page(js=False)
    page.goto("/")
    page.click("text=Daftar penerima per desa")
    page.click(f'a[href="/daftar/{kecamatan}"]')
    page.click(f'a[href="/daftar/{desa}"]')
    rows = page.locator("#daftar-penerima tbody tr")
    assert rows.count() > 0
    first_name = rows.nth(0).locator("td").nth(1).inner_text()
    assert "*" in first_name
    before = int(re.search(r"(\d+) penerima", page.inner_text("main")).group(1))
    screenshot(page, "20-daftar-penerima")
    rows.nth(0).locator("a", has_text="Sanggah").click()
    page.wait_for_url(re.compile(r"/sanggah/\d+$"))
    page.click("button:has-text('Kirim sanggahan')")  # empty: the error summary
    assert page.locator("#ringkasan-galat").count() == 1
    page.check("#alasan-pindah")
    page.fill("#keterangan", "Sudah pindah ke Jember sejak Januari.")
    page.fill("#nama", "Warga Peduli")
    page.fill("#telepon", "0812 3456 7890")
    with page.expect_navigation(url=re.compile(r"/sanggahan/[A-Z0-9]{8}\?hasil=baru$")):
        page.click("button:has-text('Kirim sanggahan')")
    kode = page.inner_text("#kode-sanggahan").strip()
    assert "Warga Peduli" not in page.content()
    screenshot(page, "21-sanggahan-diterima")

    reviewer = new_page(js=False)
    login(reviewer, VERIFIKATOR)
    row = reviewer.locator(f'tr[data-kode="{kode.replace("-", "")}"]')
    assert row.get_attribute("data-status") == "sanggahan"
    assert row.get_attribute("data-sisa-hari") == "7"
    row.locator("a").click()
    assert "Warga Peduli" in reviewer.content() and "0812" in reviewer.content()
    reviewer.select_option("#akhiri-alasan", "pindah")
    with reviewer.expect_navigation():
        reviewer.click("button:has-text('Akhiri kepesertaan')")
    assert reviewer.get_attribute("#kasus", "data-status") == "diakhiri"

    page.goto(f"/lacak?kode={kode}")
    assert page.get_attribute("#status-sanggahan", "data-status") == "diakhiri"
    page.goto(f"/daftar/{desa}")  # the ended enrolment has left the list
    assert int(re.search(r"(\d+) penerima", page.inner_text("main")).group(1)) == before - 1


def test_transparency_pages_have_no_axe_violations(new_page, live_server):
    desa, kecamatan = _listed_desa(live_server.db_path)
    page = new_page(js=True, bypass_csp=True)
    found = {}
    for path in ("/daftar", f"/daftar/{kecamatan}", f"/daftar/{desa}", f"/daftar/{desa}/cetak"):
        page.goto(path)
        violations = run_axe(page)
        if violations:
            found[path] = violations
    page.goto(f"/daftar/{desa}")
    page.locator("#daftar-penerima a", has_text="Sanggah").nth(1).click()
    page.wait_for_url(re.compile(r"/sanggah/\d+$"))
    for state in ("form", "errors"):
        if state == "errors":
            page.click("button:has-text('Kirim sanggahan')")
            page.wait_for_load_state()
        violations = run_axe(page)
        if violations:
            found[f"sanggah {state}"] = violations
    assert not found, found
