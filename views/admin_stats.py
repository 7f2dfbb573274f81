"""Statistics: the admin's full figures at /admin/statistik, and a public page at /statistik
with aggregates only (no names, no NIKs), light enough for a phone on 2G."""
from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template
from flask_login import current_user

import models
from office import stats
from web.gates import admin_blueprint

bp = admin_blueprint("admin_stats", __name__)

public_bp = Blueprint("statistik", __name__)


def _context(max_age: float) -> dict:
    snap = stats.snapshot(max_age)
    return {"s": snap, "charts": stats.charts(snap), "LEVELS": models.LEVELS,
            "STATUSES": models.STATUSES}


@bp.get("/statistik")
def statistics():
    """Recipients per kecamatan and scheme, reports by status, the seven-day rule."""
    context = _context(current_app.config.get("STATS_ADMIN_MAX_AGE", 0))
    areas = sorted(context["s"].areas, key=lambda a: a.nama)
    return render_template("statistik/admin.html", areas=areas, **context)


@public_bp.get("/statistik")
def public():
    """The public figures; the same for everyone, so cached a minute by browsers and here."""
    max_age = current_app.config.get("STATS_PUBLIC_MAX_AGE", 60)
    response = make_response(render_template("statistik/publik.html", **_context(max_age)))
    if current_user.is_authenticated:  # the header then carries the staff menu and a token
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers["Cache-Control"] = f"public, max-age={int(max_age)}"
    response.vary.add("Cookie")
    return response
