"""Sessions, rate limits, headers and error pages: what the [security] issue asks of them."""
from __future__ import annotations

import datetime
import logging
import re

import pytest
import time_machine

import models
from tests.conftest import add_person, csrf_token, login, new_nik
from tests.test_reports import report_data
from web import redact, security

HTTPS = "https://localhost"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name -> the whole header."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


@pytest.fixture
def limits(app):
    """Rate limits on (the suite's memory storage), counting from zero."""
    from extensions import limiter

    limiter.reset()
    app.config["RATELIMIT_ENABLED"] = True
    return app.config


# --- session cookies ----------------------------------------------------------------------------

def test_plain_http_gets_a_plain_cookie_without_secure(client):
    set_cookie = cookies(client.get("/masuk"))["sesi"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie and "Domain" not in set_cookie


def test_https_gets_a_host_prefixed_secure_cookie_and_hsts(client):
    response = client.get("/masuk", base_url=HTTPS)
    set_cookie = cookies(response)["__Host-sesi"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in set_cookie
    assert "Domain" not in set_cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/masuk").headers


def test_behind_nginx_the_forwarded_scheme_decides(app, client):
    app.config["PROXY_FIX"] = 1
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    response = client.get("/masuk", headers={"X-Forwarded-Proto": "https"})
    assert "__Host-sesi" in cookies(response) and "Strict-Transport-Security" in response.headers


def test_a_session_over_https_works_end_to_end(client, make_user):
    make_user("petugas1", role="petugas")
    https_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                            client.get("/masuk", base_url=HTTPS).get_data(as_text=True)).group(1)
    # Flask-WTF's HTTPS referer check: the browser sends a same-origin Referer.
    response = client.post("/masuk", base_url=HTTPS, headers={"Referer": HTTPS + "/masuk"},
                           data={"username": "petugas1", "password": "rahasia-123",
                                 "csrf_token": https_token})
    assert response.status_code == 303
    assert client.get("/kios", base_url=HTTPS).status_code == 200


# --- server-side session end ----------------------------------------------------------------

def test_sign_out_ends_every_session_of_the_user_even_a_copied_cookie(app, make_user):
    make_user("petugas1", role="petugas")
    first, second = app.test_client(), app.test_client()
    login(first, "petugas1")
    stolen = first.get_cookie("sesi").value
    login(second, "petugas1")
    replay = app.test_client()
    replay.set_cookie("sesi", stolen)
    assert replay.get("/kios").status_code == 200
    first.post("/keluar", data={"csrf_token": csrf_token(first, "/lapor")})
    # The cookie captured before sign-out is refused, and so is the other device's session.
    replay.set_cookie("sesi", stolen)
    assert replay.get("/kios").status_code == 302
    assert second.get("/kios").status_code == 302


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    make_user("verif", role="verifikator")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "verif")
    login(elsewhere, "verif")
    form = {"lama": "rahasia-123", "baru": "kata-sandi-baru-99", "ulangi": "kata-sandi-baru-99",
            "csrf_token": csrf_token(here, "/akun/kata-sandi")}
    response = here.post("/akun/kata-sandi", data=form)
    assert response.status_code == 303
    assert here.get("/verifikasi").status_code == 200
    assert elsewhere.get("/verifikasi").status_code == 302
    user = models.User.get(models.User.username == "verif")
    assert user.check_password("kata-sandi-baru-99") and not user.check_password("rahasia-123")


@pytest.mark.parametrize("changes,message", [
    ({"lama": "salah-salah-1"}, "Kata sandi sekarang salah."),
    ({"baru": "pendek", "ulangi": "pendek"}, "12 sampai 200 karakter"),
    ({"ulangi": "lain-lain-lain-1"}, "Kedua kata sandi baru tidak sama."),
])
def test_password_change_refuses_bad_input(client, make_user, changes, message):
    make_user("verif", role="verifikator")
    login(client, "verif")
    form = {"lama": "rahasia-123", "baru": "kata-sandi-baru-99", "ulangi": "kata-sandi-baru-99",
            "csrf_token": csrf_token(client, "/akun/kata-sandi"), **changes}
    response = client.post("/akun/kata-sandi", data=form)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert models.User.get(models.User.username == "verif").check_password("rahasia-123")


def test_a_cookie_from_before_the_epoch_format_is_refused(app, client, make_user):
    user = make_user("petugas1", role="petugas")
    with client.session_transaction() as session:
        session.update({"_user_id": str(user.id), "_fresh": True,
                        security.SIGNED_IN: 2**40, security.SEEN: 2**40})
    assert client.get("/kios").status_code == 302


def test_staff_session_ends_after_30_minutes_idle(client, make_user):
    make_user("petugas1", role="petugas")
    with time_machine.travel(T0, tick=False) as clock:
        login(client, "petugas1")
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get("/kios").status_code == 200  # activity keeps it alive...
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get("/kios").status_code == 200
        clock.shift(datetime.timedelta(minutes=31))  # ...30 minutes of nothing ends it
        response = client.get("/kios")
        assert response.status_code == 302 and "/masuk" in response.headers["Location"]
        assert "Sesi Anda sudah berakhir" in client.get("/masuk").get_data(as_text=True)


def test_staff_session_ends_after_10_hours_however_active(client, make_user):
    make_user("petugas1", role="petugas")
    with time_machine.travel(T0, tick=False) as clock:
        login(client, "petugas1")
        statuses = []
        for _ in range(41):  # every 15 minutes, for 10 hours and a quarter
            clock.shift(datetime.timedelta(minutes=15))
            statuses.append(client.get("/kios").status_code)
        assert statuses == [200] * 40 + [302]


def test_a_disabled_account_loses_its_session_at_once(client, make_user):
    user = make_user("petugas1", role="petugas")
    login(client, "petugas1")
    models.User.update(aktif=False).where(models.User.id == user.id).execute()
    assert client.get("/kios").status_code == 302


# --- rate limits -----------------------------------------------------------------------------

def from_address(address: str) -> dict:
    return {"REMOTE_ADDR": address}


def report(client, address="10.9.0.1", **changes):
    return client.post("/lapor", data=report_data(client, **changes),
                       environ_base=from_address(address))


def check_nik(client, nik, address="10.9.0.1", **headers):
    return client.post("/cek", data={"nik": nik}, environ_base=from_address(address),
                       headers=headers)


def test_only_stored_reports_count_and_the_limit_answers_with_a_friendly_page(client, limits):
    limits["RATELIMIT_LAPORAN"] = "3 per hour"
    # Opening the form from a check, "Tampilkan desa" and rounds with mistakes cost nothing.
    for _ in range(10):
        client.post("/lapor", data={"nik": new_nik()}, environ_base=from_address("10.9.0.1"))
        client.post("/lapor", data={"aksi": "desa", "kecamatan": "35.10.16"},
                    environ_base=from_address("10.9.0.1"))
        assert report(client, nama="").status_code == 200  # a mistake: the form comes back
    for _ in range(3):
        assert report(client).status_code == 303
    before = models.Report.select().count()
    response = report(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Terlalu banyak" in html and "coba lagi dalam" in html
    assert int(response.headers["Retry-After"]) > 0
    assert models.Report.select().count() == before
    assert report(client, address="10.9.8.7").status_code == 303  # another client


def test_the_same_person_may_be_reported_from_any_number_of_addresses(client, limits):
    """No per-NIK lock: strangers cannot stop a person from being reported or checked."""
    nik = new_nik()
    add_person(nik)
    for n in range(15):
        assert check_nik(client, nik, f"10.0.0.{n + 1}").status_code == 200
    assert check_nik(client, nik, "10.0.0.99").status_code == 200  # a fresh client
    for n in range(12):
        assert report(client, f"10.0.1.{n + 1}", nik=nik).status_code == 303
    assert report(client, "10.0.1.99", nik=nik).status_code == 303


def test_a_flood_from_many_addresses_leaves_the_next_resident_and_the_kiosk_served(
        client, make_user, limits):
    limits["RATELIMIT_CAKUPAN"] = "5 per hour"
    limits["RATELIMIT_LAPORAN"] = "2 per hour"
    limits["RATELIMIT_KIRIM"] = "5 per hour"
    for n in range(30):  # every quota of every flooding address, spent
        address = f"10.66.{n // 250}.{n % 250 + 1}"
        statuses = {check_nik(client, new_nik(), address).status_code for _ in range(6)}
        statuses |= {report(client, address).status_code for _ in range(3)}
        statuses |= {client.post("/lapor", data={"nik": "1"},
                                 environ_base=from_address(address)).status_code
                     for _ in range(6)}
        assert 429 in statuses
    assert check_nik(client, new_nik(), "10.77.0.1").status_code == 200
    assert report(client, "10.77.0.1").status_code == 303
    make_user("petugas1", role="petugas", kantor="35.10.16.1001")
    kiosk = client.application.test_client()
    kiosk.environ_base["REMOTE_ADDR"] = "10.66.0.1"  # the same address as a flooding client
    login(kiosk, "petugas1")
    token = csrf_token(kiosk, "/kios")
    assert kiosk.post("/kios/cek", data={"nik": new_nik(), "csrf_token": token}
                      ).status_code == 303


def test_an_ipv6_client_is_its_64(client, limits):
    limits["RATELIMIT_CAKUPAN"] = "2 per hour"
    assert check_nik(client, new_nik(), "2001:db8:1:2::1").status_code == 200
    assert check_nik(client, new_nik(), "2001:db8:1:2:ffff::9").status_code == 200
    assert check_nik(client, new_nik(), "2001:db8:1:2:abcd::7").status_code == 429
    assert check_nik(client, new_nik(), "2001:db8:1:3::1").status_code == 200  # another /64
    assert check_nik(client, new_nik(), "::ffff:10.5.0.1").status_code == 200  # IPv4-mapped


def test_staff_never_share_a_quota_with_anonymous_clients(client, make_user, limits):
    limits["RATELIMIT_LAPORAN"] = "1 per hour"
    assert report(client, "10.8.0.1").status_code == 303
    assert report(client, "10.8.0.1").status_code == 429
    make_user("petugas1", role="petugas", kantor="35.10.16.1001")
    login(client, "petugas1")
    token = csrf_token(client, "/kios")
    for _ in range(3):
        data = report_data(client)
        data.update(csrf_token=token, sekali=re.search(
            r'name="sekali" value="([^"]+)"', client.get("/kios").get_data(as_text=True)
        ).group(1))
        assert client.post("/kios", data=data, environ_base=from_address("10.8.0.1")
                           ).status_code == 303


def test_coverage_answers_share_one_allowance_across_check_and_report(client, limits):
    """A stored report answers a coverage question too (its stage 1, or the family of a
    typed No. KK), so it spends the same allowance as a check."""
    limits["RATELIMIT_CAKUPAN"] = "3 per hour"
    assert check_nik(client, new_nik()).status_code == 200
    assert report(client).status_code == 303
    assert report(client, no_kk="3510160101209999").status_code == 303
    response = check_nik(client, new_nik())
    assert response.status_code == 429 and "pengecekan NIK" in response.get_data(as_text=True)
    assert report(client).status_code == 429
    assert check_nik(client, "123").status_code == 200  # a mistyped NIK answers nothing


def test_counters_never_hold_a_nik(app, client, limits):
    from extensions import limiter

    nik = new_nik()
    check_nik(client, nik)
    report(client, nik=nik)
    keys = " ".join(str(k) for k in limiter.storage.storage)  # the memory storage's counters
    assert keys and nik not in keys
    with app.test_request_context():
        assert security.nik_hmac(nik) != security.nik_hmac(new_nik())
        assert len(security.nik_hmac(nik)) == 64


def test_htmx_check_over_the_limit_shows_the_message_in_place(client, limits):
    limits["RATELIMIT_CAKUPAN"] = "1 per minute"
    check_nik(client, new_nik())
    response = check_nik(client, new_nik(), **{"HX-Request": "true"})
    assert response.status_code == 429
    assert response.headers["HX-Retarget"] == "#isi"
    assert "<html" not in response.get_data(as_text=True)


def test_wrong_passwords_from_other_addresses_do_not_keep_the_owner_out(
        app, client, make_user, limits):
    limits["RATELIMIT_MASUK_AKUN"] = "3 per 10 minutes"
    make_user("verif", role="verifikator")
    token = csrf_token(client, "/masuk")
    wrong = {"username": "verif", "password": "salah-salah", "csrf_token": token}
    for n in range(12):  # twelve wrong passwords from twelve addresses
        assert client.post("/masuk", data=wrong,
                           environ_base=from_address(f"10.4.0.{n}")).status_code == 200
    right = {"username": "verif", "password": "rahasia-123", "csrf_token": token}
    assert client.post("/masuk", data=right,
                       environ_base=from_address("10.4.1.1")).status_code == 303


def test_sign_in_limited_per_account_and_address_without_a_permanent_lock(
        app, client, make_user, limits):
    limits["RATELIMIT_MASUK_AKUN"] = "3 per 10 minutes"
    make_user("verif", role="verifikator")
    with time_machine.travel(T0, tick=False) as clock:
        token = csrf_token(client, "/masuk")
        for _ in range(3):
            response = client.post("/masuk", data={"username": "verif", "password": "salah",
                                                   "csrf_token": token})
            assert response.status_code == 200
        right = {"username": "verif", "password": "rahasia-123", "csrf_token": token}
        response = client.post("/masuk", data=right)
        assert response.status_code == 429  # counted before the password is looked at
        assert "tidak dikunci" in response.get_data(as_text=True)
        clock.shift(datetime.timedelta(minutes=11))
        assert client.post("/masuk", data=right).status_code == 303


def test_sign_in_limited_per_address(client, make_user, limits):
    limits["RATELIMIT_MASUK"] = "3 per 10 minutes"
    token = csrf_token(client, "/masuk")
    for n in range(3):
        client.post("/masuk", data={"username": f"orang{n}", "password": "x",
                                    "csrf_token": token})
    response = client.post("/masuk", data={"username": "lain", "password": "x",
                                           "csrf_token": token})
    assert response.status_code == 429


def test_parallel_guesses_are_counted_before_any_is_checked(app, make_user, limits):
    """24 wrong passwords at once against a limit of 10: at most 10 are looked at."""
    import threading

    limits["RATELIMIT_MASUK_AKUN"] = "10 per 10 minutes"
    limits["RATELIMIT_MASUK"] = "100 per 10 minutes"
    make_user("verif", role="verifikator")
    checked = []
    original = models.User.check_password

    def counting(self, password):
        checked.append(password)
        return original(self, password)

    models.User.check_password = counting
    try:
        client = app.test_client()
        token = csrf_token(client, "/masuk")
        cookie = client.get_cookie("sesi")
        statuses = []

        def guess(n):
            c = app.test_client()
            c.set_cookie("sesi", cookie.value)
            statuses.append(c.post("/masuk", data={"username": "verif", "password": f"x{n}",
                                                   "csrf_token": token}).status_code)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        models.User.check_password = original
    assert len(checked) <= 10 and statuses.count(429) >= 14


# --- logs and error pages -----------------------------------------------------------------------

def test_redact_masks_every_16_digit_run():
    assert redact.redact("GET /3510161705800001 200") == "GET /[NIK] 200"
    assert redact.redact("Key (nik)=(3510 1617 0580 0001) exists") == "Key (nik)=([NIK]) exists"
    assert redact.redact("12345 took 200 ms at 2026-03-02") == "12345 took 200 ms at 2026-03-02"


def test_app_log_lines_never_carry_a_nik(app, caplog):
    nik = new_nik()
    with caplog.at_level(logging.INFO):
        app.logger.error("insert failed: Key (nik)=(%s) already exists", nik)
        try:
            raise ValueError(f"bad {nik}")
        except ValueError:
            app.logger.exception("boom")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert nik not in text and "[NIK]" in text


def test_an_unexpected_error_is_a_generic_page_without_a_traceback(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/_meledak")
    def _boom():
        raise RuntimeError("secret detail 3510161705800001")

    response = client.get("/_meledak")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Terjadi kesalahan" in html
    assert "Traceback" not in html and "secret detail" not in html


def test_production_settings_never_propagate_exceptions(app):
    from app import create_app

    assert create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x",
                       "RATELIMIT_STORAGE_URI": "memory://"}).config["PROPAGATE_EXCEPTIONS"] \
        is False


def test_security_headers_on_every_response(client):
    for path in ("/", "/lapor", "/lacak", "/masuk", "/tidak-ada", "/sehat"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for directive in ("frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"):
            assert directive in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
