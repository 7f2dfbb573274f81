"""The check's answer about one NIK, the same on the public page, at the office kiosk and by SMS:
what covers it (covering.py), and for a NIK nothing covers what the check adds — a report about
the person already being assessed (and by when a decision is due), or an enrolment that ended
(and since when).

The aside is asked only when the covering query found nothing, so the check stays one lookup for
everyone who is covered. Never the reporter's identity, never the case's tracking code: a
stranger may type any NIK.
"""
from __future__ import annotations

import datetime
from typing import NamedTuple

from covering import Coverage, covering
from database import db, replica
from formats import mask_name
from office.schedules import Facts, scheme_facts
from vocabulary import DECEASED

# One round trip: the open assessment's due date, and the last enrolment that ended.
_ASIDE_SQL = """
SELECT (SELECT MIN(tenggat) FROM laporan WHERE nik = q.nik AND status = 'menunggu-penilaian'),
       e.berakhir, e.skema_kode, e.alasan_berakhir
FROM (SELECT CAST({p} AS VARCHAR(16)) AS nik) AS q
LEFT JOIN kepesertaan e ON e.id = (
    SELECT id FROM kepesertaan WHERE nik = q.nik AND berakhir IS NOT NULL
    ORDER BY berakhir DESC, id DESC LIMIT 1)
"""

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
    due, ended, scheme, reason = database.execute_sql(
        _ASIDE_SQL.format(p=database.param), (nik,)).fetchone()
    if ended is None:
        return Aside(_day(due))
    return Aside(_day(due), _day(ended), scheme, (reason or "").startswith(DECEASED))


def _day(value) -> datetime.date | None:
    """A date column as a date (SQLite's DB-API gives ISO text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


class Answer(NamedTuple):
    """The check's answer, as every channel shows it (templates/public/home.html's `hasil`
    block, the kiosk's templates/staff/_check.html, sms/texts.coverage). Attributes, not a
    dict: a template reads each of them in one step."""

    status: str  # a coverage status (covering.Coverage), or tidak-valid
    coverage: Coverage | None = None
    aside: Aside | None = None  # for a NIK nothing covers
    facts: Facts | None = None  # the covering scheme's benefit and periods
    masked: str | None = None  # the person's name as the public may see it
    message: str | None = None  # why the NIK typed cannot be valid (nik.py's words)
    token: str | None = None  # the web's sealed NIK for a report the answer invites

    @property
    def invites_report(self) -> bool:
        """Nothing covers the NIK and nothing stands against a report about it."""
        return self.aside is not None and self.aside.invites_report


def answer(nik: str, *, read_only: bool = False) -> Answer:
    """The check's answer about a valid NIK (`read_only`: from the read replica if any)."""
    coverage = covering(nik, read_only=read_only)
    extra = None if coverage.covered else aside(nik, read_only=read_only)
    return Answer(coverage.status, coverage, extra, scheme_facts(coverage.skema),
                  mask_name(coverage.nama))


def invalid(message: str) -> Answer:
    """The answer to a NIK that cannot be valid."""
    return Answer("tidak-valid", message=message)
