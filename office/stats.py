"""How aid is going, in numbers: recipients per kecamatan, reports by status, the seven-day rule.

Every figure is one SQL GROUP BY (no row reaches Python except the groups: about 220 desa x
schemes), and nothing personal leaves here. With 2,000,000 people and ~230,000 active enrolments
the recipients query takes ~0.3 s on SQLite, so a snapshot is kept per process for a short while
(`max_age`): the public page cannot be used to keep the database busy.

Also the geometry of the bar charts, which the templates draw as inline SVG.
"""
from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field

import models
from formats import long_date, moment, number, percent  # noqa: F401  (callers)
from models import Region, Scheme

LEVEL_ORDER = ("pusat", "provinsi", "kabupaten")
LEVEL_COLOURS = {"pusat": "#0b4ea2", "provinsi": "#b56a00", "kabupaten": "#0b6e4f"}
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

@dataclass
class Bar:
    label: str
    value: int
    y: int
    segments: list  # (colour, x, width)
    end: float = 0  # where the bar ends: the value is written just after it


def stacked_bars(rows: list[tuple[str, list[tuple[str, int]]]], *, left: int, width: int,
                 row_height: int = 18) -> list[Bar]:
    """Horizontal bars: rows of (label, [(colour, value), ...]) scaled to the largest total."""
    largest = max((sum(v for _, v in parts) for _, parts in rows), default=0) or 1
    bars = []
    for i, (label, parts) in enumerate(rows):
        x, segments = float(left), []
        for colour, value in parts:
            w = width * value / largest
            if value:
                segments.append((colour, round(x, 1), max(round(w, 1), 0.5)))
            x += w
        bars.append(Bar(label, sum(v for _, v in parts), i * row_height, segments,
                        round(x, 1)))
    return bars


def paths_by_colour(bars: list[Bar], bar_height: int = 14) -> dict[str, str]:
    """One SVG path per colour with every bar of that colour: a few bytes per bar."""
    paths: dict[str, list[str]] = {}
    for bar in bars:
        for colour, x, w in bar.segments:
            paths.setdefault(colour, []).append(
                f"M{_n(x)} {bar.y + 2}h{_n(w)}v{bar_height}h-{_n(w)}z")
    return {colour: "".join(parts) for colour, parts in paths.items()}


def _n(value: float) -> str:
    return f"{value:g}"


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    paths: dict[str, str]
    height: int
    legend: list[tuple[str, str]]  # (colour, label)


def chart(title: str, rows, legend=(), *, left: int = 160, width: int = 400,
          row_height: int = 18) -> Chart:
    bars = stacked_bars(rows, left=left, width=width, row_height=row_height)
    return Chart(title, bars, paths_by_colour(bars, row_height - 4),
                 len(bars) * row_height + 4, list(legend))


def charts(snap: Snapshot) -> dict[str, Chart]:
    """The pictures of a snapshot: recipients per kecamatan by level, reports by status,
    delivery against the seven-day rule."""
    levels = [(LEVEL_COLOURS[level], models.LEVELS[level]) for level in LEVEL_ORDER]
    areas = sorted(snap.areas, key=lambda a: -a.total)
    status_colour = "#555"
    d = snap.delivery
    return {
        "kecamatan": chart(
            "Penerima bantuan per kecamatan, menurut tingkat",
            [(a.nama, [(LEVEL_COLOURS[lv], a.by_level.get(lv, 0)) for lv in LEVEL_ORDER])
             for a in areas], levels),
        "status": chart(
            "Laporan warga menurut status",
            [(SHORT_STATUS[s], [(status_colour, n)]) for s, n in snap.statuses.items()]),
        "salur": chart(
            "Kasus layak menurut penyaluran",
            [("Tepat waktu", [("#0b6e4f", d.on_time)]), ("Terlambat", [("#b56a00", d.late)]),
             ("Belum, lewat tenggat", [("#b3261e", d.overdue)]),
             ("Belum, masih sempat", [("#0b4ea2", d.waiting)])]),
    }


SHORT_STATUS = {"menunggu-penilaian": "Menunggu penilaian", "layak": "Layak, belum disalurkan",
                "tersalurkan": "Sudah disalurkan", "tidak-layak": "Tidak layak",
                "ditolak-otomatis": "Ditolak otomatis"}
