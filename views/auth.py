"""Staff sign-in (password, then a one-time code when the account has one) and sign-out."""
from __future__ import annotations

import functools
import secrets
import time
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

import models
from web import limits, security, totp

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"petugas": "staff.kiosk", "verifikator": "review.queue",
                "admin": "admin.index"}
# Between the password and the one-time code: who, which session epoch, since when, where to.
PENDING, PENDING_SECONDS = "_2fa", 300


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[InputRequired("Isi nama pengguna.")])
    password = PasswordField("Kata sandi", validators=[InputRequired("Isi kata sandi.")])


class CodeForm(FlaskForm):
    kode = StringField("Kode 6 angka dari aplikasi autentikator",
                       validators=[InputRequired("Isi kode 6 angka.")])


def _forget_previous_user() -> None:
    """Nothing of a previous user (a kiosk screen, a receipt) carries over to the next one.

    The CSRF token stays: forms already open in other tabs keep working.
    """
    for key in list(session):
        if key != "csrf_token":
            session.pop(key)


@functools.cache
@functools.cache
def _dummy_hash() -> str:
    """Made once per worker: hashing it on every unknown name would double that answer's time."""
    user = models.User()
    user.set_password(secrets.token_hex(8))
    return user.password_hash


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never redirect a fresh login to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or not target.isprintable() or not target.isascii()):
        # CR/LF (a header split) or other control characters: a redirect could not carry them.
        return None
    return target


def finish_login(user: models.User, target: str | None = None):
    """Every factor checked: the session starts (and its idle and absolute clocks)."""
    _forget_previous_user()
    login_user(user)
    security.start_session(user)
    return redirect(target or url_for(HOME_BY_ROLE[user.role]), code=303)


def pending_user(enrolling: bool | None = None) -> models.User | None:
    """The account whose password was right a moment ago and now owes its one-time code."""
    state = session.get(PENDING)
    if not isinstance(state, dict) or time.time() - state.get("at", 0) > PENDING_SECONDS:
        return None
    if enrolling is not None and bool(state.get("daftar")) != enrolling:
        return None
    user = models.User.get_or_none(models.User.id == state.get("uid"),
                                   models.User.aktif == True)  # noqa: E712
    return user if user is not None and user.sesi_epoch == state.get("epoch") else None


def pending_key() -> str:
    state = session.get(PENDING)
    return f"kode:{state.get('uid') if isinstance(state, dict) else '-'}"


def pending_target() -> str | None:
    state = session.get(PENDING)
    return _safe_next(state.get("next")) if isinstance(state, dict) else None


@bp.route("/masuk", methods=["GET", "POST"])
@limits.login_limits
def login():
    """Sign in with a username and password."""
    form = LoginForm()
    error = None
    notice = None
    if session.pop("sesi_berakhir", None):
        notice = "Sesi Anda sudah berakhir. Silakan masuk lagi."
    if form.validate_on_submit():
        user = models.User.get_or_none(models.User.username == form.username.data.strip())
        if user is None:
            # Spend the same time as a real check, so a reply does not reveal who exists.
            models.User(password_hash=_dummy_hash()).check_password(form.password.data)
        elif not user.check_password(form.password.data):
            pass  # checked for a deactivated account too: its answer takes as long
        elif not user.aktif:
            # Only after the right password: a stranger learns nothing about the account.
            error = ("Akun ini sudah dinonaktifkan. Hubungi admin Dinas Sosial bila Anda "
                     "masih perlu masuk.")
        else:
            target = _safe_next(request.args.get("next"))
            if not user.has_totp and not totp.required_for(user):
                return finish_login(user, target)
            _forget_previous_user()
            session[PENDING] = {"uid": user.id, "epoch": user.sesi_epoch,
                                "at": int(time.time()), "next": target,
                                "daftar": not user.has_totp}
            # An admin without a second factor yet enrols one before the session starts.
            return redirect(url_for("account.enrol" if not user.has_totp else "auth.code"),
                            code=303)
        error = error or "Nama pengguna atau kata sandi salah."
    return render_template("auth/login.html", form=form, error=error, notice=notice)


@bp.route("/masuk/kode", methods=["GET", "POST"])
@limits.code_limits(pending_key)
def code():
    """The second step: the one-time code from the authenticator app."""
    user = pending_user(enrolling=False)
    if user is None:
        session.pop(PENDING, None)
        session["sesi_berakhir"] = True
        return redirect(url_for("auth.login"), code=303)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if totp.verify(user, form.kode.data):
            return finish_login(user, pending_target())
        error = ("Kode salah atau sudah pernah dipakai. Ketik kode 6 angka yang sedang tampil "
                 "di aplikasi autentikator.")
    return render_template("auth/code.html", form=form, error=error)


@bp.post("/keluar")
def logout():
    """Sign out (a POST, so no link or image can sign anyone out) of every device at once."""
    if current_user.is_authenticated:
        current_user.end_sessions()  # a copy of this cookie (or another tab's) is dead too
    logout_user()
    _forget_previous_user()
    return redirect(url_for("auth.login"), code=303)
