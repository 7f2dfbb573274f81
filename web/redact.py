"""Keep NIKs (and No. KK numbers) out of every log line, whatever put them there.

The app never logs a NIK on purpose and never puts one in a URL, but a client may type one into a
path (`/3510161705800001`), and a database error message may quote one (PostgreSQL's "Key
(nik)=(...) already exists"). So every 16-digit run is replaced before a line is written: in the
app's log, in gunicorn's error log, and in gunicorn's access log (which also never has a query
string). Imported by gunicorn.conf.py, so it depends on nothing but the standard library.
"""
from __future__ import annotations

import logging
import re

# 16 digits, whatever separates them (spaces, dots, dashes, slashes, underscores, commas, up to
# three such characters between two digits) as people write them on forms or type them in a URL.
_NIK = re.compile(r"(?<!\d)\d(?:[^0-9A-Za-z]{0,3}\d){15}(?!\d)")
MASK = "[NIK]"
# A tracking code (cases.casework.CODE_ALPHABET, eight characters) as a whole path segment, and
# whatever follows the paths that take one: it opens a person's case to whoever holds it.
_CODE_SEGMENT = re.compile(r"(?<=/)[2-9A-HJ-NP-Z]{8}(?=/|$)")
_CODE_PATH = re.compile(r"(?i)(/(?:lacak|sanggahan|verifikasi(?:/sanggahan)?)/)(?!sanggahan\b)"
                        r"[^/]+")
CODE_MASK = "[KODE]"
# Control characters (a %0A in a path forges a log line) and Unicode line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def redact(text: str) -> str:
    return _NIK.sub(MASK, text) if text else text


def escape_controls(text: str) -> str:
    """Every control character as a visible escape (`\\x0a`): one request, one log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if text else text


def redact_path(path: str) -> str:
    """A request path as the access log shows it: NIKs and tracking codes masked, controls
    escaped (the path is percent-decoded by then, so `%0A` is a real line break)."""
    path = _CODE_PATH.sub(lambda m: m.group(1) + CODE_MASK, redact(path or ""))
    return escape_controls(_CODE_SEGMENT.sub(CODE_MASK, path))


class RedactFilter(logging.Filter):
    """A logging filter (for handlers and loggers) that rewrites the record without NIKs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is not ours to fix here
            return True
        clean = escape_controls(redact(message)) if "\n" not in message.rstrip("\n") \
            else redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FILTER = RedactFilter()


def install(*loggers: logging.Logger) -> None:
    """Put the filter on these loggers and on every handler they (and the root) write to."""
    targets = [*loggers, logging.getLogger()]
    for logger in targets:
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
        for handler in logger.handlers:
            if FILTER not in handler.filters:
                handler.addFilter(FILTER)


try:  # gunicorn is a runtime dependency, but keep this module importable without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with NIKs masked in the access log's path and in the error log.

    Set in gunicorn.conf.py as `logger_class`. The access log format there already leaves out
    the query string (%(q)s) and the raw request line (%(r)s).
    """

    def setup(self, cfg):
        super().setup(cfg)
        install(self.error_log, self.access_log)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO") or "")
        # Even a format that asks for them gets no query string: %(r)s without it, %(q)s empty.
        atoms.update(U=path, q="", r=f"{atoms['m']} {path} {atoms['H']}")
        for key in ("f", "a"):
            if isinstance(atoms.get(key), str):
                atoms[key] = escape_controls(redact(atoms[key]))
        return atoms
