"""The staff second factor: required for admins, optional for others, each code used once."""
from __future__ import annotations

import datetime
import html
import re

import pyotp
import time_machine

import models
from tests.conftest import csrf_token, login, totp_code
from web import totp as accounts

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def password_step(client, username, password="rahasia-123"):
    token = csrf_token(client, "/masuk")
    response = client.post("/masuk", data={"username": username, "password": password,
                                           "csrf_token": token})
    return response, token


def shown_secret(page: str) -> str:
    return re.search(r'<code id="rahasia">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")


def test_an_admin_without_a_second_factor_must_enrol_before_the_session_starts(client,
                                                                               make_user):
    make_user("kepala", role="admin", totp=False)
    response, token = password_step(client, "kepala")
    assert response.status_code == 303 and response.headers["Location"] == "/akun/kode-masuk"
    assert client.get("/verifikasi").status_code == 302  # not signed in yet
    page = client.get("/akun/kode-masuk").get_data(as_text=True)
    secret = shown_secret(page)
    uri = html.unescape(re.search(r'href="(otpauth://[^"]+)"', page).group(1))
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>")[0]
    wrong = client.post("/akun/kode-masuk", data={"kode": "000000", "csrf_token": token})
    assert wrong.status_code == 200 and "Kode tidak cocok" in wrong.get_data(as_text=True)
    right = client.post("/akun/kode-masuk", data={"kode": pyotp.TOTP(secret).now(),
                                                  "csrf_token": token})
    assert right.status_code == 303 and right.headers["Location"] == "/admin/"
    assert client.get("/verifikasi").status_code == 200
    user = models.User.get(models.User.username == "kepala")
    assert user.totp_rahasia and secret not in user.totp_rahasia  # stored encrypted
    assert accounts.unseal(user.totp_rahasia) == secret


def test_the_code_step_after_the_password(app, client, make_user):
    make_user("kepala", role="admin")
    response, token = password_step(client, "kepala")
    assert response.headers["Location"] == "/masuk/kode"
    assert client.get("/verifikasi").status_code == 302
    wrong = client.post("/masuk/kode", data={"kode": "123456", "csrf_token": token})
    assert wrong.status_code == 200 and "Kode salah" in wrong.get_data(as_text=True)
    code = totp_code("kepala")
    assert client.post("/masuk/kode", data={"kode": code, "csrf_token": token}
                       ).status_code == 303
    assert client.get("/verifikasi").status_code == 200
    # The same code a second time (shoulder-surfed, or replayed) is refused.
    other = app.test_client()
    _response, other_token = password_step(other, "kepala")
    replay = other.post("/masuk/kode", data={"kode": code, "csrf_token": other_token})
    assert replay.status_code == 200 and other.get("/verifikasi").status_code == 302


def test_the_code_step_cannot_be_skipped_or_reached_without_the_password(client, make_user):
    make_user("kepala", role="admin")
    assert client.get("/masuk/kode").status_code == 303
    assert client.get("/akun/kode-masuk").status_code == 303
    password_step(client, "kepala")
    assert client.get("/akun/kode-masuk").status_code == 303  # enrolled: no second secret
    assert client.get("/verifikasi").status_code == 302


def test_a_pending_code_step_expires_after_five_minutes(client, make_user):
    make_user("kepala", role="admin")
    with time_machine.travel(T0, tick=False) as clock:
        _response, token = password_step(client, "kepala")
        clock.shift(datetime.timedelta(minutes=6))
        response = client.post("/masuk/kode", data={"kode": totp_code("kepala"),
                                                     "csrf_token": token})
        assert response.status_code == 303 and response.headers["Location"] == "/masuk"
        assert client.get("/verifikasi").status_code == 302


def test_wrong_codes_are_rate_limited(app, client, make_user):
    from extensions import limiter

    limiter.reset()
    app.config["RATELIMIT_MASUK_AKUN"] = "3 per 10 minutes"
    make_user("kepala", role="admin")
    _response, token = password_step(client, "kepala")
    for _ in range(3):
        client.post("/masuk/kode", data={"kode": "000000", "csrf_token": token})
    response = client.post("/masuk/kode", data={"kode": totp_code("kepala"),
                                                 "csrf_token": token})
    assert response.status_code == 429


def test_optional_for_a_verifikator_who_can_turn_it_on_and_off(app, client, make_user):
    make_user("verif", role="verifikator")
    assert login(client, "verif").headers["Location"] == "/verifikasi"
    overview = client.get("/akun").get_data(as_text=True)
    assert "Belum aktif" in overview and "wajib" not in overview
    page = client.get("/akun/kode-masuk").get_data(as_text=True)
    secret = shown_secret(page)
    token = csrf_token(client, "/masuk")
    response = client.post("/akun/kode-masuk", data={"kode": pyotp.TOTP(secret).now(),
                                                     "csrf_token": token})
    assert response.status_code == 303
    assert "Verifikasi dua langkah aktif" in client.get("/akun").get_data(as_text=True)
    # The next sign-in asks for a code.
    other = app.test_client()
    response, _token = password_step(other, "verif")
    assert response.headers["Location"] == "/masuk/kode"
    # Turning it off needs a current code.
    assert client.post("/akun/kode-masuk/matikan",
                       data={"kode": "000000", "csrf_token": token}).status_code == 302
    assert models.User.get(models.User.username == "verif").has_totp
    client.post("/akun/kode-masuk/matikan", data={"kode": totp_code("verif"), "csrf_token": token})
    assert not models.User.get(models.User.username == "verif").has_totp


def test_an_admin_cannot_turn_it_off(client, make_user):
    make_user("kepala", role="admin")
    login(client, "kepala")
    token = csrf_token(client, "/masuk")
    client.post("/akun/kode-masuk/matikan", data={"kode": totp_code("kepala"),
                                                  "csrf_token": token})
    assert models.User.get(models.User.username == "kepala").has_totp
    assert "wajib" in client.get("/akun").get_data(as_text=True)


def test_reset_2fa_command_for_a_lost_phone(app, client, runner, make_user):
    make_user("kepala", role="admin")
    login(client, "kepala")
    result = runner.invoke(args=["reset-2fa", "kepala"])
    assert result.exit_code == 0, result.output
    assert not models.User.get(models.User.username == "kepala").has_totp
    assert client.get("/verifikasi").status_code == 302  # its sessions ended too
    response, _token = password_step(client, "kepala")
    assert response.headers["Location"] == "/akun/kode-masuk"
    assert runner.invoke(args=["reset-2fa", "siapa"]).exit_code != 0


def test_codes_from_the_neighbouring_time_steps_are_accepted_for_clock_drift(app):
    secret = accounts.new_secret()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000
    for offset in (-30, 0, 30):
        assert accounts._matching_step(secret, totp.at(now + offset), now) is not None
    assert accounts._matching_step(secret, totp.at(now + 90), now) is None
    assert accounts._matching_step(secret, "12 34 5x", now) is None
