"""Every setting of the application: its default, and the environment variable that sets it.

One precedence, lowest first: the defaults below < `instance/config.py` < the environment
(same name) < the test configuration passed to create_app(). A value from the environment is
read as a whole number when it is one, as a boolean for true/false, and as text otherwise.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent

DEFAULTS = {
    # The database: embedded SQLite in the instance folder unless DATABASE_URL says otherwise.
    "DATABASE_URL": None,  # sqlite:///<instance>/cekbansos.db, filled in by load()
    "DATABASE_REPLICA_URL": None,  # a streaming replica for the public check's reads
    "SECRET_KEY": None,  # generated once into instance/secret_key when not set
    "NIK_HMAC_KEY": None,  # derived from SECRET_KEY when not set
    # Deadlines, in calendar days (WIB).
    "ASSESSMENT_DAYS": 7,  # days to assess a report
    "DELIVERY_DAYS": 7,  # the SOP: aid delivered at most seven days after `layak`
    "RETENTION_DAYS": 730,  # closed cases keep personal data this long (anonymise-reports)
    "RICE_RETURN_DAYS": 7,  # returned rice not replaced after this many days is flagged
    "SANGGAH_PER_HARI": 3,  # objections per objector (phone number) per WIB day
    # Staff sessions: minutes idle and hours in all before signing in again.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 10,
    "SESSION_COOKIE_NAME": "sesi",  # `__Host-sesi` over HTTPS (web.security.SessionInterface)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "TOTP_REQUIRED_ROLES": ("admin",),
    "HSTS": "max-age=31536000; includeSubDomains",
    # Rate limits (the `limits` library's notation; several separated by ";"). Per IP a
    # signed-in kiosk petugas is exempt; per NIK counts an HMAC of the NIK, never the NIK.
    "RATELIMIT_STORAGE_URI": None,  # sqlite:///<instance>/ratelimit.db; redis://... for hosts
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_CEK_IP": "20 per minute;150 per day",
    "RATELIMIT_CEK_NIK": "10 per hour",
    "RATELIMIT_CEK_ALL": "600 per minute;20000 per hour",
    "RATELIMIT_LAPOR_IP": "30 per hour",
    "RATELIMIT_LAPOR_NIK": "10 per day",
    "RATELIMIT_LAPOR_ALL": "1000 per hour",
    "RATELIMIT_SANGGAH_IP": "10 per hour;30 per day",
    "RATELIMIT_SANGGAH_ALL": "300 per hour",
    # Failed sign-ins only; windows, never a permanent lock-out.
    "RATELIMIT_LOGIN_IP": "30 per 10 minutes",
    "RATELIMIT_LOGIN_ACCOUNT": "10 per 10 minutes",
    # Imports uploaded in the browser.
    "IMPORT_DIR": None,  # <instance>/impor
    "IMPORT_JOBS_DATABASE_URL": None,  # a side SQLite file next to the database, or itself
    "IMPORT_MAX_BYTES": 300 * 1024 * 1024,  # nginx example: client_max_body_size 300m
    # Statistics are computed at most this often (seconds): admin page, public page.
    "STATS_ADMIN_MAX_AGE": 0,
    "STATS_PUBLIC_MAX_AGE": 60,
    # Behind how many reverse proxies (nginx); 0 = none.
    "PROXY_FIX": 0,
    # An error is a generic Indonesian page, never a traceback, even with debug switched on.
    "PROPAGATE_EXCEPTIONS": False,
    "WTF_CSRF_TIME_LIMIT": None,  # a resident may take long over the form on a slow phone
    "SEND_FILE_MAX_AGE_DEFAULT": 3600,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Pages are tiny already; compression makes them fit a 2G connection's first round trip.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIN_SIZE": 400,
    # No ETag/304 evaluation: every page carries a fresh CSRF token or a personal no-store
    # result, so it would never match, and it costs a hash per response on the NIK check.
    "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/csv", "application/javascript",
                           "text/javascript", "image/svg+xml"],
}

# Read from the environment when set there (every default above that a deployment may change).
FROM_ENVIRONMENT = (
    "SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URL", "NIK_HMAC_KEY", "ASSESSMENT_DAYS",
    "DELIVERY_DAYS", "RETENTION_DAYS", "RICE_RETURN_DAYS", "SANGGAH_PER_HARI",
    "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "SESSION_COOKIE_SECURE",
    "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "RATELIMIT_CEK_IP", "RATELIMIT_CEK_NIK",
    "RATELIMIT_CEK_ALL", "RATELIMIT_LAPOR_IP", "RATELIMIT_LAPOR_NIK", "RATELIMIT_LAPOR_ALL",
    "RATELIMIT_SANGGAH_IP", "RATELIMIT_SANGGAH_ALL", "RATELIMIT_LOGIN_IP",
    "RATELIMIT_LOGIN_ACCOUNT", "IMPORT_DIR", "IMPORT_JOBS_DATABASE_URL", "PROXY_FIX",
)


def from_environment(value: str):
    """`12` -> 12, `true`/`false` -> True/False, anything else as it is."""
    if value.isascii() and value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value.lower(), value)


def load(config, instance_path: str, test_config: dict | None = None) -> None:
    """Fill a Flask config in the one documented order, then derive what depends on the rest."""
    config.from_mapping(DEFAULTS)
    config.from_pyfile(os.path.join(instance_path, "config.py"), silent=True)
    for name in FROM_ENVIRONMENT:
        if name in os.environ:
            config[name] = from_environment(os.environ[name])
    if test_config:
        config.from_mapping(test_config)
    # Defaults that live in the instance folder.
    instance = Path(instance_path)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'cekbansos.db'}"
    if not config["RATELIMIT_STORAGE_URI"]:
        config["RATELIMIT_STORAGE_URI"] = f"sqlite:///{instance / 'ratelimit.db'}"
    if not config["IMPORT_DIR"]:
        config["IMPORT_DIR"] = str(instance / "impor")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = instance_secret(instance)


def instance_secret(instance: Path) -> str:
    """A random key generated once into the instance folder, for the default set-up."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
