"""Presets turn data size and strategy into epochs, learning rates, warm-up and evaluations."""
import math

import pytest

from core.train.config import PRESET_FIELDS, TrainConfig
from core.train.presets import PRESETS, WNUT_TRAIN_WORDS, describe, preset_values


def total_steps(config: TrainConfig, n: int) -> int:
    return config.max_steps or math.ceil(math.ceil(n / config.batch_size) * config.epochs)


@pytest.mark.parametrize("name", list(PRESETS))
def test_small_data_gets_more_epochs_and_long_texts_fewer(name):
    preset = PRESETS[name]
    small = TrainConfig(preset=name).resolved(120, 1_200)
    large = TrainConfig(preset=name).resolved(20_000, 400_000)
    assert small.epochs == preset.max_epochs and large.epochs == preset.min_epochs
    tweets = TrainConfig(preset=name).resolved(3_000, 3_000 * 18)
    reviews = TrainConfig(preset=name).resolved(3_000, 3_000 * 110)
    assert tweets.epochs > reviews.epochs  # the same samples, six times the words: fewer passes
    # On WNUT train the budget is the number of epochs it was tuned in.
    wnut = TrainConfig(preset=name).resolved(3394, WNUT_TRAIN_WORDS)
    assert wnut.epochs == max(preset.min_epochs, preset.words / WNUT_TRAIN_WORDS)


def test_every_strategy_has_a_rate_and_adapters_take_larger_steps():
    for preset in PRESETS.values():
        assert set(preset.learning_rate) == {"full", "freeze", "lora", "bitfit"}
        assert preset.learning_rate["full"] < preset.learning_rate["lora"] < preset.learning_rate["bitfit"]
    words = [PRESETS[n].words for n in ("quick", "standard", "best")]
    assert words == sorted(words)


def test_values_set_by_hand_survive_and_resolving_twice_changes_nothing():
    config = TrainConfig(learning_rate=3e-5, epochs=7.0)
    resolved = config.resolved(1000, 20_000)
    assert resolved.learning_rate == 3e-5 and resolved.epochs == 7.0 and resolved.is_resolved
    assert resolved.warmup_ratio == PRESETS["standard"].warmup_ratio
    assert resolved.resolved(10, 100) == resolved
    assert all(getattr(TrainConfig(), name) is None for name in PRESET_FIELDS)


def test_evaluations_are_spread_over_the_run_including_max_steps():
    config = TrainConfig(preset="standard").resolved(3394, WNUT_TRAIN_WORDS)
    assert math.ceil(total_steps(config, 3394) / config.eval_steps) == PRESETS["standard"].evaluations
    capped = TrainConfig(preset="best", max_steps=60).resolved(3394, WNUT_TRAIN_WORDS)
    assert capped.eval_steps == math.ceil(60 / PRESETS["best"].evaluations)


def test_the_description_names_what_the_preset_will_do():
    text = describe("standard", "full", 3394, WNUT_TRAIN_WORDS)
    v = preset_values("standard", "full", 3394, WNUT_TRAIN_WORDS)
    assert text.startswith("standard: ") and f"{v['epochs']:g} epochs over 3,394 samples (62,730 words)" in text
    assert f"learning rate {v['learning_rate']:.1e}" in text
    with pytest.raises(ValueError, match="preset is 'fast': expected one of quick, standard, best"):
        preset_values("fast", "full", 1, 1)


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_few_hundred_long_texts_still_get_min_steps_optimiser_steps(name):
    """600 drug reviews hold about one WNUT word budget: one epoch is 38 steps, after which the
    quick preset's new head predicted only the majority class. Every preset takes min_steps."""
    config = TrainConfig(preset=name).resolved(600, 52_179)
    assert total_steps(config, 600) >= PRESETS[name].min_steps
    # The floor never lengthens runs that already have the steps, nor passes the epoch range.
    wnut = TrainConfig(preset=name).resolved(3394, WNUT_TRAIN_WORDS)
    assert wnut.epochs == max(PRESETS[name].min_epochs, PRESETS[name].words / WNUT_TRAIN_WORDS)
    tiny = TrainConfig(preset=name).resolved(8, 80)
    assert tiny.epochs == PRESETS[name].max_epochs
