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

# 16 digits, possibly grouped by spaces, dots or dashes as people write them on forms.
_NIK = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){15}(?!\d)")
MASK = "[NIK]"


def redact(text: str) -> str:
    return _NIK.sub(MASK, text) if text else text


class RedactFilter(logging.Filter):
    """A logging filter (for handlers and loggers) that rewrites the record without NIKs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is not ours to fix here
            return True
        clean = redact(message)
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
        path = redact(environ.get("PATH_INFO") or "")
        # Even a format that asks for them gets no query string: %(r)s without it, %(q)s empty.
        atoms.update(U=path, q="", r=f"{atoms['m']} {path} {atoms['H']}")
        for key in ("f", "a"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
