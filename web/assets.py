"""Static files downloaded once: content-hashed URLs, compressed ahead of time, cached for a year.

At set-up (`make assets`, `flask --app app assets`) build() copies htmx from node_modules into
static/ and has Flask-Static-Digest write, for every file there, a copy named by its MD5
(`style-<md5>.css`), gzip and Brotli siblings of both (`.gz`, `.br`) and cache_manifest.json.
Templates link them with static_url_for(); serve() replaces Flask's static view: it sends the
precompressed sibling the client accepts, and marks digested names immutable. No session is read
for a static file, so no `Vary: Cookie` and no `Set-Cookie`.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
from pathlib import Path

from flask import Flask, abort, current_app, request, send_file
from flask_static_digest import digester
from werkzeug.security import safe_join

import settings
from extensions import static_digest

HTMX_SOURCE = settings.ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
HTMX_NAME = "htmx.min.js"
MANIFEST = "cache_manifest.json"
YEAR = 365 * 24 * 3600
# Content-Encoding -> the suffix of the file written ahead of time, best first on a tie.
ENCODINGS = {"br": ".br", "gzip": ".gz"}
SUFFIX_OF = {"brotli": ".br", "gzip": ".gz"}
DIGESTED = re.compile(digester.DIGESTED_FILE_REGEX)


# --- Set-up --------------------------------------------------------------------------------------

def build(app: Flask) -> bool:
    """Copy htmx into static/, then digest and precompress every static file, unless everything
    is already up to date (then nothing is written). Returns whether anything was written."""
    folder = Path(app.static_folder)
    copied = _copy_htmx(folder)
    compression = app.config["FLASK_STATIC_DIGEST_COMPRESSION"]
    suffixes = [SUFFIX_OF[name] for name in compression]
    if not copied and _up_to_date(folder, suffixes):
        return False
    digester.compile(f"{folder}{os.sep}", f"{folder}{os.sep}",
                     app.config.get("FLASK_STATIC_DIGEST_BLACKLIST_FILTER") or [],
                     "gzip" in compression, "brotli" in compression)
    return True


def _copy_htmx(folder: Path) -> bool:
    """htmx comes from the npm registry (package.json); the copy in static/ is never committed."""
    target = folder / HTMX_NAME
    if not HTMX_SOURCE.is_file():
        return False  # no npm packages: the site works without JavaScript
    data = HTMX_SOURCE.read_bytes()
    if target.is_file() and target.read_bytes() == data:
        return False
    temporary = target.with_name(f".{HTMX_NAME}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)  # a running server never sees half a file
    return True


def _sources(folder: Path) -> list[Path]:
    """The files digested: not a digested copy, a compressed sibling or the manifest itself."""
    return [path for path in folder.rglob("*") if path.is_file()
            and not path.name.startswith(".") and not _generated(path.name)
            and not DIGESTED.search(path.name)]


def _up_to_date(folder: Path, suffixes: list[str]) -> bool:
    """The manifest names each source file's current digest, and every file it implies exists."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    sources = _sources(folder)
    if set(manifest) != {path.relative_to(folder).as_posix() for path in sources}:
        return False
    for path in sources:
        name = path.relative_to(folder).as_posix()
        stem, ext = os.path.splitext(name)
        digested = f"{stem}-{hashlib.md5(path.read_bytes()).hexdigest()}{ext}"
        if manifest[name] != digested:
            return False
        for file in (name, digested):
            if not all((folder / (file + suffix)).is_file() for suffix in suffixes):
                return False
        if not (folder / digested).is_file():
            return False
    return True


# --- Serving -------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """After static_digest.init_app: Flask's own static view gives way to serve()."""
    app.view_functions["static"] = serve
    has_htmx = bool(app.static_folder) and (Path(app.static_folder) / HTMX_NAME).is_file()
    app.jinja_env.globals["has_htmx"] = has_htmx


def _generated(filename: str) -> bool:
    """The compressed siblings and the manifest are read by serve(), never asked for by name."""
    return filename.endswith((".br", ".gz")) or filename == MANIFEST


def _digested(filename: str) -> bool:
    return filename in static_digest.manifests.get("static", {}).values()


def _accepted_encodings() -> list[str]:
    """The precompressed encodings the client accepts, best first (an explicit q=0 refuses one,
    even under a `*`)."""
    quality = {value.lower(): q for value, q in request.accept_encodings}
    ranked = [(quality.get(name, quality.get("*", 0)), -rank, name)
              for rank, name in enumerate(ENCODINGS)]
    return [name for q, _, name in sorted(ranked, reverse=True) if q > 0]


def serve(filename: str):
    """A static file, or its .br/.gz sibling when the client accepts it; a year and `immutable`
    under a digested name, SEND_FILE_MAX_AGE_DEFAULT otherwise."""
    path = safe_join(current_app.static_folder, filename)
    if path is None or _generated(filename) or not os.path.isfile(path):
        abort(404)
    chosen, encoding = path, None
    for name in _accepted_encodings():
        if os.path.isfile(path + ENCODINGS[name]):
            chosen, encoding = path + ENCODINGS[name], name
            break
    digested = _digested(filename)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    max_age = YEAR if digested else current_app.get_send_file_max_age(filename)
    response = send_file(chosen, mimetype=mimetype, max_age=max_age, conditional=True,
                         download_name=os.path.basename(path))
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    if digested:
        response.cache_control.immutable = True
    return response

