"""The check's answer about one NIK, the same on the public page, at the office kiosk and by SMS:
what covers it (covering.py), and for a NIK nothing covers what the check adds — a report about
the person already being assessed (and by when a decision is due), or an enrolment that ended
(and since when).

One query answers it all (`_ANSWER_SQL`); the aside's lookups run only for a NIK the covering
query found nothing for. Never the reporter's identity, never the case's tracking code: a
stranger may type any NIK.
"""
from __future__ import annotations

import datetime
from typing import NamedTuple

from covering import COLUMNS, Coverage, coverage_from_row, coverage_sql
from database import db, replica
from formats import mask_name
from office.schedules import Facts, scheme_facts
from vocabulary import DECEASED

# The check in one round trip: the covering query (covering.py) and, for a NIK it does not
# cover, the open assessment's due date and the last enrolment that ended (one seek in the index
# of ended enrolments, migrations/0011). The CASEs keep both lookups from running for anyone who
# is covered: in a join's condition, SQLite computes the subquery first, as the key to seek by.
_ANSWER_SQL = """
SELECT c.*,
       CASE WHEN c.own_kode IS NULL AND c.kk_kode IS NULL THEN (
           SELECT MIN(tenggat) FROM laporan
           WHERE nik = CAST({p} AS VARCHAR(16)) AND status = 'menunggu-penilaian') END,
       e.berakhir, e.skema_kode, e.alasan_berakhir
FROM ({coverage}) AS c
LEFT JOIN kepesertaan e ON e.id = CASE WHEN c.own_kode IS NULL AND c.kk_kode IS NULL THEN (
    SELECT id FROM kepesertaan WHERE nik = CAST({p} AS VARCHAR(16)) AND berakhir IS NOT NULL
    ORDER BY berakhir DESC, id DESC LIMIT 1) END
"""
_compiled: dict[str, str] = {}


class Aside(NamedTuple):
    """What the check says beside "not covered"."""

    decision_due: datetime.date | None = None  # a report is being assessed until this date
    ended: datetime.date | None = None  # the last enrolment ended on this date
    ended_scheme: str | None = None
    deceased: bool = False  # it ended because the person died: nobody is asked to report them

    @property
    def invites_report(self) -> bool:
        return self.decision_due is None and not self.deceased


def _aside(due, ended, scheme, reason) -> Aside:
    """The open assessment, or else the last ended enrolment, of an uncovered NIK."""
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
    database = replica if read_only and replica.obj is not None else db
    sql = _compiled.get(database.param)
    if sql is None:
        sql = _compiled[database.param] = _ANSWER_SQL.format(
            p=database.param, coverage=coverage_sql(database))
    row = database.execute_sql(sql, (nik, nik, None, nik)).fetchone()
    coverage = coverage_from_row(row)
    extra = None if coverage.covered else _aside(*row[COLUMNS:])
    return Answer(coverage.status, coverage, extra, scheme_facts(coverage.skema),
                  mask_name(coverage.nama))


def invalid(message: str) -> Answer:
    """The answer to a NIK that cannot be valid."""
    return Answer("tidak-valid", message=message)
