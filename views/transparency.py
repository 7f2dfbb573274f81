"""Public recipient lists per desa (page and A4 sheet), objections against a listed recipient,
and following an objection by its code."""
from __future__ import annotations

import math
import re

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from peewee import SQL, OperationalError, fn
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

import models
from cases import objections
from cases.casework import CaseError
from extensions import limiter
from formats import whole_number
from models import Enrolment, Person, Region, Scheme
from web.forms import (
    ANONYMOUS,
    SMS_OPT_IN,
    _max_chars,
    _phone,
    _strip,
    region_code,
    sms_opt_in,
)
from web.fragments import cacheable
from web.limits import KIRIM, SANGGAH, client_key
from web.origin import anonymous_form

bp = Blueprint("transparency", __name__)

PAGE_SIZE = 40  # rows per screen page and per printed A4 sheet
OUTCOMES = ("baru", "gabung")  # what the confirmation says, from submit_objection
# Settings (overridable in instance/config.py or the environment under the same name).

_RT_RW = (re.compile(r"\bRT\s*/\s*RW\.?\s*:?\s*0*(\d{1,3})\s*/\s*0*(\d{1,3})", re.I),
          re.compile(r"\bRT\.?\s*:?\s*0*(\d{1,3})\s*[/,.]?\s*RW\.?\s*:?\s*0*(\d{1,3})", re.I),
          re.compile(r"\bRT\.?\s*:?\s*0*(\d{1,3})\b", re.I))


def rt_rw(alamat: str | None) -> str:
    """`Jl. Mawar 1 RT 001 RW 002` -> `001/002` (`001/–` without RW, `–` without either).

    All of the address the public lists show: the street and house number stay private.
    """
    for pattern in _RT_RW:
        match = pattern.search(alamat or "")
        if match:
            parts = [f"{int(n):03d}" for n in match.groups()]
            return "/".join(parts) if len(parts) == 2 else f"{parts[0]}/–"
    return "–"


def listed_in(desa: str):
    """The active enrolments of people living in a desa, by name: the village notice board.

    Selects the address only for rt_rw() and the name only for mask_name(); neither is shown.
    """
    return (Enrolment.select(Enrolment.id, Person.nama, Person.alamat, Scheme.kode.alias("skema"),
                             Scheme.tingkat)
            .join(Person).switch(Enrolment).join(Scheme)
            .where(Person.desa == desa, Enrolment.berakhir.is_null())
            .order_by(Person.nama, Enrolment.id))


def _region_or_404(kode: str, *levels: str) -> Region:
    region = Region.get_or_none(Region.kode == region_code(kode))
    if region is None or region.tingkat not in levels:
        abort(404)
    return region


def _page_arg() -> int:
    return whole_number(request.args.get("hal"), 1, 999_999) or 1


def public_name(nama: str) -> str:
    """models.mask_name, and never a name left whole (every word of one or two letters)."""
    masked = models.mask_name(nama)
    return masked if masked != " ".join(nama.split()) else (nama.strip()[:1] + "***")


@bp.get("/daftar")
def kecamatan_list():
    """Recipient lists: choose a kecamatan."""
    return cacheable(make_response(render_template(
        "transparency/wilayah.html", kecamatan=None,
        regions=Region.kecamatan_list().select(Region.kode, Region.nama).tuples())))


@bp.get("/daftar/<kode>")
def region(kode):
    """A kecamatan's desa, or a desa's list of recipients (paginated)."""
    place = _region_or_404(kode, "kecamatan", "desa", "kelurahan")
    if place.tingkat == "kecamatan":
        return cacheable(make_response(render_template(
            "transparency/wilayah.html", kecamatan=place,
            regions=Region.villages_of(place.kode).select(Region.kode, Region.nama).tuples())))
    return _recipients(place, "transparency/daftar.html")


@bp.get("/daftar/<kode>/cetak")
def sheet(kode):
    """The same list as an A4 sheet for the village notice board."""
    return _recipients(_region_or_404(kode, "desa", "kelurahan"), "transparency/cetak.html")


def _recipients(desa: Region, template: str):
    query = listed_in(desa.kode)
    total = query.select(fn.COUNT(SQL("*"))).order_by().scalar()
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(_page_arg(), pages)
    first = (page - 1) * PAGE_SIZE
    rows = [{"id": r.id, "nama": public_name(r.nama), "rt_rw": rt_rw(r.alamat),
             "skema": r.skema, "tingkat": models.LEVELS.get(r.tingkat, r.tingkat)}
            for r in query.limit(PAGE_SIZE).offset(first).namedtuples()]
    schemes = (models.Scheme.select(models.Scheme.kode, models.Scheme.nama)
               .where(models.Scheme.kode.in_({r["skema"] for r in rows})).tuples()
               if rows else [])
    return cacheable(make_response(render_template(
        template, desa=desa, kecamatan=Region.get_by_id(desa.kecamatan_kode), rows=rows,
        first=first, total=total, page=page, pages=pages, schemes=sorted(schemes),
        today=models.today())), max_age=0)  # changes with every decision: always revalidated


# --- Objections -------------------------------------------------------------------------------

class ObjectionForm(FlaskForm):
    """An objection to one listed recipient; sent by anyone, so web/origin.py guards it."""

    class Meta:
        csrf = False

    alasan = StringField("Mengapa orang ini tidak layak menerima bantuan?",
                         filters=[_strip], validators=[])
    keterangan = TextAreaField("Jelaskan singkat", filters=[
        lambda v: v.replace("\r\n", "\n").strip() if isinstance(v, str) else v,
    ], validators=[_max_chars(objections.MAX_TEXT, "Penjelasan paling banyak {limit} karakter; "
                                                   "yang diisi {n} karakter. Persingkat.")])
    nama = StringField("Nama Anda", filters=[_strip], validators=[
        DataRequired("Isi nama Anda."), _max_chars(150, "Nama paling banyak {limit} huruf.")])
    telepon = StringField("Nomor HP Anda", filters=[_strip], validators=[
        DataRequired("Isi nomor HP Anda, agar tim bisa menanyakan sanggahan ini."), _phone])
    kabar_sms = BooleanField(SMS_OPT_IN, validators=[sms_opt_in("telepon")])

    def validate_alasan(self, field):
        if field.data not in objections.REASONS:
            raise ValidationError("Pilih alasan sanggahan.")

    def validate_keterangan(self, field):
        if self.alasan.data == "lainnya" and not field.data:
            raise ValidationError("Untuk alasan lain, jelaskan alasannya.")


def _render_form(enrolment, form: ObjectionForm, notice: str | None = None, status: int = 200):
    if form.errors:
        for name in ("keterangan", "nama", "telepon"):
            if form[name].raw_data:
                form[name].data = form[name].raw_data[0]  # show exactly what was typed
    person = enrolment.person
    response = make_response(render_template(
        "transparency/sanggah.html", form=form, enrolment=enrolment, notice=notice,
        nama=public_name(person.nama), rt_rw=rt_rw(person.alamat),
        desa=Region.get_by_id(person.desa_kode), scheme=enrolment.scheme,
        reasons=objections.REASONS, sms_on=bool(current_app.config.get("SMS_URL"))), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sanggah/<int:enrolment_id>", methods=["GET", "POST"])
@anonymous_form
def objection_form(enrolment_id):
    """Object to a recipient chosen from a desa list: reason, explanation, name and phone."""
    enrolment = objections.listed_enrolment(enrolment_id)
    if enrolment is None:
        return render_template(
            "errors/error.html", code=404, title="Penerima tidak ada di daftar",
            message="Penerima ini tidak ada atau tidak lagi tercantum di daftar penerima "
                    "(kepesertaannya sudah berakhir). Tidak perlu disanggah lagi."), 404
    if request.method == "GET":
        return _render_form(enrolment, ObjectionForm(formdata=None, meta=ANONYMOUS))
    limiter.hit(KIRIM)
    form = ObjectionForm(meta=ANONYMOUS)
    if not form.validate():
        return _render_form(enrolment, form)
    config = current_app.config
    limiter.check(SANGGAH)
    try:
        objection, outcome = objections.submit_objection(
            enrolment.id, {"alasan": form.alasan.data, "keterangan": form.keterangan.data or "",
                           "nama": form.nama.data, "telepon": form.telepon.data,
                           "kabar_sms": bool(form.kabar_sms.data)},
            assessment_days=int(config["ASSESSMENT_DAYS"]),
            per_day=int(config["SANGGAH_PER_HARI"]), client=client_key())
    except CaseError as exc:
        if exc.field:
            form[exc.field].errors = [str(exc)]
            return _render_form(enrolment, form)
        return _render_form(enrolment, form, notice=str(exc), status=409)
    except OperationalError:
        return _render_form(enrolment, form, status=503, notice=(
            "Sanggahan belum tersimpan: layanan tidak dapat menyimpan data saat ini. Isian "
            "Anda masih ada; tekan “Kirim sanggahan” lagi sebentar lagi."))
    limiter.hit(SANGGAH)  # only a stored objection counts
    return redirect(url_for("transparency.status", kode=objection.kode, hasil=outcome), code=303)


@bp.get("/sanggahan/<kode>")
def status(kode):
    """The confirmation right after objecting, and the tracking page ever after."""
    objection = objections.Objection.by_code(kode)
    if objection is None:
        abort(404)
    outcome = request.args.get("hasil") if request.args.get("hasil") in OUTCOMES else None
    enrolment = models.Enrolment.get_by_id(objection.kepesertaan_id)
    person = models.Person.get_by_id(enrolment.nik)
    events = (objection.events.order_by(objections.ObjectionEvent.at,
                                        objections.ObjectionEvent.id))
    response = make_response(render_template(
        "transparency/sanggahan.html", o=objection, outcome=outcome,
        nama=public_name(person.nama), scheme=models.Scheme.get_by_id(enrolment.skema_kode),
        desa=Region.get_by_id(objection.desa_kode), events=events,
        statuses=objections.STATUSES, reasons=objections.REASONS))
    response.headers["Cache-Control"] = "no-store"
    return response
