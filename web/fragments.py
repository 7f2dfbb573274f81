"""One URL, two answers: the whole page, or for a genuine htmx request only its named block."""
from __future__ import annotations

import hashlib
import time

from flask import current_app, render_template, request, session, url_for
from jinja2_fragments.flask import render_block
from werkzeug.local import LocalProxy

from web.filters import CONTACT_SECONDS


def wants_fragment() -> bool:
    """A genuine htmx request; boosted and history-restore requests get the whole page.

    The headers flask-htmx's `htmx.boosted` and `htmx.history_restore_request` read, taken
    from the environ at once: this runs on every check (a third of its header reading)."""
    environ = request.environ
    return (environ.get("HTTP_HX_REQUEST") == "true"
            and environ.get("HTTP_HX_BOOSTED") != "true"
            and environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST") != "true")


def page_or_fragment(template: str, block: str, *, status: int = 200, no_store: bool = False,
                     plain: bool = False, **context):
    """Render the whole page, or for htmx only the named block of the same template.

    `plain`: the block needs nothing from the request (no current_user, no csrf_token), so it
    is rendered without Flask's context processors — the NIK check's hot path — and for a
    visitor without a session the rest of the page is the kept shell (see _shell).
    """
    if wants_fragment():
        if plain:
            body = _plain_block(template, block, context)
        else:
            body = render_block(template, block, **context)
    elif plain and not session:
        head, tail = _shell(template, block)
        if head is None:
            body = render_template(template, **context)
        else:
            body = f"{head}{_plain_block(template, block, context)}{tail}"
    else:
        body = render_template(template, **context)
    response = current_app.response_class(body, status)
    response.headers["Vary"] = "HX-Request"  # a new response: nothing else varies yet
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response


def _plain_block(template: str, block: str, context: dict) -> str:
    """A block that needs nothing from the request, rendered with the template globals that
    are not request proxies: a context over `request`, `session` and `g` costs four times one
    without them, a fifth of the check's whole answer."""
    env = current_app.jinja_env
    names = current_app.extensions.get("plain_globals")
    if names is None:
        names = current_app.extensions["plain_globals"] = {
            name: value for name, value in env.globals.items()
            if not isinstance(value, LocalProxy)}
        names["url_for"] = _kept_url
    found = env.get_template(template)
    try:
        return env.concat(found.blocks[block](found.new_context({**names, **context},
                                                                shared=True)))
    except Exception:
        return env.handle_exception()


def _kept_url(endpoint: str, **values) -> str:
    """url_for in a plain block: a route's URL without arguments is the same for every request
    under one script root, so each worker builds it once, not on every check answer."""
    if values or endpoint.startswith("."):
        return url_for(endpoint, **values)
    urls = current_app.extensions.setdefault("plain_urls", {})
    key = (endpoint, request.script_root)
    found = urls.get(key)
    if found is None:
        found = urls[key] = url_for(endpoint)
    return found


def _shell(template: str, block: str) -> tuple[str | None, str | None]:
    """The page around `block` as an anonymous visitor sees it: everything but the block is
    the same for every visitor without a session (no name, no token; the footer's contact is
    itself kept for CONTACT_SECONDS), so each worker renders it once a while and a check's
    page costs its block alone. (None, None) when the empty block is not found once."""
    shells = current_app.extensions.setdefault("page_shells", {})
    key, now = (template, block, request.script_root), time.monotonic()
    kept = shells.get(key)
    if kept is not None and now < kept[0]:
        return kept[1]
    empty = _plain_block(template, block, {})
    page = render_template(template)
    parts = tuple(page.split(empty)) if page.count(empty) == 1 else (None, None)
    shells[key] = (now + CONTACT_SECONDS, parts)
    return parts


def failed(status: int = 422) -> int:
    """htmx 2 does not swap 4xx responses: a failed form answers 200 under htmx."""
    return 200 if request.headers.get("HX-Request") else status


def cacheable(response, max_age: int = 300):
    """A page that is the same for every anonymous visitor: kept by browsers and proxies for
    `max_age` seconds, then revalidated by its (weak) ETag, so a revisit costs a 304."""
    response.headers["Cache-Control"] = (f"public, max-age={max_age}" if max_age
                                         else "public, no-cache")
    response.set_etag(hashlib.sha1(response.get_data()).hexdigest()[:20], weak=True)
    return response.make_conditional(request)
