"""IclConfig validation messages and JSON round trip."""
from __future__ import annotations

import pytest

from core.icl.config import DEFAULT_EXAMPLE, IclConfig


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"selection": "nearest"}, "selection must be one of random, knn, balanced, found 'nearest'; pass --select random|knn|balanced"),
        ({"shots": -1}, "shots must be an integer from 0 to 64, found -1"),
        ({"batch_size": 0}, "batch_size must be an integer from 1 to 256, found 0"),
        ({"task": "qa"}, "task must be one of ner, classification, found 'qa'"),
        ({"split": "val"}, "split must be one of train, dev, test, unassigned, found 'val'"),
        ({"limit": 0}, "limit must be a positive number of samples or empty, found 0"),
        ({"task": "ner", "calibrate": True}, "calibration applies to classification only (it rescales label probabilities), found task 'ner'; drop --calibrate"),
        ({"example": "Review: {review}"}, "example template has an unknown placeholder {review}; allowed: {text}"),
        ({"example": "Review:"}, "example template must contain {text}, found 'Review:'"),
        ({"instruction": "Pick one of {labels"}, "instruction template 'Pick one of {labels' is not a valid template"),
    ],
)
def test_bad_values_are_named(kwargs, message):
    with pytest.raises(ValueError) as err:
        IclConfig(**kwargs)
    assert str(err.value).startswith(message)


def test_defaults_are_filled_per_task_and_round_trip():
    config = IclConfig(task="ner", shots=2)
    assert config.example == DEFAULT_EXAMPLE["ner"]
    assert config.max_new_tokens == 32
    again = IclConfig.from_json(config.to_json())
    assert again == config


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown ICL setting 'temperature'"):
        IclConfig.from_json({"temperature": 0.7})
