"""The office's desk (Dinas Sosial admins): imports, exports, accounts, schemes, people, figures.

One blueprint under /admin; its routes live in views/admin_*.py by area, imported at the end of
this module. Every route is for admins only: anonymous users sign in first, other roles get 403.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

import import_worker
import jobs
import stats
from models import User

bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group=None)
bp.record_once(lambda state: jobs.init_app(state.app))
bp.cli.add_command(import_worker.run_import_job)


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role != "admin":
        abort(403)
    return None


@bp.errorhandler(403)
def _forbidden(exc):
    return render_template("errors/error.html", code=403, title="Tidak diizinkan",
                           message="Halaman ini hanya untuk admin Dinas Sosial."), 403


@bp.after_request
def _private(response):
    # Admin pages show personal data and fresh figures: never kept by a browser or a proxy.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_template_filter("angka")
def _number(value):
    return stats.number(value)


@bp.app_template_filter("persen")
def _percent(value):
    return stats.percent(value)


@bp.app_template_filter("tanggal_id")
def _long_date(value):
    return stats.long_date(value)


@bp.app_template_filter("waktu_id")
def _moment(value):
    return stats.moment(value)


def me() -> User:
    return current_user._get_current_object()


def form_errors(exc) -> dict[str, str]:
    """{field: message} from an OfficeError or RegisterError, for error_summary-like display."""
    return {getattr(exc, "field", None) or "umum": str(exc)}


def failed(status: int = 422) -> int:
    """htmx 2 does not swap 4xx responses: a failed form answers 200 under htmx."""
    return 200 if request.headers.get("HX-Request") else status


@bp.get("/")
def index():
    """What the admin can do, and whether an import is running."""
    return render_template("admin/index.html", running=jobs.running())


# The routes of each area register themselves on `bp`.
from views import (  # noqa: E402,F401
    admin_accounts,
    admin_export,
    admin_import,
    admin_people,
    admin_schemes,
    admin_stats,
)
