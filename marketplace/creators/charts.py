"""Chart geometry for the creator profile page (pure: no Flask, no database).

Templates draw the charts as inline SVG from what these functions return: scales map data to pixels, ticks
are "nice" round numbers (1, 2 or 5 × 10ⁿ), paths are SVG path data. Formatting labels for people (numbers,
dates, percentages) happens in the template, in the reader's locale.

Invariants: every coordinate lies inside the chart's box; a chart has exactly one point (line) or bar per
datum; percentages of a distribution are whole numbers that sum to exactly 100 (largest remainder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Box:
    """A chart's size and the margins left for its axes; the plot area is what remains."""

    width: int = 640
    height: int = 240
    left: int = 64
    right: int = 16
    top: int = 12
    bottom: int = 30

    @property
    def plot_left(self) -> float:
        return self.left

    @property
    def plot_right(self) -> float:
        return self.width - self.right

    @property
    def plot_top(self) -> float:
        return self.top

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom

    @property
    def plot_width(self) -> float:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top


@dataclass(frozen=True)
class LinearScale:
    """Map the domain [d0, d1] linearly onto the range [r0, r1] (a degenerate domain maps to the middle)."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) * (self.r1 - self.r0) / (self.d1 - self.d0)


def nice_step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts ``span`` into about ``count`` intervals."""
    if span <= 0 or count < 1:
        return 1
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = True) -> list[float]:
    """Round tick values from at or below ``low`` to at or above ``high`` (at least two ticks).

    ``integer`` keeps the step at 1 or more (counts of people cannot be fractional)."""
    if high < low:
        low, high = high, low
    if high == low:
        pad = max(abs(high) * 0.1, 1)
        low, high = (max(low - pad, 0) if low >= 0 else low - pad), high + pad
    step = nice_step(high - low, count)
    if integer:
        step = max(step, 1)
        if step != int(step):
            step = math.ceil(step)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    n = round((last - first) / step)
    ticks = [first + i * step for i in range(n + 1)]
    if integer:
        ticks = [int(round(t)) for t in ticks]
    else:
        ticks = [round(t, 10) for t in ticks]
    return ticks if len(ticks) >= 2 else [ticks[0], ticks[0] + step]


@dataclass(frozen=True)
class Tick:
    value: float | date
    position: float  # x for a horizontal axis, y for a vertical one


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: date
    value: int


@dataclass
class LineChart:
    box: Box
    points: list[Point]
    path: str
    area: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def line_chart(series: Sequence[tuple[date, int]], box: Box | None = None, x_tick_count: int = 4,
               include_zero: bool = False) -> LineChart | None:
    """A line through ``series`` (date, value) in date order: one point per datum, x by calendar day.
    ``include_zero``: the value axis reaches 0 (amounts, where the shaded area should read as the amount).

    Returns None for an empty series."""
    box = box or Box()
    series = sorted(series, key=lambda item: item[0])
    if not series:
        return None
    values = [v for _, v in series]
    low, high = min(values), max(values)
    if include_zero:
        low, high = min(low, 0), max(high, 0)
    y_ticks_values = nice_ticks(low, high)
    y = LinearScale(y_ticks_values[0], y_ticks_values[-1], box.plot_bottom, box.plot_top)
    first, last = series[0][0].toordinal(), series[-1][0].toordinal()
    x = LinearScale(first, last, box.plot_left, box.plot_right)
    points = [Point(round(x(d.toordinal()), 1), round(y(v), 1), d, v) for d, v in series]
    path = "M" + " L".join(f"{_fmt(p.x)},{_fmt(p.y)}" for p in points)
    base = round(y(0), 1) if include_zero else box.plot_bottom  # the area is shaded down (or up) to here
    area = f"{path} L{_fmt(points[-1].x)},{_fmt(base)} L{_fmt(points[0].x)},{_fmt(base)} Z"
    # Date ticks: first and last day and evenly spaced days between them (distinct days only).
    if last == first:
        tick_days = [first]
    else:
        n = max(1, min(x_tick_count, last - first))
        tick_days = sorted({round(first + i * (last - first) / n) for i in range(n + 1)})
    x_ticks = [Tick(date.fromordinal(d), round(x(d), 1)) for d in tick_days]
    y_ticks = [Tick(v, round(y(v), 1)) for v in y_ticks_values]
    return LineChart(box, points, path, area, x_ticks, y_ticks)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    index: int
    labelled: bool = True  # whether the axis names this bar (every k-th when they are many)

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    value: float
    index: int


@dataclass
class BarChart:
    box: Box
    bars: list[Bar]
    y_ticks: list[Tick]
    markers: list[Marker] = field(default_factory=list)  # the secondary series (right axis)
    marker_path: str = ""
    y2_ticks: list[Tick] = field(default_factory=list)


def bar_chart(values: Sequence[int], box: Box | None = None, secondary: Sequence[float] | None = None,
              gap: float = 0.3, max_labels: int = 7) -> BarChart | None:
    """Vertical bars from 0 for ``values`` (one bar each, in order), optionally with a secondary series
    (e.g. a rate) drawn as markers on its own right-hand axis from 0. At most ``max_labels`` bars are named
    on the axis (every k-th, from the last), so labels never overlap.

    Returns None when there are no values."""
    box = box or Box()
    if not values:
        return None
    y_ticks_values = nice_ticks(0, max(max(values), 1))
    y = LinearScale(0, y_ticks_values[-1], box.plot_bottom, box.plot_top)
    slot = box.plot_width / len(values)
    width = round(slot * (1 - gap), 1)
    every = math.ceil(len(values) / max(max_labels, 1))
    bars = []
    for i, value in enumerate(values):
        top = y(value)
        bars.append(Bar(round(box.plot_left + i * slot + slot * gap / 2, 1), round(top, 1), width,
                        round(box.plot_bottom - top, 1), value, i, (len(values) - 1 - i) % every == 0))
    chart = BarChart(box, bars, [Tick(v, round(y(v), 1)) for v in y_ticks_values])
    if secondary is not None:
        if len(secondary) != len(values):
            raise ValueError("the secondary series needs one value per bar")
        y2_values = nice_ticks(0, max(max(secondary), 0.01), integer=False)
        y2 = LinearScale(0, y2_values[-1], box.plot_bottom, box.plot_top)
        chart.markers = [Marker(bar.center, round(y2(v), 1), v, i) for i, (bar, v) in enumerate(zip(bars, secondary, strict=True))]
        chart.marker_path = "M" + " L".join(f"{_fmt(m.x)},{_fmt(m.y)}" for m in chart.markers)
        chart.y2_ticks = [Tick(v, round(y2(v), 1)) for v in y2_values]
    return chart


def percentages(values: Sequence[float]) -> list[int]:
    """Whole percentages of ``values``' total that sum to exactly 100 (largest remainder); all 0 if empty."""
    total = sum(values)
    if total <= 0:
        return [0 for _ in values]
    exact = [v * 100 / total for v in values]
    floors = [math.floor(e) for e in exact]
    order = sorted(range(len(values)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[: 100 - sum(floors)]:
        floors[i] += 1
    return floors


@dataclass(frozen=True)
class Share:
    key: str
    value: float
    percent: int
    x: float
    y: float
    width: float
    height: float

    @property
    def end(self) -> float:
        return round(self.x + self.width, 1)


@dataclass
class ShareChart:
    """Bars for a distribution: ``shares`` in order, drawn in a ``width`` × ``height`` box; each bar starts at
    ``label_width`` and may grow to ``track`` long (the room left for it)."""

    width: int
    height: int
    label_width: int
    track: float
    shares: list[Share]


def share_bars(items: Sequence[tuple[str, float]], width: int = 320, label_width: int = 100, row: int = 26,
               bar_height: int = 16, value_width: int = 44) -> ShareChart | None:
    """Horizontal bars, one row per item, lengths proportional to each item's share of the largest one
    (the longest bar fills the track); ``percent`` is the share of the total. None when there are no items."""
    if not items:
        return None
    values = [max(v, 0) for _, v in items]
    track = width - label_width - value_width
    top = max(values) or 1
    shares = [Share(key, value, pct, label_width, i * row + (row - bar_height) / 2, round(track * value / top, 1),
                    bar_height)
              for i, ((key, _), value, pct) in enumerate(zip(items, values, percentages(values), strict=True))]
    return ShareChart(width, row * len(items), label_width, track, shares)


def stacked_bar(items: Sequence[tuple[str, float]], width: int = 640, height: int = 28) -> ShareChart | None:
    """One bar split into segments by share of the total (e.g. audience gender), left to right; None when
    there is nothing to split."""
    values = [max(v, 0) for _, v in items]
    total = sum(values)
    if not items or total <= 0:
        return None
    shares, x = [], 0.0
    for (key, _), value, pct in zip(items, values, percentages(values), strict=True):
        w = width * value / total
        shares.append(Share(key, value, pct, round(x, 1), 0, round(w, 1), height))
        x += w
    return ShareChart(width, height, 0, width, shares)
