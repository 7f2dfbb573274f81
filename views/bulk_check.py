"""The bulk check for desa operators (petugas, verifikator; admins too): upload a list of
NIKs, see per row what the public check says, download the answers as CSV or .xlsx."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from extensions import csrf
from imports.readers import ACCEPT, EXTENSIONS
from office import audit, bulk_check
from web.downloads import send_xlsx
from web.fragments import failed
from web.gates import gate, me
from web.limits import CEK_MASSAL, limits

bp = Blueprint("bulk_check", __name__)
gate(bp, "petugas", "verifikator", "admin",
     message="Cek massal hanya untuk petugas desa/kantor, tim verifikasi dan admin.")
SHOWN = 500  # answers on the page; the download has them all


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # personal answers
    return response


def _folder() -> Path:
    return Path(current_app.config["IMPORT_DIR"]) / "cek-massal"


def _form(error: str | None = None, status: int = 200):
    return make_response(render_template(
        "staff/cek_massal.html", error=error, accept=ACCEPT,
        max_rows=current_app.config["BULK_CHECK_MAX_ROWS"]), status)


@bp.get("/cek-massal")
def form():
    """The upload form."""
    return _form()


@bp.post("/cek-massal")
def check():
    """Answer every NIK of the uploaded list, then show the answers (Post/Redirect/Get)."""
    request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
    try:
        csrf.protect()
        upload = request.files.get("berkas")
    except RequestEntityTooLarge:
        return _form("Berkas terlalu besar; bagi menjadi beberapa berkas.", failed(413))
    if upload is None or not upload.filename:
        return _form("Pilih berkas CSV atau spreadsheet berisi kolom NIK.", failed())
    if not upload.filename.lower().endswith(EXTENSIONS):
        return _form("Berkas harus CSV (.csv) atau spreadsheet (.xlsx, .xls, .ods).", failed())
    limits().hit(CEK_MASSAL)  # each list may answer for thousands of NIKs
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = os.path.basename(upload.filename.replace("\\", "/"))
    with tempfile.NamedTemporaryFile(dir=folder, prefix="unggahan-") as saved:
        upload.save(saved)
        saved.flush()
        token, summary = bulk_check.run(
            saved.name, folder, name, me().id, sheet=request.form.get("lembar"),
            max_rows=int(current_app.config["BULK_CHECK_MAX_ROWS"]))
    # The audit log: who asked about how many NIKs, from which file (never which NIKs).
    audit.record(me(), "cek.massal", f"{summary.rows} baris, {name}")
    if summary.problem:
        return _form(summary.problem, failed())
    return redirect(url_for("bulk_check.result", token=token), code=303)


csrf.exempt(check)  # checked inside, once the body may be bigger than the app-wide limit


def _summary(token: str) -> bulk_check.Summary:
    summary = bulk_check.summary_of(_folder(), token, me().id)
    if summary is None:
        abort(404)
    return summary


@bp.get("/cek-massal/<token>")
def result(token):
    """The counts per answer and the first answers; the downloads have all of them."""
    summary = _summary(token)
    return render_template("staff/cek_massal_hasil.html", s=summary, token=token,
                           answers=bulk_check.first_answers(_folder(), token, SHOWN),
                           shown=SHOWN, STATUSES=bulk_check.STATUSES)


@bp.get("/cek-massal/<token>.csv")
def download_csv(token):
    """Every answer as CSV (NIK and No. KK as ="…", as every export)."""
    summary = _summary(token)
    return send_file(bulk_check.answers_path(_folder(), token), mimetype="text/csv",
                     as_attachment=True, max_age=0,
                     download_name=f"cek-massal-{Path(summary.filename).stem}.csv")


@bp.get("/cek-massal/<token>.xlsx")
def download_xlsx(token):
    """Every answer as an Excel workbook, NIK and No. KK as text cells."""
    summary = _summary(token)
    return send_xlsx(bulk_check.COLUMNS, bulk_check.all_answers(_folder(), token),
                     "cek-massal", f"cek-massal-{Path(summary.filename).stem}.xlsx")
