"""Classification scores and the word-level confusion against hand-computed expectations."""
import pytest

from core.evaluation.metrics import classification_scores
from core.evaluation.ner_errors import word_confusion


def test_single_label_scores_match_hand_counts():
    gold = [["pos"], ["pos"], ["neg"], ["neu"], ["neg"]]
    pred = [["pos"], ["neg"], ["neg"], ["pos"], ["neg"]]
    out = classification_scores(gold, pred, ["pos", "neg", "neu"])
    # pos: tp 1 (s1), fp 1 (s4), fn 1 (s2); neg: tp 2, fp 1 (s2); neu: fn 1 (s4).
    assert out["per_label"]["pos"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2})
    assert out["per_label"]["neg"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1-score": 0.8, "support": 2})
    assert out["per_label"]["neu"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1})
    assert out["accuracy"] == pytest.approx(3 / 5)
    assert out["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert out["micro_f1"] == pytest.approx(0.6)  # tp 3, fp 2, fn 2
    assert out["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]  # rows gold pos/neg/neu
    assert out["n"] == 5 and out["labels"] == ["pos", "neg", "neu"]


def test_multilabel_scores_count_unknown_predictions_as_false_positives():
    gold = [["a", "b"], ["a"], []]
    pred = [["a"], ["a", "b"], ["zz"]]
    out = classification_scores(gold, pred, ["a", "b"])
    assert out["per_label"]["a"] == pytest.approx({"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2})
    assert out["per_label"]["b"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1})
    assert "zz" not in out["per_label"]
    assert out["accuracy"] == 0.0  # no sample has exactly its gold set
    # micro: tp 2 (a, a), fp 2 (b in s2, zz in s3), fn 1 (b in s1): P 1/2, R 2/3.
    assert out["micro_f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert out["macro_f1"] == pytest.approx(0.5)
    assert out["confusion"] == [[0, 0], [0, 0]]  # no sample with one gold and one predicted label


def test_scores_of_no_samples_are_zero_not_an_error():
    out = classification_scores([], [], ["a", "b"])
    assert out["accuracy"] == 0.0 and out["n"] == 0 and out["confusion"] == [[0, 0], [0, 0]]
    assert out["per_label"]["a"]["support"] == 0


def test_word_confusion_merges_b_and_i_and_adds_types_it_sees():
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["O"]]
    y_pred = [["B-PER", "O", "B-LOC", "B-ORG"], ["I-LOC"]]
    out = word_confusion(y_true, y_pred, ["PER", "LOC"])
    assert out["labels"] == ["PER", "LOC", "ORG", "O"]
    assert out["matrix"] == [
        [1, 0, 0, 1],  # gold PER: one word right, one predicted O
        [0, 0, 1, 0],  # gold LOC predicted ORG
        [0, 0, 0, 0],  # no gold ORG
        [0, 2, 0, 0],  # gold O predicted LOC twice
    ]
