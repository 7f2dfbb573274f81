"""Updates by SMS to the people who reported a case or objected, when they asked for them.

Called by the case's own functions (cases/casework.py, cases/objections.py) inside their
transaction: the messages are stored in the SMS log (`antri`) together with the decision, so a
decision that fails sends nothing and one that stands is never without its message. The worker
hands them to gammu-smsd. No message names the person or holds a NIK: only the tracking code,
the status, the scheme's code and dates.
"""
from __future__ import annotations

from models import Report, Reporter
from sms import numbers, texts
from sms.models import queue


def _send(phones, parts: list[str], **case) -> None:
    for number in dict.fromkeys(numbers.normalise(p) for p in phones if numbers.is_mobile(p)):
        queue(number, parts, "kabar", **case)


def _reporters(report: Report) -> list[str]:
    return [phone for (phone,) in Reporter.select(Reporter.telepon)
            .where(Reporter.report == report.id, Reporter.kabar_sms == True)  # noqa: E712
            .tuples()]


def report_received(report: Report, reporter: dict, outcome: str) -> None:
    """The reporter's receipt: the tracking code (or the automatic rejection, or the case the
    report joined), when they ticked "kabar lewat SMS"."""
    if reporter.get("kabar_sms") and reporter.get("telepon"):
        _send([reporter["telepon"]], texts.report_received(report, outcome),
              report_id=report.id)


def report_decided(report: Report) -> None:
    """`layak` (with the delivery deadline) or `tidak layak` (with the reason)."""
    _send(_reporters(report), texts.report_decided(report), report_id=report.id)


def report_delivered(report: Report) -> None:
    _send(_reporters(report), texts.report_delivered(report), report_id=report.id)


def objection_received(objection, phone: str, wanted: bool) -> None:
    if wanted:
        _send([phone], texts.objection_received(objection), objection_id=objection.id)


def objection_decided(objection, phones: list[str]) -> None:
    """Kept or ended; `phones` are the objectors who asked for updates."""
    _send(phones, texts.objection_status(objection), objection_id=objection.id)
