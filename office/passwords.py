"""Staff passwords: the one policy for the web and the command line, and their hashes.

Hashes use scrypt in the `scrypt:N:r:p$salt$hex` format that Werkzeug writes, so accounts made
by earlier versions keep signing in; `pbkdf2:sha256:N$salt$hex` hashes are still accepted.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from errors import RuleError

MIN_LENGTH = 12
MAX_LENGTH = 200
_SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SCRYPT = (2**15, 8, 1)


def policy_problem(password: str | None) -> str | None:
    """Why the policy refuses this password, or None."""
    if not MIN_LENGTH <= len(password or "") <= MAX_LENGTH:
        return (f"Kata sandi minimal {MIN_LENGTH} karakter. Panjangnya harus {MIN_LENGTH} "
                f"sampai {MAX_LENGTH} karakter.")
    return None


def check_policy(password: str | None, field: str = "kata_sandi") -> None:
    """Refuse a password the policy does not allow, with the reason (RuleError)."""
    problem = policy_problem(password)
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
