"""The files of a browser import job: the upload, the problems by line, the rejected rows.

All in the job's folder under the instance folder. The problems file lists every problem (the
result page shows the first PAGE_PROBLEMS); the rejected-rows file repeats each rejected line of
the upload with a reason column, so the office can fix those rows and upload them again. Both are
written by streaming: neither the upload nor the problems are ever held as one big string.
"""
from __future__ import annotations

import csv
from itertools import islice
from pathlib import Path

from imports.bulk import Problem
from imports.readers import delimiter_of, physical_records
from office.exports import BOM, spreadsheet_row

UPLOAD = "unggahan.csv"
PROBLEMS = "masalah.csv"
REJECTED = "baris-ditolak.csv"
PAGE_PROBLEMS = 200
SAMPLE_BYTES = 64 * 1024


def estimate_rows(path: Path, size: int) -> int:
    """Rows in the file, guessed from the length of the lines in its first 64 KB."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if not lines or size <= len(sample):
        return max(lines - 1, 0)
    return int(size / (len(sample) / lines)) - 1


def remove_upload(folder: Path) -> None:
    """The upload holds personal data: it goes as soon as the job is over."""
    (folder / UPLOAD).unlink(missing_ok=True)


def write_problem_files(folder: Path, problems: list[Problem]) -> None:
    """masalah.csv (line, message) and, for problems with data lines, the rejected rows."""
    upload = folder / UPLOAD
    with open(upload, encoding="utf-8-sig", newline="") as fh:
        delimiter = delimiter_of(fh.readline())
    with open(folder / PROBLEMS, "w", encoding="utf-8", newline="") as out:
        out.write(BOM)
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(("baris", "masalah"))
        writer.writerows((p.line or "", p.message) for p in problems)
    if any(p.line > 1 for p in problems):
        _write_rejected(upload, folder / REJECTED, problems, delimiter)


def _write_rejected(upload: Path, target: Path, problems: list[Problem],
                    delimiter: str) -> None:
    """Walk the upload and the problems (sorted by line) side by side: no set of line numbers."""
    pending = iter(p for p in problems if p.line > 1)
    following = next(pending, None)
    with open(upload, encoding="utf-8-sig", newline="") as source, \
            open(target, "w", encoding="utf-8", newline="") as out:
        header = next(csv.reader([source.readline()], delimiter=delimiter), [])
        names = [h.strip().lower() for h in header]
        text_columns = {i for i, name in enumerate(names) if name in ("nik", "no_kk")}
        out.write(BOM)
        writer = csv.writer(out, delimiter=delimiter)
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
