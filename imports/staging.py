"""The staging file of a recipient-list import: the checked rows on disk, and the undo journal.

A SQLite file of the import's own, written through the standard sqlite3 module:

- `rows`: every row that passed the row checks, streamed in while reading (executemany in
  batches of LOAD), never held in Python lists: memory stays flat however long the file is,
  and SQLite sorts and groups (duplicate NIKs, one desil per family, candidates by family card,
  people in NIK order) with its indexes and its bounded sorter.
- `enrol`, `refused`: what the rules decided (bulk.py).
- `undo_person`, `undo_enrol`, `undo_desil`: the undo journal of the write (apply.py): the
  before-image of each person and family desil a step changed (with what it wrote), and the
  ids of the enrolments it inserted. Each step's journal is committed with synchronous=FULL
  before the step's own commit in the register, so it survives a kill -9 or a power cut.

For a SQLite register the file sits next to it (`<name>-staging.db`) with a lock file
(`<name>-staging.lock`, flock: one import at a time, freed by the kernel when the process
dies), so that the next import or worker finds and rolls back an import that died while
writing. Otherwise (PostgreSQL, an in-memory register) it is a temporary file.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

LOAD = 10_000  # rows per executemany while reading
STEP = 2_000  # rows read back per batch (and per write step of apply.py)
LOCK_WAIT = 30  # seconds an import waits for the lock (held by a recovery, or another import)
# A row's state: 0 to write; 1 left out by the file's own checks (a duplicate NIK, another desil
# for the family); 2 refused by the rules; 3 already told as a problem (kept for duplicates).
KEEP, REMOVED, REFUSED, TOLD = 0, 1, 2, 3
BUSY = ("Impor lain sedang berjalan pada data penerima ini. Tunggu sampai selesai, lalu "
        "jalankan lagi.")

SCHEMA = """
CREATE TABLE rows (line INTEGER PRIMARY KEY, nik TEXT, no_kk TEXT, skema TEXT, desa TEXT,
                   nama TEXT, alamat TEXT, desil TEXT, person INTEGER, state INTEGER);
CREATE TABLE refused (line INTEGER PRIMARY KEY);
CREATE TABLE enrol (nik TEXT PRIMARY KEY, skema TEXT, card TEXT, family INTEGER) WITHOUT ROWID;
CREATE TABLE card_desil (no_kk TEXT PRIMARY KEY, desil TEXT) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE undo_person (nik TEXT, existed INTEGER, no_kk TEXT, nama TEXT, alamat TEXT,
                          desa TEXT, new_no_kk TEXT, new_nama TEXT, new_alamat TEXT,
                          new_desa TEXT);
CREATE TABLE undo_enrol (id INTEGER, nik TEXT, skema TEXT, created_at TEXT);
CREATE TABLE undo_desil (no_kk TEXT, existed INTEGER, desil INTEGER, sumber TEXT,
                         diperbarui_at TEXT, new_desil INTEGER);
"""


class Busy(Exception):
    """Another import holds this register's staging lock; str() says so in Indonesian."""

    def __init__(self):
        super().__init__(BUSY)


def place(register_file: str | None) -> tuple[Path, Path | None]:
    """(staging file, lock file) for a SQLite register's file; a temporary file and no lock for
    PostgreSQL or an in-memory database (None)."""
    if register_file and register_file != ":memory:" and not register_file.startswith("file:"):
        base = Path(register_file)
        return (base.with_name(f"{base.stem}-staging.db"),
                base.with_name(f"{base.stem}-staging.lock"))
    sweep_orphans()
    handle, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".db")
    os.close(handle)
    os.unlink(name)  # sqlite3 creates it
    return Path(name), None


TEMP_PREFIX = "cekbansos-staging-"  # + the importing process's id: whose file it is


def sweep_orphans() -> int:
    """Remove the temporary staging files (PostgreSQL's; a list's personal data) of import
    processes that died without removing theirs (kill -9, power cut); how many."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*.db"):
        owner = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            remove(path)
            removed += 1
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (any user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def lock(path: Path | None, wait: float = 0) -> int | None:
    """Take the lock file, waiting up to `wait` seconds (a recovery just launched is short);
    raises Busy while another import holds it."""
    if path is None:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise Busy from None
            time.sleep(0.1)


def unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor frees the flock


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def as_list(values) -> str:
    """A list as one JSON parameter, for `IN (SELECT value FROM json_each(?))` on SQLite."""
    return json.dumps(list(values))


class Staging:
    """One import's staging file, opened (created when missing)."""

    def __init__(self, path: Path):
        self.path = path
        fresh = not path.exists()
        if fresh:  # the list's personal data: readable by this user only (WAL files follow)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = WAL", "synchronous = OFF", "cache_size = -16000",
                       "temp_store = FILE"):
            self.conn.execute(f"PRAGMA {pragma}")
        if fresh:
            self.conn.executescript(f"BEGIN; {SCHEMA} COMMIT;")
        self.pending: list[tuple] = []

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self):
        """One transaction (the connection is in autocommit mode: an executemany outside one
        would commit, and with synchronous=FULL sync, every single row)."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- reading ------------------------------------------------------------------------------

    def add(self, row: tuple) -> None:
        """(line, nik, no_kk, skema, desa, nama, alamat, desil, person, state): person 0 for a
        short list's row (people are not written); state TOLD for a row already reported."""
        self.pending.append(row)
        if len(self.pending) >= LOAD:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.transaction() as conn:
                conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 self.pending)
            self.pending = []

    def index(self) -> None:
        """Once every row is in: the indexes by NIK and by family card."""
        self.flush()
        # By NIK, holding what the write reads: the people come back in NIK order without a
        # look-up per row in the table.
        self.conn.execute("CREATE INDEX rows_nik ON rows (nik, line, state, person, no_kk, "
                          "nama, alamat, desa)")
        self.conn.execute("CREATE INDEX rows_card ON rows (no_kk, line)")

    # --- the file's own checks ----------------------------------------------------------------

    def duplicates(self):
        """(line, first line) of each later row of a NIK the file holds more than once."""
        return self.conn.execute(
            "SELECT r.line, f.first FROM rows r JOIN (SELECT nik, MIN(line) AS first FROM rows "
            "GROUP BY nik HAVING COUNT(*) > 1) f ON f.nik = r.nik AND r.line > f.first "
            "ORDER BY r.line")

    def other_desils(self):
        """(line, card, first line, first desil) of each row giving its family another desil
        than the family's first row with one."""
        return self.conn.execute(
            "SELECT r.line, r.no_kk, f.line, f.desil FROM rows r JOIN rows f ON f.line = "
            "(SELECT MIN(line) FROM rows WHERE no_kk = r.no_kk AND desil <> '') "
            "WHERE r.desil <> '' AND r.desil <> f.desil ORDER BY r.line")

    def remove_lines(self, lines: list[int]) -> None:
        """Leave these rows out; then note each family's desil from the rows that stay."""
        with self.transaction() as conn:
            conn.executemany(f"UPDATE rows SET state = {REMOVED} WHERE line = ? AND "
                             f"state = {KEEP}", ((line,) for line in lines))
        self.conn.execute("INSERT INTO card_desil SELECT no_kk, MIN(desil) FROM rows "
                          f"WHERE desil <> '' AND state = {KEEP} GROUP BY no_kk")

    # --- the rules ----------------------------------------------------------------------------

    def candidates(self, states: tuple[int, ...] = (KEEP,)):
        """(card, line, nik, skema, the family's desil in this file or None) of each row naming
        a scheme, by family card then line."""
        marks = ", ".join(str(int(s)) for s in states)
        return self.conn.execute(
            "SELECT r.no_kk, r.line, r.nik, r.skema, d.desil FROM rows r "
            "LEFT JOIN card_desil d ON d.no_kk = r.no_kk "
            f"WHERE r.skema <> '' AND r.state IN ({marks}) ORDER BY r.no_kk, r.line")

    def count_candidates(self) -> int:
        return self.scalar(f"SELECT COUNT(*) FROM rows WHERE skema <> '' AND state = {KEEP}")

    def keep(self, enrolments: list[tuple], refused: list[int]) -> None:
        """The rules' decisions for one chunk: (nik, skema, card, family) to insert, and the
        lines refused."""
        with self.transaction() as conn:
            conn.executemany("INSERT INTO enrol VALUES (?, ?, ?, ?)", enrolments)
            conn.executemany("INSERT INTO refused VALUES (?)", ((x,) for x in refused))

    def close_rules(self) -> None:
        """Refused rows write nothing, not even the person or the family's desil."""
        self.conn.execute(f"UPDATE rows SET state = {REFUSED} WHERE line IN "
                          "(SELECT line FROM refused)")

    # --- the write ----------------------------------------------------------------------------

    def people(self):
        return self.conn.execute(
            "SELECT nik, no_kk, nama, alamat, desa FROM rows "
            f"WHERE state = {KEEP} AND person = 1 ORDER BY nik")

    def enrolments(self):
        return self.conn.execute("SELECT nik, skema, card, family FROM enrol ORDER BY nik")

    def desils(self):
        return self.conn.execute(
            "SELECT DISTINCT no_kk, CAST(desil AS INTEGER) FROM rows "
            f"WHERE desil <> '' AND state = {KEEP} ORDER BY no_kk")

    def count_writes(self) -> int:
        return sum(self.scalar(sql) for sql in (
            f"SELECT COUNT(*) FROM rows WHERE state = {KEEP} AND person = 1",
            "SELECT COUNT(*) FROM enrol",
            f"SELECT COUNT(DISTINCT no_kk) FROM rows WHERE desil <> '' AND state = {KEEP}"))

    # --- the undo journal ---------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        """'menulis' while steps are being written (undo them if found so), 'selesai' once the
        last step is in: durable at once."""
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('state', ?)", (state,))

    def state(self) -> str:
        try:
            found = self.conn.execute("SELECT value FROM meta WHERE key = 'state'").fetchone()
        except sqlite3.DatabaseError:  # not a staging file (yet): created, never written
            return ""
        return found[0] if found else ""

    def journal(self, table: str, entries: list[tuple]) -> None:
        """Record one step's undo entries, durable before the step commits in the register."""
        if entries:
            marks = ", ".join("?" * len(entries[0]))
            with self.transaction() as conn:
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", entries)

    def undo_batch(self, table: str) -> list[tuple]:
        """The newest entries first: (rowid, *entry)."""
        return self.conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid DESC LIMIT ?",
                                 (STEP,)).fetchall()

    def forget(self, table: str, entries: list[tuple]) -> None:
        """Undo entries rolled back in the register (always after that commit)."""
        with self.transaction() as conn:
            conn.execute(f"DELETE FROM {table} WHERE rowid >= ?", (entries[-1][0],))

    def scalar(self, sql: str, params=()):
        return self.conn.execute(sql, params).fetchone()[0]
