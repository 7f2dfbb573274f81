"""Staff passwords: the one policy for the web and the command line, and their hashes.

Hashes use scrypt in the `scrypt:N:r:p$salt$hex` format that Werkzeug writes, so accounts made
by earlier versions keep signing in; `pbkdf2:sha256:N$salt$hex` hashes are still accepted.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from zxcvbn import zxcvbn

from errors import RuleError

MIN_LENGTH = 12
MAX_LENGTH = 200
_SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SCRYPT = (2**15, 8, 1)


# Staff usernames, for the web and the command line alike.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,49}")
USERNAME_RULE = ("Nama pengguna 3–50 karakter: huruf kecil, angka, titik, garis bawah atau tanda "
                 "hubung, diawali huruf atau angka.")
# zxcvbn (Dropbox's estimator; its lists hold some 30,000 common passwords, names and words, and
# it sees repeats, sequences, keyboard runs and dates): score 0-1 means guessable within about a
# million tries. It reads at most 72 characters; a longer password is judged by its start.
MIN_SCORE = 2
_ZXCVBN_MAX = 72


def username_problem(username: str | None) -> str | None:
    """Why this username is refused, or None."""
    return None if USERNAME.fullmatch(username or "") else USERNAME_RULE


def policy_problem(password: str | None, username: str | None = None) -> str | None:
    """Why the policy refuses this password (for this username), or None."""
    password = password or ""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return (f"Kata sandi minimal {MIN_LENGTH} karakter. Panjangnya harus {MIN_LENGTH} "
                f"sampai {MAX_LENGTH} karakter.")
    name = (username or "").strip().lower()
    plain = re.sub(r"[^a-z0-9]", "", password.lower())
    if name and (name in password.lower() or re.sub(r"[^a-z0-9]", "", name) in plain):
        return "Kata sandi tidak boleh memuat nama pengguna."
    inputs = [name, *re.split(r"[._-]", name)] if name else []
    if zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)["score"] < MIN_SCORE:
        return ("Kata sandi ini terlalu mudah ditebak (kata sandi umum, pengulangan, urutan, "
                "atau tanggal). Pakai beberapa kata yang tidak berhubungan, misalnya "
                "“kopi-sawah-gerimis-7”.")
    return None


def check_policy(password: str | None, field: str = "kata_sandi",
                 username: str | None = None) -> None:
    """Refuse a password the policy does not allow, with the reason (RuleError)."""
    problem = policy_problem(password, username)
    if problem:
        raise RuleError(problem, field)


def hash_password(password: str) -> str:
    salt = "".join(secrets.choice(_SALT_CHARS) for _ in range(16))
    n, r, p = _SCRYPT
    return f"scrypt:{n}:{r}:{p}${salt}${_scrypt(password, salt, n, r, p)}"


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches `stored`, in constant time for a well-formed hash."""
    try:
        method, salt, expected = stored.split("$", 2)
        name, *args = method.split(":")
        if name == "scrypt":
            n, r, p = (int(a) for a in args) if args else _SCRYPT
            actual = _scrypt(password, salt, n, r, p)
        elif name == "pbkdf2":
            digest, rounds = (args + ["sha256", "600000"][len(args):])[:2]
            actual = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(),
                                         int(rounds)).hex()
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: str, n: int, r: int, p: int) -> str:
    return hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p,
                          maxmem=132 * n * r * p, dklen=64).hex()
