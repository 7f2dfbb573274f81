"""The audit log: who processed personal data, what they did and when (UU PDP Pasal 31).

Account changes, scheme changes, ended enrolments, imports, exports of personal data and
look-ups at the rice counter each leave one row. Where the subject is a person, the row holds an
HMAC of the NIK or No. KK (the caller's key, web.security.nik_hmac), never the number itself:
the log proves a look-up of a given person when asked about that person, and leaks nobody.
Rows older than AUDIT_RETENTION_DAYS are deleted by `flask anonymise-reports`.
"""
from __future__ import annotations

import datetime

from peewee import AutoField, CharField, DateTimeField

from database import BaseModel
from formats import utcnow

# Action code -> what the admin page says.
ACTIONS = {
    "akun.buat": "Akun dibuat",
    "akun.ubah": "Peran/kantor akun diubah",
    "akun.sandi": "Kata sandi akun diganti",
    "akun.nonaktif": "Akun dinonaktifkan",
    "akun.aktif": "Akun diaktifkan lagi",
    "akun.2fa": "Faktor kedua akun dihapus",
    "skema.buat": "Skema ditambahkan",
    "skema.ubah": "Skema diubah",
    "skema.henti": "Skema dihentikan untuk peserta baru",
    "skema.lanjut": "Skema dibuka lagi untuk peserta baru",
    "kepesertaan.akhiri": "Kepesertaan diakhiri",
    "impor": "Daftar penerima diimpor",
    "impor.beras": "Penyerahan beras diimpor",
    "ekspor": "Data pribadi diekspor",
    "loket.cari": "Keluarga dicari di loket beras",
    "cek.massal": "Daftar NIK dicek massal",
}
SYSTEM = "sistem"  # the actor of a command run on the server (flask ...)


class AuditEntry(BaseModel):
    """One processing of personal data or of who may process it."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    actor = CharField(max_length=64)  # a username, or `sistem` for a server command
    action = CharField(max_length=30)
    subject = CharField(max_length=200, default="")

    class Meta:
        table_name = "jejak_audit"
        indexes = ((("action", "at"), False), (("actor", "at"), False))


TABLES = [AuditEntry]


def record(actor, action: str, subject: str = "") -> AuditEntry:
    """One row: `actor` a User (or anything with `username`) or a name; `subject` never a NIK
    in clear (pass an HMAC, a masked form or an id)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    name = getattr(actor, "username", None) or str(actor or SYSTEM)
    return AuditEntry.create(actor=name[:64], action=action, subject=str(subject or "")[:200])


def entries(action: str | None = None, actor: str | None = None,
            start: datetime.date | None = None, end: datetime.date | None = None):
    """The log, newest first, filtered by action, actor and days (UTC timestamps, whole days)."""
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if start:
        query = query.where(AuditEntry.at >= datetime.datetime.combine(start, datetime.time()))
    if end:
        query = query.where(AuditEntry.at < datetime.datetime.combine(
            end + datetime.timedelta(days=1), datetime.time()))
    return query


def purge(older_than_days: int, now: datetime.datetime | None = None) -> int:
    """Delete the rows older than the retention period; returns how many."""
    cutoff = (now or utcnow()) - datetime.timedelta(days=older_than_days)
    return AuditEntry.delete().where(AuditEntry.at < cutoff).execute()
