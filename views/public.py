"""Public pages for residents: the home page and the NIK check."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, send_from_directory, url_for

import models
from forms import CheckForm, seal_nik
from views import page_or_fragment

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The NIK check form and the way to report someone who was left out."""
    return page_or_fragment("public/home.html", "hasil", form=CheckForm(), result=None)


@bp.get("/cek")
def check_get():
    """A NIK never travels in a URL: a GET (bookmark, old link) shows the empty form."""
    return redirect(url_for("public.home"), code=303)


@bp.post("/cek")
def check():
    """Answer whether a NIK, or its family, already receives aid, and from which level."""
    form = CheckForm()
    if form.validate():
        coverage = models.covering(form.nik.data)
        result = {
            "status": coverage.status,
            "coverage": coverage,
            "masked": models.mask_name(coverage.nama),
            "token": None if coverage.covered else seal_nik(form.nik.data),
        }
    else:
        result = {"status": "tidak-valid", "message": form.nik.errors[0]}
    form.nik.data = ""  # the answer stands on its own; the field is cleared for the next NIK
    return page_or_fragment("public/home.html", "hasil", form=form, result=result,
                            no_store=True)


@bp.get("/aset/htmx-<version>.min.js")
def htmx_js(version):
    """htmx from node_modules, cached for a year under its versioned URL."""
    if version != current_app.config["HTMX_VERSION"]:
        abort(404)
    return send_from_directory(current_app.config["HTMX_DIR"], "htmx.min.js",
                               max_age=365 * 24 * 3600)
