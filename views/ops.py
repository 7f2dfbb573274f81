"""Operations: the health check a load balancer or monitor polls."""
from __future__ import annotations

from flask import Blueprint, jsonify

import models
from extensions import limiter

bp = Blueprint("ops", __name__)


@bp.get("/sehat")
@limiter.exempt
def health():
    """200 when the database answers, 503 otherwise; no personal data, never cached."""
    try:
        models.db.connect(reuse_if_open=True)
        models.db.execute_sql("SELECT 1").fetchone()
        body, status = {"status": "ok", "database": "ok"}, 200
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        body, status = {"status": "error", "database": "tidak dapat dihubungi"}, 503
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
