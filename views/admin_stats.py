"""Statistics: the admin's full figures at /admin/statistik, and a public page at /statistik
with aggregates only (no names, no NIKs), light enough for a phone on 2G."""
from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template

import models
from office import stats
from vocabulary import DELIVERY_LABELS
from web.fragments import cacheable
from web.gates import admin_blueprint

bp = admin_blueprint("admin_stats", __name__)

public_bp = Blueprint("statistik", __name__)


def _context(max_age: float) -> dict:
    snap = stats.snapshot(max_age)
    return {"s": snap, "charts": stats.charts(snap), "LEVELS": models.LEVELS,
            "DELIVERY_LABELS": DELIVERY_LABELS}


@bp.get("/statistik")
def statistics():
    """Recipients per kecamatan and scheme, reports by status, the seven-day rule."""
    context = _context(current_app.config.get("STATS_ADMIN_MAX_AGE", 0))
    areas = sorted(context["s"].areas, key=lambda a: a.nama)
    return render_template("statistik/admin.html", areas=areas, desil=stats.by_desil(),
                           **context)


@public_bp.get("/statistik")
def public():
    """The public figures; the same for everyone, so cached a minute by browsers and here
    (a signed-in user's copy, with the staff menu, is never stored: web/security.py)."""
    max_age = int(current_app.config.get("STATS_PUBLIC_MAX_AGE", 60))
    return cacheable(make_response(render_template("statistik/publik.html",
                                                   **_context(max_age))), max_age)
