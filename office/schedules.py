"""A scheme's distribution schedule: the periods (tahap) an admin enters per scheme, and what the
public check says about a scheme (its benefit, the current and next period), so "my neighbour
got it and I didn't" has an answer.
"""
from __future__ import annotations

import datetime
import time
from typing import NamedTuple

from peewee import AutoField, CharField, DateField, DateTimeField, ForeignKeyField

from database import BaseModel, db
from errors import RuleError
from formats import month_range, today, utcnow
from models import Scheme

SHOWN = 2  # periods the check shows: the current one and the next
# What the check says about a scheme is the same for every resident all day: each worker keeps
# it this long (a change saved through another worker shows within it; through this one at once).
FACTS_SECONDS = 60


class SchemePeriod(BaseModel):
    """One distribution period of a scheme: "Tahap 4", October to December 2026."""

    id = AutoField()
    scheme = ForeignKeyField(Scheme, column_name="skema_kode", on_delete="CASCADE")
    nama = CharField(max_length=60)
    mulai = DateField()
    selesai = DateField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "jadwal_skema"

    @property
    def label(self) -> str:
        """`Tahap 4: Oktober–Desember 2026`."""
        return f"{self.nama}: {month_range(self.mulai, self.selesai)}"


def periods(kode: str):
    """A scheme's periods, in date order (a query)."""
    return (SchemePeriod.select().where(SchemePeriod.scheme == kode)
            .order_by(SchemePeriod.mulai, SchemePeriod.id))


def upcoming(kode: str, day: datetime.date | None = None) -> list[SchemePeriod]:
    """The period under way and the next one: those not yet over."""
    return list(periods(kode).where(SchemePeriod.selesai >= (day or today())).limit(SHOWN))


def add_period(kode: str, nama: str, mulai: datetime.date | None,
               selesai: datetime.date | None) -> SchemePeriod:
    """Add a period; RuleError (with the field) when something is missing or backwards."""
    nama = " ".join((nama or "").split())
    if not nama:
        raise RuleError("Isi nama periode, misalnya Tahap 4.", "nama_periode")
    if len(nama) > 60:
        raise RuleError("Nama periode paling banyak 60 karakter.", "nama_periode")
    if mulai is None:
        raise RuleError("Isi tanggal mulai, misalnya 01-10-2026.", "mulai")
    if selesai is None:
        raise RuleError("Isi tanggal selesai, misalnya 31-12-2026.", "selesai")
    if selesai < mulai:
        raise RuleError("Tanggal selesai tidak boleh sebelum tanggal mulai.", "selesai")
    forget_facts()
    return SchemePeriod.create(scheme=kode, nama=nama, mulai=mulai, selesai=selesai)


def remove_period(kode: str, period_id: int) -> bool:
    forget_facts()
    return SchemePeriod.delete().where(SchemePeriod.id == period_id,
                                       SchemePeriod.scheme == kode).execute() == 1


class Facts(NamedTuple):
    """What the check says about a scheme (templates/_manfaat.html)."""

    manfaat: str  # the benefit, in the office's words
    jadwal: list[str]  # the coming distribution periods


def scheme_facts(kode: str | None) -> Facts | None:
    """What the check says about a scheme: its benefit and its coming periods (kept per worker
    for FACTS_SECONDS: the check's hot path would otherwise spend two queries on them)."""
    if not kode:
        return None
    key, now, kept = (kode, today()), time.monotonic(), _kept()
    found = kept.get(key)
    if found is not None and now < found[0]:
        return found[1]
    manfaat = Scheme.select(Scheme.manfaat).where(Scheme.kode == kode).scalar()
    facts = Facts(manfaat or "", [p.label for p in upcoming(kode)])
    kept[key] = (now + FACTS_SECONDS, facts)
    return facts


def forget_facts() -> None:
    """After a scheme or its periods changed: this worker answers with the new facts at once."""
    _kept().clear()


def _kept() -> dict:
    """The facts this worker keeps, held by the database they were read from (so an app, or a
    test, with another database never sees them)."""
    store = db.obj
    kept = getattr(store, "scheme_facts", None)
    if kept is None:
        kept = store.scheme_facts = {}
    return kept
