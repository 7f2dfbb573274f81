"""The SMS log: every message received and every message sent, with what became of it.

The log is the channel's ledger as well. A received message is stored once under its key in
gammu's store (the inbox row's ID, or the inbox file's name), so a message is answered exactly
once however many workers run; a message to send waits here (`antri`) until a worker hands it
to gammu-smsd, then follows gammu's own record (sentitems, or the sent/error folder).

Nothing here holds a NIK: a received text is stored with every long run of digits masked, the
sender as an HMAC (the rate-limit key) and a masked number; a sent text never contains one.
"""
from __future__ import annotations

import datetime
import re

from peewee import (
    SQL,
    AutoField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from database import BaseModel
from formats import utcnow
from models import Report

# What became of a received message. Every one except `dijawab` is listed for the admins.
OUTCOMES = {
    "dijawab": "Dijawab",
    "nik-tidak-valid": "NIK tidak valid; dijawab dengan penjelasannya",
    "kode-tidak-ada": "Kode laporan tidak ditemukan; dijawab",
    "tidak-dikenal": "Perintah tidak dikenal; dijawab dengan petunjuk",
    "batas-cek": "Batas pengecekan nomor ini habis; dijawab agar mencoba lagi nanti",
    "batas-balasan": "Batas balasan untuk nomor ini habis; tidak dijawab",
    "bukan-nomor-hp": "Pengirim bukan nomor HP Indonesia; tidak dijawab",
    "bukan-teks": "Bukan pesan teks; tidak dijawab",
    "galat": "Kesalahan sistem saat menjawab; tidak dijawab",
}
# A message to send: waiting here, handed to gammu-smsd, then sent or failed.
STATUSES = {
    "antri": "Menunggu diserahkan ke modem",
    "diserahkan": "Di antrean modem",
    "terkirim": "Terkirim",
    "gagal": "Gagal dikirim",
}
WAITING = ("antri", "diserahkan")
KINDS = {"balasan": "Balasan", "kabar": "Kabar laporan"}
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d){7,}")


def mask_digits(text: str) -> str:
    """`cek 3510 1612 0390 0001` -> `cek [16 angka]`: a NIK (or a mistyped one) never reaches
    the log, and staff still see how many digits were sent."""
    def masked(match):
        return f"[{sum(ch.isdigit() for ch in match.group())} angka]"
    return _DIGIT_RUN.sub(masked, text)


class InboundMessage(BaseModel):
    """A message the office's number received, once, and what was done with it."""

    id = AutoField()
    kunci = CharField(max_length=160, unique=True)  # the message's key in gammu's store
    pengirim = CharField(max_length=64)  # HMAC of the sender's number
    pengirim_samaran = CharField(max_length=24)  # +62812****7890
    teks = CharField(max_length=200)  # digits masked, cut short
    perintah = CharField(max_length=10, default="")  # cek | lacak | bantuan | "" (unknown)
    hasil = CharField(max_length=16)  # a key of OUTCOMES
    diterima_at = DateTimeField(null=True)  # when gammu-smsd received it (UTC), if known
    diproses_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "sms_masuk"


class OutboundMessage(BaseModel):
    """One SMS to send (a reply, or an update on a case), at most 160 GSM-7 characters."""

    id = AutoField()
    nomor = CharField(max_length=20)  # +6281234567890; blanked with the case's personal data
    teks = TextField()
    jenis = CharField(max_length=8)  # balasan | kabar
    masuk = ForeignKeyField(InboundMessage, null=True, column_name="sms_masuk_id",
                            on_delete="SET NULL")
    laporan = ForeignKeyField(Report, null=True, column_name="laporan_id", on_delete="CASCADE")
    sanggahan_id = IntegerField(null=True)  # cases.objections.Objection (no import circle)
    status = CharField(max_length=10, default="antri")
    status_gammu = CharField(max_length=20, default="")  # sentitems' Status, e.g. SendingError
    ref = CharField(max_length=160, default="")  # outbox ID, or the outbox file's name
    created_at = DateTimeField(default=utcnow)
    diserahkan_at = DateTimeField(null=True)
    selesai_at = DateTimeField(null=True)

    class Meta:
        table_name = "sms_keluar"

    @property
    def status_label(self) -> str:
        label = STATUSES.get(self.status, self.status)
        return f"{label} ({self.status_gammu})" if self.status_gammu else label

    @classmethod
    def of_report(cls, report_id: int):
        return cls.select().where(cls.laporan == report_id).order_by(cls.created_at, cls.id)

    @classmethod
    def of_objection(cls, objection_id: int):
        return (cls.select().where(cls.sanggahan_id == objection_id)
                .order_by(cls.created_at, cls.id))


TABLES = [InboundMessage, OutboundMessage]


def queue(number: str, parts: list[str], kind: str, *, report_id: int | None = None,
          objection_id: int | None = None, inbound_id: int | None = None) -> None:
    """Store messages to send (the worker hands them to gammu-smsd), in the caller's
    transaction: a decision that rolls back sends nothing."""
    now = utcnow()
    OutboundMessage.insert_many([
        {"nomor": number, "teks": text, "jenis": kind, "masuk": inbound_id,
         "laporan": report_id, "sanggahan_id": objection_id, "created_at": now}
        for text in parts]).execute()


def unanswered(limit: int = 50):
    """Received messages that were not answered as asked, newest first."""
    return (InboundMessage.select().where(InboundMessage.hasil != "dijawab")
            .order_by(InboundMessage.diproses_at.desc(), InboundMessage.id.desc()).limit(limit))


def failed(limit: int = 20):
    return (OutboundMessage.select().where(OutboundMessage.status == "gagal")
            .order_by(OutboundMessage.selesai_at.desc(), OutboundMessage.id.desc()).limit(limit))


def figures(now: datetime.datetime | None = None) -> dict:
    """The log's side of the channel's health: last received and sent, the queue, failures."""
    now = now or utcnow()
    day_ago = now - datetime.timedelta(days=1)
    waiting = dict(OutboundMessage.select(OutboundMessage.status, fn.COUNT(SQL("*")))
                   .where(OutboundMessage.status.in_(WAITING))
                   .group_by(OutboundMessage.status).tuples())
    oldest = (OutboundMessage.select(fn.MIN(OutboundMessage.created_at))
              .where(OutboundMessage.status.in_(WAITING)).scalar())
    return {
        "last_received": InboundMessage.select(fn.MAX(InboundMessage.diproses_at)).scalar(),
        "last_sent": OutboundMessage.select(fn.MAX(OutboundMessage.selesai_at))
        .where(OutboundMessage.status == "terkirim").scalar(),
        "received_day": InboundMessage.select().where(
            InboundMessage.diproses_at >= day_ago).count(),
        "sent_day": OutboundMessage.select().where(
            OutboundMessage.status == "terkirim", OutboundMessage.selesai_at >= day_ago).count(),
        "queued": waiting.get("antri", 0),
        "handed": waiting.get("diserahkan", 0),
        "oldest_waiting": oldest,
        "failed_day": OutboundMessage.select().where(
            OutboundMessage.status == "gagal", OutboundMessage.selesai_at >= day_ago).count(),
        "unanswered_day": InboundMessage.select().where(
            InboundMessage.hasil != "dijawab", InboundMessage.diproses_at >= day_ago).count(),
    }


def forget(report_ids=None, objection_ids=None) -> None:
    """Retention: the numbers messages went to leave with the case's personal data (the text
    has no NIK and no full name, and stays for the audit)."""
    if report_ids is not None:
        (OutboundMessage.update(nomor="").where(OutboundMessage.laporan.in_(report_ids))
         .execute())
    if objection_ids is not None:
        (OutboundMessage.update(nomor="")
         .where(OutboundMessage.sanggahan_id.in_(objection_ids)).execute())


def prune(before: datetime.datetime) -> int:
    """Retention of the received log (masked already): rows older than `before` go."""
    return InboundMessage.delete().where(InboundMessage.diproses_at < before).execute()
