"""What residents need to know, kept by admins: each office's contact details and opening hours,
and each scheme's distribution periods (shown with the check result)."""
from __future__ import annotations

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for

from errors import RuleError
from formats import parse_date
from models import Region, Scheme, User
from office import contacts, schedules
from views.admin_schemes import _scheme_or_404
from web.filters import forget_contacts
from web.forms import form_errors
from web.fragments import failed
from web.gates import admin_blueprint

bp = admin_blueprint("admin_help", __name__)


def _periods_page(scheme: Scheme, errors: dict | None = None, status: int = 200):
    return render_template("admin/jadwal.html", scheme=scheme,
                           periods=list(schedules.periods(scheme.kode)), errors=errors or {},
                           form=request.form if errors else {},
                           notices=get_flashed_messages(category_filter=["jadwal"])), status


@bp.get("/skema/<kode>/jadwal")
def periods(kode):
    """A scheme's distribution periods, and a form to add one."""
    return _periods_page(_scheme_or_404(kode))


@bp.post("/skema/<kode>/jadwal")
def add_period(kode):
    """Add a period: its name (Tahap 4), first and last day."""
    scheme = _scheme_or_404(kode)
    form = request.form
    try:
        period = schedules.add_period(scheme.kode, form.get("nama_periode", ""),
                                      parse_date(form.get("mulai")),
                                      parse_date(form.get("selesai")))
    except RuleError as exc:
        return _periods_page(scheme, form_errors(exc), failed())
    flash(f"Tersimpan: {period.label}.", "jadwal")
    return redirect(url_for("admin_help.periods", kode=scheme.kode), code=303)


@bp.post("/skema/<kode>/jadwal/<int:period_id>/hapus")
def remove_period(kode, period_id):
    """Remove a period entered by mistake."""
    scheme = _scheme_or_404(kode)
    if not schedules.remove_period(scheme.kode, period_id):
        abort(404)
    flash("Periode dihapus.", "jadwal")
    return redirect(url_for("admin_help.periods", kode=scheme.kode), code=303)


def _office_name(kode: str) -> str | None:
    if kode == contacts.DINSOS:
        return "Dinas Sosial Kabupaten Banyuwangi"
    region = Region.get_or_none(Region.kode == kode)
    if region is None:
        return None
    return f"Kantor Kecamatan {region.nama}" if region.tingkat == "kecamatan" else \
        f"Kantor Desa/Kelurahan {region.nama}"


@bp.get("/kantor")
def offices():
    """The Dinas Sosial and every office a staff account works at, with their details."""
    codes = [contacts.DINSOS, *sorted({k for (k,) in User.select(User.kantor).where(
        User.kantor.is_null(False)).distinct().tuples()})]
    entered = {c.kode: c for c in contacts.OfficeContact.select()}
    rows = [(kode, entered.get(kode), _office_name(kode)) for kode in codes]
    return render_template("admin/kantor.html", rows=rows,
                           notices=get_flashed_messages(category_filter=["kantor"]))


def _office_page(kode: str, errors: dict | None = None, status: int = 200):
    name = _office_name(kode)
    if name is None:
        abort(404)
    found = contacts.OfficeContact.get_or_none(contacts.OfficeContact.kode == kode)
    return render_template("admin/kantor_satu.html", kode=kode, name=name, office=found,
                           errors=errors or {}, form=request.form if errors else {}), status


@bp.get("/kantor/<kode>")
def office(kode):
    """Edit an office's address, phone/WhatsApp number and opening hours."""
    return _office_page(kode)


@bp.post("/kantor/<kode>")
def save_office(kode):
    """Save an office's details."""
    if _office_name(kode) is None:
        abort(404)
    try:
        saved = contacts.save_contact(kode, request.form)
    except RuleError as exc:
        return _office_page(kode, form_errors(exc), failed())
    forget_contacts()
    flash(f"Tersimpan: {saved.nama}.", "kantor")
    return redirect(url_for("admin_help.offices"), code=303)
