"""The commands an SMS may carry, and their answers: CEK <NIK>, LACAK <KODE>, BANTUAN.

People type on a keypad in a hurry: commands are read case-insensitively, with any spaces or
punctuation around and inside them (`cek:3510 1612-0390-0001`, `Lacak abcd-2345`, `CEK3510…`),
and a bare 16-digit number is taken as a check. Anything else gets the short help.

The limits are the web's, per sending number (its HMAC, never the number itself): every answer
counts against the number's reply allowance (RATELIMIT_SMS), and an answer about a NIK against
the same coverage allowance a web client has (RATELIMIT_CAKUPAN), so nobody enumerates the
register faster by SMS than the web allows. The limits and the HMAC are the app's, handed in as
a Desk: this module needs no Flask.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cases import lookup
from cases.objections import Objection
from models import Report
from nik import NikError, parse_nik
from sms import numbers, texts

COMMANDS = {"CEK": "cek", "CECK": "cek", "CHEK": "cek", "CHECK": "cek", "LACAK": "lacak",
            "BANTUAN": "bantuan", "HELP": "bantuan", "INFO": "bantuan", "MENU": "bantuan",
            "TOLONG": "bantuan"}
# `CEK NIK 3510…`, `LACAK KODE …`: words dropped from the argument. Each has an O or an I,
# which a tracking code never contains (casework.CODE_ALPHABET), so no code loses a piece.
FILLER = {"NIK", "NO", "NOMOR", "NOMER", "KODE", "LAPORAN"}
_TOKENS = re.compile(r"[A-Z]+|\d+")


class OverLimit(Exception):
    """An allowance of this number is spent; it renews in `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class Limits(Protocol):
    def reply(self, client: str) -> None: ...  # one reply to this number; OverLimit when spent

    def coverage(self, client: str) -> None: ...  # one answer about a NIK; OverLimit when spent


@dataclass
class Desk:
    """What answering needs from the app: its limits, its HMAC, the office's phone number."""

    limits: Limits
    pseudonym: Callable[[str], str]  # HMAC of a phone number, the rate-limit client key
    office_phone: str = ""


class Answer(NamedTuple):
    command: str  # cek | lacak | bantuan | "" (not understood)
    outcome: str  # a key of sms.models.OUTCOMES
    parts: list[str]  # the reply, one SMS each; empty: no reply


def parse(text: str | None) -> tuple[str, list[str]]:
    """(command, the words after it): `cek:3510 1612` -> ("cek", ["3510", "1612"])."""
    tokens = _TOKENS.findall(unicodedata.normalize("NFKC", text or "").upper())
    if not tokens:
        return "", []
    first, rest = tokens[0], tokens[1:]
    if first.isdigit():
        return ("cek", tokens) if len("".join(tokens)) == 16 else ("", tokens)
    for word, command in COMMANDS.items():
        if first == word:
            return command, rest
        if first.startswith(word) and command != "bantuan":  # `CEKNIK 3510…`, `LACAKABCD2345`
            return command, [first[len(word):], *rest]
    return "", tokens


def answer(desk: Desk, sender: str, text: str | None) -> Answer:
    """The reply to one message from `sender` (already limited and checked)."""
    command, words = parse(text)
    if text is None:
        return Answer(command, "bukan-teks", [])
    if not numbers.is_mobile(sender):
        return Answer(command, "bukan-nomor-hp", [])
    client = desk.pseudonym(numbers.normalise(sender))
    try:
        desk.limits.reply(client)
    except OverLimit:
        return Answer(command, "batas-balasan", [])
    if command == "cek":
        return check(desk, client, words)
    if command == "lacak":
        return track(words)
    help_parts = texts.fit(texts.help_text(desk.office_phone))
    return Answer(command, "dijawab" if command == "bantuan" else "tidak-dikenal", help_parts)


def check(desk: Desk, client: str, words: list[str]) -> Answer:
    """CEK: the public check's answer; a NIK that cannot be valid gets nik.py's message."""
    digits = "".join(word for word in words if word.isdigit())
    if not digits:
        return Answer("cek", "nik-tidak-valid", texts.fit(texts.CEK_USAGE))
    try:
        nik = parse_nik(digits).nik
    except NikError as exc:
        return Answer("cek", "nik-tidak-valid", texts.invalid_nik(str(exc)))
    try:
        desk.limits.coverage(client)
    except OverLimit as exc:
        return Answer("cek", "batas-cek", texts.fit(texts.too_many(exc.retry_after)))
    found = lookup.answer(nik, read_only=True)  # the web's answer, asides and all
    return Answer("cek", "dijawab", texts.coverage(found.coverage, found.aside))


def track(words: list[str]) -> Answer:
    """LACAK: a report's (or an objection's) status and due date. The code typed is never
    echoed: a NIK sent by mistake must not come back in a reply."""
    code = "".join(word for word in words if word not in FILLER)
    if not code:
        return Answer("lacak", "kode-tidak-ada", texts.fit(texts.LACAK_USAGE))
    report = Report.by_code(code)
    if report is not None:
        return Answer("lacak", "dijawab", texts.report_status(report))
    objection = Objection.by_code(code)
    if objection is not None:
        return Answer("lacak", "dijawab", texts.objection_status(objection))
    return Answer("lacak", "kode-tidak-ada", texts.fit(texts.NOT_FOUND))
