"""A rate-limit storage for the `limits` library on a local SQLite file.

gunicorn runs several worker processes; per-process memory would give each its own counters and
multiply every limit by the number of workers. Redis is the answer for several hosts
(`RATELIMIT_STORAGE_URI=redis://...`); on one machine this file-backed storage shares counters
between workers with nothing to install. Registered for URIs `sqlite:///path/to/file.db`.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time

from limits.storage import Storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limit (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

# One statement, so concurrent workers never lose an increment: a window that has expired
# starts again from `amount`, otherwise the count grows. SQLite serialises the writes.
_INCR = """
INSERT INTO rate_limit (key, count, expires_at) VALUES (?1, ?2, ?3 + ?4)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= ?3 THEN ?2 ELSE count + ?2 END,
    expires_at = CASE WHEN expires_at <= ?3 THEN ?3 + ?4 ELSE expires_at END
RETURNING count
"""


def _retry_when_locked(operation, patience: float = 5.0):
    """Run `operation`; while another worker holds the write lock, try again after a short
    sleep (at most `patience` seconds in all)."""
    deadline, pause = time.monotonic() + patience, 0.0001
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        path = (uri or "").split("://", 1)[-1]
        # sqlite:///abs/path -> /abs/path ; sqlite:///:memory: is refused (not shared).
        self.path = path[1:] if path.startswith("//") else path
        if not self.path or self.path == ":memory:":
            raise ValueError("SQLite rate-limit storage needs a file path")
        self._local = threading.local()
        self._calls = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        # A connection must never cross a fork (gunicorn's master forks the workers).
        if conn is None or self._local.pid != os.getpid():
            # No SQLite busy handler (its first wait is a whole millisecond): _write retries
            # after a short sleep instead, so a collision between workers costs microseconds.
            conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            _retry_when_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=OFF")  # counters, not records: speed over fsync
            _retry_when_locked(lambda: conn.execute(_SCHEMA))
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.incr_many([(key, expiry, amount)])[0]

    def incr_many(self, entries: list[tuple[str, int, int]]) -> list[int]:
        """Add to several (key, expiry, amount) counters in one write transaction: a check's
        minute, hour and day windows, or a worker's tally of many clients, cost one commit."""
        now = time.time()
        conn = self._conn()
        self._calls += 1
        sweep = self._calls % 1000 == 0

        def write():
            conn.execute("BEGIN IMMEDIATE")
            try:
                counts = [conn.execute(_INCR, (key, amount, now, expiry)).fetchone()[0]
                          for key, expiry, amount in entries]
                if sweep:
                    conn.execute("DELETE FROM rate_limit WHERE expires_at <= ?", (now,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return counts

        return _retry_when_locked(write)

    def get(self, key: str) -> int:
        conn = self._conn()
        row = _retry_when_locked(lambda: conn.execute(
            "SELECT count FROM rate_limit WHERE key = ? AND expires_at > ?",
            (key, time.time())).fetchone())
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        conn = self._conn()
        row = _retry_when_locked(lambda: conn.execute(
            "SELECT expires_at FROM rate_limit WHERE key = ?", (key,)).fetchone())
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        conn = self._conn()
        return _retry_when_locked(lambda: conn.execute("DELETE FROM rate_limit").rowcount)

    def clear(self, key: str) -> None:
        conn = self._conn()
        _retry_when_locked(lambda: conn.execute("DELETE FROM rate_limit WHERE key = ?", (key,)))
