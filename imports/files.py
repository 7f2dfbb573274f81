"""The files of a browser import job: the upload, its options, the problems by line, the
rejected rows, and the header row of a file whose columns an admin must map.

All in the job's folder under the instance folder. The upload keeps no extension: readers.py
knows a spreadsheet from a CSV by its content. The problems file lists every problem (the
result page shows the first PAGE_PROBLEMS); the rejected-rows file repeats each rejected row of
the upload with a reason column (as CSV, whatever the upload was), so the office can fix those
rows and upload them again. Both are written by streaming: neither the upload nor the problems
are ever held as one big string.
"""
from __future__ import annotations

import csv
import json
from itertools import islice
from pathlib import Path

from imports.bulk import Problem
from imports.headers import NIK, NO_KK, header_test, key
from imports.readers import (
    TableError,
    delimiter_of,
    file_kind,
    open_table,
    physical_records,
)
from office.exports import BOM, SafeWriter, spreadsheet_row

UPLOAD = "unggahan"
OPTIONS = "pilihan.json"  # the sheet and the scheme chosen for the upload
HEADER = "judul.json"  # the header row, when its columns must be mapped
PROBLEMS = "masalah.csv"
REJECTED = "baris-ditolak.csv"
PAGE_PROBLEMS = 200
SAMPLE_BYTES = 64 * 1024
SPREADSHEET_ROW_BYTES = 40  # a zipped row of six cells, roughly: only for the progress bar


def save_options(folder: Path, **options) -> None:
    (folder / OPTIONS).write_text(json.dumps(options), encoding="utf-8")


def options(folder: Path) -> dict:
    path = folder / OPTIONS
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_header(folder: Path, header: list[str]) -> None:
    (folder / HEADER).write_text(json.dumps(header), encoding="utf-8")


def header(folder: Path) -> list[str] | None:
    """The header row of an upload whose columns were not recognised, or None."""
    path = folder / HEADER
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def estimate_rows(path: Path, size: int) -> int:
    """Rows in the file, guessed from the length of the lines in its first 64 KB (for a
    spreadsheet, from its size)."""
    try:
        kind = file_kind(path)
    except TableError:
        return 0
    if kind != "csv":
        return size // SPREADSHEET_ROW_BYTES
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if not lines or size <= len(sample):
        return max(lines - 1, 0)
    return int(size / (len(sample) / lines)) - 1


def remove_upload(folder: Path) -> None:
    """The upload holds personal data: it goes as soon as the job is over."""
    (folder / UPLOAD).unlink(missing_ok=True)


def write_problem_files(folder: Path, problems: list[Problem], sheet: str | None = None) -> None:
    """masalah.csv (line, message) and, for problems with data lines, the rejected rows."""
    upload = folder / UPLOAD
    try:
        csv_upload = file_kind(upload) == "csv"
    except TableError:  # a broken spreadsheet: its problem is the whole file's (line 0)
        csv_upload = False
    delimiter = ","
    if csv_upload:
        with open(upload, encoding="utf-8-sig", newline="") as fh:
            delimiter = delimiter_of(fh.readline())
    with open(folder / PROBLEMS, "w", encoding="utf-8", newline="") as out:
        out.write(BOM)
        writer = SafeWriter(out, delimiter=delimiter)
        writer.writerow(("baris", "masalah"))
        writer.writerows((p.line or "", p.message) for p in problems)
    if not any(p.line > 1 for p in problems):
        return
    if csv_upload:
        _write_rejected(upload, folder / REJECTED, problems, delimiter)
    else:
        _write_rejected_rows(upload, folder / REJECTED, problems, sheet)


def _write_rejected_rows(upload: Path, target: Path, problems: list[Problem],
                         sheet: str | None) -> None:
    """The rejected rows of a spreadsheet, as CSV with the sheet's header and a reason."""
    pending = iter(p for p in problems if p.line > 1)
    following = next(pending, None)
    with open_table(upload, sheet, header_test("penerima")) as reader, \
            open(target, "w", encoding="utf-8", newline="") as out:
        text_columns = _text_columns(reader.header)
        out.write(BOM)
        writer = SafeWriter(out)
        writer.writerow([*reader.header, "alasan"])
        for line, fields in reader.records([], lambda *a: None, 1 << 30):
            while following is not None and following.line < line:
                following = next(pending, None)  # a blank row or a wrong-width line
            if following is None:
                break
            messages = []
            while following is not None and following.line == line:
                messages.append(following.message)
                following = next(pending, None)
            if messages:
                writer.writerow([*spreadsheet_row(fields, text_columns), "; ".join(messages)])


def _text_columns(header: list[str]) -> set[int]:
    """The identity-number columns, however the header spells them: kept as text."""
    return {i for i, name in enumerate(header) if key(name) in (*NIK, *NO_KK, "nikpengambil")}


def _write_rejected(upload: Path, target: Path, problems: list[Problem],
                    delimiter: str) -> None:
    """Walk the upload and the problems (sorted by line) side by side: no set of line numbers."""
    pending = iter(p for p in problems if p.line > 1)
    following = next(pending, None)
    with open(upload, encoding="utf-8-sig", newline="") as source, \
            open(target, "w", encoding="utf-8", newline="") as out:
        header = next(csv.reader([source.readline()], delimiter=delimiter), [])
        text_columns = _text_columns(header)
        out.write(BOM)
        writer = SafeWriter(out, delimiter=delimiter)
        writer.writerow([*header, "alasan"])
        for first, text in physical_records(source):
            while following is not None and following.line < first:
                following = next(pending, None)  # never expected: lines are record starts
            if following is None:
                break
            if following.line != first:
                continue
            messages = []
            while following is not None and following.line == first:
                messages.append(following.message)
                following = next(pending, None)
            fields = next(csv.reader([text], delimiter=delimiter), [])
            writer.writerow([*spreadsheet_row(fields, text_columns), "; ".join(messages)])


def first_problems(folder: Path, limit: int = PAGE_PROBLEMS) -> list[tuple[str, str]]:
    """The first `limit` problems from masalah.csv, for the result page."""
    path = folder / PROBLEMS
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
        rows = csv.reader(fh, delimiter=delimiter_of(header))
        return [(row[0], row[1]) for row in islice(rows, limit) if len(row) == 2]
