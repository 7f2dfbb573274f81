"""Cross-cutting protections: session cookies and timeouts, rate limits, NIK HMACs, headers.

Imported by the factory after `app` is loaded (it needs app.limiter), and by the views for the
rate-limit decorators:

    from security import limits_for_check
    @bp.post("/cek")
    @limits_for_check
    def check(): ...
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time

from flask import Flask, abort, current_app, make_response, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

import models
import redact
from app import htmx, limiter
from nik import clean

DEFAULTS = {
    # Sessions (staff): minutes idle and hours in all before signing in again.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 10,
    # Rate limits (the `limits` library's notation; several separated by ";"). Per IP a logged-in
    # kiosk petugas is exempt; per NIK counts an HMAC of the NIK, never the NIK itself.
    "RATELIMIT_CEK_IP": "20 per minute;150 per day",
    "RATELIMIT_CEK_NIK": "10 per hour",
    "RATELIMIT_CEK_ALL": "600 per minute;20000 per hour",
    "RATELIMIT_LAPOR_IP": "30 per hour",
    "RATELIMIT_LAPOR_NIK": "10 per day",
    "RATELIMIT_LAPOR_ALL": "1000 per hour",
    # Failed sign-ins only; windows, never a permanent lock-out.
    "RATELIMIT_LOGIN_IP": "30 per 10 minutes",
    "RATELIMIT_LOGIN_ACCOUNT": "10 per 10 minutes",
    "TOTP_REQUIRED_ROLES": ("admin",),
    "HSTS": "max-age=31536000; includeSubDomains",
}
SETTINGS_FROM_ENV = tuple(name for name in DEFAULTS if name.startswith(("RATELIMIT_", "SESSION_")))

# Session keys: when the staff member signed in, and when they were last seen.
SIGNED_IN, SEEN = "_masuk", "_aktif"


# --- Session cookies -----------------------------------------------------------------------------

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


def start_session(user: models.User) -> None:
    """Called right after login_user: the clocks of the idle and absolute timeouts start."""
    now = int(time.time())
    session[SIGNED_IN] = session[SEEN] = now


def _expire_idle_sessions() -> None:
    """Staff sessions end after 30 minutes idle and 10 hours in all (from the signed cookie)."""
    if "_user_id" not in session or request.endpoint in ("static", "public.htmx_js"):
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
    every form field, query parameter and path segment of every route (a 400, never a 500)."""
    values = [*request.args.values(), *(request.view_args or {}).values()]
    # Not multipart: an upload view raises the size limit before it reads its form.
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        values += [*request.form.keys(), *request.form.values()]
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


def subject_nik() -> str | None:
    """The NIK a check or report is about, from the form (typed, or sealed by a check result)."""
    form = request.form
    raw = form.get("nik")
    if raw is None and form.get("token_nik"):
        from forms import open_nik

        raw = open_nik(form["token_nik"])
    digits = clean(raw) if isinstance(raw, str) else ""
    return digits if len(digits) == 16 and digits.isascii() and digits.isdigit() else None


def key_ip() -> str:
    return "ip:" + (get_remote_address() or "?")


def key_nik() -> str:
    nik = subject_nik()
    return "nik:" + (nik_hmac(nik)[:32] if nik else "-")


def key_overall() -> str:
    return "semua"


def key_account() -> str:
    return "akun:" + (request.form.get("username") or "").strip().lower()[:50]


def is_kiosk() -> bool:
    """A signed-in office petugas: many residents share that screen and its address."""
    return bool(current_user.is_authenticated and current_user.role == "petugas")


def _no_nik() -> bool:
    return subject_nik() is None


def _setting(name: str):
    return lambda: current_app.config[name]


def _three_limits(prefix: str, scope: str):
    """Per IP (kiosk exempt), per subject NIK (HMAC) and overall; POSTs only."""
    def decorate(view):
        view = limiter.limit(_setting(f"RATELIMIT_{prefix}_IP"), key_func=key_ip,
                             methods=["POST"], exempt_when=is_kiosk)(view)
        view = limiter.shared_limit(_setting(f"RATELIMIT_{prefix}_NIK"), scope=f"{scope}-nik",
                                    key_func=key_nik, methods=["POST"], exempt_when=_no_nik)(view)
        view = limiter.shared_limit(_setting(f"RATELIMIT_{prefix}_ALL"), scope=f"{scope}-semua",
                                    key_func=key_overall, methods=["POST"])(view)
        return view
    return decorate


limits_for_check = _three_limits("CEK", "cek")
"""For POST /cek (and the kiosk's check, which shares the per-NIK and overall counters)."""
limits_for_report = _three_limits("LAPOR", "lapor")
"""For POST /lapor (and the kiosk's report form)."""


def _failed(response) -> bool:
    return response.status_code != 303  # a redirect means the step succeeded


def login_limits(view):
    """Failed sign-ins per address and per account: slows guessing, locks no one out for good."""
    view = limiter.shared_limit(_setting("RATELIMIT_LOGIN_IP"), scope="masuk-ip",
                                key_func=key_ip, methods=["POST"], deduct_when=_failed)(view)
    view = limiter.shared_limit(_setting("RATELIMIT_LOGIN_ACCOUNT"), scope="masuk-akun",
                                key_func=key_account, methods=["POST"], deduct_when=_failed,
                                exempt_when=lambda: not request.form.get("username"))(view)
    return view


def code_limits(key_func):
    """Wrong one-time codes per pending account and per address (6 digits must not be guessed)."""
    def decorate(view):
        view = limiter.shared_limit(_setting("RATELIMIT_LOGIN_IP"), scope="masuk-ip",
                                    key_func=key_ip, methods=["POST"], deduct_when=_failed)(view)
        return limiter.shared_limit(_setting("RATELIMIT_LOGIN_ACCOUNT"), scope="kode-akun",
                                    key_func=key_func, methods=["POST"],
                                    deduct_when=_failed)(view)
    return decorate


# --- Headers, logging, the factory hook ------------------------------------------------------

def _hsts(response):
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", current_app.config["HSTS"])
    return response


def init_app(app: Flask) -> None:
    """Before the other extensions: the timeout hook must run before Flask-Limiter's checks."""
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    app.session_interface = SessionInterface()
    app.before_request(_refuse_nul_bytes)
    app.before_request(_expire_idle_sessions)
    app.after_request(_hsts)
    app.register_error_handler(429, too_many_requests)
    for code in ERRORS:
        app.register_error_handler(code, http_error)
    redact.install(app.logger, logging.getLogger("werkzeug"), logging.getLogger("peewee"))
    from flask.logging import default_handler

    default_handler.addFilter(redact.FILTER)


# --- Error pages: Indonesian, generic, never a traceback ------------------------------------

ERRORS = {
    400: ("Permintaan tidak dapat diproses", "Isian yang dikirim tidak dapat dibaca. Buka ulang "
          "halaman, lalu isi dan kirim lagi."),
    403: ("Tidak diizinkan", "Akun Anda tidak boleh membuka halaman ini."),
    405: ("Cara membuka halaman tidak sesuai", "Halaman ini tidak dapat dibuka dengan cara itu. "
          "Kembali ke halaman utama, lalu coba lagi dari sana."),
    413: ("Isian terlalu besar", "Isian yang dikirim terlalu panjang. Persingkat, lalu kirim "
          "lagi."),
}


def http_error(exc):
    title, message = ERRORS[exc.code]
    return render_template("errors/error.html", code=exc.code, title=title,
                           message=message), exc.code


# --- The 429 page ----------------------------------------------------------------------------

TOO_MANY = {
    "cek": "Terlalu banyak pengecekan NIK dalam waktu singkat. Untuk melindungi data warga, "
           "jumlah pengecekan dibatasi.",
    "lapor": "Terlalu banyak laporan dikirim dalam waktu singkat dari jaringan Anda atau tentang "
             "orang yang sama.",
    "masuk": "Terlalu banyak percobaan masuk yang gagal. Akun tidak dikunci; tunggu sebentar.",
}
AREA = {"public.check": "cek", "staff.check": "cek", "reports.report_form": "lapor",
        "staff.report": "lapor", "auth.login": "masuk", "auth.code": "masuk",
        "account.enrol": "masuk", "account.password": "masuk", "account.disable": "masuk"}


def too_many_requests(exc):
    """A friendly Indonesian page with when to try again; a fragment in place for htmx."""
    current = limiter.current_limit
    wait = max(int(current.reset_at - time.time()), 1) if current else 60
    minutes = -(-wait // 60)
    when = (f"sekitar {minutes} menit" if minutes < 90 else f"sekitar {-(-minutes // 60)} jam")
    message = (TOO_MANY.get(AREA.get(request.endpoint or ""), "Anda mengirim terlalu banyak "
               "permintaan dalam waktu singkat.") + f" Silakan coba lagi dalam {when}.")
    context = {"code": 429, "title": "Terlalu banyak permintaan", "message": message}
    if htmx and not htmx.boosted:
        # The htmx config in base.html swaps 429s: the message replaces the page's main content.
        body = render_template("errors/error.html", fragment=True, **context)
        response = make_response(body, 429)
        response.headers.update({"HX-Retarget": "#isi", "HX-Reswap": "innerHTML"})
    else:
        response = make_response(render_template("errors/error.html", **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response
