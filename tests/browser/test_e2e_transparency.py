"""Public lists and objections in Chromium, without JavaScript: a resident finds a recipient in
their desa list, objects, follows the code; a reviewer ends the enrolment; axe finds nothing.
The A4 sheet for the notice board prints as it says: the table from page 1, "Halaman i dari N"
on each of the N pages, the table's headings on every page it reaches."""
from __future__ import annotations

import io
import re
import sqlite3

import pytest
from e2e_support import VERIFIKATOR, _env, _flask, login, run_axe, screenshot

HEADINGS = "No. Nama (disamarkan) RT/RW Bantuan Tingkat"
ROW = re.compile(r"(?<!\S)(\d+) [A-Z]\*")  # "12 S**I R****H 003/001 PKH Pusat"


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


def _desa_with(live_server, tmp_path, count: int, serials: int) -> str:
    """A desa given exactly `count` listed recipients: one that had fewer, topped up by a
    recipient list imported the office's way (`flask import-data`)."""
    conn = sqlite3.connect(live_server.db_path)
    try:
        desa, listed = conn.execute(
            "SELECT w.kode, (SELECT COUNT(*) FROM kepesertaan e JOIN penduduk p ON p.nik = e.nik "
            "WHERE p.desa_kode = w.kode AND e.berakhir IS NULL) AS n FROM wilayah w "
            "WHERE w.tingkat IN ('desa', 'kelurahan') ORDER BY n, w.kode LIMIT 1 OFFSET ?",
            (serials // 1000,)).fetchone()
    finally:
        conn.close()
    region = desa.replace(".", "")[:6]
    names = ("SITI AMINAH", "BUDI SANTOSO", "SRI WAHYUNI", "AGUS SALIM", "DEWI LESTARI")
    lines = ["nik,no_kk,nama,alamat,kode_desa,skema"]
    for i in range(count - listed):
        serial = serials + i
        lines.append(f"{region}{i % 28 + 1:02d}0133{serial:04d},{region}0133{serial:06d},"
                     f"{names[i % 5]},Dusun Krajan RT {i % 9 + 1:03d} RW 001,{desa},PKH")
    source = tmp_path / f"{desa}.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _flask(_env(live_server.db_path), "import-data", str(source))
    return desa


def _printed(page, path: str, **options) -> list[str]:
    """The text of each page of `path` printed to A4 by Chromium."""
    pypdf = pytest.importorskip("pypdf", reason="pip install -r requirements-dev.txt")
    page.goto(path)
    pdf = pypdf.PdfReader(io.BytesIO(page.pdf(format="A4", **options)))
    return [" ".join(p.extract_text().split()) for p in pdf.pages]


def _assert_sheet(pages: list[str], numbers: range):
    """The table starts on page 1; page i of N says so; every page with rows has the table's
    headings above them; each row is printed once, in order, with the note on objections after
    the last."""
    first = ROW.search(pages[0])
    assert first and int(first.group(1)) == numbers[0]
    printed = []
    for i, text in enumerate(pages, 1):
        assert f"Halaman {i} dari {len(pages)}" in text, (i, text[:200])
        rows = list(ROW.finditer(text))
        if rows:
            assert HEADINGS in text[:rows[0].start()], i
        printed += [int(row.group(1)) for row in rows]
    assert printed == list(numbers)
    assert "Sanggahan:" in pages[-1]


def test_the_a4_sheet_prints_as_it_says(new_page, live_server, tmp_path):
    page = new_page(js=False)
    small = _desa_with(live_server, tmp_path, 29, 8000)
    pages = _printed(page, f"/daftar/{small}/cetak")
    assert len(pages) == 1, pages  # 29 recipients and the note: one sheet of paper
    _assert_sheet(pages, range(1, 30))
    assert "29 penerima." in pages[0]

    large = _desa_with(live_server, tmp_path, 80, 9000)
    for part, numbers in ((1, range(1, 41)), (2, range(41, 81))):
        pages = _printed(page, f"/daftar/{large}/cetak?hal={part}")
        assert len(pages) == 1, (part, pages)  # a part of the list: one sheet each
        _assert_sheet(pages, numbers)
        assert f"daftar bagian {part} dari 2, nomor {numbers[0]} sampai {numbers[-1]}" \
            in pages[0]
    # Printed larger (a browser's scaling), the same part runs over several pages: each one
    # numbered of the right total, the headings repeated above its rows.
    pages = _printed(page, f"/daftar/{large}/cetak?hal=1", scale=1.6)
    assert len(pages) >= 2
    _assert_sheet(pages, range(1, 41))
