"""Recipient lists uploaded in the browser: the upload, the job's progress, its result files."""
from __future__ import annotations

import os

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from extensions import csrf
from imports import files, headers, jobs
from imports.readers import ACCEPT, EXTENSIONS
from models import Scheme
from office import audit
from web.fragments import failed, page_or_fragment, wants_fragment
from web.gates import admin_blueprint, me

bp = admin_blueprint("admin_import", __name__)
KIND = "penerima"


def _page(error: str | None = None, status: int = 200, form=None):
    return make_response(render_template(
        "admin/impor.html", jobs=jobs.recent(), running=jobs.running(), error=error,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024), accept=ACCEPT,
        schemes=Scheme.select().where(Scheme.aktif == True).order_by(Scheme.kode),  # noqa: E712
        form=form or {}, notices=get_flashed_messages(category_filter=["impor"])), status)


@bp.get("/impor")
def imports():
    """The upload form and the latest imports."""
    return _page()


@bp.post("/impor")
def upload():
    """Store the file (CSV or spreadsheet) in a job folder and start the import in the
    background."""
    # Uploads may be far bigger than any other form: raise the limit for this request before
    # the form is read, then check the CSRF token (the view is exempt from the automatic check,
    # which would read the form under the small limit).
    config = current_app.config
    request.max_content_length = config["IMPORT_MAX_BYTES"]
    try:
        csrf.protect()
        upload = request.files.get("berkas")
    except RequestEntityTooLarge:
        return _page(f"Berkas terlalu besar: paling besar {config['IMPORT_MAX_BYTES'] // 2**20} "
                     "MB. Bagi menjadi beberapa berkas.", failed(413))
    if upload is None or not upload.filename:
        return _page("Pilih berkas CSV atau spreadsheet yang akan diimpor.", failed(),
                     request.form)
    if not upload.filename.lower().endswith(EXTENSIONS):
        return _page("Berkas harus CSV (.csv) atau spreadsheet (.xlsx, .xls, .ods).", failed(),
                     request.form)
    skema = request.form.get("skema", "").strip()
    if skema and Scheme.get_or_none(Scheme.kode == skema, Scheme.aktif == True) is None:  # noqa: E712
        return _page("Skema tidak dikenal atau tidak aktif; pilih dari daftar.", failed(),
                     request.form)
    if jobs.running() is not None:
        return _page("Impor lain sedang berjalan. Tunggu sampai selesai, lalu unggah lagi.",
                     failed(409))
    folder = jobs.new_folder(config["IMPORT_DIR"])
    upload.save(folder / files.UPLOAD)
    if (folder / files.UPLOAD).stat().st_size == 0:
        files.remove_upload(folder)
        os.rmdir(folder)
        return _page("Berkas yang diunggah kosong.", failed())
    filename = os.path.basename(upload.filename.replace("\\", "/"))
    job = jobs.create(folder, filename, me().username, bool(request.form.get("lewati")),
                      lembar=" ".join(request.form.get("lembar", "").split())[:100],
                      skema=skema)
    _start(job)
    return redirect(url_for("admin_import.import_job", job_id=job.id), code=303)


csrf.exempt(upload)


def _start(job: jobs.ImportJob) -> None:
    config = current_app.config
    jobs.forget_old_uploads(keep=job.id)
    audit.record(me(), "impor", f"tugas {job.id}: {job.filename}"
                 + (" (baris salah dilewati)" if job.skip_invalid else ""))
    jobs.launch(job, config["DATABASE_URL"], config["IMPORT_JOBS_DATABASE_URL"])


def _job_or_404(job_id: int) -> jobs.ImportJob:
    job = jobs.get(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/impor/<int:job_id>")
def import_job(job_id):
    """Progress while it runs (htmx polls the fragment; a meta refresh without JavaScript),
    then the result: counts, the first problems, the downloads."""
    job = _job_or_404(job_id)
    if wants_fragment() and not job.active:
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"  # the whole page now shows the result
        response.vary.add("HX-Request")
        return response
    problems = [] if job.active else files.first_problems(job.path)
    return page_or_fragment(
        "admin/impor_tugas.html", "kemajuan", job=job, problems=problems,
        page_problems=files.PAGE_PROBLEMS,
        has_rejected=(job.path / files.REJECTED).exists(),
        can_map=_can_map(job),
        can_rerun=(job.status == "ditolak" and not job.skip_invalid
                   and (job.path / files.UPLOAD).exists() and job.problem_rows
                   and job.rows > job.problem_rows),
        notices=get_flashed_messages(category_filter=["impor"]),
        no_store=True)


@bp.get("/impor/<int:job_id>/batal")
def confirm_cancel(job_id):
    """Are you sure? Cancelling throws away the rows read so far (a confirmation page)."""
    job = _job_or_404(job_id)
    if not job.active:
        return redirect(url_for("admin_import.import_job", job_id=job.id), code=303)
    return render_template("admin/impor_batal.html", job=job)


@bp.post("/impor/<int:job_id>/batal")
def cancel_import(job_id):
    """Stop a running import: its transaction is rolled back, nothing is saved."""
    job = _job_or_404(job_id)
    if jobs.request_cancel(job.id):
        flash("Permintaan batal dikirim. Impor berhenti dalam beberapa detik; tidak ada data "
              "yang disimpan.", "impor")
    return redirect(url_for("admin_import.import_job", job_id=job.id), code=303)


@bp.post("/impor/<int:job_id>/baris-benar")
def import_valid_rows(job_id):
    """Run a refused file again, this time writing its valid rows and skipping the others."""
    job = _job_or_404(job_id)
    source = job.path / files.UPLOAD
    if job.status != "ditolak" or not source.exists():
        flash("Berkas impor itu sudah tidak tersimpan; unggah lagi.", "impor")
        return redirect(url_for("admin_import.imports"), code=303)
    if jobs.running() is not None:
        flash("Impor lain sedang berjalan. Tunggu sampai selesai.", "impor")
        return redirect(url_for("admin_import.import_job", job_id=job.id), code=303)
    return _again(job, skip_invalid=True)


def _again(job: jobs.ImportJob, skip_invalid: bool):
    """A new job for a refused job's upload (moved over, with its options)."""
    folder = jobs.new_folder(current_app.config["IMPORT_DIR"])
    os.replace(job.path / files.UPLOAD, folder / files.UPLOAD)
    new = jobs.create(folder, job.filename, me().username, skip_invalid,
                      **files.options(job.path))
    _start(new)
    return redirect(url_for("admin_import.import_job", job_id=new.id), code=303)


def _can_map(job: jobs.ImportJob) -> bool:
    return (job.status == "ditolak" and (job.path / files.UPLOAD).exists()
            and files.header(job.path) is not None)


def _mapping_page(job: jobs.ImportJob, chosen: list[str], error: str | None = None,
                  status: int = 200):
    header = files.header(job.path)
    return make_response(render_template(
        "admin/impor_kolom.html", job=job, columns=list(zip(header, chosen, strict=True)),
        fields=headers.FIELDS[KIND], labels=headers.LABELS, error=error), status)


@bp.get("/impor/<int:job_id>/kolom")
def map_columns(job_id):
    """The columns of a file whose headers were not recognised: pick a field for each."""
    job = _job_or_404(job_id)
    if not _can_map(job):
        return redirect(url_for("admin_import.import_job", job_id=job.id), code=303)
    return _mapping_page(job, headers.Columns(KIND, files.header(job.path)).chosen)


@bp.post("/impor/<int:job_id>/kolom")
def save_column_mapping(job_id):
    """Remember the mapping for files with these headers, then import this file again."""
    job = _job_or_404(job_id)
    if not _can_map(job):
        flash("Berkas impor itu sudah tidak tersimpan; unggah lagi.", "impor")
        return redirect(url_for("admin_import.imports"), code=303)
    header = files.header(job.path)
    chosen = [request.form.get(f"kolom-{i}", "") for i in range(len(header))]
    columns = headers.remember(KIND, header, chosen, me().username)
    problem = columns.problem()
    if problem:
        return _mapping_page(job, chosen, problem, failed())
    if jobs.running() is not None:
        flash("Pemetaan kolom tersimpan. Impor lain sedang berjalan: unggah berkasnya lagi "
              "setelah selesai.", "impor")
        return redirect(url_for("admin_import.imports"), code=303)
    current_app.logger.info("pemetaan kolom impor disimpan oleh %s", me().username)
    flash("Pemetaan kolom tersimpan dan dipakai untuk setiap berkas dengan judul kolom yang "
          "sama.", "impor")
    return _again(job, skip_invalid=job.skip_invalid)


def _download(job_id: int, name: str, label: str):
    job = _job_or_404(job_id)
    path = job.path / name
    if job.active or not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"impor-{job.id}-{label}.csv", max_age=0)


@bp.get("/impor/<int:job_id>/masalah.csv")
def import_problems(job_id):
    """Every problem of the file: line number and message."""
    return _download(job_id, files.PROBLEMS, "masalah")


@bp.get("/impor/<int:job_id>/baris-ditolak.csv")
def import_rejected(job_id):
    """The rejected lines as they were in the file, with a reason column."""
    return _download(job_id, files.REJECTED, "baris-ditolak")
