"""Public pages for residents: the home page and the NIK check."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from cases import lookup
from extensions import limiter
from nik import NikError, parse_nik
from web.forms import seal_nik
from web.fragments import cacheable, page_or_fragment
from web.limits import CAKUPAN, KIRIM, client_key
from web.origin import anonymous_form

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The NIK check form and the way to report someone who was left out (the same for every
    resident, so cached by browsers and proxies)."""
    return cacheable(page_or_fragment("public/home.html", "hasil", result=None))


@bp.get("/cek")
def check_get():
    """A NIK never travels in a URL: a GET (bookmark, old link) shows the empty form."""
    return redirect(url_for("public.home"), code=303)


@bp.post("/cek")
@anonymous_form
def check():
    """Answer whether a NIK, or its family, already receives aid, and from which level.

    The hot path of the site, so no form class: one field, parsed by nik.parse_nik (the same
    messages everywhere), then the check's one query (cases/lookup.answer, read replica if any).
    Every answer about coverage counts against the client's allowance; a mistyped NIK only
    against the general ceiling on form posts. Who the client is is asked once, for both the
    allowance and the report token.
    """
    client = client_key()
    try:
        nik = parse_nik(request.form.get("nik")).nik
    except NikError as exc:
        limiter.hit(KIRIM, client=client)
        result = lookup.invalid(str(exc))
    else:
        limiter.hit(CAKUPAN, client=client)
        result = lookup.answer(nik, read_only=True)
        if result.invites_report:
            result = result._replace(token=seal_nik(nik, client))
    return page_or_fragment("public/home.html", "hasil", result=result, no_store=True, plain=True)
