"""How aid is going, in numbers: recipients per kecamatan, reports by status, the seven-day rule.

Every figure is one SQL GROUP BY (no row reaches Python except the groups: about 220 desa x
schemes), and nothing personal leaves here. With 2,000,000 people and ~230,000 active enrolments
the recipients query takes ~0.3 s on SQLite, so a snapshot is kept per process for a short while
(`max_age`): the public page cannot be used to keep the database busy.

Also the bar charts, which the templates draw as tables (the chart and its numbers in one).
"""
from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field

import models
from formats import long_date, moment, number, percent  # noqa: F401  (callers)
from models import Region, Scheme
from vocabulary import DELIVERY_LABELS, LEVELS, STATUSES

LEVEL_ORDER = ("pusat", "provinsi", "kabupaten")
STATUS_ORDER = ("menunggu-penilaian", "layak", "tersalurkan", "tidak-layak", "ditolak-otomatis")


@dataclass
class Area:
    kode: str
    nama: str
    by_level: dict = field(default_factory=dict)
    by_scheme: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_level.values())


@dataclass
class Delivery:
    on_time: int = 0  # delivered within the deadline (seven days after `layak`)
    late: int = 0  # delivered after it
    overdue: int = 0  # `layak`, not delivered, deadline passed
    waiting: int = 0  # `layak`, not delivered, deadline still ahead

    @property
    def due(self) -> int:
        """Cases whose outcome is known: delivered, or past the deadline."""
        return self.on_time + self.late + self.overdue

    @property
    def share_on_time(self) -> float | None:
        return self.on_time / self.due if self.due else None


@dataclass
class Snapshot:
    areas: list[Area]
    schemes: list[Scheme]
    scheme_totals: dict
    level_totals: dict
    statuses: dict
    delivery: Delivery
    today: datetime.date
    taken_at: float

    @property
    def taken(self) -> datetime.datetime:
        """When the figures were counted (naive UTC, as stored timestamps are)."""
        return datetime.datetime.fromtimestamp(self.taken_at, datetime.UTC).replace(tzinfo=None)

    @property
    def recipients(self) -> int:
        return sum(self.level_totals.values())

    @property
    def reports(self) -> int:
        return sum(self.statuses.values())


def recipients_by_area(schemes: dict[str, Scheme]) -> list[Area]:
    """Active enrolments per kecamatan, by level and by scheme (a family scheme counts once
    per family: its enrolment is the head's)."""
    rows = models.db.execute_sql(
        "SELECT p.desa_kode, e.skema_kode, COUNT(*) FROM kepesertaan e "
        "JOIN penduduk p ON p.nik = e.nik WHERE e.berakhir IS NULL "
        "GROUP BY p.desa_kode, e.skema_kode").fetchall()
    areas = {kode: Area(kode, nama) for kode, nama in
             Region.kecamatan_list().select(Region.kode, Region.nama).tuples()}
    for desa, skema, count in rows:
        area = areas.get(desa[:8])
        if area is None or skema not in schemes:
            continue
        level = schemes[skema].tingkat
        area.by_level[level] = area.by_level.get(level, 0) + count
        area.by_scheme[skema] = area.by_scheme.get(skema, 0) + count
    return list(areas.values())


def reports_by_status() -> dict[str, int]:
    counts = dict(models.db.execute_sql(
        "SELECT status, COUNT(*) FROM laporan GROUP BY status").fetchall())
    return {status: counts.get(status, 0) for status in STATUS_ORDER}


def delivery(today: datetime.date) -> Delivery:
    """The seven-day rule: `layak` cases delivered in time, late, overdue, still in time."""
    param = models.db.param
    result = Delivery()
    for status, on_time, past, count in models.db.execute_sql(
            "SELECT status, tepat_waktu, CASE WHEN tenggat < " + param + " THEN 1 ELSE 0 END, "
            "COUNT(*) FROM laporan WHERE status IN ('layak', 'tersalurkan') "
            "GROUP BY 1, 2, 3", (today,)):
        if status == "tersalurkan":
            if on_time:
                result.on_time += count
            else:
                result.late += count
        elif past:
            result.overdue += count
        else:
            result.waiting += count
    return result


@dataclass
class DesilRow:
    desil: int | None  # None: families whose desil no list has given yet
    families: int = 0  # families of this desil known (desil_keluarga)
    covered: int = 0  # of them, families with at least one active enrolment
    by_scheme: dict = field(default_factory=dict)  # active enrolments per scheme

    @property
    def recipients(self) -> int:
        return sum(self.by_scheme.values())

    @property
    def share_covered(self) -> float | None:
        return self.covered / self.families if self.families else None


def by_desil() -> list[DesilRow]:
    """Recipients per DTSEN desil and scheme, and how many families of each desil receive
    anything (three GROUP BYs; the admin page only, never the cached public one)."""
    rows = {d: DesilRow(d) for d in (*range(1, 11), None)}
    for desil, count in models.db.execute_sql(
            "SELECT desil, COUNT(*) FROM desil_keluarga GROUP BY desil"):
        rows.setdefault(desil, DesilRow(desil)).families = count
    for desil, skema, count in models.db.execute_sql(
            "SELECT d.desil, e.skema_kode, COUNT(*) FROM kepesertaan e "
            "JOIN penduduk p ON p.nik = e.nik LEFT JOIN desil_keluarga d ON d.no_kk = p.no_kk "
            "WHERE e.berakhir IS NULL GROUP BY d.desil, e.skema_kode"):
        rows.setdefault(desil, DesilRow(desil)).by_scheme[skema] = count
    for desil, count in models.db.execute_sql(
            "SELECT d.desil, COUNT(DISTINCT d.no_kk) FROM desil_keluarga d "
            "JOIN penduduk p ON p.no_kk = d.no_kk "
            "JOIN kepesertaan e ON e.nik = p.nik AND e.berakhir IS NULL GROUP BY d.desil"):
        rows.setdefault(desil, DesilRow(desil)).covered = count
    return list(rows.values())


def take() -> Snapshot:
    today = models.today()
    schemes = {s.kode: s for s in Scheme.select()}
    ordered = sorted(schemes.values(), key=lambda s: (LEVEL_ORDER.index(s.tingkat), s.kode))
    areas = recipients_by_area(schemes)
    scheme_totals = {s.kode: sum(a.by_scheme.get(s.kode, 0) for a in areas) for s in ordered}
    level_totals = {level: sum(a.by_level.get(level, 0) for a in areas)
                    for level in LEVEL_ORDER}
    return Snapshot(areas, ordered, scheme_totals, level_totals, reports_by_status(),
                    delivery(today), today, time.time())


_cache: dict = {}
_lock = threading.Lock()


def snapshot(max_age: float = 60) -> Snapshot:
    """The figures, at most `max_age` seconds old (per process and database)."""
    key = id(models.db.obj)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and time.time() - cached.taken_at < max_age \
                and cached.today == models.today():
            return cached
    fresh = take()
    with _lock:
        _cache.clear()
        _cache[key] = fresh
    return fresh


# --- Bar charts --------------------------------------------------------------------------------
# A chart is a table: each row has its label, its numbers and a bar, a line of coloured blocks
# whose widths are classes of the stylesheet (tens `t1`…`t10` plus units `u1`…`u9` of percent:
# the CSP allows no style attribute). Labels are text at the page's size on any screen; screen
# readers and lynx read the numbers; nothing is drawn that the table does not also say.

WIDTH_STEP = 1  # percent
# Colours, by classes of the stylesheet (bi biru, ji jingga, hi hijau, me merah, ab abu; each
# at least 3:1 against white).
LEVEL_COLOURS = {"pusat": "bi", "provinsi": "ji", "kabupaten": "hi"}
DELIVERY = (("on_time", "hi"), ("late", "ji"), ("overdue", "me"), ("waiting", "bi"))


@dataclass
class Row:
    label: str
    values: list[int]  # one per series of the chart
    bar: list[tuple[str, int]]  # (colour, width in percent of the widest row) per value > 0

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Chart:
    title: str
    heading: str  # what a row is: "Kecamatan", "Status"
    series: list[tuple[str, str]]  # (colour, label); one series: each row has its own colour
    rows: list[Row]


def bar_widths(parts: list[tuple[str, int]], largest: int,
               step: int = WIDTH_STEP) -> list[tuple[str, int]]:
    """The blocks of one stacked bar, in percent of `largest`, multiples of `step`. Each block
    ends where the running total ends, rounded, so a bar's blocks add up to its own rounded
    length and the widest bar to 100 exactly. A value too small for one step is drawn one step
    wide, taken from the bar's widest block; a zero draws nothing."""
    blocks, drawn, running = [], 0, 0
    for colour, value in parts:
        running += value
        end = round(running * 100 / (largest * step)) * step if largest else 0
        if value:
            blocks.append([colour, end - drawn])
        drawn = end
    for block in blocks:
        if block[1] == 0:
            block[1] = step
            widest = max(blocks, key=lambda b: b[1])
            if widest[1] > step:
                widest[1] -= step
    return [(colour, width) for colour, width in blocks]


def chart(title: str, heading: str, series, rows) -> Chart:
    """`rows`: (label, [(colour, value), ...]), every row the same series in the same order;
    bars scaled to the largest row total."""
    largest = max((sum(v for _, v in parts) for _, parts in rows), default=0)
    return Chart(title, heading, list(series),
                 [Row(label, [v for _, v in parts], bar_widths(parts, largest))
                  for label, parts in rows])


def charts(snap: Snapshot) -> dict[str, Chart]:
    """The pictures of a snapshot: recipients per kecamatan by level, reports by status,
    delivery against the seven-day rule."""
    areas = sorted(snap.areas, key=lambda a: (-a.total, a.nama))
    d = snap.delivery
    return {
        "kecamatan": chart(
            "Penerima bantuan per kecamatan, menurut tingkat", "Kecamatan",
            [(LEVEL_COLOURS[lv], LEVELS[lv]) for lv in LEVEL_ORDER],
            [(a.nama, [(LEVEL_COLOURS[lv], a.by_level.get(lv, 0)) for lv in LEVEL_ORDER])
             for a in areas]),
        "status": chart(
            "Laporan warga menurut status", "Status", [("", "Laporan")],
            [(STATUSES[s], [("ab", n)]) for s, n in snap.statuses.items()]),
        "salur": chart(
            "Kasus layak menurut penyaluran", "Penyaluran", [("", "Kasus")],
            [(DELIVERY_LABELS[key], [(colour, getattr(d, key))])
             for key, colour in DELIVERY]),
    }
