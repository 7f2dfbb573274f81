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
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # counters, not records: speed over fsync
            conn.execute(_SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._conn()
        count = conn.execute(_INCR, (key, amount, now, expiry)).fetchone()[0]
        self._calls += 1
        if self._calls % 1000 == 0:
            conn.execute("DELETE FROM rate_limit WHERE expires_at <= ?", (now,))
        return count

    def get(self, key: str) -> int:
        row = self._conn().execute(
            "SELECT count FROM rate_limit WHERE key = ? AND expires_at > ?",
            (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._conn().execute(
            "SELECT expires_at FROM rate_limit WHERE key = ?", (key,)).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM rate_limit").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM rate_limit WHERE key = ?", (key,))
