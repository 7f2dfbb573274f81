"""Content codings for pages: which ones a client accepts, and a kept page shell that is
gzip-compressed once, so that a page made of the shell around a fresh answer (the NIK check's,
web/fragments.py) costs no compression per request.

A gzip body is one DEFLATE stream, and a DEFLATE stream may be cut into pieces that end on a
byte boundary (a sync flush) and are compressed apart, as long as no piece refers back to bytes
the decoder has not seen: the shell's head is compressed once, with the gzip header; the answer
goes per request as stored (uncompressed) blocks; the shell's tail is compressed once on its
own, as the final piece; the trailer (CRC-32 and length of the whole page) is computed per
request. zlib compresses the shell. A stored block that starts on a byte boundary is a whole
number of bytes (RFC 1951 3.2.4: a zero byte, the length and its complement, the bytes as they
are), so the answer's blocks are framed here: making a zlib stream per check to frame them cost
several times as much.

The answer is not compressed, as the htmx fragment that carries the same answer to a phone with
JavaScript is not (under Flask-Compress's 1,000-byte floor): a few hundred bytes, which zlib's
fastest level shrinks by ~190 bytes (with the head as its preset dictionary) for ~20 us of CPU
per check, more than the answer's query in a hot loop (bench/README.md). Stored, its blocks
cost well under a microsecond. On the 2,000,000-person register an uncovered NIK's page is
1,618 bytes sent (~1,430 with the answer compressed; 1,276 for gzip and 1,057 for Brotli over
the whole page, compressed per request): 190 bytes more than a compressed answer, 6 ms at
250 kbit/s, and one round trip on a 2G link either way.

Brotli streams cannot be joined like this, so a page built around a shell is sent gzip-coded
when the client accepts gzip (every browser does).
"""
from __future__ import annotations

import struct
import zlib

_TRAILER = struct.Struct("<II")  # CRC-32 and length mod 2**32, little-endian (RFC 1952)
# A stored block's header at a byte boundary: BFINAL 0 and BTYPE 00 with the padding in one
# zero byte, then LEN and NLEN (its one's complement), little-endian (RFC 1951 3.2.4).
_STORED = struct.Struct("<BHH")
_STORED_MAX = 0xFFFF  # LEN is 16 bits


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
        crc = zlib.crc32(self._tail, zlib.crc32(middle, self._head_crc))
        trailer = _TRAILER.pack(crc, (self._length + len(middle)) & 0xFFFFFFFF)
        return b"".join((self._start, *_stored(middle), self._end, trailer))


def _stored(data: bytes) -> list[bytes]:
    """`data` as non-final stored DEFLATE blocks (none for no data), each starting and ending
    on a byte boundary."""
    pieces = []
    for start in range(0, len(data), _STORED_MAX):
        block = data[start:start + _STORED_MAX]
        pieces += (_STORED.pack(0, len(block), len(block) ^ 0xFFFF), block)
    return pieces
