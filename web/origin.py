"""Cross-site protection for the forms anyone may send, without a session or a cookie.

Staff forms carry Flask-WTF's session tokens. A resident's forms (the check, the report, an
objection) carry none: a token needs a session, a session needs a cookie, and a cookie makes every
public page uncacheable and costs bytes on a 2G line. Instead the browser says where a POST comes
from: `Sec-Fetch-Site` (every current browser), else `Origin`, else `Referer`. A POST that another
site made is refused. A POST with none of the three comes from a client that sends no such
headers at all (text browsers, old phones, scripts) — no browser that runs another site's page
omits all three on a cross-site form POST — and is answered. SECURITY.md has the reasoning.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import render_template, request

from extensions import csrf


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc) == (request.scheme, request.host)


def same_site_request() -> bool:
    """Whether this request may be a form of ours (see the module's docstring)."""
    environ = request.environ  # the headers as the server gave them: read on every check
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site:
        return site in ("same-origin", "none")  # "none": typed, bookmarked, or a reload
    origin = environ.get("HTTP_ORIGIN")
    if origin:
        return origin != "null" and _same_origin(origin)
    referer = environ.get("HTTP_REFERER")
    if referer:
        return _same_origin(referer)
    return True


def anonymous_form(view):
    """A view whose POST anyone may send: no session token, cross-site POSTs refused (403)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method == "POST" and not same_site_request():
            return render_template(
                "errors/error.html", code=403, title="Permintaan ditolak",
                message="Formulir ini dikirim dari situs lain, bukan dari Cek Bansos. Buka "
                        "halaman Cek Bansos langsung, lalu kirim lagi dari sana."), 403
        return view(*args, **kwargs)
    csrf.exempt(wrapped)
    return wrapped
