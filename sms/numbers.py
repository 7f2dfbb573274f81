"""Phone numbers as the SMS channel sees them: one written form, mobile or not, masked for
staff pages and logs."""
from __future__ import annotations

import re

# Indonesian mobile numbers: +62 8xx, 10 to 13 digits after the 62.
MOBILE = re.compile(r"\+628\d{8,12}")


def normalise(number: str | None) -> str:
    """`0812-3456-7890`, `62812…`, `+62 812…` -> `+6281234567890`; a number that is not
    Indonesian (`+31…`) keeps its own country code; anything without digits -> ``."""
    raw = (number or "").strip()
    digits = re.sub(r"\D", "", raw)
    if not digits:
        return ""
    if raw.startswith("+"):
        return "+" + digits
    if digits.startswith("0"):
        return "+62" + digits[1:]
    if digits.startswith("62"):
        return "+" + digits
    return digits  # a short code (e.g. an operator's 3636) or an unusual sender


def is_mobile(number: str | None) -> bool:
    """A number the office sends to: an Indonesian mobile number. The channel answers nobody
    else: an operator's short code or a sender name (`TELKOMSEL`, promotions) would cost money
    or subscribe the office's SIM to a paid service, and a landline cannot read an SMS."""
    return bool(MOBILE.fullmatch(normalise(number)))


def masked(number: str | None) -> str:
    """`+6281234567890` -> `+62812****7890`: enough for staff to tell messages apart."""
    normal = normalise(number)
    if len(normal) < 9:  # a short code or a sender name: nobody's personal number
        return normal or (number or "").strip()[:20]
    number = normal
    head = number[:6] if len(number) >= 13 else number[:3]
    tail = number[-4:] if len(number) >= 13 else number[-2:]
    return head + "*" * max(len(number) - len(head) - len(tail), 0) + tail
