"""One URL, two answers: the whole page, or for a genuine htmx request only its named block."""
from __future__ import annotations

import hashlib
import time

from flask import current_app, render_template, request, session, url_for
from jinja2_fragments.flask import render_block
from werkzeug.local import LocalProxy

from web.encodings import GzipShell, offered
from web.filters import CONTACT_SECONDS


def wants_fragment(environ: dict | None = None) -> bool:
    """A genuine htmx request; boosted and history-restore requests get the whole page.

    The headers flask-htmx's `htmx.boosted` and `htmx.history_restore_request` read, taken
    from the environ (the request's, unless given) at once: this runs on every check (a third
    of its header reading)."""
    if environ is None:
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
    # The app and the environ are read through their proxies once, for every helper below.
    app, environ = current_app._get_current_object(), request.environ
    if wants_fragment(environ):
        if plain:
            body = _plain_block(app, template, block, context)
        else:
            body = render_block(template, block, **context)
    elif plain and not session:
        shell = _shell(app, environ, template, block)
        if shell is None:
            body = render_template(template, **context)
        else:
            head, tail, zipped = shell
            body = _plain_block(app, template, block, context)
            if _gzip_accepted(app, environ):
                response = app.response_class(zipped.around(body.encode()), status)
                response.headers.add("Content-Encoding", "gzip")
                return _headers(response, no_store)
            body = f"{head}{body}{tail}"
    else:
        body = render_template(template, **context)
    return _headers(app.response_class(body, status), no_store)


def _headers(response, no_store: bool):
    """A new response's Vary (on HX-Request, and on Accept-Encoding as Flask-Compress adds to
    every page, so it finds it there) and Cache-Control: added, as neither is set yet (setting
    a header scans every other one first)."""
    headers = response.headers
    headers.add("Vary", "HX-Request, Accept-Encoding")
    if no_store:
        headers.add("Cache-Control", "no-store")
    return response


def _plain_block(app, template: str, block: str, context: dict) -> str:
    """A block that needs nothing from the request, rendered with the template globals that
    are not request proxies: a context over `request`, `session` and `g` costs four times one
    without them, a fifth of the check's whole answer. The block's function, and the globals,
    are kept per worker (unless templates reload), and its context is made without the
    template's chained globals, which Jinja would copy for every answer."""
    env = app.jinja_env
    kept = app.extensions.setdefault("plain_blocks", {})
    found = None if env.auto_reload else kept.get((template, block))
    if found is None:
        names = {name: value for name, value in env.globals.items()
                 if not isinstance(value, LocalProxy)}
        names["url_for"] = _kept_url
        loaded = env.get_template(template)
        found = kept[(template, block)] = (loaded.blocks[block], loaded.name, loaded.blocks,
                                           names)
    render, name, blocks, names = found
    try:
        return env.concat(render(env.context_class(env, {**names, **context}, name, blocks)))
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


def _shell(app, environ: dict, template: str, block: str
           ) -> tuple[str, str, GzipShell] | None:
    """The page around `block` as an anonymous visitor sees it: everything but the block is
    the same for every visitor without a session (no name, no token; the footer's contact is
    itself kept for CONTACT_SECONDS), so each worker renders it (and gzip-compresses it,
    web/encodings.py) once a while and a check's page costs its block alone: (head, tail,
    the two compressed). None when the empty block is not found once."""
    shells = app.extensions.setdefault("page_shells", {})
    key, now = (template, block, environ.get("SCRIPT_NAME", "")), time.monotonic()
    kept = shells.get(key)
    if kept is not None and now < kept[0]:
        return kept[1]
    empty = _plain_block(app, template, block, {})
    page = render_template(template)
    parts = None
    if page.count(empty) == 1:
        head, tail = page.split(empty)
        parts = (head, tail, GzipShell(head.encode(), tail.encode()))
    shells[key] = (now + CONTACT_SECONDS, parts)
    return parts


def _gzip_accepted(app, environ: dict) -> bool:
    """The client takes gzip, and pages are compressed with it (COMPRESS_ALGORITHM). A header
    with quality values leaves the page to Flask-Compress's negotiation (extensions.py). The
    answer is kept per header: browsers send a handful of different ones."""
    accept = environ.get("HTTP_ACCEPT_ENCODING", "")
    known = app.extensions.setdefault("gzip_accepted", {})
    found = known.get(accept)
    if found is None:
        codings = offered(accept)
        found = bool(codings and "gzip" in codings
                     and "gzip" in app.config["COMPRESS_ALGORITHM"])
        if len(known) < 256:
            known[accept] = found
    return found


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
