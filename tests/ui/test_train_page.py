"""Train page form through AppTest: the preset comes first, and the boxes it fills show its
actual values for this project's data (issue 15: the learning rate read `0.0e+0`)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.train.presets import PRESETS, preset_values
from core.text.tokenize import word_offsets
from tests.tiny_models import ner_texts, seed_project

PAGE = Path(__file__).resolve().parents[2] / "ui" / "pages" / "train.py"


def open_page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=180)  # a loaded 2-core machine counts parameters slowly
    at.query_params["project"] = "tiny"
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_preset_comes_first_and_fills_the_schedule_with_real_values(S):
    seed_project(S, "tiny", "ner", n_train=40, n_dev=8)
    at = open_page()
    assert [s.key for s in at.selectbox][:2] == ["train_preset", "train_strategy"]
    assert at.selectbox(key="train_preset").value == "standard"
    words = sum(len(word_offsets(text)) for text, _ in ner_texts(40))  # the 40 train samples' words
    expected = preset_values("standard", "full", 40, words)
    lr = at.number_input(key="train_learning_rate")
    assert lr.value == expected["learning_rate"] > 0
    assert at.number_input(key="train_epochs").value == expected["epochs"]
    assert at.number_input(key="train_warmup_ratio").value == expected["warmup_ratio"]
    summary = next(c.value for c in at.caption if "words), learning rate" in c.value)
    assert f"over 40 samples ({words:,} words)" in summary and summary.startswith(PRESETS["standard"].title)
    # The schedule lives folded in the advanced settings, below the preset.
    assert at.expander[0].label.startswith("Advanced settings")

    at.selectbox(key="train_preset").set_value("quick").run()
    assert at.number_input(key="train_learning_rate").value == preset_values("quick", "full", 40, words)["learning_rate"]
    at.selectbox(key="train_strategy").set_value("lora").run()
    assert at.number_input(key="train_learning_rate").value == preset_values("quick", "lora", 40, words)["learning_rate"]


def test_a_value_set_by_hand_is_kept_and_shown_in_the_caption(S):
    seed_project(S, "tiny", "ner", n_train=40, n_dev=8)
    at = open_page()
    at.number_input(key="train_learning_rate").set_value(3e-5).run()
    assert not at.exception, at.exception
    assert at.number_input(key="train_learning_rate").value == 3e-5
    assert any("learning rate 3e-05" in c.value for c in at.caption)
