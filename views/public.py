"""Public pages for residents: the home page and the NIK check."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, request, send_from_directory, url_for

import models
from nik import NikError, parse_nik
from web.forms import seal_nik
from web.fragments import page_or_fragment
from web.limits import limits_for_check

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The NIK check form and the way to report someone who was left out."""
    return page_or_fragment("public/home.html", "hasil", result=None)


@bp.get("/cek")
def check_get():
    """A NIK never travels in a URL: a GET (bookmark, old link) shows the empty form."""
    return redirect(url_for("public.home"), code=303)


@bp.post("/cek")
@limits_for_check
def check():
    """Answer whether a NIK, or its family, already receives aid, and from which level.

    The hot path of the site, so no form class: one field, parsed by nik.parse_nik (the same
    messages everywhere), then the one precompiled covering query (on the read replica if any).
    """
    try:
        nik = parse_nik(request.form.get("nik")).nik
    except NikError as exc:
        result = {"status": "tidak-valid", "message": str(exc)}
    else:
        coverage = models.covering(nik, read_only=True)
        result = {"status": coverage.status, "coverage": coverage,
                  "masked": models.mask_name(coverage.nama),
                  "token": None if coverage.covered else seal_nik(nik)}
    _reuse_csrf_token()
    return page_or_fragment("public/home.html", "hasil", result=result, no_store=True)


def _reuse_csrf_token() -> None:
    """CSRFProtect has just accepted the submitted token; when tokens do not expire, hand it back
    to the page's forms instead of signing a new one (generate_csrf returns g.csrf_token)."""
    config, token = current_app.config, request.form.get("csrf_token")
    if token and config.get("WTF_CSRF_ENABLED", True) and config.get(
            "WTF_CSRF_TIME_LIMIT", 3600) is None:
        g.csrf_token = token


@bp.get("/aset/htmx-<version>.min.js")
def htmx_js(version):
    """htmx from node_modules, cached for a year under its versioned URL."""
    if version != current_app.config["HTMX_VERSION"]:
        abort(404)
    return send_from_directory(current_app.config["HTMX_DIR"], "htmx.min.js",
                               max_age=365 * 24 * 3600)
