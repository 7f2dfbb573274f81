"""Fuzzing with Hypothesis: arbitrary text, bytes and huge values in every form field and
parameter never give a 500 and never write anything from invalid input; HTML and script stored
in free-text fields come out escaped on every page that shows them.

Examples share the test's database (a fresh one per test): each one counts rows before and after.
Rate limits are off here (they are tested in test_security.py).
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from cases import casework
from nik import NikError, parse_nik
from tests.conftest import DESA, csrf_token, login, new_nik

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE laporan; --",
    "{{ 7*7 }} {% raw %}",
    "javascript:alert(1)",
    "\x00\x01\x7f",
    "\u202e\ufeff\U0001f600",
    "%00%0d%0a",
    "3510161705800001" * 3,
]
junk = st.one_of(
    st.text(max_size=200),
    st.sampled_from(PAYLOADS),
    st.text(alphabet="0123456789 .-/+", max_size=40),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.integers(min_value=2_000, max_value=80_000).map(lambda n: "9" * n),  # huge
)
raw_bytes = st.binary(max_size=200)
SAFE = {200, 303, 400, 404, 409, 413, 422}  # 400: CSRF, or a NUL byte


@pytest.fixture(autouse=True)
def no_rate_limits(app):
    from extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


def rows() -> tuple[int, ...]:
    return tuple(m.select().count() for m in (models.Report, models.Reporter,
                                               models.ReportEvent, models.Enrolment,
                                               models.Person, models.User))


def post_bytes(client, path, fields: dict):
    """A form body whose values may be any bytes (invalid UTF-8 included)."""
    body = urlencode({k: v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogatepass")
                      for k, v in fields.items()})
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


# --- the NIK check ------------------------------------------------------------------------

@FUZZ
@given(value=junk)
def test_check_survives_anything_and_writes_nothing(client, value):
    token = csrf_token(client, "/")
    before = rows()
    response = client.post("/cek", data={"nik": value, "csrf_token": token})
    assert response.status_code in {200, 400, 413}  # 400: a NUL byte
    assert rows() == before


@FUZZ
@given(value=raw_bytes, htmx=st.booleans())
def test_check_survives_raw_bytes(client, value, htmx):
    token = csrf_token(client, "/")
    if htmx:
        client.environ_base["HTTP_HX_REQUEST"] = "true"
    response = post_bytes(client, "/cek", {"nik": value, "csrf_token": token})
    client.environ_base.pop("HTTP_HX_REQUEST", None)
    assert response.status_code in {200, 400}


@FUZZ
@given(value=junk)
def test_bad_origins_are_refused_without_a_write(client, value):
    """A resident's form carries no token; a POST whose origin is anything but this site's
    is refused before anything is read or written."""
    before = rows()
    origin = "https://" + "".join(ch for ch in value if ch.isalnum())[:40] + ".example"
    for headers in ({"Origin": origin}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post("/lapor", data=valid_report(""), headers=headers)
        assert response.status_code == 403
    assert rows() == before


# --- the report form -------------------------------------------------------------------------

REPORT_FIELDS = ("hubungan", "pelapor_nama", "pelapor_nik", "pelapor_telepon", "nik", "nama",
                 "no_kk", "alamat", "kecamatan", "kode_desa", "kategori", "keterangan",
                 "token_nik", "aksi")
LIMITS = {"nama": 150, "alamat": 300, "keterangan": 500}


def valid_report(token: str) -> dict:
    return {"csrf_token": token, "hubungan": "orang-lain", "pelapor_nama": "Budi Santoso",
            "pelapor_nik": "", "pelapor_telepon": "0812 3456 7890", "nik": new_nik(),
            "nama": "SITI WAHYUNI", "no_kk": "", "alamat": "Jl. Mawar 1 RT 001 RW 002",
            "kecamatan": "", "kode_desa": DESA, "kategori": "lansia-sebatang-kara",
            "keterangan": "Tinggal sendiri."}


@FUZZ
@given(field=st.sampled_from(REPORT_FIELDS), value=st.one_of(junk, raw_bytes))
def test_report_form_survives_anything_in_any_field(client, field, value):
    data = valid_report(csrf_token(client, "/lapor"))
    data[field] = value
    before = rows()
    response = post_bytes(client, "/lapor", data)
    assert response.status_code in SAFE, response.status_code
    if response.status_code != 303:
        assert rows() == before, f"{field} rejected with {response.status_code} but stored"
        return
    # Accepted: then it really was a valid report, stored within the limits.
    kode = response.headers["Location"].rsplit("/", 1)[1].split("?")[0]
    report = models.Report.by_code(kode)
    parse_nik(report.nik)
    for name, limit in LIMITS.items():
        assert len(getattr(report, name)) <= limit
    assert report.kategori in models.CATEGORIES and report.desa_kode.startswith("35.10.")


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["kecamatan", "kode", "hal", "tahap", "status",
                                               "x"]), junk, max_size=3))
def test_query_parameters_never_break_a_page(client, params):
    for path in ("/lacak", "/lapor/desa", "/", "/lapor"):
        response = client.get(path, query_string={k: v[:5000] for k, v in params.items()})
        assert response.status_code in {200, 303, 400, 404}, (path, response.status_code)


@FUZZ
@given(value=junk)
def test_path_parameters_never_break_a_page(client, value):
    segment = quote(value[:2000], safe="") or "x"
    for path in (f"/laporan/{segment}", f"/verifikasi/{segment}", f"/static/{segment}"):
        assert client.get(path).status_code in {200, 302, 308, 400, 404}, path


# --- signing in ------------------------------------------------------------------------------

@settings(FUZZ, max_examples=20)  # each try costs a password hash
@given(username=st.one_of(junk, raw_bytes), password=st.one_of(junk, raw_bytes))
def test_sign_in_with_anything_signs_no_one_in(client, make_user, username, password):
    if not models.User.select().exists():
        make_user("verif", "verifikator")
    token = csrf_token(client, "/masuk")
    before = rows()
    response = post_bytes(client, "/masuk", {"username": username, "password": password,
                                             "csrf_token": token})
    assert response.status_code in {200, 400, 413}
    assert client.get("/verifikasi").status_code == 302
    assert rows() == before


@settings(FUZZ, max_examples=20)
@given(code=st.one_of(junk, raw_bytes))
def test_one_time_code_with_anything(client, make_user, code):
    if not models.User.select().exists():
        make_user("kepala", "admin")
    token = csrf_token(client, "/masuk")
    client.post("/masuk", data={"username": "kepala", "password": "rahasia-123",
                                "csrf_token": token})
    response = post_bytes(client, "/masuk/kode", {"kode": code, "csrf_token": token})
    assert response.status_code in {200, 400, 413}
    assert client.get("/verifikasi").status_code == 302


# --- the reviewer's forms --------------------------------------------------------------------

def open_case() -> models.Report:
    subject = {"nik": new_nik(), "nama": "BUDI", "no_kk": None, "alamat": "Jl. Kenanga",
               "desa": DESA, "kategori": "lainnya", "keterangan": ""}
    reporter = {"hubungan": "orang-lain", "nama": "T", "nik": None, "telepon": None}
    return casework.submit_report(subject, reporter)[0]


@pytest.fixture
def reviewer(client, make_user):
    make_user("verif", "verifikator")
    login(client, "verif")
    return client


DECIDE_BASE = {"putusan": "tidak-layak", "alasan": "lainnya", "catatan": "", "skema": "",
               "no_kk": ""}


@FUZZ
@given(field=st.sampled_from(sorted(DECIDE_BASE)), value=st.one_of(junk, raw_bytes),
       htmx=st.booleans())
def test_decision_form_survives_anything(reviewer, field, value, htmx):
    report = open_case()
    data = dict(DECIDE_BASE, csrf_token=csrf_token(reviewer, "/masuk"))
    data[field] = value
    before = rows()
    headers = {"HX-Request": "true"} if htmx else {}
    body = urlencode({k: v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")
                      for k, v in data.items()})
    response = reviewer.post(f"/verifikasi/{report.kode}/putusan", data=body, headers=headers,
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code in SAFE, response.status_code
    after = models.Report.get_by_id(report.id)
    if after.status == "menunggu-penilaian":
        assert rows() == before
    else:  # a decision was valid after all: the note is stored, bounded
        assert len(after.catatan) <= 1000


@FUZZ
@given(field=st.sampled_from(["tanggal", "keterangan"]), value=st.one_of(junk, raw_bytes))
def test_delivery_form_survives_anything(reviewer, field, value):
    report = open_case()
    casework.decide_eligible(report, "RANTANG-KASIH",
                             models.User.get(models.User.username == "verif"))
    data = {"tanggal": "", "keterangan": "", "csrf_token": csrf_token(reviewer, "/masuk")}
    data[field] = value
    before = rows()
    response = post_bytes(reviewer, f"/verifikasi/{report.kode}/salurkan", data)
    assert response.status_code in SAFE, response.status_code
    after = models.Report.get_by_id(report.id)
    if after.status == "layak":
        assert rows() == before
    else:
        assert len(after.keterangan_salur) <= 500


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["kecamatan", "tahap", "status", "hal"]), junk,
                              max_size=4))
def test_queue_parameters_never_break_it(reviewer, params):
    response = reviewer.get("/verifikasi", query_string={k: v[:5000] for k, v in params.items()})
    assert response.status_code in {200, 400}


# --- stored XSS ------------------------------------------------------------------------------

RAW = ('<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
       "</textarea><svg onload=alert(1)>", "'><iframe src=javascript:alert(1)>")
XSS = st.tuples(st.sampled_from(RAW), st.text(alphabet="abc ", max_size=5))
# A tag the payloads open; once `<` and `"` are escaped, `onerror=` is inert text.
UNSAFE = re.compile(r"<(script>|img |svg on|iframe )", re.I)


def assert_escaped(html: str, where: str) -> None:
    # The site's own tags (`<script src=...htmx...>`) are never from user input.
    html = re.sub(r'<script src="/static/htmx\.min[^"]*" defer></script>', "", html)
    assert not UNSAFE.search(html), f"unescaped payload on {where}"
    assert not any(raw in html for raw in RAW), f"unescaped payload on {where}"


@pytest.fixture
def staff(app, make_user):
    """A second browser, the reviewer's, signed in once for all the examples of a test."""
    make_user("verif", "verifikator")
    staff = app.test_client()
    login(staff, "verif")
    return staff


@FUZZ
@given(payload=XSS, field=st.sampled_from(["pelapor_nama", "nama", "alamat", "keterangan"]))
def test_stored_html_comes_out_escaped_everywhere(client, staff, payload, field):
    text = payload[0] + payload[1]
    data = valid_report(csrf_token(client, "/lapor"))
    data[field] = text
    response = client.post("/lapor", data=data)
    assert response.status_code == 303
    kode = response.headers["Location"].rsplit("/", 1)[1]
    assert_escaped(client.get(f"/laporan/{kode}").get_data(as_text=True), "tracking page")
    case_page = staff.get(f"/verifikasi/{kode}").get_data(as_text=True)
    assert_escaped(case_page, "case page")
    if field != "pelapor_nama":
        assert "&lt;" in case_page or "&#34;" in case_page or "&#39;" in case_page
    assert_escaped(staff.get("/verifikasi").get_data(as_text=True), "queue")
    assert_escaped(staff.get(f"/verifikasi/{kode}", headers={"HX-Request": "true"})
                   .get_data(as_text=True), "case fragment")
    # Staff notes are shown back too: a rejection note and a delivery note.
    note = {"putusan": "tidak-layak", "alasan": "lainnya", "catatan": text,
            "csrf_token": csrf_token(staff, "/masuk")}
    staff.post(f"/verifikasi/{kode}/putusan", data=note)
    assert_escaped(staff.get(f"/verifikasi/{kode}").get_data(as_text=True), "decided case")
    assert_escaped(client.get(f"/laporan/{kode}").get_data(as_text=True), "tracking page")


def test_stored_html_in_a_kiosk_receipt_and_delivery_note_is_escaped(client, make_user):
    payload = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    make_user("petugas1", role="petugas", kantor="35.10.16.1001")
    login(client, "petugas1")
    html = client.get("/kios").get_data(as_text=True)
    data = valid_report(csrf_token(client, "/kios"))
    data.update(nama=payload, pelapor_nama=payload, alamat=payload, keterangan=payload,
                sekali=re.search(r'name="sekali" value="([^"]+)"', html).group(1))
    assert client.post("/kios", data=data).status_code == 303
    assert_escaped(client.get("/kios/tanda-terima").get_data(as_text=True), "receipt")
    report = models.Report.select().order_by(models.Report.id.desc()).get()
    make_user("verif", "verifikator")
    staff = client.application.test_client()
    login(staff, "verif")
    casework.decide_eligible(report, "RANTANG-KASIH", models.User.get(username="verif"),
                             catatan=payload)
    staff.post(f"/verifikasi/{report.kode}/salurkan",
               data={"tanggal": "", "keterangan": payload,
                     "csrf_token": csrf_token(staff, "/masuk")})
    assert models.Report.get_by_id(report.id).status == "tersalurkan"
    assert_escaped(staff.get(f"/verifikasi/{report.kode}").get_data(as_text=True), "case")
    assert_escaped(client.get(f"/laporan/{report.kode}").get_data(as_text=True), "tracking")


def test_parse_nik_refuses_what_the_fuzzer_sends():
    """A sanity check of the oracle above: junk is not a NIK."""
    for value in PAYLOADS:
        with pytest.raises(NikError):
            parse_nik(value)


@FUZZ
@given(st.text(alphabet="nik=&%+2F0 é;\u202e", max_size=40))
def test_url_encoded_fields_are_those_parse_qsl_gives(app, text):
    """The app's form reading (web/request.py: a body with nothing %- or +-encoded is only
    split) gives every url-encoded body the fields Werkzeug's parse_qsl call gives it."""
    from urllib.parse import parse_qsl

    from flask import request
    from werkzeug.datastructures import MultiDict

    expected = MultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))
    with app.test_request_context("/cek", method="POST", data=text.encode(),
                                  content_type="application/x-www-form-urlencoded"):
        assert request.form.to_dict(flat=False) == expected.to_dict(flat=False)
