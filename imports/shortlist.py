"""Short lists: NIK and name only (a desa operator's list), enrolling people already in the
register in the scheme of the row, or the one chosen for the whole upload.

A NIK the register does not hold is a problem of its line: a short list cannot add people (a
full list with No. KK and desa can). A name that differs from the register's (letters and digits
compared, case, spaces and punctuation aside) is a problem too, for a person to look at: a
mistyped NIK must not enrol somebody else. The family card comes from the register, so the
family rule and the desil limits apply as for any list (bulk.py).
"""
from __future__ import annotations

import re
from operator import itemgetter

import models
from imports import bulk
from imports.bulk import Problem
from imports.headers import Columns
from imports.readers import NIK_SHAPE
from imports.staging import KEEP, TOLD
from nik import NikError, parse_nik

FIELDS = ("nik", "nama", "skema", "desil")
CHUNK = 500  # NIKs per query against the register
NO_CARD = "0" * 16  # the card of a person the register knows without one (individual schemes)
REPORT_EVERY = 20_000


def name_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def read(reader, columns: Columns, result, report, skema: str | None, stage) -> bool:
    """Check every row and look each NIK up in the register; each row that passes goes to the
    stage to enrol its person (people themselves are not changed). False: nothing to do."""
    default = (skema or "").strip().upper()
    if "skema" not in columns and not default:
        result.problems.append(Problem(0, "Daftar ini hanya berisi NIK dan nama: pilih skema "
                                          "bantuan untuk seluruh daftar, lalu impor lagi."))
        return False
    known = bulk.schemes()
    if default and bulk.scheme_problem(default, known):
        result.problems.append(Problem(0, bulk.scheme_problem(default, known)))
        return False
    pick = itemgetter(*(columns.index.get(f, len(reader.header)) for f in FIELDS))
    problems, pending = result.problems, []
    for line, fields in reader.records(problems, report, REPORT_EVERY):
        fields.append("")
        nik, nama, row_scheme, desil = pick(fields)
        messages = []
        if not NIK_SHAPE(nik):
            try:
                nik = parse_nik(nik).nik
            except NikError as exc:
                messages.append(str(exc))
        if not nama.strip():
            messages.append("Nama wajib diisi: nama dicocokkan dengan data penduduk.")
        row_scheme = row_scheme.strip().upper() or default
        if not row_scheme:
            messages.append("Skema wajib diisi, atau pilih skema untuk seluruh daftar.")
        desil = bulk.scheme_and_desil(row_scheme, desil, known, messages)
        if messages:
            problems.extend(Problem(line, m) for m in messages)
            continue
        pending.append((line, nik, nama, row_scheme, desil))
        if len(pending) == CHUNK:
            _against_register(pending, problems, stage)
            pending = []
    _against_register(pending, problems, stage)
    result.rows = count = reader.count
    report("membaca", count, count)
    return True


def _against_register(pending: list[tuple], problems: list, stage) -> None:
    """Look the rows' NIKs up; a row refused here stays in the stage as TOLD (its NIK still
    counts for the duplicate check), the others as (card or NO_CARD, scheme, the desil when
    the family card is known)."""
    if not pending:
        return
    niks = sorted({p[1] for p in pending})
    found = {nik: (nama, no_kk) for nik, nama, no_kk in models.db.execute_sql(
        "SELECT nik, nama, no_kk FROM penduduk WHERE nik IN "
        f"({', '.join([models.db.param] * len(niks))})", niks)}
    units = dict(models.Scheme.select(models.Scheme.kode, models.Scheme.satuan).tuples())
    for line, nik, nama, skema, desil in pending:
        person = found.get(nik)
        problem = _problem(nama, skema, person, units)
        if problem:
            problems.append(Problem(line, problem))
            stage.add((line, nik, NO_CARD, "", "", nama, "", "", 0, TOLD))
            continue
        card = person[1]
        desil = "" if desil is None or not card else str(desil)
        stage.add((line, nik, card or NO_CARD, skema, "", nama, "", desil, 0, KEEP))


def _problem(nama: str, skema: str, person: tuple | None, units: dict) -> str | None:
    """Why a short list's row may not enrol the person the register holds (or not), or None."""
    if person is None:
        return ("NIK ini belum ada di data penduduk. Daftar berisi NIK dan nama saja hanya "
                "mendaftarkan penduduk yang sudah tercatat; untuk orang baru pakai daftar "
                "lengkap (dengan No. KK dan desa).")
    registered, card = person
    if name_key(registered) != name_key(nama):
        return (f"Nama di berkas “{' '.join(nama.split())}” berbeda dengan nama di data "
                f"penduduk “{registered}”. Periksa NIK dan nama orang ini; baris ini tidak "
                "didaftarkan sebelum diperiksa.")
    if not card and units.get(skema) == "keluarga":
        return (f"No. KK orang ini belum tercatat di data penduduk, padahal {skema} skema "
                "keluarga: impor dulu daftar lengkap dengan No. KK-nya.")
    return None
