"""Chart geometry (marketplace.creators.charts): scales, nice ticks, one mark per datum, everything inside the
box, percentages that sum to 100."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest

from marketplace.creators.charts import (
    Box,
    LinearScale,
    bar_chart,
    line_chart,
    nice_step,
    nice_ticks,
    percentages,
    share_bars,
    stacked_bar,
)


def test_linear_scale_maps_ends_and_middle_and_inverts():
    scale = LinearScale(0, 100, 200, 10)  # y axis: larger values higher up
    assert scale(0) == 200 and scale(100) == 10 and scale(50) == 105
    assert LinearScale(5, 5, 0, 10)(5) == 5  # a degenerate domain sits in the middle


@pytest.mark.parametrize(("span", "count", "step"), [
    (100, 5, 20), (1000, 5, 200), (7, 5, 2), (0.9, 5, 0.2), (12_345, 4, 5000), (1, 5, 0.2),
])
def test_nice_step(span, count, step):
    assert nice_step(span, count) == pytest.approx(step)


@pytest.mark.parametrize(("low", "high"), [
    (0, 1), (0, 7), (3, 97), (10_234, 12_876), (1_200_000, 1_350_001), (0, 5_000_000_000), (42, 42), (0, 0),
])
def test_nice_ticks_cover_the_data_with_round_even_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert len(ticks) >= 2 and len(ticks) <= 12
    steps = {b - a for a, b in pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() >= 1
    assert all(isinstance(t, int) for t in ticks)


def test_nice_ticks_for_rates_may_be_fractional():
    ticks = nice_ticks(0, 0.75, integer=False)
    assert ticks[0] == 0 and ticks[-1] >= 0.75 and ticks[1] == pytest.approx(0.2)


def test_line_chart_has_one_point_per_day_inside_the_plot():
    start = date(2026, 9, 1)
    series = [(start + timedelta(days=i), 10_000 + i * i) for i in range(90)]
    box = Box()
    chart = line_chart(list(reversed(series)), box)  # any order in, date order out
    assert len(chart.points) == 90
    assert [p.label for p in chart.points] == [d for d, _ in series]
    assert chart.points[0].x == box.plot_left and chart.points[-1].x == box.plot_right
    for p in chart.points:
        assert box.plot_left <= p.x <= box.plot_right and box.plot_top <= p.y <= box.plot_bottom
    assert chart.path.startswith("M") and chart.path.count(" L") == 89
    assert chart.area.endswith("Z")
    # more followers, higher up (smaller y)
    assert chart.points[-1].y < chart.points[0].y
    assert chart.x_ticks[0].value == start and chart.x_ticks[-1].value == series[-1][0]
    assert chart.y_ticks[0].value <= 10_000 and chart.y_ticks[-1].value >= series[-1][1]


def test_line_chart_with_gaps_places_days_by_calendar():
    d = date(2026, 1, 1)
    chart = line_chart([(d, 1), (d + timedelta(days=1), 2), (d + timedelta(days=10), 3)], Box(width=120, left=10,
                                                                                               right=10))
    xs = [p.x for p in chart.points]
    assert xs == [10, 20, 110]


def test_line_chart_of_amounts_reaches_zero_and_shades_to_it():
    d = date(2026, 11, 1)
    box = Box()
    positive = line_chart([(d, 1_500_000), (d + timedelta(days=1), 2_000_000)], box, include_zero=True)
    assert positive.y_ticks[0].value == 0 and positive.y_ticks[-1].value >= 2_000_000
    assert positive.area.endswith(f"L{box.plot_left},{box.plot_bottom} Z")
    without = line_chart([(d, 1_500_000), (d + timedelta(days=1), 2_000_000)], box)
    assert without.y_ticks[0].value > 0  # the plain line chart keeps its axis near the data
    # Credit used: below zero, shaded up to the zero line, which lies inside the plot.
    mixed = line_chart([(d, 100_000), (d + timedelta(days=1), -300_000)], box, include_zero=True)
    zero = next(t for t in mixed.y_ticks if t.value == 0)
    assert box.plot_top < zero.position < box.plot_bottom
    assert mixed.area.endswith(f",{zero.position:g} Z")
    assert mixed.points[1].y > zero.position > mixed.points[0].y


def test_line_chart_single_point_and_empty():
    chart = line_chart([(date(2026, 1, 1), 500)])
    assert len(chart.points) == 1 and len(chart.x_ticks) == 1
    assert line_chart([]) is None


def test_bar_chart_one_bar_per_value_from_zero_with_secondary_axis():
    box = Box()
    values = [1000, 250_000, 0, 48_000]
    chart = bar_chart(values, box, secondary=[3.5, 1.2, 0.0, 8.25])
    assert [b.value for b in chart.bars] == values
    assert chart.y_ticks[0].value == 0 and chart.y_ticks[-1].value >= 250_000
    for bar in chart.bars:
        assert bar.y + bar.height == pytest.approx(box.plot_bottom, abs=0.11)
        assert box.plot_left <= bar.x and bar.x + bar.width <= box.plot_right + 0.1
    assert chart.bars[2].height == 0
    assert chart.bars[1].height > chart.bars[3].height > chart.bars[0].height
    # bars do not overlap
    assert all(a.x + a.width < b.x for a, b in pairwise(chart.bars))
    assert len(chart.markers) == 4 and [m.x for m in chart.markers] == [b.center for b in chart.bars]
    assert chart.y2_ticks[-1].value >= 8.25
    assert bar_chart([]) is None
    with pytest.raises(ValueError):
        bar_chart([1, 2], secondary=[1.0])


@pytest.mark.parametrize("values", [[1, 1, 1], [62, 38], [40, 25, 20, 10, 5], [0.1, 0.2, 0.7], [7, 0, 0]])
def test_percentages_are_whole_and_sum_to_100(values):
    pct = percentages(values)
    assert sum(pct) == 100 and all(isinstance(p, int) for p in pct)
    assert all(abs(p - v * 100 / sum(values)) < 1 for p, v in zip(pct, values, strict=True))


def test_percentages_of_nothing():
    assert percentages([0, 0]) == [0, 0] and percentages([]) == []


def test_share_bars_scale_to_the_largest_share():
    chart = share_bars([("18-23", 20), ("24-30", 40), ("31-40", 30), ("41-50", 10)], width=400, label_width=100,
                       value_width=50, row=25)
    bars = chart.shares
    assert (chart.width, chart.height, chart.track) == (400, 100, 250)
    assert [b.key for b in bars] == ["18-23", "24-30", "31-40", "41-50"]
    assert [b.percent for b in bars] == [20, 40, 30, 10]
    assert bars[1].width == chart.track and bars[0].width == 125
    assert all(b.x == 100 and b.end <= 100 + chart.track for b in bars)
    assert [b.y for b in bars] == sorted(b.y for b in bars) and bars[-1].y + bars[-1].height <= chart.height
    assert share_bars([]) is None


def test_stacked_bar_fills_the_width_in_order():
    chart = stacked_bar([("female", 62), ("male", 38)], width=400)
    segments = chart.shares
    assert [s.percent for s in segments] == [62, 38]
    assert segments[0].x == 0 and segments[1].x == segments[0].end
    assert segments[1].end == pytest.approx(400, abs=0.1) and chart.width == 400
    assert stacked_bar([("female", 0), ("male", 0)]) is None


def test_bar_labels_are_thinned_from_the_latest():
    assert all(b.labelled for b in bar_chart([1] * 7, max_labels=7).bars)
    labelled = [b.index for b in bar_chart([1] * 12, max_labels=7).bars if b.labelled]
    assert labelled == [1, 3, 5, 7, 9, 11]
