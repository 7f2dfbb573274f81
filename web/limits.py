"""Rate limits: per address, per subject NIK (counted by its HMAC) and overall for the check
and the report; failed sign-ins per address and per account; and the friendly 429 page.

The views take the decorators:

    from web.limits import limits_for_check
    @bp.post("/cek")
    @limits_for_check
    def check(): ...
"""
from __future__ import annotations

import time

from flask import current_app, make_response, render_template, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from extensions import htmx, limiter
from nik import clean
from web.forms import open_nik
from web.security import nik_hmac


def subject_nik() -> str | None:
    """The NIK a check or report is about, from the form (typed, or sealed by a check result)."""
    form = request.form
    raw = form.get("nik")
    if raw is None and form.get("token_nik"):
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


def init_app(app) -> None:
    app.register_error_handler(429, too_many_requests)
