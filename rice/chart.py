"""The daily progress chart of a rice programme, drawn on the server as inline SVG.

Geometry only: the template turns it into <rect> and <polyline> elements with SVG presentation
attributes (fill, stroke), never style attributes, which the CSP forbids; its words and numbers
are HTML around the drawing, so they keep the page's size on a phone. Bars are the families
served each day, stacked by stage; the line is the share of everything due (families x stages)
handed over so far.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from formats import long_date

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 2, 2, 2, 2  # room for the strokes only: the labels are HTML
MAX_DAYS = 180  # the most recent days drawn; the table under the chart has them all
COLOURS = ("#0b6e4f", "#0b4ea2", "#b56a00", "#6b3fa0")  # by stage, repeating


@dataclass
class Chart:
    bars: list = field(default_factory=list)  # dict(x, y, w, h, fill, label)
    line: str = ""  # polyline points of the cumulative share
    y_max: int = 0
    first: datetime.date | None = None
    last: datetime.date | None = None
    legend: list = field(default_factory=list)  # (tahap, colour)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    share: str = "0"  # percent handed over at the end


def daily_chart(progress) -> Chart:
    stages = list(progress.programme.stage_numbers)
    chart = Chart(legend=[(s, COLOURS[(s - 1) % len(COLOURS)]) for s in stages])
    if not progress.daily:
        return chart
    served = dict(progress.daily)
    last = progress.daily[-1][0]
    first = max(progress.daily[0][0], last - datetime.timedelta(days=MAX_DAYS - 1))
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    before = sum(sum(counts.values()) for day, counts in progress.daily if day < first)
    chart.first, chart.last = first, last
    # Scaled to a stage's total (every family on the list), never to the busiest day: one
    # day of 0.7 % would otherwise fill the chart beside the line's "100%".
    busiest = max(sum(served.get(d, {}).values()) for d in days)
    chart.y_max = max(progress.families, busiest, 1)
    plot_w, plot_h = chart.right - chart.left, chart.bottom - chart.top
    slot = plot_w / len(days)
    gap = min(slot * 0.15, 2)
    due = progress.families * len(stages) or 1
    points, total = [], before
    for i, day in enumerate(days):
        counts = served.get(day, {})
        y = chart.bottom
        for tahap in stages:
            n = counts.get(tahap, 0)
            if not n:
                continue
            h = n / chart.y_max * plot_h
            y -= h
            chart.bars.append({"x": round(chart.left + i * slot + gap / 2, 2), "y": round(y, 2),
                               "w": round(max(slot - gap, 0.5), 2), "h": round(h, 2),
                               "fill": COLOURS[(tahap - 1) % len(COLOURS)],
                               "label": f"{long_date(day)}, tahap {tahap}: {n} keluarga"})
        total += sum(counts.values())
        x = chart.left + (i + 0.5) * slot
        points.append(f"{x:.1f},{chart.bottom - min(total / due, 1) * plot_h:.1f}")
    chart.line = " ".join(points)
    chart.share = f"{100 * total / due:.1f}".replace(".", ",")
    return chart
