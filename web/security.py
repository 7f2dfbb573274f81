"""Cross-cutting protections: session cookies and timeouts, the NIK HMAC, security headers,
and refusing what no browser sends (NUL bytes). Rate limits are in web/limits.py."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import zlib

from flask import Flask, abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import logout_user
from itsdangerous import BadSignature

import models
from web import redact, tokens

# Session keys: when the staff member signed in, and when they were last seen.
SIGNED_IN, SEEN = "_masuk", "_aktif"


# --- Session cookies -----------------------------------------------------------------------------

class _SealedJSON:
    """The session's serializer: Flask's tagged JSON, then encrypted (web/tokens.py), so a
    staff session cookie (a kiosk's check, a receipt's code, flashed names) is unreadable on the
    machine it sits on, not merely signed. A cookie that does not decrypt is no session."""

    def __init__(self, inner):
        self.inner = inner

    def dumps(self, value) -> str:
        # Compressed first: encrypted text no longer compresses, and repeated flashes would
        # otherwise push the cookie past the browsers' 4 KB.
        packed = base64.urlsafe_b64encode(zlib.compress(self.inner.dumps(value).encode()))
        return tokens.seal("sesi", packed.decode())

    def loads(self, text):
        opened = tokens.unseal("sesi", text.decode() if isinstance(text, bytes) else text)
        if opened is None:
            raise BadSignature("session not sealed with this key")
        try:
            return self.inner.loads(zlib.decompress(base64.urlsafe_b64decode(opened)).decode())
        except (ValueError, zlib.error) as exc:
            raise BadSignature("session payload unreadable") from exc


class SessionInterface(SecureCookieSessionInterface):
    """`__Host-sesi` (Secure) over HTTPS; plain `sesi` over http on a developer's machine.

    Decided per request from request.is_secure, which honours X-Forwarded-Proto when PROXY_FIX
    trusts nginx. A `__Host-` cookie is Secure, host-only and for path `/`: no subdomain and no
    plain-http page can set or overwrite it. Scripted clients on http://127.0.0.1:8000 (which do
    not send Secure cookies over http) keep working with the plain one.
    """

    def _secure(self, app: Flask) -> bool:
        return request.is_secure or bool(app.config.get("SESSION_COOKIE_SECURE"))

    def get_cookie_name(self, app: Flask) -> str:
        return "__Host-sesi" if self._secure(app) else "sesi"

    def get_cookie_secure(self, app: Flask) -> bool:
        return self._secure(app)

    def get_cookie_domain(self, app: Flask) -> str | None:
        return None  # host-only, as __Host- requires

    def get_cookie_path(self, app: Flask) -> str:
        return "/"

    def __init__(self):
        self.serializer = _SealedJSON(SecureCookieSessionInterface.serializer)

    def open_session(self, app: Flask, request):
        # No cookie (every resident): an empty session, without building a signer.
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if request.endpoint == "static":
            # A static file never changes the session (Flask-Login's after_request merely
            # looks): no Set-Cookie and no `Vary: Cookie`, so every cache may keep it.
            return
        # An anonymous resident: no cookie came, nothing was stored, so none is set and the
        # answer did not depend on one (no `Vary: Cookie`): public pages stay cacheable.
        if not session and not session.modified and self.get_cookie_name(app) not in \
                request.cookies:
            return
        super().save_session(app, session, response)


def _private_for_staff(response):
    """Every page for a signed-in user is personal: never kept by a browser or a proxy."""
    if request.endpoint != "static" and session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"
    return response


def start_session(user: models.User) -> None:
    """Called right after login_user: the clocks of the idle and absolute timeouts start."""
    now = int(time.time())
    session[SIGNED_IN] = session[SEEN] = now


def _expire_idle_sessions() -> None:
    """Staff sessions end after 30 minutes idle and 10 hours in all (from the signed cookie)."""
    # The endpoint first: a static file never touches the session (no `Vary: Cookie`).
    if request.endpoint == "static" or "_user_id" not in session:
        return
    config, now = current_app.config, time.time()
    signed_in, seen = session.get(SIGNED_IN, 0), session.get(SEEN, 0)
    if (now - seen > config["SESSION_IDLE_MINUTES"] * 60
            or now - signed_in > config["SESSION_MAX_HOURS"] * 3600):
        logout_user()
        for key in list(session):
            if key != "csrf_token":
                session.pop(key)
        session["sesi_berakhir"] = True
    elif now - seen > 60:
        # Refreshed at most once a minute, so the cookie is not rewritten on every request.
        session[SEEN] = int(now)


def _refuse_nul_bytes():
    """No browser sends a NUL byte; PostgreSQL cannot store one. Refuse it at the door, for
    every query parameter and path segment of every route (a 400, never a 500); form fields,
    whatever their encoding, are refused as they are parsed (web/request.py)."""
    values = [*(request.view_args or {}).values()]
    if request.environ.get("QUERY_STRING"):
        values += [*request.args.keys(), *request.args.values()]
    if any("\x00" in value for value in values if isinstance(value, str)):
        abort(400)


def load_user(user_id: str):
    """Flask-Login's user loader: the id carries the session epoch, checked on every request."""
    uid, _, epoch = (user_id or "").partition(":")
    if not (uid.isdigit() and epoch.isdigit()) or len(uid) > 12 or len(epoch) > 12:
        return None
    user = models.User.get_or_none(models.User.id == int(uid), models.User.aktif == True)  # noqa: E712
    if user is None or user.sesi_epoch != int(epoch):
        return None  # signed out (or password changed) since this cookie was issued
    return user


# --- NIK HMAC and rate-limit keys ------------------------------------------------------------

def nik_hmac(nik: str) -> str:
    """HMAC-SHA256 of a NIK with a server secret: counts and logs without the NIK itself."""
    config = current_app.config
    secret = config.get("NIK_HMAC_KEY") or hashlib.sha256(
        b"nik-hmac:" + str(config["SECRET_KEY"]).encode()).hexdigest()
    return hmac.new(str(secret).encode(), nik.encode(), hashlib.sha256).hexdigest()


def audit_subject(label: str, number: str, detail: str = "") -> str:
    """How the audit log (office/audit.py) names a person or a family: `NIK #<HMAC>`, never
    the number; the admin page finds the rows of a number by the same HMAC."""
    text = f"{label} #{nik_hmac(number)[:24]}"
    return f"{text} {detail}".strip()


# --- Headers, logging, the factory hook ------------------------------------------------------

def _hsts(response):
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", current_app.config["HSTS"])
    return response


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
)


def _headers(response):
    # No view sets these itself: one pass over the response's headers, on every response.
    present = {name.lower() for name, _ in response.headers}
    response.headers.extend([(name, value) for name, value in SECURITY_HEADERS
                             if name.lower() not in present])
    return response


def init_app(app: Flask) -> None:
    """Before the other extensions: the timeout hook must run before Flask-Limiter's checks."""
    app.session_interface = SessionInterface()
    app.before_request(_refuse_nul_bytes)
    app.before_request(_expire_idle_sessions)
    app.after_request(_hsts)
    app.after_request(_private_for_staff)
    app.after_request(_headers)
    redact.install(app.logger, logging.getLogger("werkzeug"), logging.getLogger("peewee"))
    from flask.logging import default_handler

    default_handler.addFilter(redact.FILTER)
