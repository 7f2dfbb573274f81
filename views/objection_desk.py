"""The reviewer's side of objections (sanggahan): the case page and the decision.

Same desk, same rules as views/review.py: reviewers only, a kecamatan-scoped verifikator sees
only its kecamatan (404 otherwise), PRG without JavaScript and the case in place under htmx.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, get_flashed_messages, redirect, request, url_for
from peewee import JOIN

import models
import objections
from casework import CaseError
from models import Enrolment, Person, Scheme, User
from objections import Objection, ObjectionEvent, Objector
from views import page_or_fragment, wants_fragment
from views.review import (
    _family,
    _forbidden,
    _helpers,
    _me,
    _parse_day,
    _region_names,
    _reviewers_only,
    _scope,
)

bp = Blueprint("objection_desk", __name__)
bp.before_request(_reviewers_only)
bp.register_error_handler(403, _forbidden)
bp.context_processor(_helpers)


def objection_or_404(kode: str) -> Objection:
    """The objection with this code, if it exists and lies within the reviewer's kecamatan."""
    objection = Objection.by_code(kode)
    scope = _scope()
    if objection is None or (scope and objection.kecamatan_kode != scope):
        abort(404)
    return objection


def _context(objection: Objection, **extra) -> dict:
    enrolment = Enrolment.get_by_id(objection.kepesertaan_id)
    person = Person.get_by_id(enrolment.nik)
    objectors = list(Objector.select().where(Objector.objection == objection)
                     .order_by(Objector.created_at, Objector.id))
    events = list(ObjectionEvent.select(ObjectionEvent, User).join(User, JOIN.LEFT_OUTER)
                  .where(ObjectionEvent.objection == objection)
                  .order_by(ObjectionEvent.at, ObjectionEvent.id))
    context = {
        "o": objection, "enrolment": enrolment, "person": person,
        "scheme": Scheme.get_by_id(enrolment.skema_kode),
        "family": _family(person.no_kk) if person.no_kk else [],
        "objectors": objectors, "events": events, "today": models.today(),
        "names": _region_names(objection.desa_kode, objection.kecamatan_kode, person.desa_kode),
        "decider": User.get_or_none(User.id == objection.diputus_oleh_id),
        "ender": User.get_or_none(User.id == enrolment.diakhiri_oleh_id),
        "sisa": objection.days_left, "REASONS": objections.REASONS,
        "OBJECTION_STATUSES": objections.STATUSES,
        "error": None, "error_form": None, "error_field": None, "form": {},
        "notices": get_flashed_messages(category_filter=["sanggahan"]),
    }
    context.update(extra)
    return context


def render_case(objection: Objection, status: int = 200, **extra):
    # Under htmx a failed form still answers 200: htmx 2 does not swap 4xx responses.
    return page_or_fragment("review/sanggahan.html", "kasus",
                            status=200 if wants_fragment() else status, no_store=True,
                            **_context(objection, **extra))


@bp.get("/verifikasi/sanggahan/<kode>")
def case(kode):
    """The objection, the recipient's full record, every objector and the history."""
    return render_case(objection_or_404(kode))


@bp.post("/verifikasi/sanggahan/<kode>/putusan")
def decide(kode):
    """`putusan=pertahankan` keeps the enrolment; `putusan=akhiri` ends it (alasan, tanggal)."""
    objection = objection_or_404(kode)
    form = request.form
    putusan = form.get("putusan", "")
    catatan = form.get("catatan", "").strip()[:1000]
    status, error, field = 422, None, None
    try:
        if putusan == "pertahankan":
            objections.keep(objection, _me(), catatan)
            return _done(objection, "Putusan tersimpan: penerima tetap terdaftar.")
        if putusan == "akhiri":
            raw = form.get("tanggal", "").strip()
            try:
                day = _parse_day(raw) if raw else None
            except ValueError:
                raise CaseError("Tanggal berakhir tidak dapat dibaca. Tulis seperti 17-05-2020.",
                                "tanggal") from None
            updated = objections.end(objection, _me(), form.get("alasan", ""), day, catatan)
            return _done(updated, f"Putusan tersimpan: kepesertaan diakhiri per "
                                  f"{updated.tanggal_berakhir:%d-%m-%Y}. NIK ini boleh "
                                  "didaftarkan lagi bila memenuhi syarat.")
        error = "Pilih putusan: pertahankan atau akhiri kepesertaan."
    except CaseError as exc:
        # A field problem is the reviewer's to fix (422); anything else is a conflict (409).
        status, error, field = (422 if exc.field else 409), str(exc), exc.field
    return render_case(Objection.get_by_id(objection.id), status=status, error=error,
                       error_field=field, error_form=putusan, form=form)


def _done(objection: Objection, notice: str):
    """PRG without JavaScript; the updated case in place under htmx."""
    if wants_fragment():
        return render_case(Objection.get_by_id(objection.id), notices=[notice])
    flash(notice, "sanggahan")
    return redirect(url_for("objection_desk.case", kode=objection.kode), code=303)
