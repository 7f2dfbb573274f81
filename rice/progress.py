"""The read side of rice aid: the counter's view of a family, and progress per stage and
kecamatan in a few GROUP BY queries over covering indexes (smooth at 670,000 families and
2,000,000 hand-overs). Totals are integers in grams, so they reconcile exactly:
families x stages x quantity per stage = handed over + still due.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from peewee import fn

from database import db
from formats import today
from models import Person, Region
from rice.models import Family, Handover, Programme, Return


@dataclass
class FamilyView:
    """What the counter shows about a family: who, where, each stage and each return."""

    family: Family
    kpm: Person | None
    members: list
    desa: str
    kecamatan: str
    handovers: dict  # tahap -> Handover
    returns: list


def family_view(programme: Programme, family: Family) -> FamilyView:
    members = list(Person.select(Person.nik, Person.nama).where(Person.no_kk == family.no_kk)
                   .order_by(Person.nik).limit(30))
    kpm = next((m for m in members if m.nik == family.nik), None)
    names = dict(Region.select(Region.kode, Region.nama)
                 .where(Region.kode.in_([family.desa_kode, family.kecamatan_kode])).tuples())
    handovers = {h.tahap: h for h in Handover.select().where(
        Handover.programme == programme.id, Handover.no_kk == family.no_kk)}
    returns = list(Return.select().where(Return.handover.in_([h.id for h in
                                                                handovers.values()]))
                   .order_by(Return.id)) if handovers else []
    return FamilyView(family, kpm, members, names.get(family.desa_kode, ""),
                      names.get(family.kecamatan_kode, ""), handovers, returns)


@dataclass
class Tally:
    """Families served of those due in one stage (or in all), and the returns among them."""

    due: int = 0  # families on the list
    served: int = 0
    returns_open: int = 0
    returns_closed: int = 0
    returned_gram: int = 0
    replaced_gram: int = 0
    overdue: int = 0

    @property
    def remaining(self) -> int:
        return self.due - self.served

    @property
    def percent(self) -> str:
        return f"{100 * self.served / self.due:.1f}".replace(".", ",") if self.due else "0"


@dataclass
class Progress:
    programme: Programme
    families: int
    stages: dict = field(default_factory=dict)  # tahap -> Tally
    kecamatan: list = field(default_factory=list)  # (kode, nama, {tahap: Tally})
    daily: list = field(default_factory=list)  # (date, {tahap: families served that day})

    @property
    def gram(self) -> int:
        return self.programme.gram_per_tahap

    @property
    def entitled_gram(self) -> int:
        """Families x stages x quantity per stage."""
        return self.families * self.programme.jumlah_tahap * self.gram

    @property
    def handed_gram(self) -> int:
        return sum(t.served for t in self.stages.values()) * self.gram

    @property
    def remaining_gram(self) -> int:
        return sum(t.remaining for t in self.stages.values()) * self.gram

    @property
    def returns(self) -> Tally:
        total = Tally()
        for t in self.stages.values():
            total.returns_open += t.returns_open
            total.returns_closed += t.returns_closed
            total.returned_gram += t.returned_gram
            total.replaced_gram += t.replaced_gram
            total.overdue += t.overdue
        return total


def progress(programme: Programme, return_days: int = 7) -> Progress:
    """Progress per stage and kecamatan, in a few GROUP BY queries over covering indexes."""
    pid, stages = programme.id, list(programme.stage_numbers)
    due_by_kec = dict(Family.select(Family.kecamatan, fn.COUNT(Family.id))
                      .where(Family.programme == pid).group_by(Family.kecamatan).tuples())
    names = dict(Region.kecamatan_list().select(Region.kode, Region.nama).tuples())
    by_kec: dict[str, dict[int, Tally]] = {
        kode: {s: Tally(due=due) for s in stages} for kode, due in due_by_kec.items()}
    result = Progress(programme, sum(due_by_kec.values()),
                      {s: Tally(due=sum(due_by_kec.values())) for s in stages})

    def tally(kode, tahap) -> Tally:
        return by_kec.setdefault(kode, {s: Tally() for s in stages})[tahap]

    # One scan of the covering index (program, tahap, kecamatan, tanggal) gives both the
    # counts per stage and kecamatan and the daily chart: 2,000,000 rows, a few thousand groups.
    p = db.param
    daily: dict[datetime.date, dict[int, int]] = {}
    for tahap, kode, day, served in db.execute_sql(
            "SELECT tahap, kecamatan_kode, tanggal, COUNT(*) FROM serah_beras "
            f"WHERE program_id = {p} GROUP BY tahap, kecamatan_kode, tanggal", (pid,)):
        tally(kode, tahap).served += served
        result.stages[tahap].served += served
        if isinstance(day, str):  # SQLite returns dates as text from raw SQL
            day = datetime.date.fromisoformat(day)
        counts = daily.setdefault(day, {})
        counts[tahap] = counts.get(tahap, 0) + served
    result.daily = sorted(daily.items())
    late = today() - datetime.timedelta(days=return_days)
    # Returns are few: `+h.program_id` keeps SQLite from driving the join from the 2,000,000
    # hand-overs (a unary plus is a no-op to PostgreSQL, whose statistics choose well anyway).
    for tahap, kode, is_open, count, grams, overdue in db.execute_sql(
            "SELECT h.tahap, h.kecamatan_kode, CASE WHEN r.tanggal_ganti IS NULL THEN 1 ELSE 0 "
            "END AS terbuka, COUNT(*), SUM(r.gram), "
            f"SUM(CASE WHEN r.tanggal_ganti IS NULL AND r.tanggal < {p} THEN 1 ELSE 0 END) "
            "FROM pengembalian_beras r JOIN serah_beras h ON h.id = r.serah_id "
            f"WHERE +h.program_id = {p} GROUP BY h.tahap, h.kecamatan_kode, terbuka",
            (late.isoformat(), pid)):
        for target in (tally(kode, tahap), result.stages[tahap]):
            target.returned_gram += grams
            if is_open:
                target.returns_open += count
                target.overdue += overdue
            else:
                target.returns_closed += count
                target.replaced_gram += grams
    result.kecamatan = sorted(((kode, names.get(kode, kode), row) for kode, row in
                               by_kec.items()), key=lambda r: r[1])
    return result
