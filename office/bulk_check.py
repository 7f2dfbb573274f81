"""The bulk check for desa operators: "which of these NIKs already receive something?"

A signed-in petugas or verifikator uploads a list of NIKs (optionally with No. KK), as CSV or a
spreadsheet with headers as people write them; each row gets the answer the public check gives
for that NIK, from the one covering rule (covering.covering): terdaftar, keluarga-terdaftar,
belum-terdaftar, or tidak-valid with nik.parse_nik's message; the scheme and its level, the
name masked as on the public page (formats.mask_name) and the desa. One covering query per row,
a few threads asking at once (see answers()): 50,000 rows take ~2.5 s on SQLite with 2,000,000
people (bench/bench_bulk_check.py).

The answers are written as a CSV file (NIK and No. KK as `="…"`, like every export, so it reads
back into the imports and into this check) in a folder of the caller's choosing, with a small
summary beside it; the page and the downloads read them from there. Results hold personal data:
they are removed after KEEP_SECONDS.
"""
from __future__ import annotations

import csv
import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

from covering import covering
from database import db, replica
from formats import mask_name, number
from imports.bulk import Problem
from imports.headers import Columns, header_test
from imports.readers import NIK_SHAPE, TableError, open_table, unwrap
from nik import NikError, clean, parse_nik, parse_no_kk
from office.exports import BOM, SafeWriter, spreadsheet_row

COLUMNS = ("baris", "nik", "no_kk", "status", "keterangan", "skema", "nama_skema", "tingkat",
           "nama", "desa")
STATUSES = {
    "terdaftar": "Sudah menerima bantuan",
    "keluarga-terdaftar": "Keluarganya sudah menerima bantuan",
    "belum-terdaftar": "Belum menerima bantuan",
    "tidak-valid": "NIK tidak valid",
}
KEEP_SECONDS = 3600
THREADS, SLICE = 4, 2000  # covering queries asked at once; rows per task
TOKEN_BYTES = 12


@dataclass
class Summary:
    """What a bulk check found, kept beside its answers."""

    filename: str
    owner: int  # the account that asked: the only one that may see the answers
    rows: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    problem: str = ""  # why the file could not be checked (then there are no answers)
    seconds: float = 0.0


def answer(nik: str, no_kk: str = "") -> list[str]:
    """The public check's answer for one row: [nik, no_kk, status, message, scheme, scheme
    name, level, masked name, desa]."""
    nik, no_kk = clean(nik), clean(no_kk)
    try:
        if not NIK_SHAPE(nik):
            nik = parse_nik(nik).nik  # raises with the precise message
        else:
            parse_nik(nik)  # the birth date part
        if no_kk:
            no_kk = parse_no_kk(no_kk)
    except NikError as exc:
        return [nik, no_kk, "tidak-valid", str(exc), "", "", "", "", ""]
    cov = covering(nik, no_kk or None, read_only=True)
    if cov.status == "terdaftar":
        message = f"Terdaftar di {cov.skema_nama} ({cov.skema}), bantuan tingkat {cov.level_label}."
    elif cov.status == "keluarga-terdaftar":
        message = (f"Keluarganya (No. KK yang sama) terdaftar di {cov.skema_nama} ({cov.skema}), "
                   f"bantuan tingkat {cov.level_label}.")
    else:
        message = "Belum terdaftar sebagai penerima bansos."
    return [nik, no_kk, cov.status, message, cov.skema or "", cov.skema_nama or "",
            cov.level_label, mask_name(cov.nama), cov.desa or ""]


def answers(asked: list[tuple[int, str, str]]) -> list[list[str]]:
    """The answer of every (line, NIK, No. KK), in order. The covering queries are independent
    reads, so THREADS threads ask them at once, each on a connection of its own (on
    PostgreSQL a query costs a network round trip, which the threads overlap)."""
    if len(asked) < 2 * SLICE:
        return _answer_slice(asked, close=False)
    slices = [asked[i:i + SLICE] for i in range(0, len(asked), SLICE)]
    with ThreadPoolExecutor(THREADS) as pool:
        return [row for rows in pool.map(_answer_slice, slices) for row in rows]


def _answer_slice(asked: list[tuple[int, str, str]], close: bool = True) -> list[list[str]]:
    try:
        return [answer(nik, no_kk) for _line, nik, no_kk in asked]
    finally:
        if close:  # a pool thread's own connection(s): back to the pool, or closed
            for database in (db, replica):
                if database.obj is not None and not database.is_closed():
                    database.close()


def run(source: str | os.PathLike, folder: Path, filename: str, owner: int, *,
        sheet: str | None = None, max_rows: int = 50_000) -> tuple[str, Summary]:
    """Check every row of the file; returns (token, summary). The answers are in
    folder/<token>.csv, the summary beside them."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    forget_old(folder)
    token = secrets.token_hex(TOKEN_BYTES)
    summary = Summary(filename=filename[:200], owner=owner)
    started = time.perf_counter()
    target = folder / f"{token}.csv"
    try:
        with open_table(source, sheet, header_test("cek")) as reader, \
                open(target, "w", encoding="utf-8", newline="") as out:
            columns = Columns("cek", reader.header)
            problem = columns.problem()
            if problem:
                raise TableError(str(Problem(reader.header_line, problem)))
            nik_at, kk_at = columns.index["nik"], columns.index.get("no_kk")
            out.write(BOM)
            writer = SafeWriter(out)
            writer.writerow(COLUMNS)
            asked = []
            records = reader.records([], lambda *a: None, 1 << 30)
            for count, (line, fields) in enumerate(records, 1):
                if count > max_rows:
                    raise TableError(f"Berkas ini berisi lebih dari {number(max_rows)} baris; "
                                     "bagi menjadi beberapa berkas.")
                asked.append((line, fields[nik_at], fields[kk_at] if kk_at is not None else ""))
            counts = summary.counts
            for line, row in zip((a[0] for a in asked), answers(asked), strict=True):
                counts[row[2]] += 1
                writer.writerow(spreadsheet_row([line, *row], {1, 2}))
            summary.rows = len(asked)
    except (TableError, UnicodeDecodeError) as exc:
        target.unlink(missing_ok=True)
        summary.problem = (str(exc) if isinstance(exc, TableError) else
                           "Berkas CSV ini bukan teks UTF-8. Simpan ulang sebagai “CSV UTF-8”, "
                           "atau unggah spreadsheet-nya langsung (.xlsx, .xls, .ods).")
        summary.counts = dict.fromkeys(STATUSES, 0)
    summary.seconds = round(time.perf_counter() - started, 3)
    (folder / f"{token}.json").write_text(json.dumps(asdict(summary)), encoding="utf-8")
    return token, summary


def valid_token(token: str) -> bool:
    return len(token) == 2 * TOKEN_BYTES and all(c in "0123456789abcdef" for c in token)


def summary_of(folder: Path, token: str, owner: int) -> Summary | None:
    """The summary of this account's recent check, or None (unknown, someone else's, expired)."""
    path = folder / f"{token}.json"
    if not valid_token(token) or not path.exists() or _expired(path):
        return None
    summary = Summary(**json.loads(path.read_text(encoding="utf-8")))
    return summary if summary.owner == owner else None


def answers_path(folder: Path, token: str) -> Path:
    return folder / f"{token}.csv"


def first_answers(folder: Path, token: str, limit: int) -> list[list[str]]:
    """The first answers, as the page shows them (the `="…"` of the file unwrapped)."""
    path = answers_path(folder, token)
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)
        return [[unwrap(c) for c in row] for row in islice(rows, limit)]


def all_answers(folder: Path, token: str):
    """Every answer as plain values (for the .xlsx download)."""
    with open(answers_path(folder, token), encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)
        for row in rows:
            yield [int(row[0]), *(unwrap(c) for c in row[1:])]


def _expired(path: Path) -> bool:
    return time.time() - path.stat().st_mtime > KEEP_SECONDS


def forget_old(folder: Path) -> None:
    """Answers hold personal data: remove every result older than KEEP_SECONDS."""
    for path in folder.glob("*.*"):
        try:
            if _expired(path):
                path.unlink()
        except FileNotFoundError:
            pass
