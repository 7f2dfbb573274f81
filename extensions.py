"""The Flask extensions and the per-client rate limits, created here unbound and initialised
by the factory (app.py).

Views and web helpers import them from here, never from `app`, so no module needs the factory.
"""
from __future__ import annotations

from flask import current_app, request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_static_digest import FlaskStaticDigest
from flask_wtf.csrf import CSRFProtect

from web.limits import RateLimits

htmx = HTMX()
csrf = CSRFProtect()


class PagesCompress(Compress):
    """Flask-Compress for pages only: static files are compressed once, at set-up, and served
    as they are (web/assets.py), never compressed again per request."""

    def after_request(self, response):
        if request.endpoint == "static":
            return response
        length = response.content_length
        if (length is not None and not response.is_streamed
                and length < current_app.config["COMPRESS_MIN_SIZE"]):
            # Too small to compress (a check's fragment): say so in Vary and nothing more.
            response.vary.add("Accept-Encoding")
            return response
        return super().after_request(response)


compress = PagesCompress()
static_digest = FlaskStaticDigest()
limiter = RateLimits()
login_manager = LoginManager()
