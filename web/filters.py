"""The template filters every page may use: Indonesian dates, numbers and labels (formats.py)."""
from __future__ import annotations

import datetime
import time

from flask import current_app
from peewee import PeeweeException

from formats import long_date, moment, number, percent
from office.contacts import contact
from vocabulary import mid_sentence, role_label, scheme_label


def tanggal(value, hari: bool = False) -> str:
    """The one date style of every page: `2026-12-04` -> `4 Desember 2026` (or `Jumat,
    4 Desember 2026`); a stored timestamp in WIB with its time (`4 Desember 2026, 14.05 WIB`);
    empty for None. The reviewer's desk calls the same function (web/desk.py)."""
    if isinstance(value, datetime.datetime):
        return moment(value, empty="")
    return long_date(value, weekday=hari, empty="")


def waktu(value: datetime.datetime | None) -> str:
    """A stored UTC moment as WIB wall-clock time: `4 Desember 2026 14.05`."""
    return moment(value, zone=False, empty="")


FILTERS = {
    "tanggal": tanggal,
    "waktu": waktu,
    "tanggal_id": tanggal,
    "waktu_id": moment,
    "angka": number,
    "persen": percent,
    "peran": role_label,
    "kalimat": mid_sentence,
    "skema": scheme_label,
}


CONTACT_SECONDS = 60  # another worker shows an admin's edit of the contacts within a minute


def kontak(kode: str | None = None):
    """An office's contact details for a page; never the reason a page fails (an error page
    drawn while the database is away still renders). Every full page shows the Dinas Sosial's
    in its footer, so the answer is kept per worker for a minute instead of queried per page."""
    cache = current_app.extensions.setdefault("kontak", {})
    now = time.monotonic()
    kept = cache.get(kode)
    if kept is not None and now - kept[0] < CONTACT_SECONDS:
        return kept[1]
    try:
        found = contact(kode)
    except PeeweeException:
        return None
    cache[kode] = (now, found)
    return found


def forget_contacts() -> None:
    """After an admin saved a contact: this worker shows it at once."""
    current_app.extensions.pop("kontak", None)
    current_app.extensions.pop("page_shells", None)  # pages kept around a check's answer


def init_app(app) -> None:
    app.jinja_env.filters.update(FILTERS)
    # Where to get help (office/contacts.py): kontak() is the Dinas Sosial's, kontak(kode) an
    # office's (falling back to the Dinas Sosial's); None until an admin entered them.
    app.jinja_env.globals["kontak"] = kontak
