"""Sealed tokens: small secrets (a NIK, a TOTP secret) encrypted and authenticated with a key
derived from SECRET_KEY, one key per purpose, so a token made for one use opens nowhere else."""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet(purpose: str) -> Fernet:
    return _fernet_for(purpose, str(current_app.config["SECRET_KEY"]))


@lru_cache(maxsize=32)
def _fernet_for(purpose: str, secret: str) -> Fernet:
    key = hashlib.sha256(purpose.encode() + b":" + secret.encode())
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def seal(purpose: str, text: str) -> str:
    """`text` encrypted for `purpose`, as URL-safe text."""
    return _fernet(purpose).encrypt(text.encode()).decode()


def unseal(purpose: str, token: str | None, max_age: int | None = None) -> str | None:
    """The text inside a token sealed for `purpose`, or None when it is forged, sealed for
    another purpose, or older than `max_age` seconds."""
    try:
        return _fernet(purpose).decrypt((token or "").encode(), ttl=max_age).decode()
    except (InvalidToken, ValueError):
        return None
