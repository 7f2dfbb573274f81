"""Import of recipient lists into the register: check every row, then write all in one go.

Used by `flask import-data` and the admin's browser upload (worker.py): give `import_register` a
path (CSV, .xlsx, .xls or .ods) or a text stream (CSV), optionally a progress callback (which
may cancel), and read the result.

The columns are found from the header row as people write it (headers.py): NIK, NO KK, NAMA,
ALAMAT, RT, RW, KODE WILAYAH or desa and kecamatan names (regions.py), SKEMA, DESIL. A list with
a desa column is a full list: its people are added or updated. A list of NIK and NAMA only is a
short list (shortlist.py): it enrols people already in the register in the scheme of the row or
the one chosen for the whole upload.

How it stays fast and lean on 2,000,000-row files, and never holds residents back:
- Each row is first put to a cheap test that accepts only what the full checks accept; only rows
  that fail it go through nik.parse_nik / parse_no_kk and the rest for the precise message.
- A valid row goes straight into the import's staging file (staging.py, a SQLite file of its
  own), not into a Python list: memory stays flat as files grow. SQLite finds duplicate NIKs
  and a family's second desil with its indexes, and hands the people back in NIK order (the
  register's primary-key B-tree gets appends instead of random inserts).
- The rules (one scheme per NIK, the family rule, the desil limits) live in bulk.py and only
  read the register; the writing, in apply.py: on SQLite in short transactions with an undo
  journal, so that reports and decisions go through during an import and a failure, a cancel
  or a killed process still leaves the register as it was. Reading files (CSV or spreadsheet,
  line numbers) is readers.py's, shared with the rice hand-over import and the bulk check.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter

from imports import apply, bulk, shortlist
from imports.bulk import Cancelled, Problem
from imports.headers import Columns, header_test
from imports.readers import KK_SHAPE, NIK_SHAPE, FileResult, TableError, open_table
from imports.readers import read_text as read_text  # tests and callers find it here too
from imports.regions import Regions
from imports.staging import Busy
from nik import NikError, parse_nik, parse_no_kk

HEADER = ("nik", "no_kk", "nama", "alamat", "kode_desa", "skema")  # as our exports write it
FIELDS = ("nik", "no_kk", "nama", "alamat", "rt", "rw", "kode_desa", "desa", "kecamatan",
          "skema", "desil")
MAX_NAMA, MAX_ALAMAT = 150, 300
REPORT_EVERY = 20_000  # rows between two progress calls
MAPPING_HINT = (", atau petakan kolomnya sekali di halaman Impor (/admin/impor): pemetaan "
                "itu dipakai lagi untuk berkas berjudul sama")
FAST_DESIL = {"", *(str(d) for d in range(1, 11))}

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
    header: list = field(default_factory=list)  # the file's header row, as written
    needs_mapping: bool = False  # required columns not recognised: map them in the browser


def import_register(source, *, skip_invalid: bool = False, progress: Progress | None = None,
                    sumber: str | None = None, sheet: str | None = None,
                    skema: str | None = None) -> ImportResult:
    """Import a recipient list. Nothing is written if any row has a problem, unless
    `skip_invalid`: then the rows without problems are written and the others reported.

    source: a path (CSV or spreadsheet; `sheet` names the sheet, else the first), or a text
    stream of CSV. `sumber` is recorded on each new enrolment (default "impor:<file name>").
    `skema`: the scheme for every row of a short list (NIK and name) that names none.
    """
    if sumber is None and isinstance(source, str | os.PathLike):
        sumber = f"impor:{os.path.basename(source)}"
    report = progress or (lambda phase, done, total: None)
    result = ImportResult()
    try:
        with apply.staged() as stage, apply.session():
            with open_table(source, sheet, header_test("penerima")) as reader:
                result.header = reader.header
                columns = Columns("penerima", reader.header)
                problem = columns.problem(MAPPING_HINT)
                if problem:
                    result.needs_mapping = True
                    result.problems.append(Problem(reader.header_line, problem))
                    checked = False
                elif "kode_desa" in columns or "desa" in columns:
                    checked = _read(reader, columns, result, report, stage)
                else:
                    checked = shortlist.read(reader, columns, result, report, skema, stage)
            if checked:
                stage.index()
                stage.remove_lines(bulk.drop_duplicates(stage, result)
                                   + _family_desils(stage, result))
                apply.apply_and_write(stage, result, report, skip_invalid=skip_invalid,
                                      sumber=sumber or "impor",
                                      update_alamat="alamat" in columns or "rt" in columns)
    except (TableError, Busy) as exc:
        result.problems.append(Problem(0, str(exc)))
    except Cancelled:
        result.cancelled, result.written = True, False
    result.finish()
    return result


def recover() -> bool:
    """Roll back an import that died while writing (apply.recover); the worker calls it first."""
    return apply.recover()


def _read(reader, columns: Columns, result: ImportResult, report, stage) -> bool:
    """Check every row of a full list in file order; each valid row goes to the stage."""
    regions = Regions()
    schemes = bulk.schemes()
    active = {kode for kode, aktif in schemes.items() if aktif}
    village_of = {code: code for code in regions.villages}
    village_of.update({code.replace(".", ""): code for code in regions.villages})
    by_code = "kode_desa" in columns
    rt_rw = "rt" in columns or "rw" in columns
    pick = itemgetter(*(columns.index.get(f, len(reader.header)) for f in FIELDS))
    valid_dates: set[str] = set()  # DDMMYY parts of NIKs that parse_nik accepted
    add, problems = stage.add, result.problems
    for first, fields in reader.records(problems, report, REPORT_EVERY):
        fields.append("")  # what a field the file does not have reads
        nik, no_kk, nama, alamat, rt, rw, kode, desa, kec, skema, desil = pick(fields)
        nama, alamat = nama.strip(), alamat.strip()
        if rt_rw:
            alamat = with_rt_rw(alamat, rt, rw)
        code = village_of.get(kode) if by_code else regions.resolve("", desa, kec)[0]
        if not (NIK_SHAPE(nik) and nik[6:12] in valid_dates and KK_SHAPE(no_kk)
                and nama and len(nama) <= MAX_NAMA and len(alamat) <= MAX_ALAMAT
                and code and (not skema or skema in active) and desil in FAST_DESIL):
            nik, no_kk, code, skema, desil, messages = _check_row(
                nik, no_kk, nama, alamat, (kode, desa, kec), skema, desil, regions, schemes)
            if messages:
                problems.extend(Problem(first, message) for message in messages)
                continue
            valid_dates.add(nik[6:12])
        add((first, nik, no_kk, skema, code, nama, alamat, desil, 1, 0))
    result.rows = count = reader.count
    report("membaca", count, count)
    return True


def with_rt_rw(alamat: str, rt: str, rw: str) -> str:
    """`Jl. Mawar 1` with RT 1 and RW 2 -> `Jl. Mawar 1 RT 001 RW 002`."""
    parts = [alamat] if alamat else []
    for label, value in (("RT", rt.strip()), ("RW", rw.strip())):
        if value:
            parts.append(f"{label} {value.zfill(3) if value.isdigit() else value}")
    return " ".join(parts)


def _check_row(nik, no_kk, nama, alamat, desa, skema, desil, regions, schemes):
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
    code, problem = regions.resolve(*desa)
    if problem:
        messages.append(problem)
    skema = skema.strip().upper()  # empty: a family member who is not enrolled personally
    desil = bulk.scheme_and_desil(skema, desil, schemes, messages)
    return nik, no_kk, code, skema, str(desil or ""), messages


def _family_desils(stage, result: ImportResult) -> list[int]:
    """A later row giving its family another desil than its first row did is a problem;
    returns their lines (to leave out)."""
    removed = []
    for line, card, first, desil in stage.other_desils():
        removed.append(line)
        result.problems.append(Problem(
            line, f"Keluarga ini (No. KK {card}) sudah diberi desil {desil} di baris {first}; "
                  "satu keluarga hanya punya satu desil."))
    return removed
