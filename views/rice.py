"""Rice aid in kind: programmes, cooking tests, progress, returns and the CSV import (staff).

The counter where petugas hand rice over lives in views/rice_counter.py, on this blueprint.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from extensions import csrf
from formats import number, parse_date, today, whole_number
from imports import headers
from imports.readers import ACCEPT, EXTENSIONS
from models import Person, Scheme
from office import audit
from rice import distribution, handovers
from rice import progress as rice_progress
from rice.chart import daily_chart
from rice.handovers import handover_summary
from rice.models import (
    MAX_STAGES,
    RETURN_REASONS,
    TEST_RESULTS,
    Batch,
    CookingTest,
    Family,
    Handover,
    Programme,
    Return,
    RiceError,
    Stage,
    format_kg,
)
from web.desk import format_date, reviewer_scope
from web.fragments import failed, page_or_fragment
from web.gates import roles

bp = Blueprint("rice", __name__, url_prefix="/beras")

STAFF = ("petugas", "verifikator", "admin")
UPLOAD_LIMIT = 256 * 1024 * 1024  # a CSV of 2,000,000 hand-overs is about 90 MB
SHOWN_PROBLEMS = 200
MAPPING_KIND, MAX_COLUMNS = "beras", 200  # imports/headers.py: the kind of list, its width





def helpers():
    """What the rice pages' templates use (this blueprint's and the counter's)."""
    return {"tanggal": format_date, "kg": format_kg, "angka": number,
            "REASONS": RETURN_REASONS, "RESULTS": TEST_RESULTS}


bp.context_processor(helpers)


def programme_or_404(programme_id: int) -> Programme:
    programme = Programme.get_or_none(Programme.id == programme_id)
    if programme is None:
        abort(404)
    return programme


def return_days() -> int:
    return int(current_app.config["RICE_RETURN_DAYS"])


@bp.get("")
@roles(*STAFF)
def index():
    """The distribution programmes, newest first."""
    programmes = list(Programme.select().order_by(Programme.id.desc()))
    return render_template("rice/index.html", programmes=programmes)


def _programme_form(form) -> tuple[dict, dict]:
    """Values and per-field problems of the new-programme form."""
    values = {"nama": form.get("nama", ""), "skema": form.get("skema", "PKH"),
              "jumlah_tahap": form.get("jumlah_tahap", "3"), "kg": form.get("kg", "15"),
              "gudang": form.get("gudang", "")}
    errors = {}
    count = values["jumlah_tahap"].strip()
    stages = whole_number(count, 1, MAX_STAGES)
    if stages is None:
        errors["jumlah_tahap"] = f"Jumlah tahap harus angka 1 sampai {MAX_STAGES}."
    values["stages"] = stages or 3
    values["rencana"] = [form.get(f"rencana_{i}", "") for i in range(1, values["stages"] + 1)]
    return values, errors


@bp.route("/baru", methods=["GET", "POST"])
@roles("admin")
def new():
    """Create a programme: scheme, stages, kg per stage, warehouse, planned dates."""
    values, errors = _programme_form(request.form if request.method == "POST" else {})
    if request.method == "POST" and request.form.get("aksi") != "tahap" and not errors:
        dates = [parse_date(v) for v in values["rencana"]]
        for i, day in enumerate(dates, start=1):
            if day is None:
                errors.setdefault(f"rencana_{i}", f"Isi tanggal rencana tahap {i}, misalnya "
                                                  "12-05-2020.")
        try:
            gram = distribution.parse_kg(values["kg"], "Jumlah beras per tahap")
        except RiceError as exc:
            errors["kg"] = str(exc)
        if not errors:
            try:
                programme = distribution.create_programme(
                    values["nama"], values["skema"], values["stages"], gram, values["gudang"],
                    dates, current_user._get_current_object())
            except RiceError as exc:
                errors[exc.field if exc.field != "rencana" else "rencana_1"] = str(exc)
            else:
                flash(f"Program dibuat. {number(programme.family_count())} keluarga "
                      f"penerima {programme.skema_kode} masuk daftar.")
                return redirect(url_for("rice.programme", programme_id=programme.id), code=303)
    schemes = (Scheme.select().where(Scheme.satuan == "keluarga", Scheme.aktif == True)
               .order_by(Scheme.kode))
    return render_template("rice/new.html", values=values, errors=errors, schemes=schemes)


@bp.get("/<int:programme_id>")
@roles(*STAFF)
def programme(programme_id):
    """A programme: its stages, batches and cooking tests, its family list, what to do next."""
    programme = programme_or_404(programme_id)
    batches = list(Batch.select().where(Batch.programme == programme.id)
                   .order_by(Batch.tahap, Batch.kode))
    tests = list(CookingTest.select(CookingTest, Batch).join(Batch)
                 .where(Batch.programme == programme.id)
                 .order_by(CookingTest.tanggal.desc(), CookingTest.id.desc()).limit(50))
    return render_template("rice/programme.html", programme=programme, batches=batches,
                           tests=tests, stages=list(programme.stages.order_by(Stage.tahap)),
                           families=programme.family_count())


@bp.post("/<int:programme_id>/daftar")
@roles("admin")
def sync(programme_id):
    """Bring the family list up to date with the register (families enrolled since)."""
    programme = programme_or_404(programme_id)
    added = programme.sync_families()
    flash(f"Daftar penerima diperbarui: {number(added)} keluarga baru masuk daftar.")
    return redirect(url_for("rice.programme", programme_id=programme.id), code=303)


@bp.route("/<int:programme_id>/uji-tanak", methods=["GET", "POST"])
@roles("admin", "verifikator")
def cooking_test(programme_id):
    """Record a cooking test (uji tanak) of one stage's batch."""
    programme = programme_or_404(programme_id)
    form = request.form if request.method == "POST" else {}
    values = {k: form.get(k, "") for k in ("tahap", "batch", "tanggal", "tempat", "hadir",
                                           "hasil", "catatan")}
    values["gudang"] = form.get("gudang", programme.gudang)
    if request.method == "GET":
        values["tanggal"] = today().isoformat()
    errors = {}
    if request.method == "POST":
        tahap = values["tahap"]
        try:
            test = distribution.record_test(
                programme, whole_number(tahap) or 0, values["batch"],
                values["gudang"], parse_date(values["tanggal"]), values["tempat"],
                values["hadir"], values["hasil"], values["catatan"],
                current_user._get_current_object())
        except RiceError as exc:
            errors[exc.field or "batch"] = str(exc)
        else:
            batch = test.batch
            flash(f"Uji tanak batch {batch.kode} tahap {batch.tahap} dicatat: "
                  f"{TEST_RESULTS[test.hasil].lower()}. Status batch: "
                  f"{batch.status_label.lower()}.")
            return redirect(url_for("rice.programme", programme_id=programme.id), code=303)
    return render_template("rice/test.html", programme=programme, values=values, errors=errors)


@bp.get("/<int:programme_id>/kemajuan")
@roles(*STAFF)
def progress(programme_id):
    """Progress per stage and kecamatan, the totals that reconcile, the daily chart."""
    programme = programme_or_404(programme_id)
    result = rice_progress.progress(programme, return_days())
    return page_or_fragment("rice/progress.html", "kemajuan", programme=programme, p=result,
                            chart=daily_chart(result), limit=return_days(), no_store=True)


@bp.get("/<int:programme_id>/pengembalian")
@roles(*STAFF)
def returns(programme_id):
    """Returns of rice, oldest open first; those open too long are flagged."""
    programme = programme_or_404(programme_id)
    only_open = request.args.get("status") == "terbuka"
    rows = list(distribution.returns_of(programme, only_open, reviewer_scope()).limit(500))
    cards = {r.handover.no_kk for r in rows}
    names = {}
    if cards:
        for family in Family.select(Family.no_kk, Person.nama).join(
                Person, on=(Person.nik == Family.nik)).where(
                Family.programme == programme.id,
                Family.no_kk.in_(list(cards))).namedtuples():
            names[family.no_kk] = family.nama
    batches = {}
    for batch in programme.cleared_batches():
        batches.setdefault(batch.tahap, []).append(batch)
    return page_or_fragment("rice/returns.html", "daftar", programme=programme, rows=rows,
                            names=names, batches=batches, only_open=only_open,
                            limit=return_days(), no_store=True,
                            can_replace=current_user.role in ("petugas", "admin"))


@bp.post("/<int:programme_id>/pengembalian/<int:return_id>/ganti")
@roles("petugas", "admin")
def replace(programme_id, return_id):
    """Record the replacement of a return (the same quantity, from a cleared batch)."""
    programme = programme_or_404(programme_id)
    ret = (Return.select(Return, Handover).join(Handover)
           .where(Return.id == return_id, Handover.programme == programme.id).first())
    if ret is None:
        abort(404)
    batch = request.form.get("batch", "")
    try:
        distribution.record_replacement(ret, whole_number(batch),
                                request.form.get("catatan", ""),
                                current_user._get_current_object())
        flash(f"Penggantian {format_kg(ret.gram)} untuk tahap {ret.handover.tahap} "
              "dicatat; pengembalian ini selesai.")
    except RiceError as exc:
        flash(str(exc), "galat")
    back = request.form.get("kembali")
    if back == "loket":
        return redirect(url_for("rice_counter.counter", programme_id=programme.id), code=303)
    return redirect(url_for("rice.returns", programme_id=programme.id), code=303)


@bp.route("/<int:programme_id>/impor", methods=["GET", "POST"])
@csrf.exempt  # checked below, once the body may be bigger than the app-wide 64 KB
@roles("admin")
def upload(programme_id):
    """Upload a CSV of hand-overs recorded elsewhere; the line-numbered report comes back."""
    programme = programme_or_404(programme_id)
    result = error = None
    if request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT  # this form only: the rest stay at 64 KB
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from None
        file = request.files.get("berkas")
        if file is None or not file.filename:
            error = "Pilih berkas CSV atau spreadsheet yang akan diimpor."
        elif not file.filename.lower().endswith(EXTENSIONS):
            error = "Berkas harus CSV (.csv) atau spreadsheet (.xlsx, .xls, .ods)."
        else:
            folder = Path(current_app.config["IMPORT_DIR"])
            folder.mkdir(parents=True, exist_ok=True)
            # On disk while this request runs (a spreadsheet is read from a file), then gone.
            with tempfile.NamedTemporaryFile(dir=folder, prefix="beras-") as saved:
                file.save(saved)
                saved.flush()
                try:
                    result = handovers.import_handovers(
                        programme, saved.name, skip_invalid=bool(request.form.get("lewati")),
                        sumber=f"impor:{os.path.basename(file.filename)}"[:200],
                        petugas_id=current_user.id, sheet=request.form.get("lembar"))
                    audit.record(current_user._get_current_object(), "impor.beras",
                                 handover_summary(programme, file.filename, result))
                except UnicodeDecodeError:
                    error = ("Berkas ini bukan CSV teks (UTF-8). Simpan ulang sebagai CSV "
                             "UTF-8, atau unggah spreadsheet-nya langsung.")
    mapping = _mapping(result.header) if result is not None and result.needs_mapping else None
    return _import_page(programme, result=result, error=error, mapping=mapping)


def _import_page(programme, status: int = 200, **context):
    return make_response(render_template("rice/import.html", programme=programme,
                                         shown=SHOWN_PROBLEMS, accept=ACCEPT, **context), status)


def _mapping(header, chosen=None) -> dict:
    """The column-mapping form of a file whose headers were not recognised (imports/headers)."""
    if chosen is None:
        chosen = headers.Columns(MAPPING_KIND, list(header)).chosen
    return {"columns": list(zip(header, chosen, strict=True)),
            "fields": headers.FIELDS[MAPPING_KIND], "labels": headers.LABELS}


@bp.post("/<int:programme_id>/impor/kolom")
@roles("admin")
def save_column_mapping(programme_id):
    """Remember an admin's mapping of a file's columns, for every later file with the same
    headers (browser and command line); the file itself is uploaded again."""
    programme = programme_or_404(programme_id)
    count = whole_number(request.form.get("jumlah", ""), 1, MAX_COLUMNS)
    if count is None:
        return _import_page(programme, 422, error="Formulir pemetaan tidak lengkap; unggah "
                                                  "berkasnya lagi.")
    header = [request.form.get(f"judul-{i}", "")[:200] for i in range(count)]
    chosen = [request.form.get(f"kolom-{i}", "") for i in range(count)]
    problem = headers.remember(MAPPING_KIND, header, chosen, current_user.username).problem()
    if problem:
        return _import_page(programme, failed(), error=problem,
                            mapping=_mapping(header, chosen))
    return _import_page(programme, saved=True)

