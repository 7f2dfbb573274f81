"""The staff second factor (TOTP, RFC 6238) and the `flask reset-2fa` command.

The secret is stored encrypted with a key derived from SECRET_KEY (a database dump alone does not
give the codes away); rotating SECRET_KEY therefore means enrolling again (`reset-2fa`). A code
is accepted once: the last accepted time step is claimed with a conditional UPDATE, so the same
code cannot be replayed, not even by two gunicorn workers at the same moment.
"""
from __future__ import annotations

import hmac
import time

import pyotp
import segno
from flask import current_app

from models import User
from web import tokens

ISSUER = "Cek Bansos Banyuwangi"
STEP_SECONDS = 30


def seal(secret: str) -> str:
    return tokens.seal("totp-secret", secret)


def unseal(token: str | None) -> str | None:
    return tokens.unseal("totp-secret", token)


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def grouped(secret: str) -> str:
    """`ABCD EFGH ...`: easier to type into an authenticator app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, no inline style)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def required_for(user: User) -> bool:
    return user.role in current_app.config["TOTP_REQUIRED_ROLES"]


def _matching_step(secret: str, code: str | None, now: float | None = None) -> int | None:
    """The time step whose code this is (now, or one step either side for clock drift)."""
    digits = "".join((code or "").split())
    if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            return step
    return None


def _claim(user: User, step: int) -> bool:
    """Record `step` as used unless this or a later one was used already (one use per code)."""
    claimed = (User.update(totp_langkah=step)
               .where(User.id == user.id,
                      User.totp_langkah.is_null() | (User.totp_langkah < step))
               .execute())
    return claimed == 1


def verify(user: User, code: str | None) -> bool:
    """A current, unused code of this user's enrolled secret."""
    secret = unseal(user.totp_rahasia)
    if secret is None:
        return False
    step = _matching_step(secret, code)
    return step is not None and _claim(user, step)


def enrol(user: User, secret: str, code: str | None) -> bool:
    """Turn the second factor on once the user shows a code from the new secret."""
    step = _matching_step(secret, code)
    if step is None:
        return False
    User.update(totp_rahasia=seal(secret), totp_langkah=step).where(User.id == user.id).execute()
    user.totp_rahasia, user.totp_langkah = seal(secret), step
    return True


def disable(user: User) -> None:
    User.update(totp_rahasia=None, totp_langkah=None).where(User.id == user.id).execute()
    user.totp_rahasia = user.totp_langkah = None
