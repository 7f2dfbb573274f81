"""The office's desk (Dinas Sosial admins): what an admin can do, and whether an import runs.

Each area has a blueprint of its own under /admin (views/admin_*.py), all admins only:
anonymous users sign in first, other roles get 403.
"""
from __future__ import annotations

from flask import render_template

from imports import jobs
from web.gates import admin_blueprint

bp = admin_blueprint("admin", __name__)


@bp.get("/")
def index():
    """What the admin can do, and whether an import is running."""
    return render_template("admin/index.html", running=jobs.running())
