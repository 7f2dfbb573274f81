"""The reviewer's side of objections (sanggahan): the case page and the decision.

Same desk, same rules as views/review.py: reviewers only, a kecamatan-scoped verifikator sees
only its kecamatan (404 otherwise), PRG without JavaScript and the case in place under htmx.
"""
from __future__ import annotations

from flask import Blueprint, abort, get_flashed_messages
from peewee import JOIN

import models
from cases import objections
from cases.objections import Objection, ObjectionEvent, Objector
from models import Enrolment, Person, Scheme, User
from office import audit
from sms.models import OutboundMessage
from web import desk
from web.fragments import page_or_fragment
from web.gates import gate
from web.security import audit_subject

bp = Blueprint("objection_desk", __name__)
gate(bp, *desk.REVIEWER_ROLES, message=desk.FOR_REVIEWERS)
bp.context_processor(desk.helpers)


def objection_or_404(kode: str) -> Objection:
    """The objection with this code, if it exists and lies within the reviewer's kecamatan."""
    objection = Objection.by_code(kode)
    scope = desk.reviewer_scope()
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
        "family": desk.family(person.no_kk) if person.no_kk else [],
        "objectors": objectors, "events": events, "today": models.today(),
        "names": desk.region_names(objection.desa_kode, objection.kecamatan_kode,
                                   person.desa_kode),
        "decider": User.get_or_none(User.id == objection.diputus_oleh_id),
        "ender": User.get_or_none(User.id == enrolment.diakhiri_oleh_id),
        "sisa": objection.days_left, "REASONS": objections.REASONS,
        "sms": list(OutboundMessage.of_objection(objection.id)),
        "OBJECTION_STATUSES": objections.STATUSES,
        "error": None, "error_form": None, "error_field": None, "form": {},
        "notices": get_flashed_messages(category_filter=["sanggahan"]),
    }
    context.update(extra)
    return context


def render_case(objection: Objection, status: int = 200, **extra):
    return page_or_fragment("review/sanggahan.html", "kasus", status=status, no_store=True,
                            **_context(objection, **extra))


@bp.get("/verifikasi/sanggahan/<kode>")
def case(kode):
    """The objection, the recipient's full record, every objector and the history."""
    return render_case(objection_or_404(kode))


@bp.post("/verifikasi/sanggahan/<kode>/putusan")
def decide(kode):
    """`putusan=pertahankan` keeps the enrolment; `putusan=akhiri` ends it (alasan, tanggal)."""
    objection = objection_or_404(kode)
    form, putusan, catatan = desk.decision_form()

    def action():
        if putusan == "pertahankan":
            return (objections.keep(objection, desk.me(), catatan),
                    "Putusan tersimpan: penerima tetap terdaftar.")
        if putusan == "akhiri":
            day = desk.typed_day(form.get("tanggal"), "Tanggal berakhir tidak dapat dibaca. "
                                                 "Tulis seperti 17-05-2020.")
            updated = objections.end(objection, desk.me(), form.get("alasan", ""), day, catatan)
            enrolment = objection.enrolment
            audit.record(desk.me(), "kepesertaan.akhiri", audit_subject(
                "NIK", enrolment.nik, f"{enrolment.skema_kode}: {updated.alasan_berakhir}, "
                f"putusan sanggahan {objection.kode}"))
            return updated, (f"Putusan tersimpan: kepesertaan diakhiri per "
                             f"{desk.format_date(updated.tanggal_berakhir)}. NIK ini boleh "
                             "didaftarkan lagi bila memenuhi syarat.")
        raise desk.FormProblem("Pilih putusan: pertahankan atau akhiri kepesertaan.")

    return desk.decision(action, render=render_case,
                         reload=lambda: Objection.get_by_id(objection.id),
                         endpoint="objection_desk.case", category="sanggahan",
                         form_name=putusan, form=form)
