"""Retention: closed reports lose their personal data after a configurable period.

`flask --app app anonymise-reports [--older-than-days N]`, safe to run from cron every night.
A report is closed when it was rejected at once (`ditolak-otomatis`), judged not eligible
(`tidak-layak`) or the aid was delivered (`tersalurkan`); the period counts from the day it closed.
What identifies a person goes: the subject's name, NIK, No. KK, address and story; every
reporter's name, NIK and phone; free-text notes (staff may have written names into them). What
the statistics and the audit need stays: the tracking code, status, dates, desa and kecamatan,
category, schemes, reason code, the channel and office, and who decided and when.
"""
from __future__ import annotations

import datetime

from peewee import fn

import models
from cases import objections
from models import Report, Reporter, ReportEvent
from sms import models as sms_log

BATCH = 500


def closed_before(cutoff: datetime.date):
    """Closed reports, not yet anonymised, whose closing day is before `cutoff`."""
    closed_on = fn.COALESCE(Report.tanggal_salur, Report.tanggal_putusan, Report.tanggal_lapor)
    return (Report.select(Report.id)
            .where(Report.status.in_(models.CLOSED_STATUSES),
                   Report.dianonimkan_at.is_null(),
                   closed_on < cutoff)
            .order_by(Report.id))


def anonymise_objections(older_than_days: int, today: datetime.date | None = None) -> int:
    """Objections decided more than the period ago lose their objectors' names, phones and
    texts (cases.objections.anonymise); returns how many objectors."""
    return objections.anonymise((today or models.today())
                                - datetime.timedelta(days=older_than_days))


def anonymise(older_than_days: int, today: datetime.date | None = None) -> int:
    """Blank the personal data of closed reports older than the period; returns how many."""
    cutoff = (today or models.today()) - datetime.timedelta(days=older_than_days)
    # Received SMS are logged masked already; they are kept as long as a closed case.
    sms_log.prune(datetime.datetime.combine(cutoff, datetime.time()))
    done = 0
    while True:
        with models.db.atomic():
            ids = [row.id for row in closed_before(cutoff).limit(BATCH)]
            if not ids:
                return done
            (Report.update(nama="", nik="", no_kk=None, alamat="", keterangan="", catatan="",
                           keterangan_salur="", dianonimkan_at=models.utcnow())
             .where(Report.id.in_(ids)).execute())
            (Reporter.update(nama="", nik=None, telepon=None)
             .where(Reporter.report.in_(ids)).execute())
            ReportEvent.update(note="").where(ReportEvent.report.in_(ids)).execute()
            sms_log.forget(report_ids=ids)
        done += len(ids)
