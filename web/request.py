"""The request class: Flask's, with the url-encoded form parsed without building Werkzeug's
general form parser each time (the NIK check's body is a few dozen bytes; the parser's set-up
cost several times the parse). The parse is the `parse_qsl` call Werkzeug makes, on the same
size-limited stream, so limits and errors are unchanged; a body with nothing %- or +-encoded in
it is only split, into the same fields.

Two refusals every form shares, whatever its encoding: a body past MAX_CONTENT_LENGTH is a 413
even when it came chunked without a Content-Length (Werkzeug's limited stream merely stops
there, and the cut form would be processed), and a NUL byte in any form field is a 400 (no
browser sends one; PostgreSQL cannot store one) for multipart forms as for url-encoded ones."""
from __future__ import annotations

from io import BytesIO
from urllib.parse import parse_qsl

from flask import Request as FlaskRequest
from werkzeug.exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge

URLENCODED = "application/x-www-form-urlencoded"


class Request(FlaskRequest):
    def _load_form_data(self) -> None:
        environ = self.environ
        plain = environ.get("CONTENT_TYPE") == URLENCODED  # what every browser sends: no parse
        if "form" in self.__dict__ or not (plain or (self.mimetype == URLENCODED
                                                     and self.want_form_data_parsed)):
            super()._load_form_data()
        else:
            length, limit = _declared_length(environ), self.max_content_length
            if length is None:
                length = self.content_length  # chunked, or a length Werkzeug must judge
            if (length is not None and (limit is None or length <= limit)
                    and "_cached_data" not in self.__dict__):
                # A body that announced its length (a browser's form): read exactly that.
                body = self.environ["wsgi.input"].read(length)
                if len(body) != length:
                    raise ClientDisconnected()  # as Werkzeug's limited stream says it
                stream = BytesIO()  # what is left of it to read: nothing
            else:
                stream = self._get_stream_for_parsing()  # limited as Werkzeug limits it
                body = stream.read()
                if limit is not None and length is None and len(body) >= limit:
                    raise RequestEntityTooLarge()  # chunked, and at least as long as the limit
            items = _fields(body.decode())
            storage = self.parameter_storage_class
            self.__dict__.update(stream=stream, form=storage(items), files=storage())
            if b"\x00" in body or b"%00" in body:  # a NUL in a field, as sent or %-encoded
                raise BadRequest()
            return
        form = self.__dict__.get("form")
        if form and any("\x00" in key or "\x00" in value
                        for key, value in form.items(multi=True) if isinstance(value, str)):
            raise BadRequest()


def _fields(text: str) -> list[tuple[str, str]]:
    """The fields of a url-encoded body, as the parse_qsl call Werkzeug makes gives them. A
    body with nothing encoded in it (no `%`, no `+`: a NIK check's `nik=<16 digits>`) is only
    split: the same pairs, without unquoting every name and value one call at a time."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    return [(name, value) for name, _eq, value in
            (field.partition("=") for field in text.split("&") if field)]


def _declared_length(environ: dict) -> int | None:
    """A plain Content-Length of a body sent whole, read without Werkzeug's header parsing;
    None for anything else (chunked, or not plain digits), which request.content_length
    judges as before."""
    value = environ.get("CONTENT_LENGTH")
    if value and value.isascii() and value.isdigit() and "HTTP_TRANSFER_ENCODING" not in environ:
        return int(value)
    return None
