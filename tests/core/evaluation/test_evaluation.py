"""`cli.py evaluate` agrees with seqeval on the same predictions; the error breakdown adds up."""
from __future__ import annotations

import json

import pytest
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

import cli
from core.inference import predict
from core.text.spans import spans_to_bio
from core.base.store import to_example
from core.text.tokenize import word_offsets
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm


def run_cli(capsys, *argv) -> dict:
    assert cli.main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def gold_and_predicted(S, run_id: int, split: str):
    """Gold word tags and the model's word tags, predicted here without core.inference: the tokenizer
    splits the words into subwords and each word takes the argmax label of its first subword (the
    texts are short, so one window holds each)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        gold = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[split])]
        checkpoint = run.checkpoint
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForTokenClassification.from_pretrained(checkpoint).eval()
    y_pred = []
    for ex in gold:
        words = [ex.text[s:e] for s, e in ex.tokens]
        enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
        with torch.no_grad():
            best = model(**enc).logits[0].argmax(-1).tolist()  # (T,)
        first = {}
        for position, word in enumerate(enc.word_ids(0)):
            if word is not None and word not in first:
                first[word] = position
        y_pred.append([model.config.id2label[best[first[w]]] for w in range(len(words))])
    y_true = [spans_to_bio(ex.tokens, ex.spans) for ex in gold]
    return y_true, y_pred


TRICKY_TEST = [
    # Gold that disagrees with the toy pattern the model learnt, so every error kind occurs.
    ("Alice flew to Paris on Monday .", [(0, 5, "PER"), (14, 19, "PER"), (23, 29, "LOC")]),
    ("Bob flew to New York on Monday .", [(0, 3, "PER"), (12, 15, "LOC")]),
    ("Carol Dave flew to Lima on Monday .", [(0, 5, "PER"), (6, 10, "PER")]),
]


@pytest.fixture
def weak_ner_run(S, tmp_path):
    pid, run_id = tm.trained_ner_run(S, tmp_path, steps=40)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        rows = [
            sample_repo.NewSample(t, word_offsets(t), split="test", status="labeled", spans=spans)
            for t, spans in TRICKY_TEST
        ]
        sample_repo.add_samples(s, project, rows)
    return run_id


@pytest.mark.parametrize("strict", [False, True])
def test_evaluate_matches_seqeval_on_independently_predicted_tags(S, capsys, weak_ner_run, strict):
    argv = ["evaluate", str(weak_ner_run), "--split", "test"] + (["--strict"] if strict else [])
    out = run_cli(capsys, *argv)
    y_true, y_pred = gold_and_predicted(S, weak_ner_run, "test")
    assert y_true != y_pred, "the weak model should make mistakes, or the comparison shows nothing"
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    expected = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    assert out["mode"] == ("strict" if strict else "default")
    assert out["n"] == len(y_true)
    for label, row in expected.items():
        got = out[label.replace(" avg", "")] if label.endswith(" avg") else out["per_label"][label]
        for metric in ("precision", "recall", "f1-score", "support"):
            assert got[metric] == pytest.approx(float(row[metric])), (label, metric)
    assert set(out["per_label"]) == {k for k in expected if not k.endswith(" avg")}


def test_evaluate_reports_hand_counted_scores_for_known_predictions(S, capsys):
    """Eight test samples, each 'NAME flew to PLACE on Monday .' with one PER and one LOC:
    perfect except sample 1 (its LOC predicted as PER) and sample 2 (nothing predicted).
    PER: tp 7, fp 1, fn 1; LOC: tp 6, fp 0, fn 2."""
    pid = tm.ner_project(S)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        run = run_repo.create_run(s, project, "icl", {"shots": 0}, status="running")
        rows = list(sample_repo.iter_labeled(s, project, splits=["test"]))
        assert len(rows) == 8
        for i, row in enumerate(rows):
            spans = [list(x) for x in row.spans]
            if i == 1:
                spans = [[a, b, "PER"] for a, b, _ in spans]
            if i == 2:
                spans = []
            run_repo.save_prediction(s, run.id, row.id, {"spans": spans})
        run_repo.finish(s, run.id, "completed", metrics={})
        run_id = run.id
    for strict in (False, True):  # every predicted tag sequence is valid IOB2: both modes agree
        out = run_cli(capsys, "evaluate", str(run_id), *(["--strict"] if strict else []))
        assert out["n"] == 8
        assert out["per_label"]["PER"] == pytest.approx(
            {"precision": 7 / 8, "recall": 7 / 8, "f1-score": 7 / 8, "support": 8})
        assert out["per_label"]["LOC"] == pytest.approx(
            {"precision": 1.0, "recall": 6 / 8, "f1-score": 2 * 0.75 / 1.75, "support": 8})
        assert out["micro"] == pytest.approx(
            {"precision": 13 / 14, "recall": 13 / 16, "f1-score": 26 / 30, "support": 16})
        assert (out["precision"], out["recall"], out["f1"]) == pytest.approx((13 / 14, 13 / 16, 26 / 30))
        assert out["macro"]["f1-score"] == pytest.approx((7 / 8 + 1.5 / 1.75) / 2)
        assert out["errors"]["counts"] == {"wrong_type": 1, "wrong_boundary": 0, "wrong_type_and_boundary": 0,
                                           "spurious": 0, "missed": 2}
        assert out["confusion"]["labels"] == ["PER", "LOC", "O"]


@pytest.mark.parametrize("strict", [False, True])
def test_error_breakdown_adds_up_to_fp_and_fn(S, capsys, weak_ner_run, strict):
    out = run_cli(capsys, "evaluate", str(weak_ner_run), *(["--strict"] if strict else []))
    y_true, y_pred = gold_and_predicted(S, weak_ner_run, "test")
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    gold_report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    # Swapping the arguments makes seqeval's support count the predicted entities.
    pred_report = classification_report(y_pred, y_true, output_dict=True, zero_division=0, **kwargs)
    n_gold, n_pred = gold_report["micro avg"]["support"], pred_report["micro avg"]["support"]
    tp = round(gold_report["micro avg"]["recall"] * n_gold)
    fp, fn = n_pred - tp, n_gold - tp
    assert fp + fn > 0, "the weak model should make some mistakes"
    c, errors = out["errors"]["counts"], out["errors"]
    pairs = c["wrong_type"] + c["wrong_boundary"] + c["wrong_type_and_boundary"]
    assert (errors["tp"], errors["fp"], errors["fn"]) == (tp, fp, fn)
    assert pairs + c["spurious"] == fp
    assert pairs + c["missed"] == fn
    for kind, count in c.items():
        assert (count > 0) == bool(errors["samples"][kind]), kind


def test_evaluation_is_cached_and_invalidated_by_relabelling(S, capsys, weak_ner_run):
    first = run_cli(capsys, "evaluate", str(weak_ner_run), "--errors")
    with S.begin() as s:
        cached = run_repo.get_run(s, weak_ner_run).metrics["eval"]["test"]
        project = project_repo.get_project_by_id(s, run_repo.get_run(s, weak_ner_run).project_id)
        wrong = {e["sample_id"] for e in first["errors"]["items"]}
        # A sample the model got exactly right: its predicted entities are its gold entities.
        row = next(r for r in sample_repo.iter_labeled(s, project, splits=["test"]) if r.id not in wrong)
        sample_repo.save_annotations(s, row.id, row.version, spans=[])  # drop its gold entities
    assert cached["default"]["report"]["f1"] == first["f1"]
    second = run_cli(capsys, "evaluate", str(weak_ner_run), "--errors")
    # Each dropped gold entity leaves the support ...
    for label, scores in first["per_label"].items():
        removed = sum(1 for *_, l in row.spans if l == label)
        assert second["per_label"].get(label, {"support": 0})["support"] == scores["support"] - removed, label
    # ... and, still predicted, becomes a spurious entity; every other sample is scored as before.
    spurious = sorted(e["predicted"][:3] for e in second["errors"]["items"] if e["sample_id"] == row.id)
    assert spurious == sorted(list(span) for span in row.spans)
    assert {e["kind"] for e in second["errors"]["items"] if e["sample_id"] == row.id} == {"spurious"}
    others = [e for e in first["errors"]["items"] if e["sample_id"] != row.id]
    assert [e for e in second["errors"]["items"] if e["sample_id"] != row.id] == others
    with S.begin() as s:
        assert run_repo.get_run(s, weak_ner_run).metrics["eval"]["test"]["fingerprint"] != cached["fingerprint"]


def test_classification_evaluate_reports_accuracy_and_confusion(S, capsys, tmp_path):
    _, run_id = tm.trained_cls_run(S, tmp_path, steps=40)
    out = run_cli(capsys, "evaluate", str(run_id))
    assert out["task"] == "classification" and out["labels"] == tm.CATEGORIES
    assert sum(map(sum, out["confusion"])) == out["n"] == 6
    correct = sum(out["confusion"][i][i] for i in range(2))
    assert out["accuracy"] == pytest.approx(correct / out["n"])
    assert out["mistake_count"] == out["n"] - correct
    confidences = [m["confidence"] for m in out["mistakes"]]
    assert confidences == sorted(confidences, reverse=True)


def test_icl_runs_are_scored_from_stored_predictions(S, capsys):
    pid = tm.ner_project(S)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        run = run_repo.create_run(s, project, "icl", {"shots": 2}, status="running")
        test_rows = list(sample_repo.iter_labeled(s, project, splits=["test"]))
        # Perfect on the first two samples, nothing predicted on the third; the rest not run (--limit).
        for row in test_rows[:2]:
            run_repo.save_prediction(s, run.id, row.id, {"spans": [list(x) for x in row.spans]})
        run_repo.save_prediction(s, run.id, test_rows[2].id, {"spans": []})
        run_repo.finish(s, run.id, "completed", metrics={})
        run_id = run.id
    out = run_cli(capsys, "evaluate", str(run_id))
    assert out["n"] == 3
    assert out["precision"] == 1.0 and out["recall"] == pytest.approx(4 / 6)
    assert out["errors"]["counts"]["missed"] == 2 and out["errors"]["samples"]["missed"] == [test_rows[2].id]


def test_evaluating_a_run_without_model_says_why(S, capsys):
    pid = tm.ner_project(S)
    with S.begin() as s:
        run = run_repo.create_run(s, project_repo.get_project_by_id(s, pid), "finetune", {}, status="queued")
        run_id = run.id
    assert cli.main(["evaluate", str(run_id)]) == 1
    assert "expected a completed fine-tuning or ICL run, found a queued 'finetune' run" in capsys.readouterr().err
