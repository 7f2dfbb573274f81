"""The database: unbound proxies the models use, the engine for a URL, and the request hooks.

`db` is the register (SQLite by default, PostgreSQL through DATABASE_URL); `replica` an optional
streaming replica (DATABASE_REPLICA_URL) that only the public check reads from.
"""
from __future__ import annotations

import os
import sqlite3

from peewee import DatabaseProxy, Model
from playhouse import db_url
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase

db = DatabaseProxy()
replica = DatabaseProxy()
POOL_SIZE = 8  # per gunicorn worker; override with ?max_connections=N in DATABASE_URL


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def make_database(url: str):
    """The Peewee database for a URL (not connected yet: each worker connects lazily)."""
    if url.startswith("sqlite"):
        return db_url.connect(
            url,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10000,
                "synchronous": "normal",
                # Read pages straight from the OS cache: a NIK check on a 2,000,000-person
                # register drops from ~60 to ~15 us (address space only, not memory).
                "mmap_size": 1 << 30,
            },
            # Deferred transactions fail with "database is locked" when two gunicorn workers
            # upgrade their read locks at once; IMMEDIATE takes the write lock up front.
            lock_type="IMMEDIATE",
            timeout=10,
        )
    if url.startswith("postgres"):
        # A bounded pool per worker: each thread borrows a connection for one request.
        params = db_url.parse(url)
        return PooledPostgresqlDatabase(
            params.pop("database"), prefer_psycopg3=True,
            max_connections=params.pop("max_connections", POOL_SIZE),
            stale_timeout=300, timeout=10, **params)
    return db_url.connect(url)


def init_app(app) -> None:
    """Bind the proxies to this app's databases and open/release a connection per request."""
    db.initialize(make_database(app.config["DATABASE_URL"]))
    replica_url = app.config.get("DATABASE_REPLICA_URL")
    replica.initialize(make_database(replica_url) if replica_url else None)

    def connect():
        # One connection per worker thread, reused across requests; a pool hands it back below.
        if _needs_database():
            db.connect(reuse_if_open=True)

    def release(exc):
        for database in (db, replica):
            if isinstance(database.obj, PooledDatabase) and not database.is_closed():
                database.close()

    app.before_request(connect)
    app.teardown_request(release)


def _needs_database() -> bool:
    from flask import request  # the web side only; this module stays importable without it

    return request.endpoint not in ("static", "ops.health")


# --- SQLite backups and space (flask backup, restore, a failed import) -------------------------

def copy_sqlite(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """SQLite's online backup API in one step (pages=-1): a consistent snapshot read inside one
    read transaction, which WAL mode lets the workers write alongside. In small steps, every
    write by another connection between two steps restarted the copy from the first page: under
    steady report writes a large database never finished."""
    source.backup(target, pages=-1)


def backup_sqlite(source: sqlite3.Connection, target: str) -> tuple[int, int]:
    """Copy the database to `target`, written as `target.sebagian` and renamed only once whole
    (never a partial backup); returns (people, reports) counted in the file itself."""
    partial = f"{target}.sebagian"
    try:
        out = sqlite3.connect(partial)
        try:
            copy_sqlite(source, out)
            people = out.execute("SELECT COUNT(*) FROM penduduk").fetchone()[0]
            reports = out.execute("SELECT COUNT(*) FROM laporan").fetchone()[0]
        finally:
            out.close()
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return people, reports


def give_space_back(database) -> None:
    """After a failed write on SQLite (a full disk, an undone import): fold the write-ahead log
    back and truncate it, so the space it took is free again. Best effort. A passive checkpoint
    first copies the pages without holding writers back; the truncating one that follows, which
    does hold them back while it waits for readers, then has little left to do."""
    try:
        with database.connection_context():
            database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
            database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # noqa: BLE001 - the error that led here is the one to report
        pass
