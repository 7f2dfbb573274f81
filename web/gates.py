"""Who may open a staff page: the one role gate, as a view decorator or a blueprint hook.

Anonymous visitors are sent to sign in; a signed-in account of another role gets a 403 page that
says whom the page is for.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, render_template
from flask_login import current_user


def refusal(allowed: tuple[str, ...], message: str, title: str = "Tidak diizinkan"):
    """None when the current user may pass; otherwise the response that stops them."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.role not in allowed:
        return render_template("errors/error.html", code=403, title=title,
                               message=message), 403
    return None


def roles(*allowed: str, message: str = "Halaman ini bukan untuk peran akun Anda.",
          title: str = "Tidak diizinkan"):
    """A view for signed-in staff with one of these roles."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return refusal(allowed, message, title) or view(*args, **kwargs)
        return wrapped
    return decorate


def gate(blueprint, *allowed: str, message: str) -> None:
    """Every route of `blueprint` for these roles only (a before-request hook)."""
    blueprint.before_request(lambda: refusal(allowed, message))


FOR_ADMINS = "Halaman ini hanya untuk admin Dinas Sosial."


def _no_store(response):
    # Staff pages show personal data and fresh figures: never kept by a browser or a proxy.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the office's desk under /admin: admins only, never cached."""
    blueprint = Blueprint(name, import_name, url_prefix="/admin")
    gate(blueprint, "admin", message=FOR_ADMINS)
    blueprint.after_request(_no_store)
    return blueprint


def me():
    """The signed-in staff member (the User row, not Flask-Login's proxy)."""
    return current_user._get_current_object()
