"""Cek Bansos: the application factory. Everything the app is made of is wired here, in sight."""
from __future__ import annotations

import json
import os

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
import database
import settings
from extensions import compress, csrf, htmx, limiter, login_manager
from imports import jobs
from views import (
    account,
    admin,
    admin_accounts,
    admin_export,
    admin_import,
    admin_people,
    admin_schemes,
    admin_stats,
    auth,
    objection_desk,
    ops,
    public,
    reports,
    review,
    rice,
    rice_counter,
    staff,
    transparency,
)
from web import errors, filters, limits, security

BLUEPRINTS = (
    public.bp, reports.bp, staff.bp, review.bp, objection_desk.bp, auth.bp, account.bp, ops.bp,
    transparency.bp, rice.bp, rice_counter.bp, admin.bp, admin_accounts.bp, admin_export.bp,
    admin_import.bp, admin_people.bp, admin_schemes.bp, admin_stats.bp, admin_stats.public_bp,
)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    settings.load(app.config, app.instance_path, test_config)
    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    database.init_app(app)
    jobs.init_app(app)
    security.init_app(app)  # first: its session-timeout hook runs before the rate limits
    htmx.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Silakan masuk untuk membuka halaman itu."
    login_manager.user_loader(security.load_user)
    limits.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    _init_htmx_asset(app)
    _buffer_assets(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    cli.init_app(app)
    return app


def _init_htmx_asset(app: Flask) -> None:
    """Serve htmx from node_modules under a versioned URL; the site works without it."""
    dist = settings.ROOT / "node_modules" / "htmx.org"
    try:
        version = json.loads((dist / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        version = None
    app.config["HTMX_VERSION"] = version
    app.config["HTMX_DIR"] = str(dist / "dist")
    app.context_processor(lambda: {"htmx_version": version})


def _buffer_assets(app: Flask) -> None:
    @app.after_request
    def buffer(response):
        # send_file streams, and Flask-Compress compresses streams with zstd/br/deflate only,
        # never gzip: a phone that accepts just gzip (plain HTTP) would get the stylesheet and
        # htmx uncompressed. Both are small files: buffer them so they are compressed like pages.
        # (Registered after compress.init_app, so this runs before its after_request.)
        if (response.direct_passthrough and response.status_code == 200
                and request.endpoint in ("static", "public.htmx_js")):
            response.direct_passthrough = False
            response.make_sequence()
        return response
