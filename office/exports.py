"""Exports of recipients and reports that a spreadsheet opens correctly: CSV, streamed, or a
real .xlsx workbook. Every export reads back into the imports without edits.

- UTF-8 with a byte-order mark: Excel then reads names like `NURʼAINI` or `SÜLAIMAN` as UTF-8
  instead of the Windows code page; LibreOffice and Google Sheets honour it too.
- NIK and No. KK are 16 digits; a spreadsheet reads them as a number and keeps only 15
  significant digits (3510160101200001 becomes 3,51016E+15 and then ...000). In spreadsheet
  mode they are written as the formula `="3510160101200001"`: Excel (on opening the file) and
  Google Sheets evaluate it to the text, so all 16 digits show and stay; LibreOffice does the
  same with "Evaluate formulas" ticked in its import dialog, and otherwise shows the formula
  with all 16 digits intact, never a rounded number. A leading apostrophe would not do: in a
  CSV file Excel and LibreOffice show it as part of the value. Data mode writes plain digits
  for programs. Free text that starts like a formula (`=`, `+`, `-`, `@`) gets a leading
  apostrophe so that opening an export never runs a formula a resident typed into a report.
- Rows are read in pages of PAGE rows by key (`WHERE id > last ORDER BY id LIMIT n`), on SQLite
  and PostgreSQL alike, and written as they come: memory stays flat whatever the size.
- The .xlsx workbook (XlsxWriter, constant-memory mode: rows go to a temporary file as they
  come) holds NIK and No. KK as text cells, so no spreadsheet turns them into numbers, and every
  other text as a text cell too, so nothing a resident typed can become a formula.
"""
from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator

import xlsxwriter
from peewee import JOIN

import models
from models import Enrolment, Person, Region, Report, Scheme
from office.desil import FamilyDesil

BOM = "\ufeff"
PAGE = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SPREADSHEET_TEXT = re.compile(r'="[0-9]+"')  # spreadsheet_text()'s cells, formulas on purpose

RECIPIENT_COLUMNS = ("nik", "no_kk", "nama", "alamat", "kode_desa", "skema", "desil", "desa",
                     "kecamatan", "nama_skema", "tingkat", "satuan", "sejak", "sumber")
REPORT_COLUMNS = ("kode_laporan", "status", "tanggal_lapor", "nik", "nama", "no_kk", "alamat",
                  "kode_desa", "desa", "kecamatan", "kategori", "keterangan", "kanal",
                  "kantor", "jumlah_pelapor", "tenggat", "tanggal_putusan", "skema",
                  "alasan_tidak_layak", "catatan", "tanggal_salur", "tepat_waktu",
                  "dianonimkan")
TEXT_COLUMNS = ("nik", "no_kk")


def spreadsheet_text(value: str) -> str:
    """`="3510..."` for a value of digits (kept as text by a spreadsheet), else as it is."""
    return f'="{value}"' if value and value.isdigit() else value


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """The one CSV writer of every CSV the app writes (exports in both modes, an import's
    problems and rejected rows, the bulk check's answers): csv.writer, with every cell that a
    spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) behind an
    apostrophe, except the `="digits"` text cells written on purpose. The imports unwrap both."""

    def __init__(self, out, delimiter: str = ","):
        self._writer = csv.writer(out, delimiter=delimiter)

    def writerow(self, row) -> None:
        self._writer.writerow([cell if isinstance(cell, str) and SPREADSHEET_TEXT.fullmatch(cell)
                               else safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def spreadsheet_row(fields: list, text_columns: set[int]) -> list[str]:
    return [spreadsheet_text(f) if i in text_columns else safe_cell(f)
            for i, f in enumerate(fields)]


def stream_csv(header: Iterable[str], rows: Iterable[list], *, delimiter: str = ",",
               spreadsheet: bool = True) -> Iterator[str]:
    """The CSV text in chunks of a few hundred rows, starting with the byte-order mark."""
    header = list(header)
    text_columns = {i for i, name in enumerate(header) if name in TEXT_COLUMNS}
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = SafeWriter(buffer, delimiter=delimiter)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(spreadsheet_row(row, text_columns) if spreadsheet else row)
        if not count % 500:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(target, header: Iterable[str], rows: Iterable[list], sheet: str) -> None:
    """A workbook of one sheet at `target` (a path): a bold header row, NIK and No. KK (and
    every other text) as text cells, whole numbers as numbers."""
    header = list(header)
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    try:
        worksheet = book.add_worksheet(sheet[:31])
        text = book.add_format({"num_format": "@"})  # shown and kept as text when edited
        bold = book.add_format({"bold": True})
        worksheet.write_row(0, 0, header, bold)
        for i, name in enumerate(header):
            if name in TEXT_COLUMNS:
                worksheet.set_column(i, i, 18, text)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row):
                if isinstance(value, int) and not isinstance(value, bool):
                    worksheet.write_number(r, c, value)
                elif value not in (None, ""):
                    worksheet.write_string(r, c, str(value))
    finally:
        book.close()


def _keyset(query, key) -> Iterator[tuple]:
    """Every row of `query` in pages of PAGE ordered by `key` (a unique integer column)."""
    last = 0
    while True:
        page = list(query.where(key > last).order_by(key).limit(PAGE).tuples())
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1][0]


def _region_names() -> dict[str, str]:
    return dict(Region.select(Region.kode, Region.nama).tuples())


def recipients(scheme: str | None = None, level: str | None = None,
               kecamatan: str | None = None) -> Iterator[list]:
    """Active enrolments with their person, optionally of one scheme, level or kecamatan."""
    names = _region_names()
    schemes = {s.kode: s for s in Scheme.select()}
    query = (Enrolment.select(Enrolment.id, Person.nik, Person.no_kk, Person.nama,
                              Person.alamat, Person.desa, Enrolment.scheme, FamilyDesil.desil,
                              Enrolment.sejak, Enrolment.sumber)
             .join(Person, on=(Person.nik == Enrolment.person))
             .join(FamilyDesil, JOIN.LEFT_OUTER, on=(FamilyDesil.no_kk == Person.no_kk))
             .where(Enrolment.berakhir.is_null()))
    if scheme:
        query = query.where(Enrolment.scheme == scheme)
    if level:
        query = query.where(Enrolment.scheme.in_(
            [kode for kode, s in schemes.items() if s.tingkat == level] or [""]))
    if kecamatan:
        query = query.where(Person.desa.startswith(kecamatan + "."))
    for _id, nik, no_kk, nama, alamat, desa, skema, desil, sejak, sumber in _keyset(
            query, Enrolment.id):
        row_scheme = schemes[skema]
        yield [nik, no_kk or "", nama, alamat, desa, skema, desil or "", names.get(desa, ""),
               names.get(desa[:8], ""), row_scheme.nama, row_scheme.tingkat, row_scheme.satuan,
               _day(sejak), sumber]


def reports(status: str | None = None, start: datetime.date | None = None,
            end: datetime.date | None = None) -> Iterator[list]:
    """Reports (cases) submitted in a period, optionally with one status."""
    names = _region_names()
    fields = (Report.id, Report.kode, Report.status, Report.tanggal_lapor, Report.nik,
              Report.nama, Report.no_kk, Report.alamat, Report.desa, Report.kecamatan,
              Report.kategori, Report.keterangan, Report.kanal, Report.kantor,
              Report.jumlah_pelapor, Report.tenggat, Report.tanggal_putusan, Report.skema,
              Report.alasan, Report.catatan, Report.tanggal_salur, Report.tepat_waktu,
              Report.dianonimkan_at)
    query = Report.select(*fields)
    if status:
        query = query.where(Report.status == status)
    if start:
        query = query.where(Report.tanggal_lapor >= start)
    if end:
        query = query.where(Report.tanggal_lapor <= end)
    for row in _keyset(query, Report.id):
        (_id, kode, state, lapor, nik, nama, no_kk, alamat, desa, kec, kategori, keterangan,
         kanal, kantor, pelapor, tenggat, putusan, skema, alasan, catatan, salur, tepat,
         anonim) = row
        yield [kode, state, _day(lapor), nik or "", nama or "", no_kk or "", alamat or "", desa,
               names.get(desa, ""), names.get(kec, ""), models.CATEGORIES.get(kategori, kategori),
               keterangan or "", kanal, names.get(kantor, "") if kantor else "", pelapor,
               _day(tenggat), _day(putusan), skema or "",
               models.REJECTION_REASONS.get(alasan, alasan or ""), catatan or "", _day(salur),
               {True: "ya", False: "tidak"}.get(tepat, ""), "ya" if anonim else ""]


def _day(value) -> str:
    return value.isoformat() if value else ""
