"""What the public check adds for a NIK nothing covers: a report about the person already being
assessed (and by when a decision is due), or an enrolment that ended (and since when).

Asked only when the covering query found nothing, so the check stays one lookup for everyone
who is covered. Never the reporter's identity, never the case's tracking code: a stranger may
type any NIK.
"""
from __future__ import annotations

import datetime
from typing import NamedTuple

from database import db, replica
from vocabulary import DECEASED

_PENDING_SQL = ("SELECT tenggat FROM laporan WHERE nik = {p} "
                "AND status IN ('menunggu-penilaian')")
_ENDED_SQL = ("SELECT berakhir, skema_kode, alasan_berakhir FROM kepesertaan "
              "WHERE nik = {p} AND berakhir IS NOT NULL ORDER BY berakhir DESC, id DESC")


class Aside(NamedTuple):
    """What the check says beside "not covered"."""

    decision_due: datetime.date | None = None  # a report is being assessed until this date
    ended: datetime.date | None = None  # the last enrolment ended on this date
    ended_scheme: str | None = None
    deceased: bool = False  # it ended because the person died: nobody is asked to report them

    @property
    def invites_report(self) -> bool:
        return self.decision_due is None and not self.deceased


def aside(nik: str, *, read_only: bool = False) -> Aside:
    """The open assessment, or else the last ended enrolment, of an uncovered NIK."""
    database = replica if read_only and replica.obj is not None else db
    row = database.execute_sql(_PENDING_SQL.format(p=database.param), (nik,)).fetchone()
    due = row[0] if row else None
    if isinstance(due, str):  # SQLite through the DB-API
        due = datetime.date.fromisoformat(due)
    ended = database.execute_sql(_ENDED_SQL.format(p=database.param), (nik,)).fetchone()
    if ended is None:
        return Aside(due)
    day = ended[0] if not isinstance(ended[0], str) else datetime.date.fromisoformat(ended[0])
    return Aside(due, day, ended[1], (ended[2] or "").startswith(DECEASED))
