"""Training-curve figures: axes that read right for one point, all-zero scores and tiny learning rates.

The figures are checked as Plotly builds them (layout ranges and tick formats); the browser
test tests/e2e/test_first_hour.py checks the tick labels a person sees."""
from __future__ import annotations

import pytest

from ui import charts


def test_a_single_point_gets_an_axis_from_step_0_not_29_to_31():
    fig = charts.line_figure({"#1": [(30, 0.4)]}, "Dev f1", "f1")
    assert list(fig.layout.xaxis.range) == pytest.approx([0, 31.2])
    assert fig.layout.xaxis.tickformat == "d"
    assert fig.data[0].mode == "lines+markers"  # a lone point is drawn, not an invisible line


def test_an_all_zero_dev_f1_curve_starts_at_zero_not_minus_one():
    fig = charts.line_figure({"#1": [(20, 0.0), (40, 0.0), (60, 0.0)]}, "Dev f1", "f1", markers=True)
    low, high = fig.layout.yaxis.range
    assert low == 0.0 and 0 < high <= 1.0


def test_bounded_scores_never_go_past_one_and_loss_is_left_to_autorange():
    assert charts.value_range([0.2, 0.95], bounded=True) == [0.0, 1.02]
    assert charts.value_range([0.1, 0.3], bounded=True) == pytest.approx([0.0, 0.345])
    assert charts.value_range([2.1, 0.4], bounded=False) is None
    assert charts.value_range([0.5, 0.5], bounded=False) == pytest.approx([0.45, 0.55])


def test_the_learning_rate_axis_is_in_scientific_notation_from_zero():
    fig = charts.learning_rate_figure({"#1": [(0, 0.0), (10, 2e-5), (50, 1e-5)]})
    assert fig.layout.yaxis.tickformat == ".1e"
    assert list(fig.layout.yaxis.range) == pytest.approx([0, 2.2e-5])


def test_the_smoothed_loss_line_is_drawn_through_the_raw_points():
    points = [(i * 10, 3.0 - 0.1 * i + (0.2 if i % 2 else -0.2)) for i in range(20)]
    fig = charts.loss_figure({"#1": points})
    raw, smoothed = fig.data
    assert raw.name == "#1 (raw)" and smoothed.name == "#1 (smoothed)"
    above = sum(s > r for s, r in zip(smoothed.y, raw.y))
    assert 5 <= above <= 15


def test_the_confusion_heatmap_is_not_swamped_by_o_to_o():
    import math

    from ui.eval_view import confusion_figure

    labels = ["PER", "LOC", "O"]
    matrix = [[40, 3, 7], [2, 25, 5], [6, 4, 9000]]
    fig = confusion_figure(labels, matrix, "t", log=True, hide_o=True)
    z = fig.data[0].z
    assert math.isnan(z[2][2])  # O→O uncoloured ...
    assert fig.data[0].text[2][2] == "9,000"  # ... but still labelled with its count
    # On the log scale an error cell of 7 gets a visible share of the colour range (linear: 7/9000).
    assert z[0][2] / fig.data[0].zmax > 0.4
    assert list(fig.data[0].colorbar.ticktext)[:3] == ["0", "1", "10"]
    plain = confusion_figure(labels, matrix, "t", log=False, hide_o=False)
    assert plain.data[0].z[2][2] == 9000 and plain.data[0].zmax == 9000
