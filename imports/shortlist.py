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
from imports.bulk import LINE_BASE, SEP, Problem
from imports.headers import Columns
from imports.readers import NIK_SHAPE
from nik import NikError, parse_nik

FIELDS = ("nik", "nama", "skema", "desil")
CHUNK = 500  # NIKs per query against the register
NO_CARD = "0" * 16  # the card of a person the register knows without one (individual schemes)
REPORT_EVERY = 20_000


def name_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def read(reader, columns: Columns, result, report, skema: str | None):
    """Check every row and look each NIK up in the register; (rows, candidates, desils) as
    recipients._read returns them (no rows: people are not changed), or None."""
    default = (skema or "").strip().upper()
    if "skema" not in columns and not default:
        result.problems.append(Problem(0, "Daftar ini hanya berisi NIK dan nama: pilih skema "
                                          "bantuan untuk seluruh daftar, lalu impor lagi."))
        return None
    known = bulk.schemes()
    if default and bulk.scheme_problem(default, known):
        result.problems.append(Problem(0, bulk.scheme_problem(default, known)))
        return None
    pick = itemgetter(*(columns.index.get(f, len(reader.header)) for f in FIELDS))
    problems, pending, keys = result.problems, [], []
    candidates, desils = [], []
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
        keys.append(f"{nik}{SEP}{LINE_BASE + line}")
        pending.append((line, nik, nama, row_scheme, desil))
        if len(pending) == CHUNK:
            _against_register(pending, problems, candidates, desils)
            pending = []
    _against_register(pending, problems, candidates, desils)
    removed = bulk.drop_duplicates(keys, result)
    result.rows = count = reader.count
    report("membaca", count, count)
    candidates = [c for c in candidates if c[17:27] not in removed]
    return [], candidates, [d for d in desils if d[17:27] not in removed]


def _against_register(pending: list[tuple], problems: list, candidates: list,
                      desils: list) -> None:
    if not pending:
        return
    niks = sorted({p[1] for p in pending})
    found = {nik: (nama, no_kk) for nik, nama, no_kk in models.db.execute_sql(
        "SELECT nik, nama, no_kk FROM penduduk WHERE nik IN "
        f"({', '.join([models.db.param] * len(niks))})", niks)}
    units = dict(models.Scheme.select(models.Scheme.kode, models.Scheme.satuan).tuples())
    for line, nik, nama, skema, desil in pending:
        person = found.get(nik)
        if person is None:
            problems.append(Problem(line, "NIK ini belum ada di data penduduk. Daftar berisi NIK "
                                          "dan nama saja hanya mendaftarkan penduduk yang sudah "
                                          "tercatat; untuk orang baru pakai daftar lengkap "
                                          "(dengan No. KK dan desa)."))
            continue
        registered, card = person
        if name_key(registered) != name_key(nama):
            problems.append(Problem(line, f"Nama di berkas “{' '.join(nama.split())}” berbeda "
                                          f"dengan nama di data penduduk “{registered}”. "
                                          "Periksa NIK dan nama orang ini; baris ini tidak "
                                          "didaftarkan sebelum diperiksa."))
            continue
        if not card and units.get(skema) == "keluarga":
            problems.append(Problem(line, f"No. KK orang ini belum tercatat di data penduduk, "
                                          f"padahal {skema} skema keluarga: impor dulu daftar "
                                          "lengkap dengan No. KK-nya."))
            continue
        at = str(LINE_BASE + line)
        candidates.append(SEP.join((card or NO_CARD, at, nik, skema)))
        if desil is not None and card:
            desils.append(SEP.join((card, at, str(desil))))
