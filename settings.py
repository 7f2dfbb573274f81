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
    "AUDIT_RETENTION_DAYS": 730,  # audit log rows are kept this long (anonymise-reports)
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
    # Rate limits, per client only (web/limits.py explains the design; SECURITY.md the sizes),
    # in the `limits` library's notation, several separated by ";".
    "RATELIMIT_STORAGE_URI": None,  # sqlite:///<instance>/ratelimit.db; redis://... for hosts
    "RATELIMIT_ENABLED": True,
    # Answers about coverage (checks, stage-1 results of stored reports), per address or /64.
    "RATELIMIT_CAKUPAN": "60 per minute;1000 per hour;5000 per day",
    "RATELIMIT_CAKUPAN_PETUGAS": "120 per minute;3000 per day",  # per signed-in account
    "RATELIMIT_LAPORAN": "30 per hour;200 per day",  # stored reports per address
    "RATELIMIT_LAPORAN_PETUGAS": "100 per hour;600 per day",  # stored reports per kiosk account
    "RATELIMIT_SANGGAH": "20 per hour;100 per day",  # stored objections per address
    "RATELIMIT_KIRIM": "120 per minute",  # every anonymous form POST per address
    # Sign-in attempts (and one-time codes): per account and address, and per address.
    "RATELIMIT_MASUK_AKUN": "10 per 10 minutes",
    "RATELIMIT_MASUK": "30 per 10 minutes",
    # Cek Bansos by SMS (sms/, README "SMS"): off unless SMS_URL names gammu-smsd's store,
    # `gammu-pgsql://` (its tables in this PostgreSQL database) or `gammu-files:///folder`.
    "SMS_URL": None,
    "SMS_OFFICE_PHONE": "",  # the office's number in the SMS help text, e.g. (0333) 424 000
    "SMS_GAMMU_SCHEMA": "/usr/share/doc/gammu-smsd/examples/pgsql.sql",  # for sms-setup
    "RATELIMIT_SMS": "30 per hour;100 per day",  # replies per sending number (the modem's queue)
    # Imports uploaded in the browser.
    "IMPORT_DIR": None,  # <instance>/impor
    "IMPORT_JOBS_DATABASE_URL": None,  # a side SQLite file next to the database, or itself
    "IMPORT_MAX_BYTES": 300 * 1024 * 1024,  # nginx example: client_max_body_size 300m
    # The bulk check of desa operators (/cek-massal): rows per list, lists per account.
    "BULK_CHECK_MAX_ROWS": 50_000,
    "RATELIMIT_CEK_MASSAL": "20 per hour;60 per day",
    # Families looked up at a rice counter, per signed-in account (a busy counter serves a
    # family every half minute or so; a scraper of the register gets little).
    "RATELIMIT_LOKET": "20 per minute;300 per hour;1500 per day",
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
    # Brotli's fastest level: on a 2.4 kB page it saves 40 us of CPU per request for ~170
    # bytes more than level 4 (5 ms at 2G speed); static files are precompressed at the top.
    "COMPRESS_BR_LEVEL": 1,
    # An htmx fragment (at most 1,000 bytes) fits one TCP segment compressed or not; only
    # whole pages are worth the CPU of compressing them per request.
    "COMPRESS_MIN_SIZE": 1000,
    # No ETag/304 evaluation: every page carries a fresh CSRF token or a personal no-store
    # result, so it would never match, and it costs a hash per response on the NIK check.
    "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/csv", "application/javascript",
                           "text/javascript", "image/svg+xml"],
    # Static files (the stylesheet, htmx): digested URLs and .gz/.br siblings written once at
    # set-up (`make assets`, web/assets.py), never compressed per request.
    "FLASK_STATIC_DIGEST_COMPRESSION": ["gzip", "brotli"],
}

# Read from the environment when set there (every default above that a deployment may change).
FROM_ENVIRONMENT = (
    "SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URL", "NIK_HMAC_KEY", "ASSESSMENT_DAYS",
    "DELIVERY_DAYS", "RETENTION_DAYS", "AUDIT_RETENTION_DAYS", "RICE_RETURN_DAYS",
    "SANGGAH_PER_HARI",
    "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "SESSION_COOKIE_SECURE",
    "RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "RATELIMIT_CAKUPAN",
    "RATELIMIT_CAKUPAN_PETUGAS", "RATELIMIT_LAPORAN", "RATELIMIT_LAPORAN_PETUGAS",
    "RATELIMIT_SANGGAH", "RATELIMIT_KIRIM", "RATELIMIT_MASUK_AKUN", "RATELIMIT_MASUK",
    "IMPORT_DIR", "IMPORT_JOBS_DATABASE_URL", "PROXY_FIX", "BULK_CHECK_MAX_ROWS",
    "RATELIMIT_CEK_MASSAL", "RATELIMIT_LOKET",
    "SMS_URL", "SMS_OFFICE_PHONE", "SMS_GAMMU_SCHEMA", "RATELIMIT_SMS",
)
AS_TEXT = ("SMS_OFFICE_PHONE",)  # `0333424000` keeps its leading zero


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
            value = os.environ[name]
            config[name] = value if name in AS_TEXT else from_environment(value)
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
