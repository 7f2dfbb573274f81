"""The Flask extensions and the per-client rate limits, created here unbound and initialised
by the factory (app.py).

Views and web helpers import them from here, never from `app`, so no module needs the factory.
"""
from __future__ import annotations

import gzip

import brotli
from flask import current_app, request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_static_digest import FlaskStaticDigest
from flask_wtf.csrf import CSRFProtect

from web.encodings import offered
from web.limits import RateLimits

htmx = HTMX()
csrf = CSRFProtect()


class PagesCompress(Compress):
    """Flask-Compress for pages only: static files are compressed once, at set-up, and served
    as they are (web/assets.py), never compressed again per request.

    A rendered page takes a short path with the same settings: the library's general one
    costs about twice the compression itself on a 2 KB page. A check's answer page usually
    arrives compressed already (its kept shell, web/encodings.py) and only gets its Vary.
    Anything else — quality values in Accept-Encoding, an ETag, a stream, another status or
    type — goes through the library."""

    def after_request(self, response):
        if request.endpoint == "static":
            return response
        length = response.content_length
        if length is not None and not response.is_streamed:
            config = current_app.config
            if length < config["COMPRESS_MIN_SIZE"]:
                # Too small to compress (a check's fragment): say so in Vary and nothing more.
                return _vary_on_encoding(response)
            # The header names in one pass: `name in response.headers` raises and catches an
            # exception inside Werkzeug for every name that is absent.
            names = {name.lower() for name, _value in response.headers}
            if "content-encoding" in names:  # compressed already (web/encodings.GzipShell)
                return _vary_on_encoding(response)
            codings = offered(request.environ.get("HTTP_ACCEPT_ENCODING", ""))
            if (codings is not None and response.status_code == 200
                    and response.mimetype == "text/html" and "etag" not in names):
                return _compress_page(response, codings, config)
        return super().after_request(response)


def _vary_on_encoding(response):
    """`Vary: Accept-Encoding` added as Flask-Compress adds it (a string, not a parsed set)."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding"
    return response


def _compress_page(response, offered: set[str], config):
    _vary_on_encoding(response)
    algorithms = config["COMPRESS_ALGORITHM"]
    if "br" in offered and "br" in algorithms:
        coding, data = "br", brotli.compress(
            response.get_data(), mode=config["COMPRESS_BR_MODE"],
            quality=config["COMPRESS_BR_LEVEL"], lgwin=config["COMPRESS_BR_WINDOW"])
    elif "gzip" in offered and "gzip" in algorithms:
        coding, data = "gzip", gzip.compress(response.get_data(), config["COMPRESS_LEVEL"])
    else:
        return response
    response.set_data(data)  # and its Content-Length
    response.headers["Content-Encoding"] = coding
    return response


compress = PagesCompress()
static_digest = FlaskStaticDigest()
limiter = RateLimits()
login_manager = LoginManager()
