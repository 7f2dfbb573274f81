"""The Flask extensions, created here unbound and initialised by the factory (app.py).

Views and web helpers import them from here, never from `app`, so no module needs the factory.
"""
from __future__ import annotations

from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from web import ratelimit  # noqa: F401  (registers the sqlite:// storage with `limits`)

htmx = HTMX()
csrf = CSRFProtect()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")
login_manager = LoginManager()
