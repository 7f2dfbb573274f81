"""Reports: the form, stage 1 at submission, duplicates, confirmation and tracking."""
from __future__ import annotations

import datetime
import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import time_machine

import models
from cases import casework
from cases.casework import CODE_ALPHABET
from tests.conftest import DESA, add_person, csrf_token, new_nik
from web.forms import seal_nik

CSS = Path(__file__).resolve().parent.parent / "static" / "style.css"
KK = "3510160101200001"
OTHER_KK = "3510160202200002"
CODE = re.compile(r"/laporan/([2-9A-HJ-NP-Z]{8})(?:\?hasil=[a-z]+)?$")


def report_data(client, **changes):
    data = {"csrf_token": csrf_token(client, "/lapor"), "hubungan": "orang-lain",
            "pelapor_nama": "Budi Santoso", "pelapor_nik": "", "pelapor_telepon": "0812 3456 7890",
            "nik": new_nik(), "nama": "SITI WAHYUNI", "no_kk": "",
            "alamat": "Jl. Mawar 1 RT 001 RW 002", "kecamatan": "", "kode_desa": DESA,
            "kategori": "lansia-sebatang-kara", "keterangan": "Tinggal sendiri sejak 2019."}
    data.update(changes)
    return data


def submit(client, **changes):
    data = report_data(client, **changes)
    return client.post("/lapor", data=data), data


def submitted(client, **changes):
    """Submit a valid report; return the stored case, the confirmation page and the data."""
    response, data = submit(client, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    kode = CODE.search(response.headers["Location"]).group(1)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return models.Report.by_code(kode), page.get_data(as_text=True), data


def shown_status(html):
    return re.search(r'id="status-laporan" data-status="([^"]+)"', html).group(1)


def shown_code(html):
    return re.search(r'id="kode-laporan">([^<]+)<', html).group(1)


def assert_no_personal_data(html, data):
    for key in ("nik", "nama", "alamat", "no_kk", "pelapor_nik", "pelapor_telepon",
                "pelapor_nama"):
        if data.get(key):
            assert data[key] not in html, key


# --- the form -------------------------------------------------------------------------------

def test_form_fits_the_first_round_trip_and_needs_no_javascript(client):
    response = client.get("/lapor")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(response.data) + CSS.stat().st_size <= 14_000
    assert '<form method="post" action="/lapor"' in html
    for name in ("hubungan", "pelapor_nama", "pelapor_nik", "pelapor_telepon", "nik", "nama",
                 "no_kk", "alamat", "kecamatan", "kode_desa", "kategori", "keterangan"):
        assert f'name="{name}"' in html, name
    assert 'maxlength="500"' in html
    # All 25 kecamatan, as a plain select.
    assert html.count("<option value=35.10.") == 25


def test_villages_narrowed_without_javascript_keep_every_value(client):
    data = report_data(client, kecamatan="35.10.16", kode_desa="", aksi="desa")
    response = client.post("/lapor", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "galat-ringkas" not in html
    assert "<option value=35.10.16.1001>" in html and "<option value=35.10.01.2001>" not in html
    assert 'value="Budi Santoso"' in html and "Tinggal sendiri sejak 2019." in html
    assert models.Report.select().count() == 0


def test_villages_fragment_for_htmx_is_small(client):
    response = client.get("/lapor/desa?kecamatan=35.10.16", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) <= 1000
    assert html.startswith('<div class="isian" id="pilih-desa">')
    assert "35.10.16.1001" in html and "35.10.01." not in html
    assert "HX-Request" in response.headers["Vary"]
    # Without htmx the same URL is the whole form with that kecamatan chosen.
    page = client.get("/lapor/desa?kecamatan=35.10.16").get_data(as_text=True)
    assert "<option value=35.10.16 selected>" in page and "<form" in page


def test_errors_come_back_with_summary_messages_and_values_kept(client):
    response, data = submit(client, nik="3510161705800", kode_desa="35.10.16.9999",
                            nama="", kategori="")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = html[html.index('class="galat-ringkas"'):html.index("</ul>")]
    for field, message in (
            ("nik", "NIK harus 16 angka, yang diisi 13 angka."),
            ("nama", "Isi nama lengkap orang yang dilaporkan, sesuai KTP."),
            ("kode_desa", "Desa/kelurahan itu tidak ada di Kabupaten Banyuwangi."),
            ("kategori", "Pilih keadaan orang yang dilaporkan.")):
        assert f'href="#{field}"' in summary and message in summary
        assert f'id="{field}"' in html
        assert html.count(message) == 2  # in the summary and beside the field
    for kept in ('value="Budi Santoso"', 'value="3510161705800"', 'value="0812 3456 7890"',
                 'value="Jl. Mawar 1 RT 001 RW 002"', "Tinggal sendiri sejak 2019.",
                 'value="orang-lain" checked'):
        assert kept in html
    assert response.headers["Cache-Control"] == "no-store"
    assert models.Report.select().count() == 0 and models.Reporter.select().count() == 0


def test_bad_nik_or_unknown_desa_alone_store_nothing(client):
    for changes in ({"nik": "9910161705800001"}, {"kode_desa": "35.10.99.1001"},
                    {"kode_desa": "35.10.16"}):  # a kecamatan is not a desa
        response, _ = submit(client, **changes)
        assert response.status_code == 200
        assert "galat-ringkas" in response.get_data(as_text=True)
    assert models.Report.select().count() == 0


def test_desa_outside_the_chosen_kecamatan(client):
    response, _ = submit(client, kecamatan="35.10.01", kode_desa=DESA)
    html = response.get_data(as_text=True)
    assert "Desa yang dipilih tidak berada di kecamatan itu." in html
    assert "<option value=35.10.01.2001>" in html  # the chosen kecamatan's list is offered


def test_desa_code_without_dots_is_accepted(client):
    report, _, _ = submitted(client, kode_desa="3510161001")
    assert report.desa_kode == DESA and report.kecamatan_kode == "35.10.16"


def test_self_report_needs_the_reporters_own_nik(client):
    nik = new_nik()
    # Left empty, the reporter's NIK is the one typed for the subject (tests/test_casework_ux).
    other, _ = submit(client, hubungan="diri-sendiri", nik=nik, pelapor_nik=new_nik())
    assert "NIK Anda harus sama dengan NIK orang yang dilaporkan" in other.get_data(as_text=True)
    bad, _ = submit(client, hubungan="diri-sendiri", nik=nik, pelapor_nik="12")
    assert "NIK pelapor harus 16 angka, yang diisi 2 angka." in bad.get_data(as_text=True)
    assert models.Report.select().count() == 0
    report, html, data = submitted(client, hubungan="diri-sendiri", nik=nik, pelapor_nik=nik)
    reporter = report.reporters.get()
    assert reporter.hubungan == "diri-sendiri" and reporter.nik == nik
    assert shown_status(html) == "menunggu-penilaian"


def test_other_fields_checked_precisely(client):
    response, _ = submit(client, hubungan="", pelapor_nama="  ", pelapor_telepon="08-abc",
                         no_kk="123", keterangan="x" * 501, alamat="")
    html = response.get_data(as_text=True)
    for message in ("Pilih apakah Anda melaporkan diri sendiri atau orang lain.",
                    "Isi nama Anda (pelapor).",
                    "Nomor HP hanya boleh berisi angka",
                    "No. KK harus 16 angka, yang diisi 3 angka.",
                    "Keterangan paling banyak 500 karakter; yang diisi 501 karakter.",
                    "Isi alamat: jalan atau dusun, RT/RW."):
        assert message in html
    assert models.Report.select().count() == 0


def test_keterangan_counts_a_line_break_as_one_character(client):
    text = ("a" * 49 + "\r\n") * 10  # 500 characters as the browser counts them
    report, _, _ = submitted(client, keterangan=text.strip())
    assert len(report.keterangan) <= 500 and "\r" not in report.keterangan


# --- prefilled from a check result ----------------------------------------------------------

def test_check_result_opens_the_form_with_the_nik_and_no_errors(client):
    nik = new_nik()
    home = csrf_token(client, "/")
    result = client.post("/cek", data={"nik": nik, "csrf_token": home}).get_data(as_text=True)
    token = re.search(r'name="token_nik" value="([^"]+)"', result).group(1)
    assert nik not in token
    response = client.post("/lapor", data={"token_nik": token, "csrf_token": home})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f'value="{nik}"' in html
    assert "galat-ringkas" not in html and "pesan-galat" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_plain_nik_also_prefills(client):
    nik = new_nik()
    response = client.post("/lapor", data={"nik": nik, "csrf_token": csrf_token(client)})
    html = response.get_data(as_text=True)
    assert f'value="{nik}"' in html and "galat-ringkas" not in html


def test_forged_or_old_token_asks_for_the_nik_again(app, client):
    for token in ("rubbish", None):
        if token is None:
            with time_machine.travel(datetime.datetime.now() - datetime.timedelta(hours=2)):
                token = seal_nik(new_nik())
        response = client.post("/lapor", data={"token_nik": token,
                                               "csrf_token": csrf_token(client)})
        assert "Silakan isi NIK lagi" in response.get_data(as_text=True)


def test_a_report_sent_from_another_site_is_refused(client):
    data = report_data(client)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://jahat.example"},
                    {"Referer": "https://jahat.example/form"}, {"Origin": "null"}):
        response = client.post("/lapor", data=data, headers=headers)
        assert response.status_code == 403, headers
        assert "dikirim dari situs lain" in response.get_data(as_text=True)
    assert models.Report.select().count() == 0


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"},
    {"Referer": "http://localhost/lapor"}, {}])
def test_a_report_from_this_site_or_a_headerless_client_is_taken(client, headers):
    data = report_data(client)
    del data["csrf_token"]  # residents' forms carry no session token
    response = client.post("/lapor", data=data, headers=headers)
    assert response.status_code == 303 and "Set-Cookie" not in response.headers


# --- stage 1 and the confirmation -----------------------------------------------------------

def test_report_about_someone_else_opens_a_case(client):
    with time_machine.travel(datetime.datetime(2026, 11, 27, 3, 0, tzinfo=datetime.UTC)):
        report, html, data = submitted(client)
    assert report.status == "menunggu-penilaian" and report.kanal == "daring"
    assert report.tenggat == datetime.date(2026, 12, 4)
    assert shown_status(html) == "menunggu-penilaian"
    assert shown_code(html) == f"{report.kode[:4]}-{report.kode[4:]}"
    assert set(report.kode) <= set(CODE_ALPHABET)
    assert "Jumat, 4 Desember 2026" in html and "S**I W*****I" in html
    assert_no_personal_data(html, data)
    reporter = report.reporters.get()
    assert (reporter.nama, reporter.telepon, reporter.kanal) == (
        "Budi Santoso", "081234567890", "daring")


def test_confirmation_pages_are_not_cached(client):
    response, _ = submit(client)
    page = client.get(response.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"


def test_every_report_keeps_its_history(client):
    report, html, _ = submitted(client)
    events = list(report.events.order_by(models.ReportEvent.id))
    assert [(e.status, e.actor) for e in events] == [
        ("diterima", "warga"), ("menunggu-penilaian", "sistem")]
    assert all(e.at is not None for e in events)
    assert "Laporan diterima" in html and "Warga" in html and "Sistem" in html


def test_rejected_at_once_when_the_person_is_enrolled(client):
    nik = add_person(no_kk=KK)
    models.enrol(nik, "PKH", sumber="test")
    report, html, data = submitted(client, nik=nik)
    assert report.status == "ditolak-otomatis" and report.tenggat is None
    assert report.skema_penutup_kode == "PKH" and report.penutup_via == "nik"
    assert shown_status(html) == "ditolak-otomatis"
    assert "Program Keluarga Harapan" in html and "tingkat <b>Pusat</b>" in html
    assert "Laporan ditolak otomatis" in html
    assert report not in models.Report.open_queue()
    assert [e.actor for e in report.events.order_by(models.ReportEvent.id)] == [
        "warga", "sistem"]
    assert_no_personal_data(html, data)


def test_rejected_through_the_family_card_in_the_register(client):
    father = add_person(no_kk=KK, nama="BAPAK")
    models.enrol(father, "BST", sumber="test")
    son = add_person(no_kk=KK, nama="ANAK MUDA")
    report, html, _ = submitted(client, nik=son, nama="ANAK MUDA")  # No. KK left empty
    assert report.status == "ditolak-otomatis" and report.penutup_via == "keluarga"
    assert "Keluarga orang ini (satu Kartu Keluarga) sudah menerima" in html
    assert "Bantuan Sosial Tunai Kemensos" in html


def test_rejected_through_the_family_card_typed_in_the_form(client):
    father = add_person(no_kk=KK)
    models.enrol(father, "PKH-PLUS", sumber="test")
    report, html, _ = submitted(client, no_kk=KK)  # a person the register does not know
    assert report.status == "ditolak-otomatis" and report.skema_penutup_kode == "PKH-PLUS"
    assert "tingkat <b>Provinsi</b>" in html


def test_an_individual_scheme_covers_no_family(client):
    grandmother = add_person(no_kk=KK)
    models.enrol(grandmother, "RANTANG-KASIH", sumber="test")
    grandson = add_person(no_kk=KK)
    report, html, _ = submitted(client, nik=grandson, no_kk=KK)
    assert report.status == "menunggu-penilaian"


def test_duplicate_reports_attach_to_the_open_case(client):
    nik = new_nik()
    first, _, _ = submitted(client, nik=nik)
    second, html, _ = submitted(client, nik=nik, pelapor_nama="Tetangga Lain")
    assert second.id == first.id and second.jumlah_pelapor == 2
    assert shown_code(html) == first.kode_display
    assert "Orang ini sudah dilaporkan sebelumnya" in html and "oleh 2 pelapor" in html
    assert models.Report.select().where(models.Report.nik == nik).count() == 1
    assert "Laporan tambahan dari pelapor lain" in html


def test_after_a_closed_case_a_new_report_opens_a_new_one(client, make_user):
    nik = new_nik()
    first, _, _ = submitted(client, nik=nik)
    casework.decide_ineligible(first, "mampu", make_user())
    again, _, _ = submitted(client, nik=nik)
    assert again.id != first.id and again.status == "menunggu-penilaian"


def test_no_nik_in_any_url(client):
    nik = new_nik()
    response, _ = submit(client, nik=nik)
    assert nik not in response.headers["Location"]


# --- tracking -------------------------------------------------------------------------------

def test_tracking_shows_every_status_in_plain_words(client, make_user):
    reviewer = make_user()
    report, _, _ = submitted(client)
    with time_machine.travel(datetime.datetime(2026, 11, 27, 3, 0, tzinfo=datetime.UTC)):
        casework.decide_eligible(report, "SEMBAKO-BWI", reviewer, no_kk=OTHER_KK)
        html = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    assert shown_status(html) == "layak"
    assert "Bantuan diserahkan paling lambat <b>Jumat, 4 Desember 2026</b>" in html
    assert "Paket Sembako Kabupaten Banyuwangi" in html
    casework.record_delivery(models.Report.by_code(report.kode), reviewer)
    html = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    assert shown_status(html) == "tersalurkan"
    assert f"Bantuan sudah diserahkan pada <b>{_tanggal(models.today())}</b>" in html
    assert "Tim verifikasi" in html  # the actor of the decision, in the history

    other, _, _ = submitted(client)
    casework.decide_ineligible(other, "asn-tni-polri", reviewer, "catatan internal")
    html = client.get(f"/laporan/{other.kode}").get_data(as_text=True)
    assert shown_status(html) == "tidak-layak"
    assert "Anggota keluarga ASN, TNI atau Polri" in html
    assert "catatan internal" not in html


def _tanggal(day):
    from web.filters import tanggal

    return tanggal(day)


def test_an_overdue_assessment_says_so(client):
    with time_machine.travel(datetime.datetime(2026, 11, 1, 3, 0, tzinfo=datetime.UTC)):
        report, _, _ = submitted(client)
    with time_machine.travel(datetime.datetime(2026, 11, 11, 3, 0, tzinfo=datetime.UTC)):
        html = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    assert "Sudah terlambat 3 hari." in html


@pytest.mark.parametrize("typed", ["{a}-{b}", "{a}{b}", "{la}-{lb}", " {la}{b} "])
def test_track_by_code_in_any_case_with_or_without_dash(client, typed):
    report, _, _ = submitted(client)
    a, b = report.kode[:4], report.kode[4:]
    kode = typed.format(a=a, b=b, la=a.lower(), lb=b.lower())
    response = client.get("/lacak", query_string={"kode": kode})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/laporan/{report.kode}")
    assert client.get(f"/laporan/{report.kode.lower()}").status_code == 200


def test_unknown_code_is_a_friendly_404(client):
    for response in (client.get("/lacak?kode=ZZZZ-ZZZZ"), client.get("/laporan/ZZZZZZZZ"),
                     client.get("/laporan/abc")):
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "tidak ditemukan" in html and 'name="kode"' in html


def test_track_form(client):
    response = client.get("/lacak")
    assert response.status_code == 200 and "galat-ringkas" not in response.get_data(as_text=True)


# --- under gunicorn: 8 simultaneous reports about one new person ----------------------------

def _free_port() -> int:
    for port in range(8201, 8209):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.skip("no free port in 8201-8208")


@pytest.fixture
def gunicorn(tmp_path):
    """A real server: 4 gunicorn workers on a fresh SQLite database made by `init-db`."""
    root = Path(__file__).resolve().parent.parent
    bin_dir = Path(sys.executable).parent
    url = f"sqlite:///{tmp_path / 'gunicorn.db'}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="gunicorn-test",
               RATELIMIT_STORAGE_URI="memory://")
    subprocess.run([str(bin_dir / "flask"), "--app", "app", "init-db"], cwd=root, env=env,
                   check=True, capture_output=True)
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/lacak", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, url
    finally:
        server.terminate()
        server.wait(20)
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _browser():
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())


def test_eight_simultaneous_reports_under_gunicorn_make_one_case(gunicorn):
    base, url = gunicorn
    nik, clients = new_nik(), 8
    barrier = threading.Barrier(clients)
    answers = [None] * clients

    def resident(i):
        browser = _browser()
        html = browser.open(base + "/lapor", timeout=10).read().decode()
        assert 'name="csrf_token"' not in html  # a resident's form needs no session
        body = urllib.parse.urlencode({
            "hubungan": "orang-lain", "pelapor_nama": f"Tetangga {i}",
            "nik": nik, "nama": "WARGA BARU", "alamat": "Jl. Kenanga 3", "kode_desa": DESA,
            "kategori": "kehilangan-penghasilan", "keterangan": ""}).encode()
        barrier.wait(20)
        try:
            with browser.open(base + "/lapor", data=body, timeout=30) as response:
                answers[i] = (response.status, response.headers.get("Location"))
        except urllib.error.HTTPError as exc:
            answers[i] = (exc.code, exc.headers.get("Location"))

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in answers] == [303] * clients, answers
    # Everyone gets the same code: one opened the case, the others joined it.
    assert len({CODE.search(location).group(1) for _, location in answers}) == 1
    assert sorted(location.rsplit("=", 1)[1] for _, location in answers) == (
        ["baru"] + ["gabung"] * (clients - 1))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        cases = conn.execute("SELECT id, kode, status, jumlah_pelapor FROM laporan "
                             "WHERE nik = ?", (nik,)).fetchall()
        assert len(cases) == 1
        case_id, kode, status, reporters = cases[0]
        assert (status, reporters) == ("menunggu-penilaian", clients)
        assert conn.execute("SELECT COUNT(*) FROM pelapor WHERE report_id = ?",
                            (case_id,)).fetchone()[0] == clients
    assert CODE.search(answers[0][1]).group(1) == kode
