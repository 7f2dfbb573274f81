"""Every page a link leads to, including pages added after these tests were written: a crawler
follows the links (GET only, never a form) from the home page as a resident, and from the
desk as a reviewer and the kiosk as a petugas. axe-core must find nothing on any of them; every
page a resident can reach must fit the first round trip (HTML + CSS <= 14,000 bytes)."""
from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit

from e2e_support import PETUGAS, VERIFIKATOR, login, run_axe

PAGE_BUDGET = 14_000
PER_PATTERN = 2  # /verifikasi/<kode> and the like: two of each are enough
MAX_PAGES = 45
# Page kinds the resident's crawl has checked already: signed-in crawls skip them (to save time;
# run alone, a staff crawl checks them too).
PUBLIC_PATTERNS: set[str] = set()


def _pattern(path: str) -> str:
    """/daftar/35.10.16.1001 and /daftar/35.10.01.2009 are the same page (a desa), and
    /daftar/35.10.16 another (a kecamatan); /verifikasi/JWABPR3T is one case page of many."""
    return "/".join(re.sub(r"[0-9A-Z]", "x", part)
                    if re.search(r"\d", part) or re.fullmatch(r"[A-Z0-9-]{6,}", part) else part
                    for part in path.split("/"))


def _crawl(page, start: str, origin: str, *, budget: bool,
           skip: frozenset = frozenset()) -> tuple[list, dict, dict]:
    css_size = None
    queue, seen, patterns = [start], set(), {}
    visited, violations, over = [], {}, {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = _pattern(parts.path) + ("?" + _pattern(parts.query) if parts.query else "")
        if url in seen or patterns.get(key, 0) >= PER_PATTERN or (key in skip and url != start):
            continue
        seen.add(url)
        patterns[key] = patterns.get(key, 0) + 1
        response = page.goto(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue  # a CSV export, a chart image
        assert response.status < 500, f"{url} answered {response.status}"
        page.wait_for_load_state("load")
        visited.append(url)
        if budget:
            PUBLIC_PATTERNS.add(key)
        if budget:
            html = len(response.body())
            if css_size is None:
                css = page.eval_on_selector("link[rel=stylesheet]", "l => l.href")
                css_size = len(page.request.get(css).body())
            if html + css_size > PAGE_BUDGET:
                over[url] = html + css_size
        found = run_axe(page)
        if found:
            violations[url] = [f"{v['id']}: {v['help']} {v['nodes'][:2]}" for v in found]
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            href = urldefrag(href)[0]
            if href.startswith(origin + "/") and not href.startswith(origin + "/static/"):
                queue.append(href)
    return visited, violations, over


def test_every_public_page_a_link_reaches(new_page, live_server):
    page = new_page(js=True, bypass_csp=True)
    visited, violations, over = _crawl(page, live_server.url + "/", live_server.url,
                                       budget=True)
    print(f"\n{len(visited)} public pages crawled: {visited}")
    assert len(visited) >= 3
    assert not over, f"public pages over {PAGE_BUDGET} bytes of HTML + CSS: {over}"
    assert not violations, f"axe-core violations: {violations}"


def test_every_staff_page_a_link_reaches(new_page, live_server):
    for username, start in ((VERIFIKATOR, "/verifikasi"), (PETUGAS, "/kios")):
        page = new_page(js=True, bypass_csp=True, viewport={"width": 1280, "height": 800})
        login(page, username)
        visited, violations, _over = _crawl(page, live_server.url + start, live_server.url,
                                            budget=False, skip=frozenset(PUBLIC_PATTERNS))
        print(f"\n{username}: {len(visited)} pages crawled: {visited}")
        assert len(visited) >= 2
        assert not violations, f"axe-core violations ({username}): {violations}"
