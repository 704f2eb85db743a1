"""Integrated-gradient completeness: word attributions add up to p(input) - p(baseline)."""
from __future__ import annotations

import pytest

from core.interpret import attribution
from core.inference import predict
from db import runs as run_repo
from tests import tiny_runs as tm


def load(S, run_id, task):
    with S.begin() as s:
        return predict.load(run_repo.get_run(s, run_id).checkpoint, task)


def completeness(out: dict) -> tuple[float, float]:
    total = sum(w["score"] for w in out["words"] if w["score"] is not None)
    return total, out["prediction"] - out["baseline_prediction"]


def test_ner_attributions_are_complete_within_delta(S, tmp_path):
    lm = load(S, tm.trained_ner_run(S, tmp_path, steps=40)[1], "ner")
    out = attribution.explain(lm, "Frank flew to Lima on Monday .", word_index=3, steps=64)
    assert out["target_label"] == "B-LOC"
    total, difference = completeness(out)
    # captum's delta is exactly sum(attributions) - (F(x) - F(baseline)); check it independently.
    assert abs(total - difference) <= abs(out["delta"]) + 1e-5
    assert abs(out["delta"]) < 0.05 * max(abs(difference), 1e-3) + 1e-3
    # Special tokens match the baseline, so they carry no attribution.
    specials = [s for sub, s in zip(out["subwords"], out["subword_scores"]) if sub in ("[CLS]", "[SEP]")]
    assert specials == [0.0, 0.0]


def test_classification_attributions_are_complete_within_delta(S, tmp_path):
    lm = load(S, tm.trained_cls_run(S, tmp_path, steps=40)[1], "classification")
    out = attribution.explain(lm, "the film was awful indeed", steps=64)
    assert out["target_label"] in tm.CATEGORIES
    total, difference = completeness(out)
    assert abs(total - difference) <= abs(out["delta"]) + 1e-5
    assert len(out["words"]) == 5


def test_bad_word_index_is_explained(S, tmp_path):
    lm = load(S, tm.trained_ner_run(S, tmp_path, steps=0)[1], "ner")
    with pytest.raises(Exception, match="expected a word index between 0 and 1, found 5"):
        attribution.explain(lm, "Ann Lee", word_index=5)
