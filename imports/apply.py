"""Writing a checked import into the register, from its staging file (staging.py).

SQLite (the default): in steps of staging.STEP rows, each a short transaction of its own (a
few to a few tens of milliseconds), followed by a pause of half its time (YIELD), so that
SQLite's one write lock is free between them and a resident's report or a reviewer's decision
goes through while a 2,000,000-row list is written (a report's p99 39 ms in
bench_import_live.py, against ~500 ms with no pause: a waiting writer's busy handler polls and
rarely hits the instant between two steps).
All or nothing stays: before a step commits, its undo entries are committed to the staging
file (the before-image of each person and family desil it changes, the ids of the enrolments
it inserts); on any failure, on a cancel, or when a reviewer's enrolment since the check touches
a NIK or family card of a step (Changed), every step written is undone from that journal. A
process killed while writing leaves the journal behind: `recover()` (the import command and the
worker call it first, through `staged()`) undoes it before anything else.

An undo entry is applied only where the register still holds what the import wrote, so a change
a reviewer made meanwhile is never overwritten; a person the import added is removed only while
no enrolment names them (a reviewer may have enrolled them meanwhile: they stay).

PostgreSQL: a transaction does not hold back other writers there, so the check and the write
stay one transaction (bulk.py locks the families' rows FOR UPDATE as models.enrol does), written
by the same steps without a journal; a failure rolls the whole of it back.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from contextlib import contextmanager

import peewee
from peewee import IntegrityError, SqliteDatabase

import models
from imports import bulk, staging
from imports.bulk import Cancelled, Problem, _bulk_session, _marks
from imports.staging import Staging

log = logging.getLogger(__name__)

UPSERT = ("INSERT INTO penduduk (nik, no_kk, nama, alamat, desa_kode) VALUES ({}) "
          "ON CONFLICT (nik) DO UPDATE SET no_kk = excluded.no_kk, nama = excluded.nama, "
          "alamat = excluded.alamat, desa_kode = excluded.desa_kode")
DESIL_UPSERT = ("INSERT INTO desil_keluarga (no_kk, desil, sumber, diperbarui_at) VALUES ({}) "
                "ON CONFLICT (no_kk) DO UPDATE SET desil = excluded.desil, "
                "sumber = excluded.sumber, diperbarui_at = excluded.diperbarui_at")
NONE = (None,) * 8  # an insert's undo entry: the NIK alone
# After each step the lock stays free for this share of the step's time (the write takes ~1.5x
# as long; IMPORT_YIELD=0 for an import with nobody else writing).
YIELD = float(os.environ.get("IMPORT_YIELD", "0.5"))
CACHE_KIB = 48_000  # the register's page cache during an import (memory stays flat)
CHANGED = ("Data penerima berubah selama impor (ada pendaftaran baru oleh petugas). Tidak ada "
           "yang disimpan; jalankan impor sekali lagi.")


class Changed(Exception):
    """A reviewer's enrolment since the check touches a NIK or family card this import enrols."""


def is_sqlite() -> bool:
    return isinstance(models.db.obj, SqliteDatabase)


def _register_file() -> str | None:
    return models.db.obj.database if is_sqlite() else None


@contextmanager
def staged():
    """A fresh staging file for one import, under the register's import lock (staging.Busy when
    another import holds it), after rolling back whatever a dead import left. Removed on
    leaving, unless its journal could not be undone (the next import then does it)."""
    path, lock_path = staging.place(_register_file())
    fd = staging.lock(lock_path, staging.LOCK_WAIT)
    try:
        _recover(path)
        stage = Staging(path)
        try:
            yield stage
        finally:
            left = stage.state() == "menulis"
            stage.close()
            if not left:
                staging.remove(path)
    finally:
        staging.unlock(fd)


def recover() -> bool:
    """Roll back an import that died while writing (kill -9, power cut); True if one was found.
    Does nothing while another import runs."""
    path, lock_path = staging.place(_register_file())
    if lock_path is None:
        staging.remove(path)
        return False
    try:
        fd = staging.lock(lock_path)
    except staging.Busy:
        return False
    try:
        return _recover(path)
    finally:
        staging.unlock(fd)


def _recover(path) -> bool:
    if not path.exists():
        return False
    try:
        stage = Staging(path)
    except sqlite3.DatabaseError:  # not a database: no journal can be in it
        log.warning("impor: berkas staging rusak dibuang (%s)", path)
        staging.remove(path)
        return False
    try:
        found = stage.state() == "menulis"
        if found:
            log.warning("impor terputus saat menulis: perubahannya dibatalkan (%s)", path)
            undo(stage)
    finally:
        stage.close()
    staging.remove(path)
    return found


# --- checking, then writing -------------------------------------------------------------------

def session():
    """SQLite settings for the whole import (bulk._bulk_session): a bounded page cache, no mmap."""
    return _bulk_session(CACHE_KIB, mmap=False)


def apply_and_write(stage: Staging, result, report, *, skip_invalid: bool, sumber: str,
                    update_alamat: bool = True) -> None:
    """Apply the rules, then write: all or nothing. Adds problems and counts to `result`; with
    problems and not `skip_invalid`, nothing is written. SQLite: the rules read only, then the
    write in steps; PostgreSQL: both in one transaction."""
    try:
        if is_sqlite():
            mark = enrolment_mark()
            if _rules(stage, result, report, skip_invalid):
                write_in_steps(stage, result, report, sumber, update_alamat, mark)
        else:
            with models.db.atomic(), peewee.__exception_wrapper__:
                if _rules(stage, result, report, skip_invalid):
                    write(stage, result, report, sumber, update_alamat)
    except (IntegrityError, Changed):
        # A reviewer enrolled one of these people or families between our check and our write:
        # everything written is undone (or rolled back); the rules, run again, name the lines.
        result.written = False
        result.problems.extend(bulk.recheck(stage, report) or [Problem(0, CHANGED)])
    except Cancelled:
        result.written = False
        raise


def _rules(stage: Staging, result, report, skip_invalid: bool) -> bool:
    """The rules' decisions into the stage; True if there is something to write."""
    bulk.apply_rules(stage, result, report)
    if result.problems and not skip_invalid:
        return False
    stage.close_rules()
    return True


def enrolment_mark() -> int:
    """The newest enrolment id before the check: any newer one not ours is a reviewer's."""
    return models.db.execute_sql("SELECT COALESCE(MAX(id), 0) FROM kepesertaan").fetchone()[0]


def write_in_steps(stage: Staging, result, report, sumber: str, update_alamat: bool,
                   mark: int) -> None:
    """SQLite: write in short transactions with an undo journal; undone on any failure."""
    stage.set_state("menulis")
    try:
        with peewee.__exception_wrapper__:
            write(stage, result, report, sumber, update_alamat, mark)
    except BaseException:
        try:
            undo(stage)
        except Exception:  # noqa: BLE001 - the journal stays for recover(); report the first
            log.exception("impor: pembatalan gagal; jurnal tetap di %s", stage.path)
        raise
    stage.set_state("selesai")


def write(stage: Staging, result, report, sumber: str, update_alamat: bool,
          mark: int | None = None) -> None:
    """People in NIK order, then the enrolments, then the families' desils, step by step; with
    `mark` (SQLite) each step journals its undo first. Adds the counts to `result`."""
    total, done, started = stage.count_writes(), 0, time.monotonic()

    def step(size: int) -> None:
        nonlocal done, started
        done += size
        if report("menulis", done, total):
            raise Cancelled
        if mark is not None:  # SQLite: leave the lock free a while for whoever waits on it
            time.sleep((time.monotonic() - started) * YIELD)
            started = time.monotonic()

    journal = mark is not None
    added, updated, people = _people(stage, update_alamat, journal, step)
    result.enrolled = _enrolments(stage, sumber, mark, step)
    _desils(stage, sumber, journal, step)
    result.people_added, result.people_updated = added, updated
    result.people_unchanged = people - added - updated
    result.written = True
    report("menulis", total, total)


def _batches(cursor):
    while batch := cursor.fetchmany(staging.STEP):
        yield batch


def _before(table: str, key: str, columns: str, keys: list[str]) -> dict[str, list]:
    """The register's rows for these keys (in order), by key: by one range scan while the range
    holds few other rows (a new register, or a list as dense as the register), else by key."""
    db, mark = models.db, models.db.param
    limit = 2 * len(keys) + 10
    found = db.execute_sql(f"SELECT {key}, {columns} FROM {table} WHERE {key} BETWEEN {mark} "
                           f"AND {mark} ORDER BY {key} LIMIT {limit}", (keys[0], keys[-1]))
    rows = found.fetchall()
    if len(rows) == limit:
        if is_sqlite():
            where, params = "IN (SELECT value FROM json_each(?))", [staging.as_list(keys)]
        else:
            where, params = "= ANY(%s)", [list(keys)]
        rows = db.execute_sql(f"SELECT {key}, {columns} FROM {table} WHERE {key} {where}",
                              params).fetchall()
    return {k: rest for k, *rest in rows}


def _people(stage, update_alamat, journal, step) -> tuple[int, int, int]:
    """Insert new people, update those whose row differs (without an address column the
    register's address stays); returns (added, updated, rows)."""
    db = models.db
    upsert = UPSERT.format(_marks(range(5)))
    added = updated = rows = 0
    for batch in _batches(stage.people()):
        with db.atomic():
            before = _before("penduduk", "nik", "no_kk, nama, alamat, desa_kode",
                             [row[0] for row in batch])
            writes, undo_entries = [], []
            for nik, no_kk, nama, alamat, desa in batch:
                old = before.get(nik)
                if old is not None and not update_alamat:
                    alamat = old[2]
                new = [no_kk, nama, alamat, desa]
                if new == old:
                    continue
                writes.append((nik, *new))
                # An update keeps what it wrote too (undone only while still so); an insert
                # only the NIK.
                undo_entries.append((nik, True, *old, *new) if old else (nik, False, *NONE))
            if journal:
                stage.journal("undo_person", undo_entries)
            if writes:
                db.cursor().executemany(upsert, writes)
        news = sum(1 for entry in undo_entries if not entry[1])
        added, updated, rows = added + news, updated + len(writes) - news, rows + len(batch)
        step(len(batch))
    return added, updated, rows


def _enrolments(stage, sumber: str, mark: int | None, step) -> int:
    """Insert the new enrolments. SQLite (`mark`): each step first looks for enrolments other
    writers made since the check (ids above `mark`), and stops the import (Changed) if one
    touches a NIK or family card of the step; then takes the next ids itself, for the journal."""
    db = models.db
    now, since = models.utcnow().isoformat(sep=" "), models.today().isoformat()
    touched: set[str] = set()
    count = 0
    for batch in _batches(stage.enrolments()):
        rows = [(nik, skema, card if family else None, since, sumber[:200], now)
                for nik, skema, card, family in batch]
        with db.atomic():
            if mark is None:
                db.cursor().executemany(
                    "INSERT INTO kepesertaan (nik, skema_kode, family_kk, sejak, sumber, "
                    f"created_at) VALUES ({_marks(range(6))})", rows)
            else:
                for id_, *keys in db.execute_sql(
                        "SELECT e.id, e.nik, e.family_kk, p.no_kk FROM kepesertaan e LEFT JOIN "
                        "penduduk p ON p.nik = e.nik WHERE e.id > ? AND e.berakhir IS NULL",
                        (mark,)):
                    touched.update(k for k in keys if k)
                    mark = max(mark, id_)
                if any(nik in touched or card in touched for nik, _s, card, _f in batch):
                    raise Changed
                mark = db.execute_sql(
                    "SELECT COALESCE(MAX(id), 0) FROM kepesertaan").fetchone()[0]
                numbered = [(mark + k, *r) for k, r in enumerate(rows, 1)]
                stage.journal("undo_enrol", [r[:3] + (now,) for r in numbered])
                db.cursor().executemany(
                    "INSERT INTO kepesertaan (id, nik, skema_kode, family_kk, sejak, sumber, "
                    f"created_at) VALUES ({_marks(range(7))})", numbered)
                mark += len(rows)
        count += len(batch)
        step(len(batch))
    return count


def _desils(stage, sumber: str, journal: bool, step) -> None:
    """Each family's desil from this file, written where the register holds another one."""
    db = models.db
    upsert = DESIL_UPSERT.format(_marks(range(4)))
    for batch in _batches(stage.desils()):
        with db.atomic():
            before = _before("desil_keluarga", "no_kk", "desil, sumber, diperbarui_at",
                             [card for card, _desil in batch])
            now = models.utcnow()
            changed = [(card, desil) for card, desil in batch
                       if before.get(card, (None,))[0] != desil]
            if journal:
                stage.journal("undo_desil", [
                    (card, card in before, *(before.get(card) or [None] * 3), desil)
                    for card, desil in changed])
            if changed:
                db.cursor().executemany(upsert, [(card, desil, sumber[:200], now)
                                                 for card, desil in changed])
        step(len(batch))


# --- undoing --------------------------------------------------------------------------------

UNDO_SQL = {
    "undo_enrol": [
        "DELETE FROM kepesertaan WHERE id = ?2 AND nik = ?3 AND skema_kode = ?4 "
        "AND created_at = ?5 AND NOT EXISTS "
        "(SELECT 1 FROM sanggahan WHERE kepesertaan_id = ?2)"],
    "undo_desil": [
        "UPDATE desil_keluarga SET desil = ?4, sumber = ?5, diperbarui_at = ?6 "
        "WHERE no_kk = ?2 AND ?3 AND desil = ?7",
        "DELETE FROM desil_keluarga WHERE no_kk = ?2 AND NOT ?3 AND desil = ?7"],
    "undo_person": [
        "UPDATE penduduk SET no_kk = ?4, nama = ?5, alamat = ?6, desa_kode = ?7 "
        "WHERE nik = ?2 AND ?3 AND no_kk IS ?8 AND nama = ?9 AND alamat = ?10 "
        "AND desa_kode = ?11",
        "DELETE FROM penduduk WHERE nik = ?2 AND NOT ?3 "
        "AND NOT EXISTS (SELECT 1 FROM kepesertaan WHERE nik = ?2)"],
}  # ?1 is the entry's rowid in the journal


def undo(stage: Staging) -> None:
    """Roll back every step in the journal (SQLite), in short transactions too: enrolments
    first, then desils, then people. Each batch leaves the journal only once undone."""
    db = models.db
    if db.in_transaction():
        db.rollback()
    for table in ("undo_enrol", "undo_desil", "undo_person"):
        while batch := stage.undo_batch(table):
            with db.atomic(), peewee.__exception_wrapper__:
                cursor = db.cursor()
                for statement in UNDO_SQL[table]:
                    width = max(int(n) for n in re.findall(r"\?(\d+)", statement))
                    cursor.executemany(statement, [entry[:width] for entry in batch])
            stage.forget(table, batch)
    stage.set_state("")
