"""Staff sign-in and sign-out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

import models

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"petugas": "staff.kiosk", "verifikator": "review.queue", "admin": "review.queue"}


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[InputRequired("Isi nama pengguna.")])
    password = PasswordField("Kata sandi", validators=[InputRequired("Isi kata sandi.")])


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never redirect a fresh login to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    """Sign in with a username and password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = models.User.get_or_none(models.User.username == form.username.data.strip())
        if user and user.aktif and user.check_password(form.password.data):
            login_user(user)
            target = _safe_next(request.args.get("next"))
            return redirect(target or url_for(HOME_BY_ROLE[user.role]), code=303)
        error = "Nama pengguna atau kata sandi salah."
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/keluar")
def logout():
    """Sign out (a POST, so no link or image can sign anyone out)."""
    logout_user()
    return redirect(url_for("auth.login"), code=303)
