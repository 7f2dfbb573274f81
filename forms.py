"""Forms shared by the views, and the sealed NIK token a check result hands to the report form."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from nik import NikError, clean, parse_nik, parse_no_kk


def nik_validator(form, field):
    """Run nik.parse_nik and show its precise message beside the field."""
    try:
        field.data = parse_nik(field.data).nik
    except NikError as exc:
        raise ValidationError(str(exc)) from None


def optional_nik_validator(form, field):
    if clean(field.data):
        nik_validator(form, field)
    else:
        field.data = None


def optional_kk_validator(form, field):
    if not clean(field.data):
        field.data = None
        return
    try:
        field.data = parse_no_kk(field.data)
    except NikError as exc:
        raise ValidationError(str(exc)) from None


class CheckForm(FlaskForm):
    nik = StringField("NIK (16 angka)", validators=[nik_validator])


def _fernet() -> Fernet:
    key = hashlib.sha256(b"nik-token:" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_nik(nik: str) -> str:
    """Encrypt a NIK for a hidden field, so a check result never carries it in clear text."""
    return _fernet().encrypt(nik.encode()).decode()


def open_nik(token: str | None, max_age: int = 3600) -> str | None:
    """The NIK inside a token from seal_nik, or None when it is forged or older than max_age."""
    try:
        return _fernet().decrypt((token or "").encode(), ttl=max_age).decode()
    except (InvalidToken, ValueError):
        return None
