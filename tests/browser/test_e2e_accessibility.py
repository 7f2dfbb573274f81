"""Accessibility in Chromium: axe-core finds no violation on any page, public or staff, in every
state (results, errors, receipts); a visible focus; usable at 320 px with text at 200 %.

Screenshots of the key pages at 360x640 land in tests/browser/screenshots/ for a person to see.
"""
from __future__ import annotations

import re

from e2e_support import (
    PETUGAS,
    VERIFIKATOR,
    check_nik,
    fill_report,
    login,
    run_axe,
    screenshot,
    submit_report,
)


class Audit:
    """Runs axe on each page state and keeps what it found, so one test reports them all."""

    def __init__(self):
        self.found = {}
        self.pages = []

    def __call__(self, page, name: str, shot: str | None = None) -> None:
        page.wait_for_load_state("load")
        self.pages.append(name)
        violations = run_axe(page)
        if violations:
            self.found[f"{name} ({page.url})"] = violations
        if shot:
            screenshot(page, shot)

    def assert_clean(self) -> None:
        lines = []
        for name, violations in self.found.items():
            lines.append(name)
            for v in violations:
                lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
                lines.extend(f"    {node}" for node in v["nodes"])
        assert not self.found, "axe-core violations:\n" + "\n".join(lines)


def _audit_page(new_page, **options):
    # bypass_csp: the page's CSP (script-src 'self') would otherwise refuse the injected axe.
    return new_page(js=True, bypass_csp=True, **options)


def _error_summary_links_work(page) -> None:
    """The summary can take focus, and each of its links leads to a field on the page."""
    summary = page.locator("#ringkasan-galat")
    assert summary.get_attribute("tabindex") == "-1"
    targets = summary.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert targets
    for href in targets:
        assert page.locator(href).count() == 1, f"error summary link {href} leads nowhere"


def test_public_pages_have_no_axe_violations(new_page, live_server):
    audit = Audit()
    page = _audit_page(new_page)
    page.goto("/")
    audit(page, "beranda", "01-beranda")
    for label, nik in (("terdaftar", live_server.covered[6]),
                       ("keluarga-terdaftar", live_server.family_covered[6]),
                       ("tidak-valid", "12345")):
        check_nik(page, nik, js=True)
        audit(page, f"hasil cek {label}", f"02-hasil-cek-{label}")
    person = live_server.take_uncovered()
    check_nik(page, person.nik, js=True)
    audit(page, "hasil cek belum-terdaftar", "02-hasil-cek-belum-terdaftar")
    page.click("#hasil-cek button")
    audit(page, "formulir laporan", "03-formulir-laporan")
    page.click("button:has-text('Kirim laporan')")
    _error_summary_links_work(page)
    audit(page, "formulir laporan dengan galat", "04-formulir-laporan-galat")
    fill_report(page, person, js=True)
    audit(page, "formulir laporan terisi")
    submit_report(page)
    audit(page, "konfirmasi laporan", "05-konfirmasi-laporan")
    page.goto("/lacak")
    audit(page, "lacak laporan", "06-lacak")
    page.goto("/lacak?kode=ZZZZ2222")
    _error_summary_links_work(page)
    audit(page, "lacak: tidak ditemukan")
    page.goto("/tidak-ada")
    audit(page, "404")
    page.goto("/masuk")
    audit(page, "masuk", "07-masuk")
    page.fill("#username", "siapa")
    page.fill("#password", "salah-sekali")
    page.click("form.formulir button")
    audit(page, "masuk: salah")

    no_js = new_page(js=False)  # the same pages without htmx: a full page per answer
    no_js.goto("/")
    check_nik(no_js, live_server.family_covered[7], js=False)
    screenshot(no_js, "08-hasil-cek-tanpa-js")
    audit.assert_clean()


def test_staff_pages_have_no_axe_violations(new_page, live_server):
    audit = Audit()
    desk = {"width": 1280, "height": 800}
    kiosk = _audit_page(new_page, viewport=desk)
    login(kiosk, PETUGAS)
    audit(kiosk, "kios", "10-kios")
    person = live_server.take_uncovered()
    kiosk.fill("#cek-nik", person.nik)
    kiosk.click("form[action$='/kios/cek'] button")
    audit(kiosk, "kios: hasil cek")
    kiosk.click("button:has-text('Kirim laporan')")
    _error_summary_links_work(kiosk)
    audit(kiosk, "kios: formulir dengan galat")
    fill_report(kiosk, person, js=True)
    kiosk.click("button:has-text('Kirim laporan')")
    kiosk.wait_for_url(re.compile(r"/kios/tanda-terima$"))
    audit(kiosk, "kios: tanda terima", "11-kios-tanda-terima")
    kiosk.goto("/verifikasi")
    audit(kiosk, "403 untuk petugas")
    kiosk.set_viewport_size({"width": 360, "height": 640})
    kiosk.goto("/kios")
    screenshot(kiosk, "12-kios-ponsel")

    desk_page = _audit_page(new_page, viewport=desk)
    login(desk_page, VERIFIKATOR)
    audit(desk_page, "antrian verifikasi", "20-antrian")
    desk_page.select_option("#tahap", "menunggu-penilaian")
    desk_page.click("form.saring button")
    audit(desk_page, "antrian: disaring")
    code = desk_page.locator("#antrian tr[data-kode]").first.get_attribute("data-kode")
    desk_page.goto(f"/verifikasi/{code}")
    audit(desk_page, "kasus menunggu penilaian", "21-kasus")
    # "Alasan lain" needs a note: leaving it out brings the error summary.
    desk_page.select_option("#tidak-layak-alasan", "lainnya")
    desk_page.click("button:has-text('Putuskan tidak layak')")
    desk_page.wait_for_selector("#ringkasan-galat")
    _error_summary_links_work(desk_page)
    audit(desk_page, "kasus: putusan dengan galat")
    desk_page.select_option("#layak-skema", "DISABILITAS-BWI")
    desk_page.click("button:has-text('Putuskan layak')")
    desk_page.wait_for_selector('#kasus[data-status="layak"]')
    audit(desk_page, "kasus layak", "22-kasus-layak")
    desk_page.click("button:has-text('Catat penyaluran')")
    desk_page.wait_for_selector('#kasus[data-status="tersalurkan"]')
    audit(desk_page, "kasus tersalurkan")
    for path in ("/akun", "/akun/kata-sandi", "/akun/kode-masuk"):
        response = desk_page.goto(path)
        if response.status != 404:  # account pages, where this version has them
            audit(desk_page, f"akun {path}")
    desk_page.set_viewport_size({"width": 360, "height": 640})
    desk_page.goto("/verifikasi")
    screenshot(desk_page, "23-antrian-ponsel")
    audit.assert_clean()


def _contrast(rgb1, rgb2) -> float:
    def luminance(rgb):
        channels = []
        for c in rgb[:3]:
            c = c / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    a, b = sorted((luminance(rgb1), luminance(rgb2)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])


def test_keyboard_focus_is_always_visible(new_page, live_server):
    """Tab through the home page and the report form: every stop shows an indicator that
    stands out from the white page (3:1, WCAG 2.4.7 / 1.4.11)."""
    page = new_page(js=True)
    for path in ("/", "/lapor"):
        page.goto(path)
        seen = set()
        for _ in range(40):
            page.keyboard.press("Tab")
            focus = page.evaluate("""() => {
                const el = document.activeElement, s = getComputedStyle(el);
                return {tag: el.tagName, id: el.id,
                        text: (el.textContent || '').trim().slice(0, 30),
                        style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                        color: s.outlineColor, shadow: s.boxShadow};
            }""")
            if focus["tag"] == "BODY":
                break
            key = (focus["tag"], focus["id"], focus["text"])
            if key in seen:
                break
            seen.add(key)
            visible = focus["style"] != "none" and focus["width"] >= 2
            assert visible, f"no visible focus on {path}: {focus}"
            ring = _contrast(_rgb(focus["color"]), (255, 255, 255))
            shadow = [_contrast(_rgb(c), (255, 255, 255)) for c in
                      re.findall(r"rgba?\([^)]*\)", focus["shadow"])]
            assert max([ring, *shadow]) >= 3, f"focus indicator too faint on {path}: {focus}"
        assert len(seen) >= 4, (path, seen)


def test_usable_at_320_px_with_text_at_200_percent(new_page, live_server):
    """Chromium's own text size set to 200 % (DevTools Page.setFontSizes) on a 320 px screen:
    nothing may need scrolling sideways (WCAG 1.4.4 and 1.4.10)."""
    page = new_page(js=True, viewport={"width": 320, "height": 640})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.enable")

    def text_200_percent():
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})

    text_200_percent()
    overflow = {}

    def measure(name, shot=None):
        page.wait_for_load_state("load")
        size = page.evaluate("() => ({font: getComputedStyle(document.documentElement).fontSize, "
                             "scroll: document.documentElement.scrollWidth, "
                             "view: document.documentElement.clientWidth})")
        assert size["font"] == "32px", f"text zoom not applied: {size}"
        if size["scroll"] > size["view"]:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right >
                             document.documentElement.clientWidth + 1)
                .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' +
                                 Math.round(e.getBoundingClientRect().right) + 'px')""")
            overflow[name] = (size, wide)
        if shot:
            screenshot(page, shot)
            text_200_percent()  # a full-page screenshot resets Chromium's font settings

    page.goto("/")
    measure("beranda", "30-zoom-beranda")
    person = live_server.take_uncovered()
    check_nik(page, person.nik, js=True)
    measure("hasil cek", "31-zoom-hasil-cek")
    page.click("#hasil-cek button")
    page.click("button:has-text('Kirim laporan')")
    measure("formulir laporan dengan galat", "32-zoom-formulir-galat")
    fill_report(page, person, js=True)
    submit_report(page)
    measure("konfirmasi laporan", "33-zoom-konfirmasi")
    page.goto("/lacak")
    measure("lacak")
    page.goto("/masuk")
    measure("masuk")
    login(page, PETUGAS)
    measure("kios", "34-zoom-kios")
    other = live_server.take_uncovered()
    page.fill("#cek-nik", other.nik)
    page.click("form[action$='/kios/cek'] button")
    measure("kios: hasil cek")
    fill_report(page, other, js=True)
    page.click("button:has-text('Kirim laporan')")
    page.wait_for_url(re.compile(r"/kios/tanda-terima$"))
    measure("kios: tanda terima", "35-zoom-tanda-terima")
    assert not overflow, f"pages wider than the 320 px screen at 200 % text: {overflow}"
