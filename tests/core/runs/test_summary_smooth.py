"""The smoothed training loss follows the raw one instead of lagging above it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.runs.summary import smooth


def falling_loss(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = 0.3 + 2.0 * np.exp(-np.arange(n) / (n / 4))
    return truth, truth + rng.normal(0.0, 0.1, n)


@pytest.mark.parametrize("n", [12, 40, 200])
def test_a_falling_loss_is_smoothed_through_the_raw_points_not_above_them(n):
    truth, raw = falling_loss(n)
    smoothed = np.array(smooth(raw.tolist()))
    # A one-sided EMA (weight 0.8, TensorBoard's) sits 0.04-0.33 above the raw points here.
    assert abs((smoothed - raw).mean()) < 0.02
    assert 0.3 < (smoothed > raw).mean() < 0.7
    # ... and it is smoother than the raw curve: closer to the truth than the noise is.
    assert np.sqrt(((smoothed - truth) ** 2).mean()) < 0.1


def test_it_is_the_mean_of_a_forward_and_a_backward_pandas_ewm():
    values = [5.0, 3.0, 4.0, 1.0, 2.0, 0.5]
    forward = pd.Series(values).ewm(span=3).mean()
    backward = pd.Series(values[::-1]).ewm(span=3).mean()[::-1].reset_index(drop=True)
    assert smooth(values, span=3) == pytest.approx(((forward + backward) / 2).tolist())


def test_a_flat_curve_stays_flat_and_short_curves_work():
    assert smooth([]) == []
    assert smooth([0.7]) == [0.7]
    assert smooth([2.0] * 30) == pytest.approx([2.0] * 30)
