"""Aid schemes: add, edit the name and benefit, stop (or resume) taking new recipients."""
from __future__ import annotations

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for

import models
from models import Scheme
from office import audit
from office import schemes as office
from web.forms import form_errors
from web.fragments import failed
from web.gates import admin_blueprint, me

bp = admin_blueprint("admin_schemes", __name__)

UNIT_LABELS = {"keluarga": "Keluarga (satu bantuan untuk satu Kartu Keluarga)",
               "individu": "Individu (bantuan untuk orang itu sendiri)"}


def _schemes_page(errors: dict | None = None, status: int = 200):
    return render_template(
        "admin/skema.html", schemes=Scheme.select().order_by(Scheme.aktif.desc(),
                                                            Scheme.tingkat, Scheme.kode),
        counts=office.enrolment_counts(), LEVELS=models.LEVELS, UNITS=UNIT_LABELS,
        errors=errors or {}, form=request.form,
        notices=get_flashed_messages(category_filter=["skema"])), status


@bp.get("/skema")
def schemes():
    """Every scheme with its active recipients, and the form for a new one."""
    return _schemes_page()


@bp.post("/skema")
def add_scheme():
    """A new scheme, open for enrolments."""
    form = request.form
    try:
        scheme = office.add_scheme(form.get("kode", ""), form.get("nama", ""),
                                   form.get("tingkat", ""), form.get("satuan", ""),
                                   form.get("manfaat", ""))
    except office.OfficeError as exc:
        return _schemes_page(form_errors(exc), failed())
    audit.record(me(), "skema.buat", scheme.kode)
    flash(f"Skema {scheme.kode} ditambahkan.", "skema")
    return redirect(url_for("admin_schemes.schemes"), code=303)


def _scheme_or_404(kode: str) -> Scheme:
    scheme = Scheme.get_or_none(Scheme.kode == kode)
    if scheme is None:
        abort(404)
    return scheme


def _scheme_page(scheme: Scheme, errors: dict | None = None, status: int = 200,
                 template: str = "admin/skema_satu.html"):
    return render_template(template, scheme=scheme, LEVELS=models.LEVELS, UNITS=UNIT_LABELS,
                           count=office.enrolment_counts().get(scheme.kode, 0),
                           errors=errors or {}, form=request.form), status


@bp.get("/skema/<kode>")
def scheme(kode):
    """Edit one scheme."""
    return _scheme_page(_scheme_or_404(kode))


@bp.post("/skema/<kode>")
def update_scheme(kode):
    """Save a new name, benefit description and desil limit."""
    scheme = _scheme_or_404(kode)
    try:
        office.update_scheme(scheme.kode, request.form.get("nama", ""),
                             request.form.get("manfaat", ""), request.form.get("desil_maks"))
    except office.OfficeError as exc:
        return _scheme_page(scheme, form_errors(exc), failed())
    audit.record(me(), "skema.ubah", f"{scheme.kode} (desil maks: "
                 f"{request.form.get('desil_maks') or '-'})")
    flash(f"Skema {scheme.kode} tersimpan.", "skema")
    return redirect(url_for("admin_schemes.schemes"), code=303)


@bp.get("/skema/<kode>/nonaktifkan")
def confirm_deactivate_scheme(kode):
    """Are you sure? (a page of its own, with a POST form)"""
    return _scheme_page(_scheme_or_404(kode), template="admin/skema_nonaktif.html")


@bp.post("/skema/<kode>/nonaktifkan")
def deactivate_scheme(kode):
    """No new enrolments from now on; the current recipients stay enrolled."""
    scheme = office.set_scheme_active(_scheme_or_404(kode).kode, False)
    audit.record(me(), "skema.henti", scheme.kode)
    flash(f"Skema {scheme.kode} tidak menerima peserta baru lagi. Penerima yang sudah terdaftar "
          "tetap terdaftar.", "skema")
    return redirect(url_for("admin_schemes.schemes"), code=303)


@bp.post("/skema/<kode>/aktifkan")
def activate_scheme(kode):
    """Take new enrolments again."""
    scheme = office.set_scheme_active(_scheme_or_404(kode).kode, True)
    audit.record(me(), "skema.lanjut", scheme.kode)
    flash(f"Skema {scheme.kode} menerima peserta baru lagi.", "skema")
    return redirect(url_for("admin_schemes.schemes"), code=303)
