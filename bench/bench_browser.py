"""Benchmark: a resident's two journeys in Debian's Chromium on a 2G-class connection.

Chromium's DevTools network emulation (Network.emulateNetworkConditions: 250 kbit/s down,
50 kbit/s up, 300 ms latency) in front of the real app under gunicorn behind nginx (as in
production, tests/browser/e2e_support.py), seeded with 2,000 people:

- check: from opening the home page to a visible check result;
- report: from opening the report form to the confirmation with its tracking code (picking a
  kecamatan costs one round trip: htmx, or "Tampilkan desa" without JavaScript).

Both count the time the person waits for the network, not the time they spend typing: the
clock stops while they type (the page finishes loading meanwhile) and runs again when they
press the button.

Each is timed on a cold cache (a fresh browser profile) and a warm one (the same profile a second
time: the stylesheet and htmx come from the cache), with JavaScript on and off; the median of
--rounds runs is printed: on this script's wall clock (which includes Playwright's own delay in
noticing a change) and, for the check, on the browser's clock (Navigation and Resource Timing:
the document parsed and its stylesheet in; htmx's swap event and the next frame).
Goals, on the browser's clock: home + first check result <= 2.0 s cold, <= 0.8 s warm with
<= 2,000 bytes on the wire (Resource Timing's transferSize; a cached file costs 0).

    .venv/bin/python bench/bench_browser.py [--rounds 5] [--json bench/out/browser.json]

Needs /usr/bin/chromium (apt-get install chromium) and Playwright (requirements-dev.txt).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common

sys.path.insert(0, str(common.ROOT / "tests" / "browser"))

import e2e_support  # noqa: E402
from e2e_support import check_nik, fill_report, submit_report, throttle  # noqa: E402

GOALS = {("check", "cold"): 2.0, ("check", "warm"): 0.8}
WARM_BYTES = 2_000  # the second visit: home + first check result, bytes on the wire


# In the page's own clock: when the current document could show (parsed, and its stylesheet in),
# measured from its navigation start (for a form post: the moment the button was pressed).
DOCUMENT_SHOWN = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const css = performance.getEntriesByType('resource')
        .filter(r => r.initiatorType === 'link').map(r => r.responseEnd);
    return Math.max(nav.domInteractive, ...css) / 1000;
}"""
# Bytes this document cost on the wire: itself and everything it loaded (0 from the cache).
TRANSFERRED = """() => performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource'))
    .reduce((sum, e) => sum + (e.transferSize || 0), 0)"""
WATCH_SWAP = """() => {
    window.__swap = null;
    document.body.addEventListener('htmx:afterSwap', () => requestAnimationFrame(
        () => { window.__swap = performance.now(); }), {once: true});
    return performance.now();
}"""


def open_page(page, path: str, field: str) -> float:
    """Seconds from going to `path` until `field` shows, to be typed into; then the page
    finishes loading while the person types (not counted)."""
    started = time.perf_counter()
    page.goto(path, wait_until="commit")
    page.wait_for_selector(field)
    opening = time.perf_counter() - started
    page.wait_for_load_state("load")  # typing
    return opening


def time_check(page, server, js: bool) -> tuple[float, float, str, int]:
    """Seconds the person waits: opening the page until the NIK field shows, then pressing
    Cek until the answer shows. Their typing in between is not counted (the page finishes
    loading meanwhile, as it would while a person types 16 digits).

    Returns the wall-clock time seen by this script (with Playwright's own overhead), the
    same journey in the browser's clock (Navigation/Resource Timing, htmx's swap event), and
    how the answer came (htmx fragment or whole page), and the bytes transferred."""
    person = server.take_uncovered()
    opening = open_page(page, "/", "#nik")
    browser_opening = page.evaluate(DOCUMENT_SHOWN)
    home_bytes = page.evaluate(TRANSFERRED)
    clicked = page.evaluate(WATCH_SWAP) if js else None
    started = time.perf_counter()
    status = check_nik(page, person.nik, js=js)
    page.locator("#hasil-cek").wait_for(state="visible")
    answer = time.perf_counter() - started
    assert status == "belum-terdaftar", status
    how = "htmx" if js and page.url.endswith("/") else "page"
    if how == "htmx":
        page.wait_for_function("() => window.__swap !== null")
        browser_answer = (page.evaluate("() => window.__swap") - clicked) / 1000
        transferred = page.evaluate(TRANSFERRED)  # the same document: home and the fragment
    else:
        page.wait_for_load_state("load")
        browser_answer = page.evaluate(DOCUMENT_SHOWN)
        transferred = home_bytes + page.evaluate(TRANSFERRED)
    return opening + answer, browser_opening + browser_answer, how, transferred


def time_report(page, server, js: bool) -> float:
    """Seconds the person waits: opening the form until it shows, the desa list of the chosen
    kecamatan (htmx, or "Tampilkan desa" without JavaScript), and sending until the
    confirmation shows its tracking code."""
    person = server.take_uncovered()
    opening = open_page(page, "/lapor", "#keterangan")
    started = time.perf_counter()
    page.fill("#nik", person.nik)
    fill_report(page, person, js=js)  # instant typing; the desa list is the wait
    _kode, status = submit_report(page)
    page.locator("#kode-laporan").wait_for(state="visible")
    rest = time.perf_counter() - started
    assert status == "menunggu-penilaian", status
    return opening + rest


def new_page(browser, server, js: bool):
    """A fresh profile (nothing cached) on a phone-sized screen behind the 2G network."""
    context = browser.new_context(java_script_enabled=js, base_url=server.url,
                                  viewport={"width": 360, "height": 640})
    page = context.new_page()
    throttle(context, page)
    return context, page


def run(rounds: int) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        # e2e_support starts gunicorn itself: its control socket goes in here too.
        os.environ["GUNICORN_CMD_ARGS"] = shlex.join(common.control_socket_args(tmp))
        server = e2e_support.start(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = e2e_support.launch_chromium(playwright)
                for js in (True, False):
                    for _ in range(rounds):
                        # Cold: nothing cached yet. Warm: the same profile again.
                        context, page = new_page(browser, server, js)
                        for cache in ("cold", "warm"):
                            seconds, in_browser, how, sent = time_check(page, server, js)
                            results.setdefault(("check-bytes", cache, js), []).append(sent)
                            results.setdefault(("check", cache, js), []).append(seconds)
                            results.setdefault(("check-browser", cache, js), []).append(
                                in_browser)
                            results.setdefault(("how", cache, js), []).append(how)
                        context.close()
                        context, page = new_page(browser, server, js)
                        for cache in ("cold", "warm"):
                            seconds = time_report(page, server, js)
                            results.setdefault(("report", cache, js), []).append(seconds)
                        context.close()
                browser.close()
        finally:
            server.stop()
            os.environ.pop("GUNICORN_CMD_ARGS", None)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    if not Path(e2e_support.CHROMIUM).exists():
        print(f"{e2e_support.CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    results = run(args.rounds)
    print(f"2G profile: {e2e_support.SLOW_2G['downloadThroughput'] * 8 / 1000:.0f} kbit/s down, "
          f"{e2e_support.SLOW_2G['uploadThroughput'] * 8 / 1000:.0f} kbit/s up, "
          f"{e2e_support.SLOW_2G['latency']} ms latency; median of {args.rounds} runs\n")
    print(f"{'journey':<8} {'cache':<5} {'JavaScript':<10} {'median s':>8} {'min':>6} "
          f"{'max':>6} {'browser':>7}  goal")
    medians, failed = {}, False
    for journey in ("check", "report"):
        for cache in ("cold", "warm"):
            for js in (True, False):
                times = results[(journey, cache, js)]
                median = statistics.median(times)
                goal = GOALS.get((journey, cache))
                verdict = in_browser = ""
                key = f"{journey}-{cache}-{'js' if js else 'nojs'}"
                if journey == "check":
                    browser_median = statistics.median(results[("check-browser", cache, js)])
                    in_browser = f"{browser_median:.2f}"
                    medians[key + "-browser-clock"] = round(browser_median, 3)
                    # Judged on the browser's clock: what the person sees, without the time
                    # Playwright itself takes to notice it.
                    ok = browser_median <= goal
                    failed |= not ok
                    hows = "/".join(sorted(set(results[("how", cache, js)])))
                    sent = int(statistics.median(results[("check-bytes", cache, js)]))
                    medians[key + "-bytes"] = sent
                    verdict = f"<= {goal:.1f} s {'ok' if ok else 'MISSED'}  ({hows}, {sent} B"
                    if cache == "warm":
                        bytes_ok = sent <= WARM_BYTES
                        failed |= not bytes_ok
                        verdict += f" <= {WARM_BYTES} {'ok' if bytes_ok else 'MISSED'}"
                    verdict += ")"
                print(f"{journey:<8} {cache:<5} {'on' if js else 'off':<10} {median:>8.2f} "
                      f"{min(times):>6.2f} {max(times):>6.2f} {in_browser:>7}  {verdict}")
                medians[key] = round(median, 3)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(medians, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
