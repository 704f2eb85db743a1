"""Pairing of false positives and false negatives into error kinds (pure, no model)."""
from core.evaluation.ner_errors import breakdown, pair_errors
from core.text.tokenize import word_offsets
from core.base.types import Example


def test_each_kind_is_recognised():
    gold = {("PER", 0, 0), ("LOC", 2, 3), ("ORG", 5, 5), ("PER", 7, 8), ("LOC", 10, 10)}
    pred = {("PER", 0, 0), ("LOC", 2, 2), ("PER", 5, 5), ("ORG", 8, 9), ("LOC", 12, 12)}
    kinds = sorted((k, g, p) for k, g, p in pair_errors(gold, pred))
    assert kinds == [
        ("missed", ("LOC", 10, 10), None),
        ("spurious", None, ("LOC", 12, 12)),
        ("wrong_boundary", ("LOC", 2, 3), ("LOC", 2, 2)),
        ("wrong_type", ("ORG", 5, 5), ("PER", 5, 5)),
        ("wrong_type_and_boundary", ("PER", 7, 8), ("ORG", 8, 9)),
    ]


def test_one_prediction_covering_two_gold_entities_pairs_once():
    gold = {("LOC", 0, 1), ("LOC", 2, 3)}
    pred = {("LOC", 0, 3)}
    kinds = sorted(k for k, _, _ in pair_errors(gold, pred))
    assert kinds == ["missed", "wrong_boundary"]


def test_strict_mode_drops_entities_that_start_with_i():
    text = "Ann met Bo"
    ex = Example(text, tuple(word_offsets(text)), id=7)
    default = breakdown([ex], [["B-PER", "O", "B-PER"]], [["I-PER", "O", "B-PER"]], strict=False)
    strict = breakdown([ex], [["B-PER", "O", "B-PER"]], [["I-PER", "O", "B-PER"]], strict=True)
    assert (default["tp"], default["fp"], default["fn"]) == (2, 0, 0)
    assert (strict["tp"], strict["fp"], strict["fn"]) == (1, 0, 1)
    assert strict["items"] == [{"sample_id": 7, "kind": "missed", "gold": [0, 3, "PER", "Ann"], "predicted": None}]
