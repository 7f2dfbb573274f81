"""Indonesian dates, times and numbers, written (through Babel) and read back; masked names.

Every date a person sees or types goes through here: one style across pages, receipts, exports
and messages. Dates and deadlines count in calendar days in Banyuwangi's time zone (WIB).
"""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = "id"
WIB = ZoneInfo("Asia/Jakarta")
DATE_INPUTS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")  # a date input; typed; spreadsheets


def utcnow() -> datetime.datetime:
    """Naive UTC timestamp, as stored in every DateTimeField."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def today() -> datetime.date:
    """Today's calendar date in Banyuwangi (WIB); every deadline counts in these days."""
    return datetime.datetime.now(WIB).date()


def to_wib(moment: datetime.datetime) -> datetime.datetime:
    """A stored (naive UTC) timestamp as Banyuwangi wall-clock time."""
    return moment.replace(tzinfo=datetime.UTC).astimezone(WIB)


def number(value) -> str:
    """66796 -> `66.796`."""
    return format_decimal(value or 0, locale=LOCALE)


def percent(share: float | None) -> str:
    """0.873 -> `87,3%`; `–` when there is nothing to divide."""
    return "–" if share is None else format_percent(share, format="#,##0.#%", locale=LOCALE)


def long_date(day: datetime.date | datetime.datetime | None, *, weekday: bool = False,
              empty: str = "–") -> str:
    """`27 November 2026` (or `Jumat, 27 November 2026`); a timestamp counts in WIB."""
    if day is None:
        return empty
    if isinstance(day, datetime.datetime):
        day = to_wib(day).date()
    return format_date(day, format="EEEE, d MMMM y" if weekday else "d MMMM y", locale=LOCALE)


def month_range(start: datetime.date, end: datetime.date) -> str:
    """`Oktober–Desember 2026`; `Desember 2026–Februari 2027`; `Oktober 2026` for one month."""
    last = format_date(end, format="MMMM y", locale=LOCALE)
    if (start.year, start.month) == (end.year, end.month):
        return last
    first = format_date(start, format="MMMM" if start.year == end.year else "MMMM y",
                        locale=LOCALE)
    return f"{first}–{last}"


def moment(value: datetime.datetime | None, *, zone: bool = True, empty: str = "–") -> str:
    """A stored (UTC) timestamp in WIB: `27 November 2026, 14.05 WIB` (`… 14.05` without zone)."""
    if value is None:
        return empty
    local = to_wib(value)
    if zone:
        return f"{long_date(local.date())}, {local:%H.%M} WIB"
    return f"{long_date(local.date())} {local:%H.%M}"


def parse_date(text: str | None) -> datetime.date | None:
    """`2020-05-12` (a date input), `12-05-2020` or `12/05/2020` (typed, spreadsheets); None
    when it is none of them."""
    text = (text or "").strip()
    for fmt in DATE_INPUTS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def whole_number(text, low: int | None = None, high: int | None = None) -> int | None:
    """The one parser of a number typed in a form or a URL: ASCII digits only (`²` or `٣` pass
    str.isdigit() and then fail int()), at most nine of them, within [low, high]; None otherwise."""
    text = str(text if text is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def mask_name(name: str | None) -> str:
    """`SITI WAHYUNI` -> `S**I W*****I`: first and last letter of each word, stars between."""
    words = (name or "").split()
    return " ".join(w if len(w) <= 2 else w[0] + "*" * (len(w) - 2) + w[-1] for w in words)
