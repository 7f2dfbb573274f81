"""The reviewer's desk: queue order and days left as the calendar moves, decisions, delivery."""
from __future__ import annotations

import datetime
import re

import pytest
import time_machine

import models
from cases import casework
from tests.conftest import DESA, add_person, csrf_token, login, new_nik

WIB = models.WIB
DAY0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=WIB)  # a Monday morning in Banyuwangi
OTHER_DESA = "35.10.01.2001"  # Sarongan, kecamatan Pesanggaran (35.10.01)
ROW = re.compile(r'<tr data-kode="([^"]+)" data-sisa-hari="(-?\d+)" data-status="([^"]+)"'
                 r'( class="terlambat")?')


def at(days: float, hour: int = 9):
    """Travel to DAY0 + days, at `hour` o'clock WIB; the clock does not tick."""
    moment = DAY0.replace(hour=hour) + datetime.timedelta(days=days)
    return time_machine.travel(moment, tick=False)


def submit(nama="BUDI SANTOSO", desa=DESA, kategori="kehilangan-penghasilan", nik=None,
           keterangan="Di-PHK sejak Maret.", no_kk=None):
    subject = {"nik": nik or new_nik(), "nama": nama, "no_kk": no_kk,
               "alamat": "Jl. Kenanga 3 RT 001 RW 002", "desa": desa, "kategori": kategori,
               "keterangan": keterangan}
    reporter = {"hubungan": "orang-lain", "nama": "TETANGGA BAIK", "nik": None,
                "telepon": "081234567890"}
    report, outcome = casework.submit_report(subject, reporter)
    assert outcome == "baru"
    return report


def queue_rows(client, query=""):
    response = client.get("/verifikasi" + query)
    assert response.status_code == 200
    return [(kode, int(days), status, bool(late))
            for kode, days, status, late in ROW.findall(response.get_data(as_text=True))]


def post(client, path, data, headers=None):
    data = dict(data, csrf_token=csrf_token(client, "/masuk"))
    return client.post(path, data=data, headers=headers or {})


@pytest.fixture(autouse=True)
def clock(app):
    """Every test starts on DAY0 (sessions are signed with the time, so sign in after this)."""
    from extensions import limiter

    # These tests follow one reviewer across days and weeks of the calendar; the staff session
    # timeouts (30 minutes idle, 10 hours in all) are tested in test_security.py.
    app.config.update(SESSION_IDLE_MINUTES=10**7, SESSION_MAX_HOURS=10**6)

    # The sign-in rate limit counts in process memory across tests; with the clock frozen on
    # DAY0 its window would never end.
    limiter.reset()
    with time_machine.travel(DAY0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reviewer(client, make_user):
    user = make_user("verif", "verifikator")
    login(client, "verif")
    return user


# Access ---------------------------------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in(client):
    report = submit()
    for path in ("/verifikasi", f"/verifikasi/{report.kode}"):
        response = client.get(path)
        assert response.status_code == 302 and "/masuk" in response.location
    response = client.post(f"/verifikasi/{report.kode}/putusan",
                           data={"putusan": "tidak-layak", "alasan": "mampu"})
    assert response.status_code in (302, 400)
    assert models.Report.get_by_id(report.id).status == "menunggu-penilaian"
    # After signing in, the sign-in prompt does not reappear as a notice on the case page.
    models.User.create(username="verif", role="verifikator",
                       password_hash=_hash("rahasia-123"))
    login(client, "verif")
    assert "Silakan masuk" not in client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)


def _hash(password):
    user = models.User()
    user.set_password(password)
    return user.password_hash


def test_petugas_is_refused(client, make_user):
    report = submit()
    make_user("kios", "petugas")
    login(client, "kios")
    assert client.get("/verifikasi").status_code == 403
    assert client.get(f"/verifikasi/{report.kode}").status_code == 403
    token = csrf_token(client, "/masuk")
    response = client.post(f"/verifikasi/{report.kode}/putusan",
                           data={"putusan": "tidak-layak", "alasan": "mampu",
                                 "csrf_token": token})
    assert response.status_code == 403
    assert models.Report.get_by_id(report.id).status == "menunggu-penilaian"


def test_admin_sees_the_queue(client, make_user):
    report = submit()
    make_user("kepala", "admin")
    login(client, "kepala")
    assert [r[0] for r in queue_rows(client)] == [report.kode]


def test_scoped_verifikator_sees_only_their_kecamatan(client, make_user):
    here, there = submit(), submit(desa=OTHER_DESA)
    make_user("verif-kec", "verifikator", kantor="35.10.16")
    login(client, "verif-kec")
    assert [r[0] for r in queue_rows(client)] == [here.kode]
    # Asking for another kecamatan does not widen the scope.
    assert [r[0] for r in queue_rows(client, "?kecamatan=35.10.01")] == [here.kode]
    assert client.get(f"/verifikasi/{there.kode_display}").status_code == 404
    for path, data in ((f"/verifikasi/{there.kode}/putusan",
                        {"putusan": "layak", "skema": "RANTANG-KASIH"}),
                       (f"/verifikasi/{there.kode}/salurkan", {"tanggal": ""})):
        assert post(client, path, data).status_code == 404
    assert models.Report.get_by_id(there.id).status == "menunggu-penilaian"
    assert client.get(f"/verifikasi/{here.kode_display}").status_code == 200


def test_a_desa_office_scopes_to_its_kecamatan(client, make_user):
    here, there = submit(), submit(desa=OTHER_DESA)
    make_user("verif-desa", "verifikator", kantor=DESA)
    login(client, "verif-desa")
    assert [r[0] for r in queue_rows(client)] == [here.kode]
    assert client.get(f"/verifikasi/{there.kode}").status_code == 404


# The queue as days pass -----------------------------------------------------------------------

def test_queue_order_and_days_left_as_the_clock_moves(client, reviewer):
    with at(0):
        a = submit("ANI")
    with at(1):
        b = submit("BAYU")
    with at(2, hour=6):
        c = submit("CICI")
    with at(2, hour=7):
        d = submit("DEDI")  # same day as C, later: after C
    expected = {0: [(a, 7), (b, 8), (c, 9), (d, 9)],
                3: [(a, 4), (b, 5), (c, 6), (d, 6)],
                7: [(a, 0), (b, 1), (c, 2), (d, 2)],
                8: [(a, -1), (b, 0), (c, 1), (d, 1)],
                12: [(a, -5), (b, -4), (c, -3), (d, -3)]}
    for day, cases in expected.items():
        with at(day, hour=20):
            rows = queue_rows(client)
        assert [(r[0], r[1]) for r in rows] == [(x.kode, n) for x, n in cases], day
        assert all(r[3] == (r[1] < 0) for r in rows), day  # overdue rows are marked
    with at(12, hour=21):  # later, never earlier: a session cookie from the future is invalid
        html = client.get("/verifikasi").get_data(as_text=True)
    assert "terlambat 5 hari" in html and "terlambat 3 hari" in html


def test_wib_midnight_not_utc_midnight_turns_the_day(client, reviewer):
    with at(0):
        a = submit()
    # 23:30 WIB on day 6 is still day 6; 00:30 WIB on day 7 (17:30 UTC the day before) is day 7.
    with time_machine.travel(DAY0.replace(hour=23, minute=30) + datetime.timedelta(days=6),
                             tick=False):
        assert queue_rows(client)[0][:2] == (a.kode, 1)
    with time_machine.travel(DAY0.replace(hour=0, minute=30) + datetime.timedelta(days=7),
                             tick=False):
        assert queue_rows(client)[0][:2] == (a.kode, 0)
        assert "hari ini batas akhir" in client.get("/verifikasi").get_data(as_text=True)


def test_layak_deadline_is_decision_date_plus_seven_and_requeues(client, reviewer):
    with at(0):
        a = submit("ANI")
        b = submit("BAYU")
    with at(5):
        response = post(client, f"/verifikasi/{a.kode_display}/putusan",
                        {"putusan": "layak", "skema": "RANTANG-KASIH"})
        assert response.status_code == 303
        assert response.location.endswith(f"/verifikasi/{a.kode}")
        decided = models.Report.get_by_id(a.id)
        assert decided.status == "layak"
        assert decided.tenggat == (DAY0 + datetime.timedelta(days=12)).date()
        assert decided.tanggal_putusan == (DAY0 + datetime.timedelta(days=5)).date()
        rows = queue_rows(client)
    assert [(r[0], r[1], r[2]) for r in rows] == [(b.kode, 2, "menunggu-penilaian"),
                                                  (a.kode, 7, "layak")]
    with at(14):
        rows = queue_rows(client)
        assert [(r[0], r[1]) for r in rows] == [(b.kode, -7), (a.kode, -2)]
        assert [r[0] for r in queue_rows(client, "?tahap=layak")] == [a.kode]
        assert [r[0] for r in queue_rows(client, "?tahap=menunggu-penilaian")] == [
            b.kode]


def test_kecamatan_filter_and_pagination(client, reviewer, monkeypatch):
    import views.review

    monkeypatch.setattr(views.review, "PAGE_SIZE", 2)
    with at(0):
        cases = [submit(f"WARGA {i}") for i in range(5)]
        other = submit("JAUH", desa=OTHER_DESA)
    with at(1):
        page1 = queue_rows(client, "?kecamatan=35.10.16")
        page2 = queue_rows(client, "?kecamatan=351016&hal=2")
        page3 = queue_rows(client, "?kecamatan=35.10.16&hal=3")
        everything = queue_rows(client, "?hal=1") + queue_rows(client, "?hal=2") + \
            queue_rows(client, "?hal=3")
        html = client.get("/verifikasi?kecamatan=35.10.16&hal=2").get_data(as_text=True)
    assert [r[0] for r in page1 + page2 + page3] == [c.kode for c in cases]
    assert len(everything) == 6 and other.kode in [r[0] for r in everything]
    assert "Halaman 2 dari 3" in html and "kecamatan=35.10.16" in html


def test_htmx_filter_swaps_only_the_table(client, reviewer):
    submit()
    response = client.get("/verifikasi?tahap=layak", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="antrian"')
    assert "<html" not in body and "HX-Request" in response.headers["Vary"]


# Decisions ------------------------------------------------------------------------------------

def test_layak_enrols_and_a_second_decision_fails_cleanly(client, reviewer, make_user):
    report = submit(nik=new_nik(birth=datetime.date(1950, 1, 1)), kategori="lansia-sebatang-kara")
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "layak", "skema": "RANTANG-KASIH", "catatan": "Tinggal sendiri."})
    assert response.status_code == 303
    enrolment = models.Enrolment.get(models.Enrolment.person == report.nik)
    assert enrolment.skema_kode == "RANTANG-KASIH" and enrolment.sumber == f"laporan:{report.kode}"
    assert models.covering(report.nik).status == "terdaftar"
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "Putusan tersimpan" in page and "Tim verifikasi (verif)" in page

    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "tidak-layak", "alasan": "mampu"})
    assert response.status_code == 409
    assert "sudah diproses petugas lain" in response.get_data(as_text=True)
    assert models.Report.get_by_id(report.id).status == "layak"
    assert models.Enrolment.select().count() == 1
    assert models.ReportEvent.select().where(models.ReportEvent.report == report).count() == 3


def test_tidak_layak_leaves_the_queue_with_reason_in_history(client, reviewer):
    report, stays = submit(), submit()
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "tidak-layak", "alasan": "asn-tni-polri",
                     "catatan": "Suami anggota Polri."})
    assert response.status_code == 303
    closed = models.Report.get_by_id(report.id)
    assert (closed.status, closed.alasan, closed.tenggat) == ("tidak-layak", "asn-tni-polri", None)
    assert [r[0] for r in queue_rows(client)] == [stays.kode]
    event = models.ReportEvent.select().where(models.ReportEvent.report == report) \
        .order_by(models.ReportEvent.id.desc()).get()
    assert (event.status, event.user_id, event.actor) == ("tidak-layak", reviewer.id,
                                                          "verifikator")
    assert models.Enrolment.select().count() == 0


def test_decision_answers_htmx_with_the_updated_case(client, reviewer):
    report = submit()
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "tidak-layak", "alasan": "mampu"}, {"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="kasus"')
    assert 'data-status="tidak-layak"' in body and "Putusan tersimpan" in body
    # A failure under htmx is a 200 too (htmx 2 does not swap 4xx), with the message.
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "tidak-layak", "alasan": "mampu"}, {"HX-Request": "true"})
    assert response.status_code == 200 and "sudah diproses petugas lain" in response.get_data(
        as_text=True)


@pytest.mark.parametrize("data, message", [
    ({}, "Pilih putusan"),
    ({"putusan": "layak"}, "Pilih skema"),
    ({"putusan": "layak", "skema": "TIDAK-ADA"}, "Skema bantuan tidak dikenal"),
    ({"putusan": "tidak-layak"}, "Pilih alasan"),
    ({"putusan": "tidak-layak", "alasan": "lainnya"}, "tulis penjelasannya"),
    ({"putusan": "layak", "skema": "SEMBAKO-BWI"}, "isi No. KK"),
    ({"putusan": "layak", "skema": "SEMBAKO-BWI", "no_kk": "12345"}, "harus 16 angka"),
])
def test_incomplete_decisions_change_nothing(client, reviewer, data, message):
    report = submit()  # no No. KK in the report, not in the register
    response = post(client, f"/verifikasi/{report.kode}/putusan", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert models.Report.get_by_id(report.id).status == "menunggu-penilaian"
    assert models.Enrolment.select().count() == 0 and models.Person.select().count() == 0


def test_family_scheme_with_the_card_typed_by_the_reviewer(client, reviewer):
    report = submit()
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "layak", "skema": "SEMBAKO-BWI", "no_kk": "3510 1601 0120 0009"})
    assert response.status_code == 303
    person = models.Person.get_by_id(report.nik)
    assert person.no_kk == "3510160101200009"
    enrolment = models.Enrolment.get(models.Enrolment.person == report.nik)
    assert enrolment.family_kk == "3510160101200009"
    assert models.Report.get_by_id(report.id).no_kk == "3510160101200009"


@pytest.mark.parametrize("meanwhile", ["nik", "family"])
def test_decision_fails_when_an_import_enrolled_them_meanwhile(client, reviewer, meanwhile):
    kk = "3510160101200001"
    nik = add_person(no_kk=kk, nama="BUDI SANTOSO")
    report = submit(nik=nik)
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "belum menerima bantuan apa pun" in page
    if meanwhile == "nik":
        models.enrol(nik, "BPNT", sumber="impor:bpnt.csv")
    else:
        models.enrol(add_person(no_kk=kk, nama="AYAH BUDI"), "BST", sumber="impor:bst.csv")
    events = models.ReportEvent.select().count()
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "layak", "skema": "RANTANG-KASIH"})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Tidak dapat didaftarkan" in body and ("BPNT" if meanwhile == "nik" else "BST") in body
    after = models.Report.get_by_id(report.id)
    assert (after.status, after.skema_kode, after.tenggat) == (
        "menunggu-penilaian", None, report.tenggat)
    assert models.Enrolment.select().count() == 1 and models.ReportEvent.select().count() == events
    # The case page now shows what covers them, and the family card with who is enrolled.
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "sudah terdaftar" in page and f"Kartu Keluarga {kk}" in page


# Delivery -------------------------------------------------------------------------------------

def _decide_layak(client, report):
    response = post(client, f"/verifikasi/{report.kode}/putusan",
                    {"putusan": "layak", "skema": "DISABILITAS-BWI"})
    assert response.status_code == 303


def test_delivery_on_time_leaves_the_queue(client, reviewer):
    with at(0):
        report = submit()
        _decide_layak(client, report)
    with at(3):
        response = post(client, f"/verifikasi/{report.kode}/salurkan",
                        {"tanggal": "", "keterangan": "Uang tunai diterima sendiri."})
        assert response.status_code == 303
        assert queue_rows(client) == []
        page = client.get(response.location).get_data(as_text=True)
    done = models.Report.get_by_id(report.id)
    assert done.status == "tersalurkan" and done.tepat_waktu is True
    assert done.tanggal_salur == (DAY0 + datetime.timedelta(days=3)).date()
    assert done.disalurkan_oleh_id == reviewer.id
    assert "tepat waktu" in page and "Uang tunai diterima sendiri." in page


def test_late_delivery_is_recorded_as_late(client, reviewer):
    with at(0):
        report = submit()
        _decide_layak(client, report)
    with at(10):
        assert queue_rows(client)[0][1:] == (-3, "layak", True)
        response = post(client, f"/verifikasi/{report.kode}/salurkan",
                        {"tanggal": (DAY0 + datetime.timedelta(days=9)).date().isoformat()})
        assert response.status_code == 303
    done = models.Report.get_by_id(report.id)
    assert (done.status, done.tepat_waktu) == ("tersalurkan", False)
    assert done.tanggal_salur == (DAY0 + datetime.timedelta(days=9)).date()
    event = models.ReportEvent.get(models.ReportEvent.status == "tersalurkan")
    assert "terlambat (2 hari lewat tenggat)" in event.note and event.user_id == reviewer.id


@pytest.mark.parametrize("tanggal, message", [
    ("2026-03-10", "masa depan"),
    ("2026-03-01", "sebelum tanggal putusan"),
    ("kemarin", "tidak dapat dibaca"),
])
def test_bad_delivery_dates_change_nothing(client, reviewer, tanggal, message):
    with at(0):
        report = submit()
        _decide_layak(client, report)
    with at(2):
        response = post(client, f"/verifikasi/{report.kode}/salurkan", {"tanggal": tanggal})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert models.Report.get_by_id(report.id).status == "layak"


def test_delivery_before_a_decision_is_refused(client, reviewer):
    report = submit()
    response = post(client, f"/verifikasi/{report.kode}/salurkan", {"tanggal": ""})
    assert response.status_code == 409 and "belum dinyatakan layak" in response.get_data(
        as_text=True)


# The case page --------------------------------------------------------------------------------

def test_case_page_shows_what_a_reviewer_needs(client, reviewer):
    nik = new_nik(birth=datetime.date(1995, 2, 3))
    report = submit(nik=nik, nama="SUKMA JAYA", kategori="lansia-sebatang-kara",
                    no_kk="3510160101200077")
    page = client.get(f"/verifikasi/{report.kode_display.lower()}").get_data(as_text=True)
    assert nik in page and "SUKMA JAYA" in page and "3510160101200077" in page
    assert "TETANGGA BAIK" in page and "081234567890" in page
    assert "laki-laki, lahir 3 Februari 1995" in page
    assert "Dilaporkan sebagai lansia" in page and 'class="peringatan"' in page
    assert "Riwayat" in page and "Lolos tahap 1" in page


def test_case_page_family_table_lists_enrolled_members(client, reviewer):
    kk_register = "3510160101200001"
    nik = add_person(no_kk=kk_register, nama="SUKMA JAYA")
    sibling = add_person(no_kk=kk_register, nama="ADIK SUKMA")
    models.enrol(sibling, "RANTANG-KASIH", sumber="impor")  # individual: family not covered
    report = submit(nik=nik, nama="SUKMA JAYA")
    assert report.status == "menunggu-penilaian"
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert f"Kartu Keluarga {kk_register}" in page and "ADIK SUKMA" in page
    assert "RANTANG-KASIH (kabupaten, individu)" in page


def test_nutrition_scheme_flagged_for_a_man(client, reviewer):
    report = submit(nik=new_nik(female=False))
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "NUTRISI-BUMIL, Kabupaten, individu) – tidak cocok menurut NIK" in page


def test_scheme_select_lists_active_schemes_kabupaten_first(client, reviewer):
    models.Scheme.update(aktif=False).where(models.Scheme.kode == "BLT-DD").execute()
    report = submit()
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    select = page[page.index('id="layak-skema"'):]
    select = select[:select.index("</select>")]
    codes = re.findall(r'<option value="([^"]+)"', select)
    levels = [models.Scheme.get_by_id(c).tingkat for c in codes]
    assert "BLT-DD" not in codes and len(codes) == 9
    assert levels == sorted(levels, key=["kabupaten", "provinsi", "pusat"].index)


def test_report_text_is_escaped_for_reviewers(client, reviewer):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    report = submit(nama="BUDI <b>SANTOSO</b>", keterangan=payload)
    for path in ("/verifikasi", f"/verifikasi/{report.kode}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "<b>SANTOSO</b>" not in page
    page = client.get(f"/verifikasi/{report.kode}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_unknown_code_is_404(client, reviewer):
    assert client.get("/verifikasi/ABCD-EFGH").status_code == 404
    assert client.get("/verifikasi/x").status_code == 404


# Against gunicorn: simultaneous decisions from several workers -------------------------------

def _free_port() -> int:
    import socket

    for port in range(8301, 8310):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8301-8309")


class _Browser:
    """A reviewer's browser: its own cookies, redirects not followed (we want to see 303)."""

    def __init__(self, base):
        import http.cookiejar
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def request(self, path, data=None):
        import urllib.error
        import urllib.parse

        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def token(self, path):
        html = self.request(path)[1]
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    def login(self, username):
        status, _ = self.request("/masuk", {"username": username, "password": "rahasia-1234",
                                            "csrf_token": self.token("/masuk")})
        assert status == 303


@pytest.fixture
def gunicorn_server(tmp_path, database_url):
    """gunicorn with 4 workers on a fresh SQLite file set up by `flask init-db`."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    if not database_url.startswith("sqlite"):
        pytest.skip("the gunicorn race runs on the SQLite default")
    bin_dir = os.path.dirname(sys.executable)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/race.db", SECRET_KEY="race",
               RATELIMIT_ENABLED="false", RATELIMIT_STORAGE_URI="memory://",
               WEB_CONCURRENCY="4", BIND=f"127.0.0.1:{port}")
    subprocess.run([os.path.join(bin_dir, "flask"), "--app", "app", "init-db"], cwd=root,
                   env=env, check=True, capture_output=True)
    subprocess.run([os.path.join(bin_dir, "flask"), "--app", "app", "create-user", "verif0",
                    "--role", "verifikator"], cwd=root, env=env, check=True,
                   input=b"rahasia-1234\nrahasia-1234\n", capture_output=True)
    server = subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "--config",
                               "gunicorn.conf.py", "--access-logfile", "/dev/null", "wsgi:app"],
                              cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/masuk", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base, env["DATABASE_URL"]
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        assert b"Traceback" not in errors, errors.decode()[-3000:]


def test_simultaneous_decisions_through_gunicorn(gunicorn_server):
    import threading

    from app import create_app

    base, url = gunicorn_server
    create_app({"DATABASE_URL": url, "SECRET_KEY": "race", "RATELIMIT_STORAGE_URI": "memory://"})
    with models.db.connection_context():
        first = models.User.get(models.User.username == "verif0")
        for i in range(1, 8):  # the same password hash: scrypt is slow on purpose
            models.User.create(username=f"verif{i}", role="verifikator",
                               password_hash=first.password_hash)
        kk = "3510160101200055"
        one = submit(nama="SATU")  # eight reviewers, one case, different decisions
        a = submit(nik=add_person(no_kk=kk, nama="ANAK PERTAMA"))  # two cases, one family:
        b = submit(nik=add_person(no_kk=kk, nama="ANAK KEDUA"))  # one family scheme at most
    browsers = [_Browser(base) for _ in range(8)]
    for i, browser in enumerate(browsers):
        browser.login(f"verif{i}")

    def race(jobs):
        prepared = [(browser, path, dict(data, csrf_token=browser.token(path.rsplit("/", 1)[0])))
                    for browser, path, data in jobs]
        barrier, results = threading.Barrier(len(prepared)), [None] * len(prepared)

        def run(i, browser, path, data):
            barrier.wait()
            results[i] = browser.request(path, data)

        threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(prepared)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return results

    decisions = [{"putusan": "layak", "skema": s} for s in ("RANTANG-KASIH", "DISABILITAS-BWI")]
    decisions += [{"putusan": "tidak-layak", "alasan": "mampu"}]
    results = race([(browser, f"/verifikasi/{one.kode}/putusan", decisions[i % 3])
                    for i, browser in enumerate(browsers)])
    assert sorted(r[0] for r in results) == [303] + [409] * 7, [r[0] for r in results]
    assert all("sudah diproses petugas lain" in r[1] for r in results if r[0] == 409)

    family = {"putusan": "layak", "skema": "SEMBAKO-BWI"}
    results = race([(browser, f"/verifikasi/{(a, b)[i % 2].kode}/putusan", family)
                    for i, browser in enumerate(browsers)])
    assert sorted(r[0] for r in results) == [303] + [409] * 7, [r[0] for r in results]

    with models.db.connection_context():
        decided = models.Report.get_by_id(one.id)
        assert decided.status in ("layak", "tidak-layak")
        events = models.ReportEvent.select().where(
            models.ReportEvent.report == one, models.ReportEvent.status == decided.status)
        assert events.count() == 1
        enrolments = models.Enrolment.select()
        assert enrolments.count() == (2 if decided.status == "layak" else 1)
        assert models.Enrolment.select().where(models.Enrolment.family_kk == kk).count() == 1
        statuses = sorted(models.Report.get_by_id(r.id).status for r in (a, b))
        assert statuses == ["layak", "menunggu-penilaian"]
    models.db.close()
