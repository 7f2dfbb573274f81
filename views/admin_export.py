"""Exports of recipients and reports for the office's spreadsheets: CSV, streamed, or .xlsx."""
from __future__ import annotations

import datetime

from flask import Response, current_app, render_template, request
from playhouse.pool import PooledDatabase

import models
from models import Region, Scheme
from office import audit, exports
from web.downloads import send_xlsx
from web.fragments import failed
from web.gates import admin_blueprint, me

bp = admin_blueprint("admin_export", __name__)

FORMATS = {"spreadsheet": "Untuk Excel atau LibreOffice (NIK tetap utuh sebagai teks)",
           "data": "Data mentah untuk program lain (NIK berupa angka biasa)"}
SEPARATORS = {",": "Koma (,)", ";": "Titik koma (;) — bila Excel menampilkan semua data "
                                    "dalam satu kolom"}


def _page(errors: dict | None = None, status: int = 200):
    return render_template(
        "admin/ekspor.html", errors=errors or {}, args=request.args,
        schemes=Scheme.select().order_by(Scheme.tingkat, Scheme.kode),
        kecamatan_list=Region.kecamatan_list().select(Region.kode, Region.nama).tuples(),
        LEVELS=models.LEVELS, STATUSES=models.STATUSES, FORMATS=FORMATS,
        SEPARATORS=SEPARATORS), status


@bp.get("/ekspor", endpoint="exports")
def export_forms():
    """The two export forms."""
    return _page()


def _options(errors: dict) -> tuple[str, bool]:
    separator = request.args.get("pemisah", ",")
    if separator not in SEPARATORS:
        errors["pemisah"] = "Pilih pemisah kolom: koma atau titik koma."
    return separator, request.args.get("format", "spreadsheet") != "data"


def _csv(rows, header, name: str, separator: str, spreadsheet: bool, what: str):
    current_app.logger.info("ekspor %s oleh %s", what, me().username)  # who took personal data
    audit.record(me(), "ekspor", _what(what, "csv"))
    today = models.today().isoformat()
    body = exports.stream_csv(header, rows, delimiter=separator, spreadsheet=spreadsheet)
    return Response(_released(body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-{today}.csv"',
        "Cache-Control": "no-store"})


def _what(what: str, kind: str) -> str:
    """The audit log's subject of an export: what, in which format, with which filters."""
    filters = " ".join(f"{key}={value}" for key, value in request.args.items() if value)
    return f"{what} ({kind}) {filters}".strip()


def _released(chunks):
    """The rows are read while the server sends them, after the request has ended (no request
    context is needed): a pooled connection taken for that goes back to the pool at the end."""
    try:
        yield from chunks
    finally:
        if isinstance(models.db.obj, PooledDatabase) and not models.db.is_closed():
            models.db.close()


def _xlsx(rows, header, name: str, what: str):
    current_app.logger.info("ekspor %s (xlsx) oleh %s", what, me().username)
    audit.record(me(), "ekspor", _what(what, "xlsx"))
    return send_xlsx(header, rows, name, f"{name}-{models.today().isoformat()}.xlsx")


def _recipient_rows(errors: dict):
    args = request.args
    scheme = args.get("skema") or None
    level = args.get("tingkat") or None
    kecamatan = args.get("kecamatan") or None
    if scheme and Scheme.get_or_none(Scheme.kode == scheme) is None:
        errors["skema"] = "Skema tidak dikenal; pilih dari daftar."
    if level and level not in models.LEVELS:
        errors["tingkat"] = "Pilih tingkat: pusat, provinsi atau kabupaten."
    if kecamatan and Region.get_or_none(Region.kode == kecamatan,
                                        Region.tingkat == "kecamatan") is None:
        errors["kecamatan"] = "Kecamatan tidak dikenal; pilih dari daftar."
    return exports.recipients(scheme, level, kecamatan)


@bp.get("/ekspor/penerima.csv")
def export_recipients():
    """Active recipients, optionally of one scheme, level or kecamatan."""
    errors = {}
    rows = _recipient_rows(errors)
    separator, spreadsheet = _options(errors)
    if errors:
        return _page(errors, failed(400))
    return _csv(rows, exports.RECIPIENT_COLUMNS, "penerima", separator, spreadsheet,
                "penerima")


@bp.get("/ekspor/penerima.xlsx")
def export_recipients_xlsx():
    """Active recipients as an Excel workbook, NIK and No. KK as text cells."""
    errors = {}
    rows = _recipient_rows(errors)
    if errors:
        return _page(errors, failed(400))
    return _xlsx(rows, exports.RECIPIENT_COLUMNS, "penerima", "penerima")


def _day(name: str, errors: dict, label: str) -> datetime.date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors[name] = f"Tanggal {label} tidak dapat dibaca; tulis seperti 2026-11-27."
        return None


def _report_rows(errors: dict):
    status = request.args.get("status") or None
    if status and status not in models.STATUSES:
        errors["status"] = "Pilih status dari daftar."
    start, end = _day("dari", errors, "awal"), _day("sampai", errors, "akhir")
    if start and end and end < start:
        errors["sampai"] = "Tanggal akhir tidak boleh sebelum tanggal awal."
    return exports.reports(status, start, end)


@bp.get("/ekspor/laporan.csv")
def export_reports():
    """Reports submitted in a period, optionally with one status."""
    errors = {}
    rows = _report_rows(errors)
    separator, spreadsheet = _options(errors)
    if errors:
        return _page(errors, failed(400))
    return _csv(rows, exports.REPORT_COLUMNS, "laporan", separator, spreadsheet, "laporan")


@bp.get("/ekspor/laporan.xlsx")
def export_reports_xlsx():
    """Reports as an Excel workbook, NIK and No. KK as text cells."""
    errors = {}
    rows = _report_rows(errors)
    if errors:
        return _page(errors, failed(400))
    return _xlsx(rows, exports.REPORT_COLUMNS, "laporan", "laporan")
