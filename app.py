"""Cek Bansos: the application factory."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Flask, render_template, request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from peewee import OperationalError
from playhouse import db_url
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase
from werkzeug.middleware.proxy_fix import ProxyFix

import models
import ratelimit  # noqa: F401  (registers the sqlite:// rate-limit storage)

ROOT = Path(__file__).resolve().parent
htmx = HTMX()
csrf = CSRFProtect()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")
login_manager = LoginManager()

# Settings read from the environment under the same name (twelve-factor style).
ENV_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URL", "ASSESSMENT_DAYS",
                "DELIVERY_DAYS", "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "PROXY_FIX",
                "RETENTION_DAYS", "NIK_HMAC_KEY", "SESSION_COOKIE_SECURE")
DB_POOL_SIZE = 8  # per gunicorn worker; override with ?max_connections=N in DATABASE_URL


def create_app(test_config: dict | None = None) -> Flask:
    import security  # needs `limiter` above, so imported once this module is loaded

    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL="sqlite:///" + os.path.join(app.instance_path, "cekbansos.db"),
        ASSESSMENT_DAYS=7,  # days to assess a report (configurable)
        DELIVERY_DAYS=7,  # the SOP: aid delivered at most seven days after `layak`
        SESSION_COOKIE_NAME="sesi",  # `__Host-sesi` over HTTPS (security.SessionInterface)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # An error is a generic Indonesian page, never a traceback, even if debug is switched on.
        PROPAGATE_EXCEPTIONS=False,
        RETENTION_DAYS=730,  # closed reports keep personal data this long (anonymise-reports)
        WTF_CSRF_TIME_LIMIT=None,  # a resident may take long over the form on a slow phone
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        MAX_CONTENT_LENGTH=64 * 1024,
        # Pages are tiny already; compression makes them fit a 2G connection's first round trip.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIN_SIZE=400,
        # No ETag/304 evaluation: every page carries a fresh CSRF token or a personal no-store
        # result, so it would never match, and it costs a hash per response on the NIK check.
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
        # Counters shared by every gunicorn worker on this machine; redis://... for several hosts.
        RATELIMIT_STORAGE_URI="sqlite:///" + os.path.join(app.instance_path, "ratelimit.db"),
        RATELIMIT_HEADERS_ENABLED=False,
        PROXY_FIX=0,  # how many reverse proxies (nginx) stand in front; 0 = none
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/csv", "application/javascript",
                            "text/javascript", "image/svg+xml"],
    )
    app.config.from_mapping(security.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in ENV_SETTINGS + security.SETTINGS_FROM_ENV:
        if name in os.environ:
            value = os.environ[name]
            app.config[name] = (int(value) if value.isdigit() else
                                {"true": True, "false": False}.get(value.lower(), value))
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    models.db.initialize(make_database(app.config["DATABASE_URL"]))
    replica_url = app.config.get("DATABASE_REPLICA_URL")
    models.replica.initialize(make_database(replica_url) if replica_url else None)
    security.init_app(app)  # first: its session-timeout hook runs before the rate limits
    htmx.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Silakan masuk untuk membuka halaman itu."
    login_manager.user_loader(security.load_user)
    _init_htmx_asset(app)

    from views import (
        account,
        admin,
        admin_stats,
        auth,
        objection_desk,
        ops,
        public,
        reports,
        review,
        rice,
        staff,
        transparency,
    )

    for blueprint in (public.bp, reports.bp, staff.bp, review.bp, auth.bp, account.bp, ops.bp,
                      transparency.bp, objection_desk.bp, rice.bp, admin.bp, admin_stats.public_bp):
        app.register_blueprint(blueprint)

    import accounts
    import cli
    import retention

    cli.init_app(app)
    app.cli.add_command(retention.anonymise_reports)
    app.cli.add_command(accounts.reset_2fa)
    _register_hooks(app)
    return app


def make_database(url: str):
    """The Peewee database for a URL (not connected yet: each worker connects lazily)."""
    if url.startswith("sqlite"):
        database = db_url.connect(
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
    elif url.startswith("postgres"):
        # A bounded pool per worker: each thread borrows a connection for one request.
        params = db_url.parse(url)
        database = PooledPostgresqlDatabase(
            params.pop("database"), prefer_psycopg3=True,
            max_connections=params.pop("max_connections", DB_POOL_SIZE),
            stale_timeout=300, timeout=10, **params)
    else:
        database = db_url.connect(url)
    return database


def _instance_secret(app: Flask) -> str:
    """A random key generated once into the instance folder, for the default set-up."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _init_htmx_asset(app: Flask) -> None:
    """Serve htmx from node_modules under a versioned URL; the site works without it."""
    dist = ROOT / "node_modules" / "htmx.org"
    try:
        version = json.loads((dist / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        version = None
    app.config["HTMX_VERSION"] = version
    app.config["HTMX_DIR"] = str(dist / "dist")


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _connect():
        # One connection per worker thread, reused across requests; a pool hands it back below.
        if request.endpoint not in ("static", "ops.health"):
            models.db.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        for database in (models.db, models.replica):
            if isinstance(database.obj, PooledDatabase) and not database.is_closed():
                database.close()

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.after_request
    def _buffer_assets(response):
        # send_file streams, and Flask-Compress compresses streams with zstd/br/deflate only,
        # never gzip: a phone that accepts just gzip (plain HTTP) would get the stylesheet and
        # htmx uncompressed. Both are small files: buffer them so they are compressed like pages.
        # (Registered after compress.init_app, so this runs before its after_request.)
        if (response.direct_passthrough and response.status_code == 200
                and request.endpoint in ("static", "public.htmx_js")):
            response.direct_passthrough = False
            response.make_sequence()
        return response

    @app.context_processor
    def _template_globals():
        return {"htmx_version": app.config["HTMX_VERSION"]}

    @app.errorhandler(404)
    def _not_found(exc):
        return render_template("errors/error.html", code=404,
                               title="Halaman tidak ditemukan",
                               message="Alamat yang Anda buka tidak ada."), 404

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_template("errors/error.html", code=400,
                               title="Formulir kedaluwarsa",
                               message="Formulir sudah kedaluwarsa atau tidak sah. "
                                       "Silakan buka ulang halaman lalu kirim lagi."), 400

    # 429 (rate limits): security.too_many_requests, registered by security.init_app.

    @app.errorhandler(OperationalError)
    def _db_busy(exc):
        app.logger.error("database error: %s", exc)
        return render_template("errors/error.html", code=503,
                               title="Layanan sedang sibuk",
                               message="Silakan coba lagi dalam beberapa saat."), 503

    @app.errorhandler(500)
    def _server_error(exc):
        return render_template("errors/error.html", code=500,
                               title="Terjadi kesalahan",
                               message="Maaf, terjadi kesalahan di server. "
                                       "Silakan coba lagi."), 500
