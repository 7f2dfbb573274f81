"""Operations: the health check a load balancer or monitor polls."""
from __future__ import annotations

import shutil

from flask import Blueprint, current_app, jsonify

import models
from web.limits import limits

LOW_DISK = 64 * 2**20  # below this much free space in instance/, writes are about to fail

bp = Blueprint("ops", __name__)


@bp.get("/sehat")
def health():
    """200 when the database answers, 503 otherwise; no personal data, never cached."""
    try:
        models.db.connect(reuse_if_open=True)
        models.db.execute_sql("SELECT 1").fetchone()
        body, status = {"status": "ok", "database": "ok"}, 200
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        body, status = {"status": "error", "database": "tidak dapat dihubungi"}, 503
    # The rate-limit counters: when they fail, checks are still answered (web/limits.py) but
    # without limits; 200 still (the service answers), the operator sees why.
    problem = limits().storage_problem()
    body["batas_permintaan"] = problem or "ok"
    try:
        free = shutil.disk_usage(current_app.instance_path).free
    except OSError:
        free = 0
    body["disk"] = "ok" if free >= LOW_DISK else "hampir penuh"
    if (problem or free < LOW_DISK) and status == 200:
        body["status"] = "terganggu"
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
