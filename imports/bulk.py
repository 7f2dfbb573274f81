"""The rules of an import against the register, and what the imports share (problems, cancel,
bulk-session settings for SQLite).

The recipient import's rows are staged in a SQLite file of their own (staging.py): the rules
read the candidates (rows naming a scheme) from it by family card then line, chunk by chunk,
read the register's facts for each chunk in bulk (never a Peewee object per row), and put their
decisions back in the stage (the enrolments to make, the lines refused). Writing them is
apply.py's job.

Every refusal is a problem of a line, on SQLite and PostgreSQL alike: when a write that the
checks passed is refused (the database's unique indexes, or on SQLite a reviewer's enrolment
since the check touching the same NIK or family), it is undone and the rules run again to name
the lines (recheck).

The rice hand-over import (rice/handovers.py) still writes in one transaction with BATCH,
LINE_BASE, SEP, REBUILD_AT and the helpers at the end of this module.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import NamedTuple

from peewee import SqliteDatabase

import models
from imports.staging import KEEP, REFUSED
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


def recheck(stage, report) -> list[Problem]:
    """The rules' problems with the staged rows against the register as it is now (reads only),
    once a write was refused or stopped: they name the lines."""
    found = SimpleNamespace(problems=[], already_enrolled=0)
    with models.db.atomic() if not isinstance(models.db.obj, SqliteDatabase) else nullcontext():
        apply_rules(stage, found, report, keep=False, states=(KEEP, REFUSED))
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


def drop_duplicates(stage, result) -> list[int]:
    """Each later row of a NIK the file holds more than once is a problem; returns their
    lines (to leave out)."""
    removed = []
    for line, first in stage.duplicates():
        removed.append(line)
        result.problems.append(Problem(line, f"NIK ini sudah ada di baris {first}; setiap NIK "
                                             "hanya boleh muncul sekali dalam satu file."))
    return removed


def apply_rules(stage, result, report, *, keep: bool = True, states=(KEEP,)) -> None:
    """models.enrolment_conflict for every staged row that names a scheme, in file order per
    card: against the register (read in bulk per chunk of cards) and the rows accepted before
    it; then the scheme's desil limit for the family's desil (this file's, else the
    register's). With `keep`, the enrolments to make and the lines refused go to the stage.
    """
    units, limits = {}, {}
    for kode, satuan, limit in models.Scheme.select(
            models.Scheme.kode, models.Scheme.satuan, models.Scheme.desil_maks).tuples():
        units[kode], limits[kode] = satuan, limit
    register_has_any = models.db.execute_sql(
        "SELECT 1 FROM kepesertaan WHERE berakhir IS NULL LIMIT 1").fetchone() is not None
    any_limit = any(v is not None for v in limits.values())
    done, total = 0, stage.count_candidates()
    for chunk in _chunks(stage.candidates(states)):
        own, family_of, members_of = _facts(chunk) if register_has_any else ({}, {}, {})
        registered = _desils(chunk) if any_limit else {}
        enrolments, refused = [], []
        for card, group in groupby(chunk, key=itemgetter(0)):
            family = family_of.get(card)  # (scheme, nik, line in this file, or 0)
            members = list(members_of.get(card, ()))  # [(nik, scheme, line or 0)]
            for _card, line, nik, skema, in_file in group:
                desil = int(in_file) if in_file else registered.get(card)
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
                elif limits[skema] is not None:
                    problem = desil_problem(skema, limits[skema], desil)
                if problem:
                    result.problems.append(Problem(line, problem))
                    refused.append(line)
                    continue
                enrolments.append((nik, skema, card, unit == "keluarga"))
                members.append((nik, skema, line))
                if unit == "keluarga":
                    family = (skema, nik, line)
        if keep:
            stage.keep(enrolments, refused)
        done += len(chunk)
        if report("memeriksa", done, total):
            raise Cancelled


def _chunks(candidates):
    """Lists of about FACT_CHUNK candidates (card, line, nik, skema, desil) that never split
    one family card's rows."""
    chunk: list[tuple] = []
    for candidate in candidates:
        if len(chunk) >= FACT_CHUNK and candidate[0] != chunk[-1][0]:
            yield chunk
            chunk = []
        chunk.append(candidate)
    if chunk:
        yield chunk


def _facts(chunk: list[tuple]):
    """What the register already holds for these rows' NIKs and cards: three bulk queries."""
    db = models.db
    cards = sorted({c[0] for c in chunk})
    niks = sorted({c[2] for c in chunk})
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


def _desils(chunk: list[tuple]) -> dict[str, int]:
    """The desil the register holds for these rows' family cards."""
    cards = sorted({c[0] for c in chunk})
    return dict(models.db.execute_sql(
        f"SELECT no_kk, desil FROM desil_keluarga WHERE no_kk IN ({_marks(cards)})", cards))


def _marks(values) -> str:
    return ", ".join([models.db.param] * len(values))


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
def _bulk_session(cache_kib: int = 100_000, mmap: bool = True):
    """SQLite settings for one bulk transaction (or a series of them), restored afterwards.

    Foreign-key checks are off because they cost a lookup per row and prove nothing here: every
    desa and scheme code was checked against the reference tables, and people are written before
    their enrolments. A bigger page cache keeps the B-trees being filled in memory. Without `mmap`
the register is read through that cache only (mapped pages count as the process's memory)."""
    db = models.db
    if not isinstance(db.obj, SqliteDatabase) or db.in_transaction():
        yield
        return
    cache = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    keys = db.execute_sql("PRAGMA foreign_keys").fetchone()[0]
    mapped = db.execute_sql("PRAGMA mmap_size").fetchone()[0]
    db.execute_sql("PRAGMA foreign_keys = OFF")  # only possible outside a transaction
    db.execute_sql(f"PRAGMA cache_size = -{int(cache_kib)}")  # 100_000: about 100 MB
    if not mmap:
        db.execute_sql("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA mmap_size = {int(mapped)}")
        db.execute_sql(f"PRAGMA cache_size = {int(cache)}")
        db.execute_sql(f"PRAGMA foreign_keys = {int(keys)}")
