"""Bulk changes to the register for the import: the rules applied row by row with facts read in
bulk, then one transaction of DB-API executemany calls (never a Peewee object per row).

Rows and candidates come from recipients._read as compact strings (fields joined by SEP):
rows "NIK|LINE|NO_KK|SKEMA|DESA|NAMA|ALAMAT", sorted by NIK (None for a removed duplicate);
candidates "NO_KK|LINE|NIK|SKEMA", sorted by family card then line. LINE is LINE_BASE + line.
"""
from __future__ import annotations

from contextlib import contextmanager
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from peewee import IntegrityError, SqliteDatabase

import models

SEP = "\x1f"  # the unit separator: whitespace to str.split(), so never inside a cleaned field
LINE_BASE = 1_000_000_000  # lines are stored as LINE_BASE + line: ten digits, sortable as text
BATCH = 20_000  # rows per executemany call, and per progress call
FACT_CHUNK = 300  # family cards per bulk query (SQLite before 3.32 allows 999 parameters)
# Above this many rows, and when the file is at least as big as the register, SQLite's
# non-unique indexes on penduduk are dropped and rebuilt by sorting inside the transaction.
REBUILD_AT = 50_000


class Problem(NamedTuple):
    """A problem with one line of the file (1 = the header), or with the whole file (0)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"Baris {self.line}: {self.message}" if self.line else self.message


class Cancelled(Exception):
    """Raised inside the import when the progress callback asks to stop."""


def apply_and_write(rows: list, candidates: list[str], result, report, *, skip_invalid: bool,
                    sumber: str) -> None:
    """Apply the rules, then write, all in one transaction; adds problems and counts to
    `result`. With problems and not `skip_invalid`, nothing is written."""
    try:
        with _bulk_session(), models.db.atomic():
            enrolments, refused = _apply_rules(candidates, result, report)
            if result.problems and not skip_invalid:
                return
            _write(rows, enrolments, refused, result, report, sumber)
    except IntegrityError:
        # PostgreSQL only (SQLite holds the write lock throughout): a reviewer enrolled one of
        # these people or families between our check and our write. The unique indexes held.
        result.written = False
        result.problems.append(Problem(0, "Data penerima berubah selama impor (ada pendaftaran "
                                          "baru oleh petugas). Tidak ada yang disimpan; "
                                          "jalankan impor sekali lagi."))
    except Cancelled:
        result.written = False
        raise


def _apply_rules(candidates: list[str], result, report):
    """models.enrolment_conflict for every row that names a scheme, in file order per card:
    against the register (read in bulk per chunk of cards) and the rows accepted before it.

    Returns (enrolments as (nik, scheme, family card or None), refused stored line numbers).
    """
    units = dict(models.Scheme.select(models.Scheme.kode, models.Scheme.satuan).tuples())
    enrolments, refused = [], set()
    register_has_any = models.db.execute_sql(
        "SELECT 1 FROM kepesertaan WHERE berakhir IS NULL LIMIT 1").fetchone() is not None
    done = 0
    for chunk in _chunks(candidates):
        own, family_of, members_of = _facts(chunk) if register_has_any else ({}, {}, {})
        for card, group in groupby(chunk, key=itemgetter(slice(0, 16))):
            family = family_of.get(card)  # (scheme, nik, line in this file, or 0)
            members = list(members_of.get(card, ()))  # [(nik, scheme, line or 0)]
            for candidate in group:
                _, at, nik, skema = candidate.split(SEP)
                line = int(at) - LINE_BASE
                if own.get(nik) == skema:
                    result.already_enrolled += 1  # re-import: nothing to do
                    continue
                unit = units[skema]
                covering = family if family and family[1] != nik else None
                member = (next((m for m in members if m[0] != nik), None)
                          if unit == "keluarga" else None)
                problem = models.enrolment_conflict(
                    unit, own.get(nik), covering and covering[0], member and member[:2])
                if problem:
                    source = None if own.get(nik) else (covering or member)
                    if source and source[2]:
                        problem = f"{problem.rstrip('.')} (lihat baris {source[2]})."
                    result.problems.append(Problem(line, problem))
                    refused.add(at)
                    continue
                enrolments.append((nik, skema, card if unit == "keluarga" else None))
                members.append((nik, skema, line))
                if unit == "keluarga":
                    family = (skema, nik, line)
        done += len(chunk)
        if report("memeriksa", done, len(candidates)):
            raise Cancelled
    return enrolments, refused


def _chunks(candidates: list[str]):
    """Slices of about FACT_CHUNK candidates that never split one family card's rows."""
    start = 0
    while start < len(candidates):
        end = min(start + FACT_CHUNK, len(candidates))
        while end < len(candidates) and candidates[end][:16] == candidates[end - 1][:16]:
            end += 1
        yield candidates[start:end]
        start = end


def _facts(chunk: list[str]):
    """What the register already holds for these rows' NIKs and cards: three bulk queries."""
    db = models.db
    cards = sorted({c[:16] for c in chunk})
    niks = sorted({c.split(SEP)[2] for c in chunk})
    if getattr(db.obj, "for_update", False):
        # PostgreSQL: lock the cards' member rows as models.enrol does, so that no reviewer
        # enrols a member of these families between this check and our write.
        db.execute_sql(f"SELECT nik FROM penduduk WHERE no_kk IN ({_marks(cards)}) "
                       "ORDER BY nik FOR UPDATE", cards)
    own = dict(db.execute_sql(
        "SELECT nik, skema_kode FROM kepesertaan WHERE berakhir IS NULL "
        f"AND nik IN ({_marks(niks)})", niks).fetchall())
    family_of = {card: (skema, nik, 0) for card, skema, nik in db.execute_sql(
        "SELECT family_kk, skema_kode, nik FROM kepesertaan WHERE berakhir IS NULL "
        f"AND family_kk IN ({_marks(cards)})", cards)}
    members_of: dict[str, list] = {}
    for card, nik, skema in db.execute_sql(
            "SELECT p.no_kk, e.nik, e.skema_kode FROM penduduk p "
            "JOIN kepesertaan e ON e.nik = p.nik AND e.berakhir IS NULL "
            f"WHERE p.no_kk IN ({_marks(cards)}) ORDER BY e.nik", cards):
        members_of.setdefault(card, []).append((nik, skema, 0))
    return own, family_of, members_of


def _marks(values) -> str:
    return ", ".join([models.db.param] * len(values))


def _write(rows: list, enrolments: list, refused: set, result, report, sumber: str) -> None:
    """Upsert the people in NIK order (a row is rewritten only where something differs), then
    insert the new enrolments."""
    db = models.db
    sqlite = isinstance(db.obj, SqliteDatabase)
    differs = "IS NOT" if sqlite else "IS DISTINCT FROM"
    upsert = (
        f"INSERT INTO penduduk (nik, no_kk, nama, alamat, desa_kode) VALUES ({_marks(range(5))}) "
        "ON CONFLICT (nik) DO UPDATE SET no_kk = excluded.no_kk, nama = excluded.nama, "
        "alamat = excluded.alamat, desa_kode = excluded.desa_kode "
        f"WHERE penduduk.no_kk {differs} excluded.no_kk OR penduduk.nama <> excluded.nama "
        "OR penduduk.alamat <> excluded.alamat OR penduduk.desa_kode <> excluded.desa_kode")
    before = db.execute_sql("SELECT COUNT(*) FROM penduduk").fetchone()[0]
    total = len(rows) - rows.count(None) - len(refused)
    rebuild = (_drop_plain_indexes("penduduk")
               if sqlite and total >= max(REBUILD_AT, before) else [])
    person = itemgetter(0, 2, 5, 6, 4)  # nik, no_kk, nama, alamat, desa of a row's fields
    cursor = db.cursor()
    changed = done = 0
    batch = []
    for row in rows:
        if row is None or (refused and row[17:27] in refused):
            continue
        batch.append(person(row.split(SEP)))
        if len(batch) == BATCH:
            cursor.executemany(upsert, batch)
            changed, done, batch = changed + cursor.rowcount, done + len(batch), []
            if report("menulis", done, total):
                raise Cancelled
    if batch:
        cursor.executemany(upsert, batch)
        changed += cursor.rowcount
    for statement in rebuild:
        db.execute_sql(statement)
    enrolments.sort()
    now, since = models.utcnow().isoformat(sep=" "), models.today().isoformat()
    if enrolments:
        cursor.executemany(
            "INSERT INTO kepesertaan (nik, skema_kode, family_kk, sejak, sumber, created_at) "
            f"VALUES ({_marks(range(6))})",
            [(nik, skema, card, since, sumber[:200], now) for nik, skema, card in enrolments])
    added = db.execute_sql("SELECT COUNT(*) FROM penduduk").fetchone()[0] - before
    result.people_added, result.people_updated = added, changed - added
    result.people_unchanged = total - changed
    result.enrolled = len(enrolments)
    result.written = True
    report("menulis", total, total)


def _drop_plain_indexes(table: str) -> list[str]:
    """SQLite: drop the table's non-unique indexes for a bulk load; returns the statements that
    rebuild them. Unique indexes stay, so no rule is ever off; other connections keep reading
    their snapshot, indexes included, until we commit."""
    found = models.db.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", (table,)).fetchall()
    for name, _sql in found:
        models.db.execute_sql(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


@contextmanager
def _bulk_session():
    """SQLite settings for one bulk transaction, restored afterwards.

    Foreign-key checks are off because they cost a lookup per row and prove nothing here: every
    desa and scheme code was checked against the reference tables, and people are written before
    their enrolments. A bigger page cache keeps the B-trees being filled in memory."""
    db = models.db
    if not isinstance(db.obj, SqliteDatabase) or db.in_transaction():
        yield
        return
    cache = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    keys = db.execute_sql("PRAGMA foreign_keys").fetchone()[0]
    db.execute_sql("PRAGMA foreign_keys = OFF")  # only possible outside a transaction
    db.execute_sql("PRAGMA cache_size = -100000")  # about 100 MB
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = {int(cache)}")
        db.execute_sql(f"PRAGMA foreign_keys = {int(keys)}")
