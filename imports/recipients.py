"""Import of recipient lists (CSV) into the register: check every row, then write all in one go.

Used by `flask import-data` and, later, by the admin's browser upload: give `import_register` a
path or a text stream, optionally a progress callback (which may cancel), and read the result.

How it stays fast and lean on 2,000,000-row files:
- Each row is first put to a cheap test that accepts only what the full checks accept; only rows
  that fail it go through nik.parse_nik / parse_no_kk and the rest for the precise message.
- A valid row is kept as one compact string, and the strings are sorted by NIK: duplicate NIKs
  end up side by side (no set of two million NIKs), and the register's primary-key B-tree gets
  appends instead of random inserts (about twice as fast on SQLite).
- The rules (one scheme per NIK, the family rule) and the writing live in bulk.py; reading the
  CSV (separator, header, line numbers) in readers.py, shared with the rice hand-over import.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

import models
from imports import bulk
from imports.bulk import LINE_BASE, SEP, Cancelled, Problem
from imports.readers import KK_SHAPE, NIK_SHAPE, CsvReader, FileResult, open_csv
from imports.readers import read_text as read_text  # tests and callers find it here too
from nik import NikError, parse_nik, parse_no_kk

HEADER = ("nik", "no_kk", "nama", "alamat", "kode_desa", "skema")
MAX_NAMA, MAX_ALAMAT = 150, 300
REPORT_EVERY = 20_000  # rows between two progress calls

# progress(phase, done, total) -> True to cancel. Phases: "membaca" (reading and checking rows;
# total 0 = not known yet), "memeriksa" (the rules against the register), "menulis" (writing).
Progress = Callable[[str, int, int], "bool | None"]


@dataclass
class ImportResult(FileResult):
    people_added: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    enrolled: int = 0
    already_enrolled: int = 0  # rows whose NIK already has this very scheme: nothing to do


def import_register(source, *, skip_invalid: bool = False, progress: Progress | None = None,
                    sumber: str | None = None) -> ImportResult:
    """Import a recipient list. Nothing is written if any row has a problem, unless
    `skip_invalid`: then the rows without problems are written and the others reported.

    source: a path, or a text stream (e.g. an upload wrapped in io.TextIOWrapper). `sumber` is
    recorded on each new enrolment (default "impor:<file name>").
    """
    if isinstance(source, str | os.PathLike):
        with open_csv(source) as stream:
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
    result.finish()
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
    reader = CsvReader(stream)
    problem = reader.header_problem(HEADER)
    if problem:
        result.problems.append(problem)
        return None
    pick = itemgetter(*(reader.names.index(h) for h in HEADER))
    valid_dates: set[str] = set()  # DDMMYY parts of NIKs that parse_nik accepted
    rows, candidates = [], []
    add_row, add_candidate, problems = rows.append, candidates.append, result.problems
    for first, fields in reader.records(problems, report, REPORT_EVERY):
        nik, no_kk, nama, alamat, desa, skema = pick(fields)
        nama, alamat = nama.strip(), alamat.strip()
        if not (NIK_SHAPE(nik) and nik[6:12] in valid_dates and KK_SHAPE(no_kk)
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
    result.rows = count = reader.count
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

