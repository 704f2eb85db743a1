"""Presets turn data size and strategy into steps, learning rates, warm-up and evaluations."""
import math

import pytest

from core.train.config import PRESET_FIELDS, TrainConfig
from core.train.presets import PRESETS, describe, preset_values


def steps(config: TrainConfig, n: int) -> int:
    return math.ceil(n / config.batch_size) * config.epochs if not config.max_steps else config.max_steps


@pytest.mark.parametrize("name", list(PRESETS))
def test_small_data_gets_more_epochs_so_the_step_budget_holds(name):
    preset = PRESETS[name]
    small, large = TrainConfig(preset=name).resolved(120, "ner"), TrainConfig(preset=name).resolved(20_000, "ner")
    assert small.epochs > large.epochs >= preset.min_epochs
    assert small.epochs <= preset.max_epochs
    # 120 samples are 8 steps an epoch: the preset still trains about its budget of steps.
    assert steps(small, 120) >= min(preset.steps, 8 * preset.max_epochs) * 0.9


def test_presets_order_their_budgets_and_every_strategy_has_a_rate():
    budgets = [PRESETS[n].steps for n in ("quick", "standard", "best")]
    assert budgets == sorted(budgets)
    for preset in PRESETS.values():
        assert set(preset.learning_rate) == {"full", "freeze", "lora", "bitfit"}
        # adapters and biases move fewer weights and need larger steps than full fine-tuning
        assert preset.learning_rate["full"] < preset.learning_rate["lora"] < preset.learning_rate["bitfit"]


def test_values_set_by_hand_survive_and_resolving_twice_changes_nothing():
    config = TrainConfig(learning_rate=3e-5, epochs=7.0)
    resolved = config.resolved(1000, "ner")
    assert resolved.learning_rate == 3e-5 and resolved.epochs == 7.0 and resolved.is_resolved
    assert resolved.warmup_ratio == PRESETS["standard"].warmup_ratio
    assert resolved.resolved(10, "classification") == resolved
    assert all(getattr(TrainConfig(), name) is None for name in PRESET_FIELDS)


def test_evaluations_are_spread_over_the_run_including_max_steps():
    config = TrainConfig(preset="standard").resolved(3394, "ner")
    total = steps(config, 3394)
    assert math.ceil(total / config.eval_steps) == PRESETS["standard"].evaluations
    capped = TrainConfig(preset="best", max_steps=60).resolved(3394, "ner")
    assert capped.eval_steps == math.ceil(60 / PRESETS["best"].evaluations)


def test_the_description_names_what_the_preset_will_do():
    text = describe("standard", "full", 3394, "ner")
    v = preset_values("standard", "full", 3394, "ner")
    assert f"{v['epochs']:g} epochs over 3,394 samples" in text and f"{v['learning_rate']:.1e}" in text
