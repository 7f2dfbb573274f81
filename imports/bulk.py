"""Bulk changes to the register for the import: the rules applied row by row with facts read in
bulk, then one transaction of DB-API executemany calls (never a Peewee object per row).

Rows and candidates come from recipients._read as compact strings (fields joined by SEP):
rows "NIK|LINE|NO_KK|SKEMA|DESA|NAMA|ALAMAT", sorted by NIK (None for a removed duplicate);
candidates "NO_KK|LINE|NIK|SKEMA", sorted by family card then line; desils "NO_KK|LINE|DESIL",
sorted by card (one per card). LINE is LINE_BASE + line.

Every refusal is a problem of a line, on SQLite and PostgreSQL alike: when the database's
unique indexes refuse a write that the checks passed (a reviewer enrolled someone meanwhile),
the transaction is rolled back and the rules run again to name the lines (recheck).
"""
from __future__ import annotations

from contextlib import contextmanager
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import NamedTuple

import peewee
from peewee import IntegrityError, SqliteDatabase

import models
from office.desil import desil_problem, parse_desil

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
                    sumber: str, desils: list[str] = (), update_alamat: bool = True) -> None:
    """Apply the rules, then write, all in one transaction; adds problems and counts to
    `result`. With problems and not `skip_invalid`, nothing is written."""
    try:
        _apply_and_write(rows, candidates, desils, result, report, skip_invalid, sumber,
                         update_alamat)
    except IntegrityError:
        # A reviewer enrolled one of these people or families between our check and our write
        # (PostgreSQL; SQLite holds the write lock throughout). The unique indexes held and
        # nothing was written: the rules, run again, now name the lines.
        result.written = False
        found = recheck(candidates, desils, report)
        result.problems.extend(found or [Problem(
            0, "Data penerima berubah selama impor (ada pendaftaran baru oleh petugas). Tidak "
               "ada yang disimpan; jalankan impor sekali lagi.")])
    except Cancelled:
        result.written = False
        raise


def _apply_and_write(rows, candidates, desils, result, report, skip_invalid, sumber,
                     update_alamat) -> None:
    # The wrapper turns the driver's errors on raw cursors into Peewee's (IntegrityError).
    with _bulk_session(), models.db.atomic(), peewee.__exception_wrapper__:
        enrolments, refused = _apply_rules(candidates, desils, result, report)
        if result.problems and not skip_invalid:
            return
        _write(rows, enrolments, refused, result, report, sumber, update_alamat)
        _write_desils(desils, refused, sumber)


def recheck(candidates: list[str], desils: list[str], report) -> list[Problem]:
    """The rules' problems with these rows against the register as it is now (read only)."""
    found = SimpleNamespace(problems=[], already_enrolled=0)
    with models.db.atomic():
        _apply_rules(candidates, desils, found, report)
    return found.problems


def schemes() -> dict[str, bool]:
    """Every scheme's code and whether it takes new enrolments."""
    return dict(models.Scheme.select(models.Scheme.kode, models.Scheme.aktif).tuples())


def scheme_problem(skema: str, known: dict[str, bool]) -> str | None:
    """Why a row may not name this scheme (unknown, or no longer taking anyone), or None."""
    if skema not in known:
        return (f"Skema {skema} tidak dikenal. Skema yang ada: "
                + ", ".join(sorted(k for k, aktif in known.items() if aktif)) + ".")
    if not known[skema]:
        return f"Skema {skema} sudah tidak aktif: tidak menerima peserta baru."
    return None


def scheme_and_desil(skema: str, desil: str, known: dict[str, bool],
                     messages: list[str]) -> int | None:
    """The checks of a row's scheme (when it names one) and desil; adds their messages and
    returns the desil (None when empty or wrong)."""
    problem = scheme_problem(skema, known) if skema else None
    if problem:
        messages.append(problem)
    try:
        return parse_desil(desil)
    except ValueError as exc:
        messages.append(str(exc))
        return None


def drop_duplicates(rows: list, result) -> set[str]:
    """Sort rows ("NIK|LINE|...") by NIK, then line; each later row of a NIK becomes a problem
    and is removed (set to None). Returns the stored line numbers removed."""
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


def _apply_rules(candidates: list[str], desils: list[str], result, report):
    """models.enrolment_conflict for every row that names a scheme, in file order per card:
    against the register (read in bulk per chunk of cards) and the rows accepted before it;
    then the scheme's desil limit for the family's desil (this file's, else the register's).

    Returns (enrolments as (nik, scheme, family card or None), refused stored line numbers).
    """
    units, limits = {}, {}
    for kode, satuan, limit in models.Scheme.select(
            models.Scheme.kode, models.Scheme.satuan, models.Scheme.desil_maks).tuples():
        units[kode], limits[kode] = satuan, limit
    in_file = {d[:16]: int(d[28:]) for d in desils}
    enrolments, refused = [], set()
    register_has_any = models.db.execute_sql(
        "SELECT 1 FROM kepesertaan WHERE berakhir IS NULL LIMIT 1").fetchone() is not None
    any_limit = any(v is not None for v in limits.values())
    done = 0
    for chunk in _chunks(candidates):
        own, family_of, members_of = _facts(chunk) if register_has_any else ({}, {}, {})
        registered = _desils(chunk) if any_limit else {}
        for card, group in groupby(chunk, key=itemgetter(slice(0, 16))):
            family = family_of.get(card)  # (scheme, nik, line in this file, or 0)
            members = list(members_of.get(card, ()))  # [(nik, scheme, line or 0)]
            desil = in_file.get(card, registered.get(card))
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
                if not problem and limits[skema] is not None:
                    problem = desil_problem(skema, limits[skema], desil)
                    if problem:
                        result.problems.append(Problem(line, problem))
                        refused.add(at)
                        continue
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


def _desils(chunk: list[str]) -> dict[str, int]:
    """The desil the register holds for these rows' family cards."""
    cards = sorted({c[:16] for c in chunk})
    return dict(models.db.execute_sql(
        f"SELECT no_kk, desil FROM desil_keluarga WHERE no_kk IN ({_marks(cards)})", cards))


def _marks(values) -> str:
    return ", ".join([models.db.param] * len(values))


def _write(rows: list, enrolments: list, refused: set, result, report, sumber: str,
           update_alamat: bool = True) -> None:
    """Upsert the people in NIK order (a row is rewritten only where something differs), then
    insert the new enrolments. Without an address column the register's addresses stay."""
    db = models.db
    sqlite = isinstance(db.obj, SqliteDatabase)
    differs = "IS NOT" if sqlite else "IS DISTINCT FROM"
    alamat = ("alamat = excluded.alamat, ", "OR penduduk.alamat <> excluded.alamat ") \
        if update_alamat else ("", "")
    upsert = (
        f"INSERT INTO penduduk (nik, no_kk, nama, alamat, desa_kode) VALUES ({_marks(range(5))}) "
        f"ON CONFLICT (nik) DO UPDATE SET no_kk = excluded.no_kk, nama = excluded.nama, "
        f"{alamat[0]}desa_kode = excluded.desa_kode "
        f"WHERE penduduk.no_kk {differs} excluded.no_kk OR penduduk.nama <> excluded.nama "
        f"{alamat[1]}OR penduduk.desa_kode <> excluded.desa_kode")
    before = db.execute_sql("SELECT COUNT(*) FROM penduduk").fetchone()[0] if rows else 0
    total = sum(1 for row in rows if row is not None and row[17:27] not in refused)
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
    added = (db.execute_sql("SELECT COUNT(*) FROM penduduk").fetchone()[0] - before
             if rows else 0)
    result.people_added, result.people_updated = added, changed - added
    result.people_unchanged = total - changed
    result.enrolled = len(enrolments)
    result.written = True
    report("menulis", total, total)


def _write_desils(desils: list[str], refused: set, sumber: str) -> None:
    """Each family's desil from this file (rows refused by the rules give none)."""
    rows = [(d[:16], int(d[28:]), sumber[:200], models.utcnow()) for d in desils
            if d[17:27] not in refused]
    if not rows:
        return
    models.db.cursor().executemany(
        "INSERT INTO desil_keluarga (no_kk, desil, sumber, diperbarui_at) "
        f"VALUES ({_marks(range(4))}) ON CONFLICT (no_kk) DO UPDATE SET desil = excluded.desil, "
        "sumber = excluded.sumber, diperbarui_at = excluded.diperbarui_at "
        "WHERE desil_keluarga.desil <> excluded.desil", rows)


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
