"""The GSM 03.38 alphabet that a plain SMS carries: 160 characters in one message.

Every outgoing text is written in it. A character outside it would switch the whole message to
UCS-2 and shrink it to 70 characters, so texts are transliterated first (typographic quotes and
dashes, accented letters), and a text longer than one message is split into clearly numbered
parts rather than sent as a concatenated SMS that an old phone may show in pieces.
"""
from __future__ import annotations

import unicodedata

LIMIT = 160
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
EXTENSION = frozenset("^{}\\[~]|€\f")  # two septets each (an escape, then the character)
REPLACEMENTS = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
                "…": "...", "\u00a0": " ", "•": "*", "×": "x"}


def length(text: str) -> int:
    """Septets the text takes in GSM-7; a character outside the alphabet counts as UCS-2 would
    force (the caller should have transliterated it)."""
    return sum(1 if ch in BASIC else 2 if ch in EXTENSION else LIMIT for ch in text)


def is_gsm7(text: str) -> bool:
    return all(ch in BASIC or ch in EXTENSION for ch in text)


def transliterate(text: str) -> str:
    """The nearest GSM-7 text: `“0–9”` -> `"0-9"`, `ê` -> `e`; anything else becomes `?`."""
    out = []
    for ch in text:
        if ch in BASIC or ch in EXTENSION:
            out.append(ch)
            continue
        ch = REPLACEMENTS.get(ch, ch)
        if all(c in BASIC for c in ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
        out.append(base if base and all(c in BASIC for c in base) else "?")
    return "".join(out)


def split(text: str, limit: int = LIMIT) -> list[str]:
    """One message when it fits; otherwise parts of at most `limit` septets, each starting
    `(1/2) `, broken between words."""
    text = transliterate(" ".join(text.split()))
    if length(text) <= limit:
        return [text]
    words, parts, current = text.split(" "), [], ""
    room = limit - len("(9/9) ")
    for word in words:
        while length(word) > room:  # a word longer than a message: cut it
            head, word = word[:room], word[room:]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current} {word}" if current else word
        if length(candidate) <= room:
            current = candidate
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    return [f"({i}/{len(parts)}) {part}" for i, part in enumerate(parts, 1)]
