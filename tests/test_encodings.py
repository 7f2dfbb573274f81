"""A page gzip-compressed in pieces (web/encodings.GzipShell) is the page itself to any gzip
reader: Python's gzip module, zlib's own gzip reader fed a byte at a time (as a browser reads
a slow line), for every size of head, answer and tail."""
from __future__ import annotations

import gzip
import os
import random
import zlib

import pytest

from web.encodings import GzipShell, offered


def _text(rng: random.Random, size: int) -> bytes:
    words = [b"<p>", b"</p>", b"Belum menerima bantuan", b"class=\"hasil\"", b"NIK", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) if rng.random() < 0.7 else os.urandom(rng.randint(1, 40))
    return bytes(out[:size])


@pytest.mark.parametrize("head_size, middle_size, tail_size", [
    (1304, 502, 569), (0, 0, 0), (1, 0, 1), (0, 700, 0), (40_000, 3_000, 10),
    (70_000, 70_000, 70_000),  # past DEFLATE's window and a stored block's 65,535 bytes
    (10, 65_535, 10), (10, 65_536, 10), (10, 131_070, 10),  # a stored block full, or one over
])
def test_the_pieces_make_the_page(head_size, middle_size, tail_size):
    rng = random.Random(head_size * 31 + middle_size)
    head, tail = _text(rng, head_size), _text(rng, tail_size)
    shell = GzipShell(head, tail)
    for _ in range(3):  # one shell serves many answers
        middle = _text(rng, middle_size)
        body = shell.around(middle)
        assert gzip.decompress(body) == head + middle + tail
        reader = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip only, as a browser asks
        out = b"".join(reader.decompress(body[i:i + 1]) for i in range(len(body)))
        assert out + reader.flush() == head + middle + tail
        assert reader.eof and reader.unused_data == b""


def test_only_the_answer_is_sent_as_written():
    """The shell is compressed once; the answer goes stored (as its htmx fragment goes), so a
    page costs the compressed shell, the answer's own bytes and a few bytes of framing."""
    head = b"<header><h1>Cek bantuan sosial</h1></header><main>" * 40
    middle = b"<section class=\"hasil belum-terdaftar\"><h2>Belum menerima bantuan</h2>"
    tail = b"</main><footer>Dinas Sosial</footer></body></html>" * 10
    shell = GzipShell(head, tail)
    pieces = shell.around(middle)
    assert len(shell.around(b"")) < len(head + tail) // 4  # the shell compressed
    assert len(pieces) - len(shell.around(b"")) == len(middle) + 5  # one stored block's header
    assert middle in pieces
    assert gzip.decompress(pieces) == head + middle + tail


@pytest.mark.parametrize("header, codings", [
    ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}), ("", {""}),
    ("GZIP", {"gzip"}), ("br;q=1.0, gzip;q=0.8", None),
])
def test_offered_codings(header, codings):
    assert offered(header) == codings
