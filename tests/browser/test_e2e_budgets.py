"""Bandwidth budgets, measured on what Chromium actually loads: every public page fits the first
TCP round trip (HTML + CSS <= 14,000 bytes), every htmx fragment <= 1,000 bytes, htmx deferred
and cached for a year under a content-hashed URL, compressed responses, and no third-party
request."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import re
from urllib.parse import urlsplit

import brotli
from e2e_support import ROOT, check_nik, fill_report, submit_report

PAGE_BUDGET = 14_000  # bytes of HTML plus its CSS, uncompressed
FRAGMENT_BUDGET = 1_000  # bytes of an htmx fragment, uncompressed
YEAR = 365 * 24 * 3600


class Recorder:
    """Every request a page made; for each, its URL, decoded body size, bytes on the wire and
    response headers (read once the response has finished)."""

    def __init__(self, page):
        self.requests = []
        self.described = {}
        page.on("request", lambda request: self.requests.append(request))

    @staticmethod
    def describe(request) -> dict:
        response = request.response()
        response.finished()
        headers = response.headers
        # Bytes on the wire: the compressed length the server sent (Chromium's own sizes
        # count cached and redirected responses in ways that do not add up per page).
        wire = int(headers["content-length"]) if "content-length" in headers else None
        return {"url": request.url, "method": request.method, "type": request.resource_type,
                "htmx": request.headers.get("hx-request") == "true",
                "navigation": request.is_navigation_request(),
                "size": len(response.body()), "wire": wire, "headers": headers}

    def collect(self) -> list[dict]:
        """Describe every request so far (call before the page navigates away)."""
        for request in self.requests:
            if request not in self.described and not request.failure:
                self.described[request] = self.describe(request)
        return list(self.described.values())

    def last(self, **match):
        for request in reversed(self.requests):
            entry = {"type": request.resource_type, "navigation": request.is_navigation_request()}
            if all(entry[k] == v for k, v in match.items()):
                return self.describe(request)
        raise AssertionError(f"no request matching {match}")


def _public_pages(page, live_server, js: bool):
    """Walk every public page and state a resident can reach; yields (name, navigation)."""
    recorder = Recorder(page)

    def loaded(name):
        page.wait_for_load_state("load")
        return name, recorder.last(navigation=True, type="document")

    page.goto("/")
    # No favicon round trip on 2G: the page names an empty one inline.
    assert page.locator('link[rel=icon][href^="data:"]').count() == 1
    yield loaded("beranda")
    if not js:
        for label, nik in (("terdaftar", live_server.covered[3]),
                           ("keluarga-terdaftar", live_server.family_covered[3]),
                           ("tidak-valid", "3510"),
                           ("belum-terdaftar", live_server.uncovered[0].nik)):
            check_nik(page, nik, js=False)
            yield loaded(f"hasil cek {label}")
    page.goto("/lapor")
    yield loaded("formulir laporan")
    page.click("button:has-text('Kirim laporan')")
    yield loaded("formulir laporan dengan galat")
    if js:
        # htmx narrows the desa list in place ("Tampilkan desa" exists only without JavaScript).
        page.wait_for_function("() => window.htmx !== undefined")
        page.select_option("#kecamatan", "35.10.16")
        page.locator('#kode_desa option[value="35.10.16.1001"]').wait_for(state="attached")
    else:
        page.select_option("#kecamatan", "35.10.16")
        page.click("button[name=aksi][value=desa]")
    yield loaded("formulir laporan, desa dipilih")
    person = live_server.take_uncovered()
    page.goto("/lapor")
    fill_report(page, person, js=js)
    submit_report(page)
    yield loaded("konfirmasi laporan")
    page.goto("/lacak")
    yield loaded("lacak laporan")
    page.goto("/lacak?kode=ZZZZ2222")
    yield loaded("lacak: tidak ditemukan")
    page.goto("/masuk")
    yield loaded("masuk petugas")
    page.goto("/tidak-ada")
    yield loaded("404")
    yield "css", recorder.last(type="stylesheet")
    yield "semua", recorder


def test_every_public_page_fits_the_first_round_trip(new_page, live_server):
    page = new_page(js=False)
    pages = dict(_public_pages(page, live_server, js=False))
    css, recorder = pages.pop("css"), pages.pop("semua")
    assert css["url"].endswith(".css") and css["size"] > 0
    def wire(entry):
        return entry["size"] if entry["wire"] is None else entry["wire"]

    sizes = {name: (nav["size"] + css["size"], wire(nav) + wire(css))
             for name, nav in pages.items()}
    print("\nHTML + CSS per public page (bytes, uncompressed / on the wire):")
    for name, (size, wire) in sizes.items():
        print(f"  {name:<32} {size:>6} / {wire:>5}")
    over = {name: size for name, (size, _wire) in sizes.items() if size > PAGE_BUDGET}
    assert not over, f"pages over {PAGE_BUDGET} bytes of HTML + CSS: {over}"
    # No images, fonts or scripts needed to render a page without JavaScript.
    kinds = {r.resource_type for r in recorder.requests}
    assert kinds <= {"document", "stylesheet"}, kinds


def test_htmx_fragments_are_small(new_page, live_server):
    page = new_page(js=True)
    recorder = Recorder(page)
    page.goto("/")
    for nik in (live_server.covered[4], live_server.family_covered[4], "35100",
                live_server.uncovered[1].nik):
        check_nik(page, nik, js=True)
    recorder.collect()
    page.goto("/lapor")
    kecamatan = page.eval_on_selector_all("#kecamatan option[value]:not([value=''])",
                                          "options => options.map(o => o.value)")
    assert len(kecamatan) == 25
    for kode in kecamatan:  # the desa list of every kecamatan, as htmx narrows it
        with page.expect_response(lambda r: "/lapor/desa" in r.url):
            page.select_option("#kecamatan", kode)
    fragments = [r for r in recorder.collect() if r["htmx"]]
    assert len(fragments) == 4 + 25
    largest = max(fragments, key=lambda r: r["size"])
    print(f"\nlargest of {len(fragments)} htmx fragments: {largest['size']} bytes "
          f"({largest['url']})")
    over = [(r["url"], r["size"]) for r in fragments if r["size"] > FRAGMENT_BUDGET]
    assert not over, f"fragments over {FRAGMENT_BUDGET} bytes: {over}"
    for r in fragments:
        assert "html" in r["headers"]["content-type"]
        assert "hx-request" in r["headers"].get("vary", "").lower()


def test_htmx_is_deferred_digested_and_cached_for_a_year(new_page, live_server):
    page = new_page(js=True)
    recorder = Recorder(page)
    page.goto("/")
    scripts = page.eval_on_selector_all(
        "script", "els => els.map(e => ({src: e.getAttribute('src'), defer: e.defer, "
                  "async: e.async, inline: !e.src && e.textContent.trim().length > 0}))")
    assert scripts, "htmx is not loaded"
    digest = hashlib.md5((ROOT / "node_modules/htmx.org/dist/htmx.min.js").read_bytes()).hexdigest()
    for script in scripts:
        assert not script["inline"], "no inline script (CSP script-src 'self')"
        assert script["defer"] and not script["async"], script
        assert script["src"].startswith("/"), "served by the app itself"
    src = scripts[0]["src"]
    assert src == f"/static/htmx.min-{digest}.js", src  # named by its content
    page.wait_for_load_state("load")
    htmx = recorder.last(type="script")
    cache_control = htmx["headers"]["cache-control"]
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= YEAR, cache_control
    assert "no-cache" not in cache_control and "no-store" not in cache_control
    assert "immutable" in cache_control, cache_control
    assert page.evaluate("typeof htmx") == "object"
    # Another content's URL is not served from this one's file.
    assert page.request.get(src.replace(digest, "0" * 32)).status == 404


def _fetch(url: str, path: str, encoding: str | None, method: str = "GET", body=None,
           headers=None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    hdrs = dict(headers or {})
    if encoding:
        hdrs["Accept-Encoding"] = encoding
    conn.request(method, path, body=body, headers=hdrs)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_responses_are_compressed_when_the_client_accepts_it(live_server):
    home, _ = _fetch(live_server.url, "/", None)
    cookie = home.getheader("Set-Cookie", "").split(";")[0]
    _r, html = _fetch(live_server.url, "/", None, headers={"Cookie": cookie})
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html)
    token = b"csrf_token=" + found.group(1) + b"&" if found else b""  # residents' forms: none
    css, htmx = (re.search(rb'<link rel="stylesheet" href="([^"]+)"', html).group(1).decode(),
                 re.search(rb'<script src="([^"]+)"', html).group(1).decode())
    check = ("POST", "/cek", token + b"nik=" + live_server.covered[5].encode(),
             {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    requests = [("GET", "/", None, {}), ("GET", "/lapor", None, {}),
                ("GET", "/lacak", None, {}), ("GET", "/masuk", None, {}),
                ("GET", "/static/style.css", None, {}), ("GET", css, None, {}),
                ("GET", htmx, None, {}), check]
    decode = {"gzip": gzip.decompress, "br": brotli.decompress}
    for method, path, body, headers in requests:
        plain, plain_body = _fetch(live_server.url, path, None, method, body, headers)
        assert plain.status == 200, (path, plain.status)
        assert plain.getheader("Content-Encoding") is None, path
        for encoding in ("gzip", "br"):
            response, data = _fetch(live_server.url, path, encoding, method, body, headers)
            assert response.status == 200, (path, encoding)
            assert response.getheader("Content-Encoding") == encoding, (path, encoding)
            assert "accept-encoding" in response.getheader("Vary", "").lower(), path
            text = decode[encoding](data)
            assert len(data) < len(text), (path, encoding)
            if path != "/cek":  # the check's page carries a fresh sealed token each time
                assert len(text) == len(plain_body), (path, encoding)


def test_no_request_leaves_for_another_host(new_page, live_server):
    seen = []
    for js in (True, False):
        page = new_page(js=js)
        page.context.on("request", lambda r: seen.append(r.url))
        for _name, _nav in _public_pages(page, live_server, js=js):
            pass
    origin = live_server.url + "/"
    foreign = [url for url in seen if not url.startswith(origin)]
    assert seen and not foreign, foreign
