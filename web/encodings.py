"""Content codings for pages: which ones a client accepts, and a kept page shell that is
gzip-compressed once, so that a page made of the shell around a fresh answer (the NIK check's,
web/fragments.py) costs no compression per request.

A gzip body is one DEFLATE stream, and a DEFLATE stream may be cut into pieces that end on a
byte boundary (a sync flush) and are compressed apart, as long as no piece refers back to bytes
the decoder has not seen: the shell's head is compressed once, with the gzip header; the answer
goes per request as a stored (uncompressed) piece; the shell's tail is compressed once on its
own, as the final piece; the trailer (CRC-32 and length of the whole page) is computed per
request. zlib writes every piece; nothing here encodes bits.

The answer is not compressed, as the htmx fragment that carries the same answer to a phone with
JavaScript is not (under Flask-Compress's 1,000-byte floor): a few hundred bytes, which zlib's
fastest level shrinks by ~190 bytes (with the head as its preset dictionary) for ~20 us of CPU
per check, more than the answer's query in a hot loop (bench/README.md). Stored, the
piece costs ~2 us. On the 2,000,000-person register an uncovered NIK's page is 1,623 bytes sent
(~1,430 with the answer compressed; 1,276 for gzip and 1,057 for Brotli over the whole page,
compressed per request): 190 bytes more than a compressed answer, 6 ms at 250 kbit/s, and
one round trip on a 2G link either way.

Brotli streams cannot be joined like this, so a page built around a shell is sent gzip-coded
when the client accepts gzip (every browser does).
"""
from __future__ import annotations

import struct
import zlib

_TRAILER = struct.Struct("<II")  # CRC-32 and length mod 2**32, little-endian (RFC 1952)
# The answer's piece: zlib's level 0 writes stored blocks, with the smallest state (memory
# level 1, a 512-byte window) since it matches nothing.
_ANSWER = (0, zlib.DEFLATED, -9, 1)


def offered(accept: str) -> set[str] | None:
    """The codings an Accept-Encoding header names, lower-case; None when it weighs them with
    quality values (`gzip;q=0.5`), which Flask-Compress's own negotiation judges."""
    if ";" in accept:
        return None
    return {part.strip().lower() for part in accept.split(",")}


class GzipShell:
    """A page's head and tail, compressed once; `around(middle)` is the whole page, gzip-coded
    (decompressing it gives head + middle + tail exactly)."""

    __slots__ = ("_start", "_end", "_head_crc", "_tail", "_length")

    def __init__(self, head: bytes, tail: bytes):
        first = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)  # with the gzip header
        self._start = first.compress(head) + first.flush(zlib.Z_SYNC_FLUSH)
        last = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, its last block final
        self._end = last.compress(tail) + last.flush(zlib.Z_FINISH)
        self._head_crc = zlib.crc32(head)
        self._tail = tail
        self._length = len(head) + len(tail)

    def around(self, middle: bytes) -> bytes:
        part = zlib.compressobj(*_ANSWER)
        body = part.compress(middle) + part.flush(zlib.Z_SYNC_FLUSH)
        crc = zlib.crc32(self._tail, zlib.crc32(middle, self._head_crc))
        trailer = _TRAILER.pack(crc, (self._length + len(middle)) & 0xFFFFFFFF)
        return b"".join((self._start, body, self._end, trailer))
