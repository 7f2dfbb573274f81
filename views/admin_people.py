"""A person in the register, found by NIK, and ending an enrolment (moved, died, ...).

The NIK never appears in a URL: the search is a POST, which redirects to a page keyed by an
encrypted, expiring token of the NIK (not the NIK encoded: a log line or a browser history entry
gives nothing away). Ending an enrolment goes through a confirmation page with a POST form and
models.end_enrolment; the enrolment stays as history.
"""
from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from peewee import JOIN

import models
from formats import parse_date
from models import Enrolment, Person, Region, Report, Scheme, User
from nik import clean
from office import audit, succession
from vocabulary import END_REASONS, mid_sentence
from web import tokens
from web.fragments import failed
from web.gates import admin_blueprint, me
from web.security import audit_subject

bp = admin_blueprint("admin_people", __name__)

TOKEN_SECONDS = 2 * 3600
PERSON_TOKEN = "admin-penduduk"


def person_url(nik: str) -> str:
    return url_for("admin_people.person", token=tokens.seal(PERSON_TOKEN, nik))


def _nik_from(token: str) -> str | None:
    return tokens.unseal(PERSON_TOKEN, token, TOKEN_SECONDS)


@bp.get("/penduduk")
def people():
    """Find a person by NIK."""
    expired = request.args.get("kedaluwarsa")
    return render_template("admin/penduduk_cari.html", error=None, value="",
                           notice="Tautan halaman penduduk sudah kedaluwarsa; cari lagi."
                           if expired else None)


@bp.post("/penduduk")
def find_person():
    """POST the NIK, get redirected to the person's page."""
    nik = clean(request.form.get("nik"))
    if not (len(nik) == 16 and nik.isascii() and nik.isdigit()):
        error = "NIK harus 16 angka."
    elif Person.get_or_none(Person.nik == nik) is None:
        error = "NIK ini tidak ada di data penduduk."
    else:
        return redirect(person_url(nik), code=303)
    return render_template("admin/penduduk_cari.html", error=error, value=nik,
                           notice=None), failed(404 if len(nik) == 16 else 422)


def _enrolments(nik: str):
    ender = User.alias()
    return list(Enrolment.select(Enrolment.id, Enrolment.sejak, Enrolment.sumber,
                                 Enrolment.berakhir, Enrolment.alasan_berakhir,
                                 Enrolment.family_kk, Scheme.kode.alias("skema"),
                                 Scheme.nama.alias("skema_nama"), Scheme.tingkat,
                                 Scheme.satuan, ender.username.alias("oleh"))
                .join(Scheme, on=(Scheme.kode == Enrolment.scheme))
                .join(ender, JOIN.LEFT_OUTER, on=(ender.id == Enrolment.diakhiri_oleh))
                .where(Enrolment.person == nik)
                .order_by(Enrolment.berakhir.is_null(False), Enrolment.sejak.desc(),
                          Enrolment.id.desc())
                .namedtuples())


def _family(person: Person) -> list:
    if not person.no_kk:
        return []
    rows = (Person.select(Person.nik, Person.nama, Scheme.kode.alias("skema"), Scheme.satuan)
            .join(Enrolment, JOIN.LEFT_OUTER,
                  on=((Enrolment.person == Person.nik) & Enrolment.berakhir.is_null()))
            .join(Scheme, JOIN.LEFT_OUTER, on=(Scheme.kode == Enrolment.scheme))
            .where(Person.no_kk == person.no_kk, Person.nik != person.nik)
            .order_by(Person.nik).limit(30).namedtuples())
    return [(row, person_url(row.nik)) for row in rows]


@bp.get("/penduduk/<token>")
def person(token):
    """The person, what covers them, their enrolments (history included), family, reports."""
    nik = _nik_from(token)
    if nik is None:
        return redirect(url_for("admin_people.people", kedaluwarsa=1), code=303)
    found = Person.get_or_none(Person.nik == nik)
    if found is None:
        abort(404)
    desa = Region.get_or_none(Region.kode == found.desa_kode)
    kecamatan = Region.get_or_none(Region.kode == found.desa_kode[:8])
    coverage = models.covering(nik)
    reports = list(Report.select(Report.kode, Report.status, Report.tanggal_lapor)
                   .where(Report.nik == nik).order_by(Report.id.desc()).limit(20))
    current_app.logger.info("halaman penduduk dibuka oleh %s", me().username)
    return render_template(
        "admin/penduduk.html", person=found, desa=desa, kecamatan=kecamatan, coverage=coverage,
        enrolments=_enrolments(nik), family=_family(found), reports=reports,
        via_url=person_url(coverage.via_nik) if coverage.via_nik and coverage.via_nik != nik
        else None, STATUSES=models.STATUSES, LEVELS=models.LEVELS,
        notices=get_flashed_messages(category_filter=["penduduk"]))


def _active_enrolment_or_404(enrolment_id: int):
    row = (Enrolment.select(Enrolment.id, Enrolment.sejak, Enrolment.sumber,
                            Enrolment.family_kk, Enrolment.berakhir, Person.nik, Person.nama,
                            Scheme.kode.alias("skema"), Scheme.nama.alias("skema_nama"),
                            Scheme.tingkat, Scheme.satuan)
           .join(Person, on=(Person.nik == Enrolment.person))
           .switch(Enrolment).join(Scheme, on=(Scheme.kode == Enrolment.scheme))
           .where(Enrolment.id == enrolment_id).namedtuples().first())
    if row is None:
        abort(404)
    return row


def _confirm_page(enrolment, errors: dict, form, status: int = 200):
    return render_template("admin/akhiri.html", e=enrolment, errors=errors, form=form,
                           REASONS=END_REASONS, today=models.today(),
                           heirs=succession.heirs(enrolment.id),
                           back=person_url(enrolment.nik), LEVELS=models.LEVELS), status


@bp.get("/kepesertaan/<int:enrolment_id>/akhiri")
def confirm_end(enrolment_id):
    """Why and since when: the confirmation page of ending an enrolment."""
    return _confirm_page(_active_enrolment_or_404(enrolment_id), {}, {})


@bp.post("/kepesertaan/<int:enrolment_id>/akhiri")
def end(enrolment_id):
    """End the enrolment on a date for a reason; the row stays as history."""
    enrolment = _active_enrolment_or_404(enrolment_id)
    form = request.form
    errors = {}
    reason = form.get("alasan", "")
    note = " ".join(form.get("keterangan", "").split())
    if reason not in END_REASONS:
        errors["alasan"] = "Pilih alasan kepesertaan diakhiri."
    elif reason == "lainnya" and not note:
        errors["keterangan"] = "Untuk alasan lain, tulis keterangannya."
    elif len(note) > 150:
        errors["keterangan"] = "Keterangan paling banyak 150 karakter."
    day = parse_date(form.get("tanggal"))
    if day is None and form.get("tanggal", "").strip():
        errors["tanggal"] = "Tanggal tidak dapat dibaca; tulis seperti 27-11-2026."
    if not errors:
        text = END_REASONS[reason] + (f": {note}" if note else "")
        heir = form.get("penerus", "").strip()
        try:
            if heir:
                # Pergantian pengurus: the family keeps its scheme, under another member.
                succession.pass_on(enrolment.id, heir, text, day, by=me())
            else:
                models.end_enrolment(enrolment.id, text, day, by=me())
        except models.RegisterError as exc:
            errors[exc.field if exc.field in ("tanggal", "penerus") else "umum"] = str(exc)
        else:
            audit.record(me(), "kepesertaan.akhiri", audit_subject(
                "NIK", enrolment.nik, f"{enrolment.skema}: {reason}"
                + (f", pergantian pengurus ke {audit_subject('NIK', heir)}" if heir else "")))
            if heir:
                flash(f"Kepesertaan {enrolment.skema} diakhiri ({mid_sentence(text)}) dan "
                      "dipindahkan ke anggota keluarga yang dipilih. Riwayatnya tetap "
                      "tersimpan.", "penduduk")
                return redirect(person_url(heir), code=303)
            flash(f"Kepesertaan {enrolment.skema} diakhiri ({mid_sentence(text)}). Riwayatnya "
                  "tetap tersimpan; orang ini sekarang dapat didaftarkan di skema lain.",
                  "penduduk")
            return redirect(person_url(enrolment.nik), code=303)
    return _confirm_page(enrolment, errors, form, failed(409 if "umum" in errors else 422))
