"""Blueprints, one per audience, and the helper that serves a page or just its fragment."""
from __future__ import annotations

from flask import make_response, render_template
from jinja2_fragments.flask import render_block

from app import htmx


def wants_fragment() -> bool:
    """A genuine htmx request; boosted and history-restore requests get the whole page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_or_fragment(template: str, block: str, *, status: int = 200, no_store: bool = False,
                     **context):
    """Render the whole page, or for htmx only the named block of the same template."""
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response
