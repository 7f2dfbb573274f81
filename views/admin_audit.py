"""The audit log for admins: who processed personal data, what and when, filtered."""
from __future__ import annotations

import math

from flask import render_template, request

from formats import parse_date, whole_number
from office import audit
from web.gates import admin_blueprint

bp = admin_blueprint("admin_audit", __name__)
PER_PAGE = 100


@bp.get("/jejak")
def audit_log():
    """The log, newest first; by action, by account and by days (`dari`, `sampai`)."""
    args = request.args
    action = args.get("tindakan", "")
    action = action if action in audit.ACTIONS else ""
    actor = " ".join(args.get("pelaku", "").split())[:64]
    start, end = parse_date(args.get("dari")), parse_date(args.get("sampai"))
    query = audit.entries(action or None, actor or None, start, end)
    pages = max(math.ceil(query.count() / PER_PAGE), 1)
    page = min(whole_number(args.get("hal"), 1) or 1, pages)
    return render_template("admin/jejak.html", rows=query.paginate(page, PER_PAGE),
                           ACTIONS=audit.ACTIONS, action=action, actor=actor,
                           start=args.get("dari", ""), end=args.get("sampai", ""),
                           page=page, pages=pages)
