"""Staff sign-in and sign-out."""
from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

import models
from app import limiter

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"petugas": "staff.kiosk", "verifikator": "review.queue", "admin": "review.queue"}


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[InputRequired("Isi nama pengguna.")])
    password = PasswordField("Kata sandi", validators=[InputRequired("Isi kata sandi.")])


def _forget_previous_user() -> None:
    """Nothing of a previous user (a kiosk screen, a receipt) carries over to the next one.

    The CSRF token stays: forms already open in other tabs keep working.
    """
    for key in list(session):
        if key != "csrf_token":
            session.pop(key)


@functools.cache
def _dummy_hash() -> str:
    user = models.User()
    user.set_password(secrets.token_hex(8))
    return user.password_hash


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never redirect a fresh login to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/masuk", methods=["GET", "POST"])
# Failed sign-ins only (a redirect means success): slows password guessing from one address.
@limiter.limit("30 per 10 minutes", methods=["POST"],
               deduct_when=lambda response: response.status_code != 303)
def login():
    """Sign in with a username and password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = models.User.get_or_none(models.User.username == form.username.data.strip())
        if user is None:
            # Spend the same time as a real check, so a reply does not reveal who exists.
            models.User(password_hash=_dummy_hash()).check_password(form.password.data)
        elif user.aktif and user.check_password(form.password.data):
            _forget_previous_user()
            login_user(user)
            target = _safe_next(request.args.get("next"))
            return redirect(target or url_for(HOME_BY_ROLE[user.role]), code=303)
        error = "Nama pengguna atau kata sandi salah."
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/keluar")
def logout():
    """Sign out (a POST, so no link or image can sign anyone out)."""
    logout_user()
    _forget_previous_user()
    return redirect(url_for("auth.login"), code=303)
