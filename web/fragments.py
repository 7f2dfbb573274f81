"""One URL, two answers: the whole page, or for a genuine htmx request only its named block."""
from __future__ import annotations

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block

from extensions import htmx


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


def failed(status: int = 422) -> int:
    """htmx 2 does not swap 4xx responses: a failed form answers 200 under htmx."""
    return 200 if request.headers.get("HX-Request") else status
