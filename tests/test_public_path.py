"""The residents' path on a slow, shared, pay-per-megabyte line: no cookie for an anonymous
resident, pages the same for everyone cached with a validator, answers that vary only on what
they depend on."""
from __future__ import annotations

import pytest

import models
from tests.conftest import DESA, add_person, new_nik

ALLOWED_VARY = {"hx-request", "accept-encoding"}


@pytest.fixture
def places(app):
    """A listed recipient in a desa, and a report to track."""
    nik = add_person(nama="BUDI SANTOSO")
    models.enrol(nik, "PKH", "test")
    client = app.test_client()
    response = client.post("/lapor", data={
        "hubungan": "orang-lain", "pelapor_nama": "Warga", "nik": new_nik(),
        "nama": "SITI AMINAH", "alamat": "Jl. Mawar 2", "kode_desa": DESA,
        "kategori": "lainnya", "keterangan": ""})
    assert response.status_code == 303
    return {"laporan": response.location.split("?")[0]}


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def public_gets(places):
    return ["/", "/lacak", "/lapor", "/daftar", "/daftar/35.10.16", f"/daftar/{DESA}",
            f"/daftar/{DESA}/cetak", "/statistik", places["laporan"]]


def test_no_cookie_and_no_vary_cookie_on_any_anonymous_public_answer(app, places):
    client = app.test_client()
    responses = [client.get(path) for path in public_gets(places)]
    nik = add_person(new_nik())
    responses += [
        client.post("/cek", data={"nik": nik}),
        client.post("/cek", data={"nik": nik}, headers={"HX-Request": "true"}),
        client.post("/cek", data={"nik": "12"}),
        client.post("/lapor", data={"nik": nik}),  # opening the form from a check result
        client.post("/lapor", data={"aksi": "desa", "kecamatan": "35.10.16"}),
        client.get("/lapor/desa?kecamatan=35.10.16", headers={"HX-Request": "true"}),
        client.get("/lacak?kode=ZZZZ-ZZZZ"),
    ]
    for response in responses:
        path = response.request.path
        assert response.status_code in (200, 303, 404), path
        assert "Set-Cookie" not in response.headers, path
        assert vary(response) <= ALLOWED_VARY, (path, vary(response))
    assert client.get_cookie("sesi") is None


@pytest.mark.parametrize("path", ["/", "/lacak", "/lapor", "/daftar", "/statistik"])
def test_pages_the_same_for_everyone_are_cached_and_revalidated(app, path):
    client = app.test_client()
    first = client.get(path)
    assert first.status_code == 200
    cache_control = first.headers["Cache-Control"]
    assert "public" in cache_control and "max-age=" in cache_control
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert "Set-Cookie" not in again.headers


def test_personal_answers_are_never_stored(app, places):
    client = app.test_client()
    nik = add_person(new_nik())
    for response in (client.post("/cek", data={"nik": nik}), client.get(places["laporan"])):
        assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_user_gets_no_store_even_on_public_pages(app, make_user):
    from tests.conftest import login

    make_user("petugas1", role="petugas", kantor="35.10.16.1001")
    client = app.test_client()
    login(client, "petugas1")
    for path in ("/", "/statistik", "/daftar", "/akun", "/kios", "/beras/"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path


def test_a_check_answer_page_is_the_whole_page_as_rendered_for_it(app, monkeypatch):
    """A check's page is the kept page shell around the answer (web/fragments._shell): it reads
    exactly as the page rendered whole would, for every kind of answer."""
    from web import fragments

    covered = add_person(new_nik())
    models.enrol(covered, "PKH", "test")
    answers = {}
    alone = add_person(new_nik(), no_kk="3510160101200777")
    for label, nik in (("terdaftar", covered), ("belum", alone),
                       ("tidak-valid", "12")):
        page = app.test_client().post("/cek", data={"nik": nik}).get_data(as_text=True)
        answers[label] = page
    monkeypatch.setattr(fragments, "_shell", lambda *args: None)
    for label, nik in (("terdaftar", covered), ("tidak-valid", "12")):
        whole = app.test_client().post("/cek", data={"nik": nik}).get_data(as_text=True)
        assert answers[label] == whole, label
    belum = answers["belum"]
    assert belum.count("<html") == 1 and belum.count('id="hasil-cek"') == 1
    assert "Belum menerima bantuan" in belum and belum.rstrip().endswith("</html>")


def test_a_saved_contact_shows_at_once_on_a_check_answer_page(app, make_user):
    from tests.conftest import csrf_token, login

    nik = add_person(new_nik())
    app.test_client().post("/cek", data={"nik": nik})  # the worker keeps the page shell
    admin = app.test_client()
    make_user("kepala", "admin")
    login(admin, "kepala")
    response = admin.post("/admin/kantor/dinsos", data={
        "nama": "Dinas Sosial Kabupaten Banyuwangi", "alamat": "Jl. Baru 9",
        "telepon": "0333 555111", "csrf_token": csrf_token(admin, "/admin/kantor/dinsos")})
    assert response.status_code == 303
    page = app.test_client().post("/cek", data={"nik": nik}).get_data(as_text=True)
    assert "Jl. Baru 9" in page and "0333 555111" in page


@pytest.mark.parametrize("accept, coding", [
    # gzip whenever offered: the page's shell is kept gzip-compressed (web/encodings.py)
    ("br, gzip", "gzip"), ("gzip, deflate, br, zstd", "gzip"), ("gzip", "gzip"),
    ("br", "br"), ("identity", None), ("", None),
    ("gzip;q=1.0, br;q=0.5", "gzip"),  # quality values: the library's own choice
    ("gzip;q=0.5, br;q=1.0", "br"),
])
def test_a_check_answer_page_is_compressed_as_the_browser_asks(app, accept, coding):
    import gzip

    import brotli

    nik = add_person(new_nik(), no_kk="3510160101200888")
    plain = app.test_client().post("/cek", data={"nik": nik}, headers={
        "Accept-Encoding": "identity"}).data
    response = app.test_client().post("/cek", data={"nik": nik},
                                      headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") == coding
    assert "accept-encoding" in vary(response)
    assert int(response.headers["Content-Length"]) == len(response.data)
    body = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](response.data)
    # The same page (the sealed token in it differs from one answer to the next).
    assert body.split(b'name="token_nik"')[0] == plain.split(b'name="token_nik"')[0]
    assert len(plain) > 1000 and (coding is None or len(response.data) < len(plain) * 0.7)


@pytest.mark.parametrize("headers", [{}, {"Accept-Encoding": "gzip"}, {"HX-Request": "true"}])
def test_a_check_answer_says_once_what_it_varies_on(app, headers):
    """Caches key a check's answer on exactly one Vary header naming what it depends on: the
    view adds it whole, and the compression hook finds Accept-Encoding already there."""
    response = app.test_client().post("/cek", data={"nik": add_person(new_nik())},
                                      headers=headers)
    assert response.status_code == 200
    assert response.headers.getlist("Vary") == ["HX-Request, Accept-Encoding"]
    assert response.headers.getlist("Cache-Control") == ["no-store"]
