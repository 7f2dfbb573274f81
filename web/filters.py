"""The template filters every page may use: Indonesian dates, numbers and labels (formats.py)."""
from __future__ import annotations

import datetime

from formats import long_date, moment, number, percent
from vocabulary import role_label


def tanggal(value, hari: bool = False) -> str:
    """`2026-12-04` -> `4 Desember 2026` (or `Jumat, 4 Desember 2026`); empty for None."""
    return long_date(value, weekday=hari, empty="")


def waktu(value: datetime.datetime | None) -> str:
    """A stored UTC moment as WIB wall-clock time: `4 Desember 2026 14.05`."""
    return moment(value, zone=False, empty="")


FILTERS = {
    "tanggal": tanggal,
    "waktu": waktu,
    "tanggal_id": long_date,
    "waktu_id": moment,
    "angka": number,
    "persen": percent,
    "peran": role_label,
}


def init_app(app) -> None:
    app.jinja_env.filters.update(FILTERS)
