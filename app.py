"""Cek Bansos: the application factory. Everything the app is made of is wired here, in sight."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
import database
import settings
from extensions import compress, csrf, htmx, limiter, login_manager, static_digest
from imports import jobs
from views import (
    account,
    admin,
    admin_accounts,
    admin_audit,
    admin_export,
    admin_help,
    admin_import,
    admin_people,
    admin_schemes,
    admin_sms,
    admin_stats,
    auth,
    bulk_check,
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
from web import assets, errors, filters, security
from web.request import Request

BLUEPRINTS = (
    public.bp, reports.bp, staff.bp, review.bp, objection_desk.bp, auth.bp, account.bp, ops.bp,
    transparency.bp, rice.bp, rice_counter.bp, admin.bp, admin_accounts.bp, admin_export.bp,
    admin_import.bp, admin_people.bp, admin_schemes.bp, admin_sms.bp, admin_stats.bp,
    admin_stats.public_bp, bulk_check.bp, admin_audit.bp, admin_help.bp,
)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = Request
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
    errors.init_app(app)
    filters.init_app(app)
    static_digest.init_app(app)
    assets.init_app(app)  # after static_digest: its own static view
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    cli.init_app(app)
    return app

