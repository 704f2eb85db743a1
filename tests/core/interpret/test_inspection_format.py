"""Probabilities in the inspector's top-3 column never read 0.00."""
from core.interpret.inspection import prob_text


def test_small_probabilities_keep_their_digits():
    assert [prob_text(p) for p in (0.873, 0.1, 0.014, 0.0049, 0.00031, 2e-9, 0.0)] == [
        "0.87", "0.10", "0.014", "0.005", "3.1e-04", "2.0e-09", "0"]


def test_nothing_above_zero_prints_as_zero():
    for p in (1e-12, 4e-5, 0.0004999, 0.001, 0.00999, 0.05):
        assert float(prob_text(p)) > 0, p
