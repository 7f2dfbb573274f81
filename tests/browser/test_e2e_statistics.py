"""Statistics in Chromium: on a 320 and a 360 px phone every chart label is at least 12 CSS px
and nothing is wider than the screen, nor is the page with text at 200 %; each bar is as long as
its numbers say; the admin's tables fit a 1280 px screen without scrolling sideways."""
from __future__ import annotations

import pyotp
import pytest
from e2e_support import PASSWORD, _env, _flask, run_axe, screenshot

MIN_LABEL_PX = 12
ADMIN = "admin-statistik"

# Every text of the charts (caption, headings, labels, numbers) with its rendered font size;
# every element reaching past the viewport's right edge; the page's own width.
MEASURE = """() => {
    const texts = [];
    for (const table of document.querySelectorAll('table.grafik')) {
        const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (!node.textContent.trim()) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            if (!range.getBoundingClientRect().height) continue;
            texts.push([node.textContent.trim(),
                        parseFloat(getComputedStyle(node.parentElement).fontSize)]);
        }
    }
    const width = document.documentElement.clientWidth;
    const outside = [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 0.5)
        .map(e => e.tagName + ' ' + (e.id || e.className) + ': ' + e.textContent.slice(0, 40));
    return {texts, outside, scrollWidth: document.documentElement.scrollWidth, width};
}"""

# Each chart row: its numbers (the last is the row's total) and the rendered width of its bar.
BARS = """(id) => {
    const rows = [];
    const table = document.getElementById(id);
    const groups = table.querySelectorAll('tbody');
    const multi = table.querySelector('[scope=rowgroup]') !== null;
    const items = multi ? [...groups] : [...table.querySelectorAll('tbody tr')];
    for (const item of items) {
        const blocks = [...item.querySelectorAll('th i')];
        const numbers = [...item.querySelectorAll('td')].map(
            td => parseInt(td.textContent.replace(/\\./g, ''), 10));
        const bar = blocks.reduce((sum, b) => sum + b.getBoundingClientRect().width, 0);
        rows.push({numbers, bar, label: item.querySelector('th').getBoundingClientRect().width});
    }
    return rows;
}"""


@pytest.mark.parametrize("width", [320, 360])
def test_public_charts_are_readable_on_a_phone(new_page, width):
    # bypass_csp: the page's CSP (script-src 'self') would otherwise refuse the injected axe.
    page = new_page(viewport={"width": width, "height": 640}, bypass_csp=True)
    page.goto("/statistik")
    found = page.evaluate(MEASURE)
    assert found["texts"], "no chart text found"
    small = [(text, size) for text, size in found["texts"] if size < MIN_LABEL_PX]
    assert not small, small
    assert found["outside"] == [] and found["scrollWidth"] <= found["width"], found["outside"]
    for chart in ("g-kec", "g-status", "g-salur"):
        rows = page.evaluate(BARS, chart)
        largest = max(r["numbers"][-1] for r in rows)
        longest = max(r["bar"] for r in rows)
        if not largest:  # no case has reached this stage yet: nothing drawn
            assert chart == "g-salur" and longest == 0
            continue
        assert longest > 0.9 * min(r["label"] for r in rows), chart  # the widest: full width
        for row in rows:
            # Drawn as long as its total says, to a pixel or two (rounding, block borders).
            assert abs(row["bar"] - longest * row["numbers"][-1] / largest) <= 3, (chart, row)
    screenshot(page, f"40-statistik-{width}")
    assert run_axe(page) == []


def _sign_in_admin(page, live_server):
    """A new admin account signs in and enrols its second factor, as the first time."""
    _flask(_env(live_server.db_path), "create-user", ADMIN, "--role", "admin",
           stdin=f"{PASSWORD}\n{PASSWORD}\n")
    page.goto("/masuk")
    page.fill("#username", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("form.formulir button")
    secret = page.inner_text("#rahasia").replace(" ", "")
    page.fill("#kode", pyotp.TOTP(secret).now())
    page.click("form.formulir button")
    page.wait_for_url("**/admin/")


def test_admin_statistics_fit_1280_px(new_page, live_server):
    page = new_page(viewport={"width": 1280, "height": 800})
    _sign_in_admin(page, live_server)
    page.goto("/admin/statistik")
    found = page.evaluate(MEASURE)
    assert found["outside"] == [] and found["scrollWidth"] <= found["width"], found["outside"]
    for table in ("per-kecamatan", "per-desil"):
        scroll, client = page.eval_on_selector(f"#{table}",
                                               "t => [t.parentElement.scrollWidth, "
                                               "t.parentElement.clientWidth]")
        assert scroll <= client, (table, scroll, client)
    assert len(page.evaluate(BARS, "g-kec")) == 25
    screenshot(page, "41-admin-statistik-1280")


def test_public_statistics_with_text_at_200_percent(new_page):
    """Chromium's text size at 200 % on a 320 px screen: a table too wide for it scrolls in its
    own box; the page itself never needs scrolling sideways."""
    page = new_page(viewport={"width": 320, "height": 640})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    page.goto("/statistik")
    size = page.evaluate("() => [getComputedStyle(document.documentElement).fontSize, "
                         "document.documentElement.scrollWidth, "
                         "document.documentElement.clientWidth]")
    assert size[0] == "32px" and size[1] <= size[2], size
