"""Statistics: the figures are right, formatted the Indonesian way, drawn as tables whose rows
carry their bars (no inline styles); the public page holds no personal data and fits one TCP
round trip."""
from __future__ import annotations

import datetime
import html.parser
import re
from pathlib import Path

import pytest

import models
from cases import casework
from imports import recipients as importer
from models import Report
from nik import make_nik
from office import stats
from tests.conftest import login, new_nik

CSS = Path(__file__).resolve().parent.parent / "static" / "style.css"
BANYUWANGI, PESANGGARAN = "35.10.16.1001", "35.10.01.2001"


@pytest.fixture
def figures(app):
    """1,200 PKH families in kecamatan Banyuwangi, 3 Rantang Kasih elders in Pesanggaran,
    and reports in every state of the seven-day rule."""
    app.config.update(STATS_PUBLIC_MAX_AGE=0, STATS_ADMIN_MAX_AGE=0)
    lines = ["nik,no_kk,nama,alamat,kode_desa,skema"]
    for i in range(1200):  # own serials: conftest's new_nik() has 9,999 for the whole run
        nik = make_nik("351016", datetime.date(1970, 1, 1), False, 5000 + i)
        lines.append(f"{nik},35101601012{i:05d},WARGA SATU,Jl. A,{BANYUWANGI},PKH")
    for i in range(3):
        nik = make_nik("351001", datetime.date(1940, 1, 1), True, 5000 + i)
        lines.append(f"{nik},35100101012{i:05d},LANSIA DUA,Jl. B,{PESANGGARAN},RANTANG-KASIH")
    assert importer.import_register(importer.read_text("\n".join(lines) + "\n")).ok
    today = models.today()
    states = [("tersalurkan", True, -20), ("tersalurkan", True, -10), ("tersalurkan", False, -9),
              ("layak", None, -2), ("layak", None, 3), ("menunggu-penilaian", None, 5),
              ("tidak-layak", None, None)]
    for status, on_time, days in states:
        report = _report()
        Report.update(status=status, tepat_waktu=on_time,
                      tenggat=today + datetime.timedelta(days=days) if days is not None
                      else None).where(Report.id == report.id).execute()
    return app


def _report():
    nik = new_nik()
    subject = dict(nik=nik, nama="RAHASIA PRIBADI", no_kk=None, alamat="Jl. Rahasia 7",
                   desa=BANYUWANGI, kategori="lainnya", keterangan="")
    reporter = dict(hubungan="diri-sendiri", nama="RAHASIA PRIBADI", nik=nik, telepon=None)
    return casework.submit_report(subject, reporter)[0]


def test_figures(figures):
    snap = stats.take()
    by_code = {a.kode: a for a in snap.areas}
    assert len(snap.areas) == 25
    assert by_code["35.10.16"].by_level == {"pusat": 1200}
    assert by_code["35.10.16"].by_scheme == {"PKH": 1200}
    assert by_code["35.10.01"].by_level == {"kabupaten": 3}
    assert snap.level_totals == {"pusat": 1200, "provinsi": 0, "kabupaten": 3}
    assert snap.scheme_totals["PKH"] == 1200 and snap.recipients == 1203
    assert snap.statuses == {"menunggu-penilaian": 1, "layak": 2, "tersalurkan": 3,
                             "tidak-layak": 1, "ditolak-otomatis": 0}
    d = snap.delivery
    assert (d.on_time, d.late, d.overdue, d.waiting) == (2, 1, 1, 1)
    assert d.share_on_time == pytest.approx(0.5)  # 2 of 4 known outcomes


def test_ended_enrolments_are_not_counted(figures):
    enrolment = models.Enrolment.select().where(models.Enrolment.scheme == "RANTANG-KASIH").get()
    models.end_enrolment(enrolment.id, "Meninggal dunia")
    assert stats.take().level_totals["kabupaten"] == 2


def test_indonesian_formatting():
    assert stats.number(66796) == "66.796" and stats.number(2_000_000) == "2.000.000"
    assert stats.long_date(datetime.date(2026, 11, 27)) == "27 November 2026"
    assert stats.percent(0.873) == "87,3%" and stats.percent(None) == "–"


def test_public_page_within_budget_and_without_personal_data(figures, client):
    response = client.get("/statistik")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(response.data) + CSS.stat().st_size <= 14_000
    assert "1.203" in html and "1.200" in html  # Indonesian digit grouping
    assert stats.long_date(models.today()) in html
    assert "50%" in html  # delivered within seven days
    for personal in ("RAHASIA", "WARGA SATU", "LANSIA", "Jl. ", "3510"):
        assert personal not in html.replace("35.10", "")
    assert not re.search(r"\d{16}", html)
    assert set(charts(html)) == {"g-kec", "g-status", "g-salur"} and "<svg" not in html
    assert "style=" not in html and "<script>" not in html  # CSP: no inline style or script
    assert response.headers["Cache-Control"].startswith("public")


def test_public_page_is_not_cached_for_signed_in_staff(figures, client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    assert client.get("/statistik").headers["Cache-Control"] == "no-store"


def test_admin_page_has_every_scheme_per_kecamatan(figures, client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    html = client.get("/admin/statistik").get_data(as_text=True)
    row = re.search(r'<tr data-kecamatan="35.10.16">(.*?)</tr>', html).group(1)
    assert "<td>1.200</td>" in row and "<b>1.200</b>" in row
    assert '<span class="terlambat">Terlambat, belum disalurkan: 1</span>' in html
    assert set(charts(html)) == {"g-kec", "g-status", "g-salur"}
    assert "style=" not in html


def test_public_page_with_an_empty_register(client, app):
    app.config["STATS_PUBLIC_MAX_AGE"] = 0
    html = client.get("/statistik").get_data(as_text=True)
    assert "Belum ada kasus yang jatuh tempo" in html and "<b>0</b> penerima" in html


# The charts: tables whose rows carry their bars --------------------------------------------------

class ChartTables(html.parser.HTMLParser):
    """Each `table.grafik` of a page: its rows, each a list of cells, a cell as (text, bar), the
    bar the (colour, width) of its blocks from their classes. The templates leave out the end
    tags HTML supplies itself, so a cell ends where the next one or the row starts."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list] = {}
        self.rows = None
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.rows = self.tables.setdefault(a["id"], []) if a.get("class") == "grafik" \
                else None
        elif self.rows is None:
            return
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.rows[-1].append(["", []])
        elif tag == "i" and self.rows and self.rows[-1] and " " in a["class"]:
            colour, *parts = a["class"].split()  # "bi t7 u4": 74 %
            width = sum(int(p[1:]) * (10 if p[0] == "t" else 1) for p in parts)
            self.rows[-1][-1][1].append((colour, width))

    def handle_endtag(self, tag):
        if tag == "table":
            self.rows = None

    def handle_data(self, data):
        if self.rows and self.rows[-1]:
            self.rows[-1][-1][0] += data.strip()


def charts(source: str) -> dict[str, list[tuple[str, list[int], list]]]:
    """Each chart as rows of (label, numbers, bar); a row group (label and bar across the table,
    numbers below) counts as one row. The header row is left out."""
    found = {}
    for chart_id, rows in ChartTables(source).tables.items():
        body, result = rows[1:], []
        while body:
            row = body.pop(0)
            if len(row) == 1:  # a row group: the numbers follow in the next row
                numbers = [int(text.replace(".", "")) for text, _ in body.pop(0)]
            else:
                numbers = [int(text.replace(".", "")) for text, _ in row[1:]]
            result.append((row[0][0], numbers, row[0][1]))
        found[chart_id] = result
    return found


def assert_bars_match(rows, series: int):
    """Every bar says what its row's numbers say: a block per non-zero value, each block and
    the whole bar as long as its share of the largest row (to one step), the largest 100 %."""
    totals = [numbers[-1] if series > 1 else numbers[0] for _, numbers, _ in rows]
    largest = max(totals)
    step = stats.WIDTH_STEP
    for (label, numbers, bar), total in zip(rows, totals, strict=True):
        values = numbers[:series] if series > 1 else numbers
        assert sum(values) == total, label
        assert [w > 0 for _, w in bar] == [True] * len([v for v in values if v]), label
        for (_, width), value in zip(bar, [v for v in values if v], strict=True):
            assert abs(width - 100 * value / largest) <= 1.5 * step, (label, width, value)
        assert abs(sum(w for _, w in bar) - 100 * total / largest) <= step, label
    if largest:
        assert max(sum(w for _, w in bar) for _, _, bar in rows) == 100


def test_each_chart_has_the_numbers_it_draws(figures, client, make_user):
    snap = stats.take()
    make_user("kepala", "admin")
    login(client, "kepala")
    anonymous = client.application.test_client()
    for page in (anonymous.get("/statistik"), client.get("/admin/statistik")):
        drawn = charts(page.get_data(as_text=True))
        kecamatan = {label: numbers for label, numbers, _ in drawn["g-kec"]}
        assert len(kecamatan) == 25
        for area in snap.areas:
            assert kecamatan[area.nama] == [area.by_level.get(lv, 0) for lv in stats.LEVEL_ORDER
                                            ] + [area.total]
        assert_bars_match(drawn["g-kec"], series=3)
        assert {label: numbers[0] for label, numbers, _ in drawn["g-status"]} == {
            models.STATUSES[s]: n for s, n in snap.statuses.items()}
        assert_bars_match(drawn["g-status"], series=1)
        d = snap.delivery
        assert [numbers[0] for _, numbers, _ in drawn["g-salur"]] == [
            d.on_time, d.late, d.overdue, d.waiting] == [2, 1, 1, 1]
        assert_bars_match(drawn["g-salur"], series=1)
        banyuwangi = next(bar for label, _, bar in drawn["g-kec"] if label == "Banyuwangi")
        assert banyuwangi == [("bi", 100)]  # 1,200 of the largest 1,200, all pusat


def test_bar_widths():
    widths = stats.bar_widths
    assert widths([("bi", 50), ("ji", 50)], 100) == [("bi", 50), ("ji", 50)]
    assert widths([("bi", 333), ("ji", 333), ("hi", 334)], 1000, step=2) == [
        ("bi", 34), ("ji", 32), ("hi", 34)]  # ends rounded: 33.3 -> 34, 66.6 -> 66, 100
    assert widths([("bi", 333), ("ji", 333), ("hi", 334)], 1000) == [
        ("bi", 33), ("ji", 34), ("hi", 33)]
    # A value too small for one step shows one step wide, taken from the widest block.
    assert widths([("bi", 1197), ("ji", 3)], 1200) == [("bi", 99), ("ji", 1)]
    assert widths([("ab", 0)], 0) == [] and widths([("ab", 0)], 5) == []
    assert widths([("ab", 1)], 1000) == [("ab", 1)]


def test_every_width_class_exists():
    css = CSS.read_text(encoding="utf-8")
    assert "width:calc(var(--t,0%) + var(--u,0%))" in css
    for tens in range(1, 11):
        assert f".t{tens}{{--t:{tens}0%}}" in css
    for units in range(1, 10):
        assert f".u{units}{{--u:{units}%}}" in css
    for colour in ("bi", "ji", "hi", "me", "ab"):
        assert f".{colour}{{background:#" in css
