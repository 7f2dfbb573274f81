"""Import of recipient lists (CSV) into the register: check every row, then write all in one go.

Used by `flask import-data` and, later, by the admin's browser upload: give `import_register` a
path or a text stream, optionally a progress callback (which may cancel), and read the result.

How it stays fast and lean on 2,000,000-row files:
- Each row is first put to a cheap test that accepts only what the full checks accept; only rows
  that fail it go through nik.parse_nik / parse_no_kk and the rest for the precise message.
- A valid row is kept as one compact string, and the strings are sorted by NIK: duplicate NIKs
  end up side by side (no set of two million NIKs), and the register's primary-key B-tree gets
  appends instead of random inserts (about twice as fast on SQLite).
- The rules (one scheme per NIK, the family rule) and the writing live in bulk.py.
"""
from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

import click

import bulk
import models
from bulk import LINE_BASE, SEP, Cancelled, Problem
from nik import PROVINCES, NikError, parse_nik, parse_no_kk

HEADER = ("nik", "no_kk", "nama", "alamat", "kode_desa", "skema")
MAX_NAMA, MAX_ALAMAT = 150, 300
REPORT_EVERY = 20_000  # rows between two progress calls
_PROVINCE = "(?:" + "|".join(f"{p:02d}" for p in sorted(PROVINCES)) + ")"
# Digits only ([0-9]: `\d` would accept other scripts' digits), a known province, serial > 0.
_NIK_SHAPE = re.compile(_PROVINCE + "[0-9]{10}(?!0000)[0-9]{4}").fullmatch
_KK_SHAPE = re.compile(_PROVINCE + "[0-9]{14}").fullmatch

# progress(phase, done, total) -> True to cancel. Phases: "membaca" (reading and checking rows;
# total 0 = not known yet), "memeriksa" (the rules against the register), "menulis" (writing).
Progress = Callable[[str, int, int], "bool | None"]


@dataclass
class ImportResult:
    rows: int = 0  # data rows read (not the header, not blank lines)
    problems: list[Problem] = field(default_factory=list)
    people_added: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    enrolled: int = 0
    already_enrolled: int = 0  # rows whose NIK already has this very scheme: nothing to do
    skipped: int = 0  # rows with a problem (left out with skip_invalid)
    written: bool = False
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.written and not self.problems


def import_register(source, *, skip_invalid: bool = False, progress: Progress | None = None,
                    sumber: str | None = None) -> ImportResult:
    """Import a recipient list. Nothing is written if any row has a problem, unless
    `skip_invalid`: then the rows without problems are written and the others reported.

    source: a path, or a text stream (e.g. an upload wrapped in io.TextIOWrapper). `sumber` is
    recorded on each new enrolment (default "impor:<file name>").
    """
    if isinstance(source, str | os.PathLike):
        with open(source, encoding="utf-8-sig", newline="") as stream:
            return import_register(stream, skip_invalid=skip_invalid, progress=progress,
                                   sumber=sumber or f"impor:{os.path.basename(source)}")
    report = progress or (lambda phase, done, total: None)
    result = ImportResult()
    try:
        checked = _read(source, result, report)
        if checked is not None:
            rows, candidates = checked
            duplicates = _drop_duplicates(rows, result)
            candidates = sorted(c for c in candidates if c[17:27] not in duplicates)
            bulk.apply_and_write(rows, candidates, result, report, skip_invalid=skip_invalid,
                                 sumber=sumber or "impor")
    except Cancelled:
        result.cancelled, result.written = True, False
    result.problems.sort(key=lambda p: p.line)
    result.skipped = len({p.line for p in result.problems if p.line})
    return result


def _reference():
    villages, kecamatan = set(), set()
    for kode, tingkat in models.Region.select(models.Region.kode,
                                              models.Region.tingkat).tuples():
        (kecamatan if tingkat == "kecamatan" else villages).add(kode)
    schemes = {kode: aktif for kode, aktif in
               models.Scheme.select(models.Scheme.kode, models.Scheme.aktif).tuples()}
    return villages, kecamatan, schemes


def _read(stream, result: ImportResult, report):
    """Check every row in file order; returns (rows, candidates), or None for a bad header.

    rows: "NIK|LINE|NO_KK|SKEMA|DESA|NAMA|ALAMAT" for each valid row; candidates:
    "NO_KK|LINE|NIK|SKEMA" for each valid row that names a scheme (| being SEP).
    """
    villages, kecamatan, schemes = _reference()
    active = {kode for kode, aktif in schemes.items() if aktif}
    header = stream.readline().lstrip("\ufeff")  # spreadsheets often save a byte-order mark
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [h.strip().lower() for h in next(csv.reader([header], delimiter=delimiter), [])]
    missing = [h for h in HEADER if h not in names]
    if missing:
        result.problems.append(Problem(1, "Baris judul harus berisi kolom " + ",".join(HEADER)
                                       + "; tidak ada: " + ", ".join(missing) + "."))
        return None
    width, pick = len(names), itemgetter(*(names.index(h) for h in HEADER))
    valid_dates: set[str] = set()  # DDMMYY parts of NIKs that parse_nik accepted
    rows, candidates = [], []
    add_row, add_candidate, problems = rows.append, candidates.append, result.problems
    line, count = 1, 0
    for text in stream:
        line += 1
        first = line
        if '"' in text or SEP in text:
            while text.count('"') % 2:  # a quoted field runs on over the next line
                more = stream.readline()
                if not more:
                    break
                text, line = text + more, line + 1
            fields = [" ".join(f.split()) for f in
                      next(csv.reader([text], delimiter=delimiter), [])]
        else:
            fields = text.rstrip("\r\n").split(delimiter)
        if len(fields) != width:
            if not "".join(fields).strip():
                continue  # a blank line
            count += 1
            problems.append(Problem(first, f"Baris ini berisi {len(fields)} kolom; seharusnya "
                                           f"{width} seperti baris judul."))
            continue
        count += 1
        if not count % REPORT_EVERY and report("membaca", count, 0):
            raise Cancelled
        nik, no_kk, nama, alamat, desa, skema = pick(fields)
        nama, alamat = nama.strip(), alamat.strip()
        if not (_NIK_SHAPE(nik) and nik[6:12] in valid_dates and _KK_SHAPE(no_kk)
                and nama and len(nama) <= MAX_NAMA and len(alamat) <= MAX_ALAMAT
                and desa in villages and (not skema or skema in active)):
            nik, no_kk, desa, skema, messages = _check_row(
                nik, no_kk, nama, alamat, desa, skema, villages, kecamatan, schemes)
            if messages:
                problems.extend(Problem(first, message) for message in messages)
                continue
            valid_dates.add(nik[6:12])
        at = str(LINE_BASE + first)
        add_row(SEP.join((nik, at, no_kk, skema, desa, nama, alamat)))
        if skema:
            add_candidate(SEP.join((no_kk, at, nik, skema)))
    result.rows = count
    report("membaca", count, count)
    return rows, candidates


def _check_row(nik, no_kk, nama, alamat, desa, skema, villages, kecamatan, schemes):
    """The full checks, with a message for each problem of the row (the slow path)."""
    messages = []
    try:
        nik = parse_nik(nik).nik
    except NikError as exc:
        messages.append(str(exc))
    try:
        no_kk = parse_no_kk(no_kk)
    except NikError as exc:
        messages.append(str(exc))
    if not nama:
        messages.append("Nama wajib diisi.")
    elif len(nama) > MAX_NAMA:
        messages.append(f"Nama terlalu panjang ({len(nama)} huruf; paling banyak {MAX_NAMA}).")
    if len(alamat) > MAX_ALAMAT:
        messages.append(f"Alamat terlalu panjang ({len(alamat)} huruf; paling banyak "
                        f"{MAX_ALAMAT}).")
    desa = desa.strip()
    if not desa:
        messages.append("Kode desa wajib diisi (kode Kemendagri bertitik, misalnya "
                        "35.10.16.2001).")
    elif desa in kecamatan:
        messages.append(f"Kode {desa} adalah kode kecamatan; isi kode desa/kelurahan, "
                        f"misalnya {desa}.2001.")
    elif desa not in villages:
        messages.append(f"Kode desa {desa} tidak dikenal: harus kode desa/kelurahan di "
                        "Banyuwangi (kode Kemendagri bertitik, misalnya 35.10.16.2001).")
    skema = skema.strip().upper()  # empty: a family member who is not enrolled personally
    if skema and skema not in schemes:
        messages.append(f"Skema {skema} tidak dikenal. Skema yang ada: "
                        + ", ".join(sorted(k for k, aktif in schemes.items() if aktif)) + ".")
    elif skema and not schemes[skema]:
        messages.append(f"Skema {skema} sudah tidak aktif: tidak menerima peserta baru.")
    return nik, no_kk, desa, skema, messages


def _drop_duplicates(rows: list, result: ImportResult) -> set[str]:
    """Sort rows by NIK, then line; each later row of a NIK becomes a problem and is removed
    (set to None). Returns the stored line numbers removed."""
    rows.sort()
    removed: set[str] = set()
    previous = first = None
    for i, row in enumerate(rows):
        if row[:16] == previous:
            removed.add(row[17:27])
            result.problems.append(Problem(
                int(row[17:27]) - LINE_BASE,
                f"NIK ini sudah ada di baris {int(first) - LINE_BASE}; setiap NIK hanya boleh "
                "muncul sekali dalam satu file."))
            rows[i] = None
        else:
            previous, first = row[:16], row[17:27]
    return removed


def read_text(text: str) -> io.StringIO:
    """A text stream for import_register from a string (tests, small uploads)."""
    return io.StringIO(text, newline="")


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Indonesian digit grouping: 2.000.000


def print_progress(every: int = 200_000) -> Progress:
    """A progress callback for the command line: a line on stderr at most every `every` rows
    of each phase, so small files stay quiet."""
    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        final = bool(total) and done == total
        if (done - shown.get(phase, 0) >= every and not final) or (
                final and phase in shown and shown[phase] != done):
            shown[phase] = done
            of = f" dari {_number(total)}" if total else ""
            click.echo(f"{phase}: {_number(done)}{of} baris", err=True)

    return progress


@click.command("import-data")
@click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True,
              help="Impor baris yang benar saja; baris bermasalah dilaporkan dan dilewati.")
def import_data(path, skip_invalid):
    """Import a recipient list (CSV: nik,no_kk,nama,alamat,kode_desa,skema)."""
    with models.db.connection_context():
        result = import_register(path, skip_invalid=skip_invalid, progress=print_progress())
    for problem in result.problems:
        click.echo(str(problem))
    if not result.written:
        click.echo(f"Impor dibatalkan: {_number(len(result.problems))} masalah pada "
                   f"{_number(result.skipped)} baris. Tidak ada data yang disimpan.")
        sys.exit(1)
    click.echo(
        f"Impor selesai: {_number(result.rows)} baris. Penduduk: {_number(result.people_added)} "
        f"baru, {_number(result.people_updated)} diperbarui, "
        f"{_number(result.people_unchanged)} tidak berubah. Kepesertaan: "
        f"{_number(result.enrolled)} baru, {_number(result.already_enrolled)} sudah ada."
        + (f" {_number(result.skipped)} baris bermasalah dilewati." if result.skipped else ""))
