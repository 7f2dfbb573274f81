"""The public NIK check through the real HTTP client: every status, as a page and as an htmx
fragment, with no full NIK or name on screen."""
import re

import pytest

import models
from settings import ROOT
from tests.conftest import add_person, csrf_token, new_nik

KK = "3510160101200021"


@pytest.fixture
def register(app):
    """One person of each status; the values are what the register holds."""
    father = add_person(no_kk=KK, nama="SUHARTO WIDODO")
    models.enrol(father, "BST", sumber="test")
    son = add_person(no_kk=KK, nama="AGUS PRASETYO")
    widow = add_person(no_kk="3510160101200022", nama="SITI AMINAH")
    models.enrol(widow, "RANTANG-KASIH", sumber="test")
    neighbour = add_person(no_kk="3510160101200023", nama="BAMBANG SUTRISNO")
    return {"terdaftar": (widow, "SITI AMINAH", "S**I A****H"),
            "keluarga-terdaftar": (son, "AGUS PRASETYO", "A**S P******O"),
            "belum-terdaftar": (neighbour, "BAMBANG SUTRISNO", "B*****G S******O")}


def check(client, nik, htmx=False):
    headers = {"HX-Request": "true", "HX-Target": "hasil-cek"} if htmx else {}
    return client.post("/cek", data={"nik": nik, "csrf_token": csrf_token(client)},
                       headers=headers)


def status_of(html):
    return re.search(r'id="hasil-cek" data-status="([^"]+)"', html).group(1)


def test_home_has_the_check_form(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    field = re.search(r'<input id="nik"[^>]*>', html).group(0)
    assert 'inputmode="numeric"' in field and 'autocomplete="off"' in field
    assert 'action="/cek"' in html and 'hx-post="/cek"' in html and 'hx-target="#hasil-cek"' in html
    assert 'id="hasil-cek"' in html and "data-status" not in html
    css = (ROOT / "static" / "style.css").read_bytes()
    assert len(response.data) + len(css) <= 14_000


@pytest.mark.parametrize("htmx", [False, True], ids=["halaman", "fragmen"])
@pytest.mark.parametrize("status", ["terdaftar", "keluarga-terdaftar", "belum-terdaftar"])
def test_each_status(client, register, status, htmx):
    nik, name, masked = register[status]
    response = check(client, nik, htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and status_of(html) == status
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]
    assert masked in html and "Pakis" in html  # the desa
    assert nik not in html and nik[:12] not in html
    assert not any(word in html for word in name.split())
    assert "Jl. Mawar" not in html  # never the address
    if htmx:
        assert len(response.data) <= 1000 and "<html" not in html
    else:
        assert html.startswith("<!doctype html>") and 'id="nik"' in html


def test_scheme_and_level_are_named(client, register):
    html = check(client, register["terdaftar"][0]).get_data(as_text=True)
    assert "Rantang Kasih" in html and "RANTANG-KASIH" in html and "Kabupaten" in html
    html = check(client, register["keluarga-terdaftar"][0], htmx=True).get_data(as_text=True)
    assert "Bantuan Sosial Tunai Kemensos" in html and "Pusat" in html


def test_not_covered_offers_a_report_without_the_nik(client, register):
    nik = register["belum-terdaftar"][0]
    html = check(client, nik, htmx=True).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/lapor">.*?</form>', html, re.S).group(0)
    assert 'name="token_nik"' in form and nik not in form
    assert "Laporkan orang ini" in form


def test_unknown_nik_is_not_registered(client, app):
    nik = new_nik(female=True)
    for htmx in (False, True):
        html = check(client, nik, htmx).get_data(as_text=True)
        assert status_of(html) == "belum-terdaftar" and nik not in html
        assert "NIK ini belum terdaftar" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["halaman", "fragmen"])
@pytest.mark.parametrize("value, message", [
    ("3510161705800", "NIK harus 16 angka, yang diisi 13 angka."),
    ("3510163213800001", "Tanggal lahir pada NIK tidak mungkin"),
    ("", "NIK wajib diisi."),
])
def test_invalid_nik(client, app, value, message, htmx):
    response = check(client, value, htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and status_of(html) == "tidak-valid"
    assert message in html and response.headers["Cache-Control"] == "no-store"
    if htmx:
        assert len(response.data) <= 1000


def test_a_nik_in_the_url_gives_no_result(client, register):
    nik = register["terdaftar"][0]
    response = client.get(f"/cek?nik={nik}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    html = client.get(f"/cek?nik={nik}", follow_redirects=True).get_data(as_text=True)
    assert "data-status" not in html and nik not in html
    html = client.post(f"/cek?nik={nik}", data={"csrf_token": csrf_token(client)}
                       ).get_data(as_text=True)
    assert status_of(html) == "tidak-valid"  # only the form body counts


def test_a_check_from_another_site_is_refused(client, register):
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://jahat.example"}, {"Referer": "http://jahat.example/"}):
        response = client.post("/cek", data={"nik": register["terdaftar"][0]}, headers=headers)
        assert response.status_code == 403, headers
        assert "data-status" not in response.get_data(as_text=True)


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
    {"Origin": "http://localhost"}, {"Referer": "http://localhost/"}, {}],
    ids=["fetch-site", "typed", "origin", "referer", "no-headers"])
def test_a_check_from_this_site_or_a_headerless_client_is_answered(client, register, headers):
    response = client.post("/cek", data={"nik": register["terdaftar"][0]}, headers=headers)
    assert response.status_code == 200
    assert status_of(response.get_data(as_text=True)) == "terdaftar"


def test_boosted_and_history_requests_get_the_whole_page(client, register):
    token = csrf_token(client)
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        html = client.post("/cek", data={"nik": register["terdaftar"][0], "csrf_token": token},
                           headers={"HX-Request": "true", header: "true"}
                           ).get_data(as_text=True)
        assert html.startswith("<!doctype html>")


def test_a_resident_gets_no_cookie_from_the_check(client, register):
    """No session, no token: the page and every answer come without a cookie, and the
    answers do not vary on one."""
    def post(nik, htmx=False):
        return client.post("/cek", data={"nik": nik},
                           headers={"HX-Request": "true"} if htmx else {})

    for response in (client.get("/"), post(register["terdaftar"][0]),
                     post(register["belum-terdaftar"][0], htmx=True), post("123", htmx=True)):
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
    assert 'name="csrf_token"' not in client.get("/").get_data(as_text=True)
