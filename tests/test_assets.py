"""Static files are downloaded once: content-hashed URLs cached for a year (immutable), gzip and
Brotli written ahead of time (web/assets.py, `make assets`), and nothing personal about them: no
`Vary: Cookie`, no `Set-Cookie`, whoever asks."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest

from tests.conftest import login

STATIC = Path(__file__).resolve().parent.parent / "static"
SOURCES = {"css": "style.css", "htmx": "htmx.min.js"}
YEAR = 365 * 24 * 3600


def asset_urls(client) -> dict[str, str]:
    """The stylesheet and htmx as the home page links them."""
    html = client.get("/").get_data(as_text=True)
    css = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    htmx = re.search(r'<script src="([^"]+)" defer></script>', html)
    assert css and htmx, "the home page links the stylesheet and htmx"
    return {"css": css.group(1), "htmx": htmx.group(1)}


def source(kind: str) -> bytes:
    return (STATIC / SOURCES[kind]).read_bytes()


def test_the_home_page_links_assets_under_their_content_hash(client):
    urls = asset_urls(client)
    for kind, name in SOURCES.items():
        stem, ext = name.rsplit(".", 1)
        digest = hashlib.md5(source(kind)).hexdigest()
        assert urls[kind] == f"/static/{stem}-{digest}.{ext}", urls[kind]


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("encoding", ["br", "gzip", "identity", None])
def test_an_asset_is_cached_for_a_year_and_not_per_person(client, kind, encoding):
    url = asset_urls(client)[kind]
    headers = {"Accept-Encoding": encoding} if encoding else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "immutable" in cache_control and "public" in cache_control, cache_control
    assert f"max-age={YEAR}" in cache_control, cache_control
    vary = response.headers.get("Vary", "").lower()
    assert "accept-encoding" in vary and "cookie" not in vary, vary
    assert "Set-Cookie" not in response.headers
    assert response.mimetype in (("text/css",) if kind == "css"
                                 else ("text/javascript", "application/javascript"))


@pytest.mark.parametrize("kind", SOURCES)
def test_the_precompressed_file_is_sent_when_the_client_accepts_it(client, kind):
    url = asset_urls(client)[kind]
    decode = {"br": brotli.decompress, "gzip": gzip.decompress}
    for accept, encoding in (("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br, zstd", "br"),
                             ("br;q=0, gzip", "gzip"), ("br;q=0.5, gzip;q=0.8", "gzip"),
                             ("*", "br"), ("br;q=0, *", "gzip")):
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.headers.get("Content-Encoding") == encoding, accept
        body = response.get_data()
        assert len(body) < len(source(kind)) and decode[encoding](body) == source(kind), accept
    # Nothing acceptable precompressed: the file as it is, never compressed per request.
    for accept in ("identity", "zstd", "deflate", "br;q=0, gzip;q=0", ""):
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert "Content-Encoding" not in response.headers, accept
        assert response.get_data() == source(kind), accept


def test_compressed_copies_are_written_ahead_of_time(client):
    for kind, url in asset_urls(client).items():
        digested = STATIC / url.removeprefix("/static/")
        assert digested.read_bytes() == source(kind)
        for path in (digested, STATIC / SOURCES[kind]):
            assert brotli.decompress(Path(f"{path}.br").read_bytes()) == source(kind)
            assert gzip.decompress(Path(f"{path}.gz").read_bytes()) == source(kind)


def test_a_signed_in_staff_member_gets_the_same_cacheable_asset(client, make_user):
    make_user("petugas1", "petugas")
    login(client, "petugas1")
    for url in asset_urls(client).values():
        response = client.get(url, headers={"Accept-Encoding": "br"})
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "cookie" not in response.headers.get("Vary", "").lower()
        assert "Set-Cookie" not in response.headers


def test_undigested_names_are_cached_briefly(client):
    response = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    cache_control = response.headers["Cache-Control"]
    assert "immutable" not in cache_control and f"max-age={YEAR}" not in cache_control
    assert "accept-encoding" in response.headers["Vary"].lower()


@pytest.mark.parametrize("path", ["/static/style.css.br", "/static/style.css.gz",
                                  "/static/cache_manifest.json", "/static/nothing.css",
                                  "/static/style-" + "0" * 32 + ".css", "/static/../app.py"])
def test_only_the_assets_themselves_are_served(client, path):
    assert client.get(path).status_code == 404


def test_the_site_works_without_htmx(app, client):
    app.jinja_env.globals["has_htmx"] = False  # node_modules missing at set-up
    html = client.get("/").get_data(as_text=True)
    assert "<script" not in html and "htmx-config" not in html
    assert 'name="nik"' in html and "/static/style-" in html
