"""Pre-annotation stores model suggestions with confidences and reorders the labelling queue."""
from __future__ import annotations

import json

import pytest

import cli
from core.labeling import active
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm


def unlabeled(S, pid):
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        return project, list(sample_repo.iter_labeled(s, project, statuses=("unlabeled",), source="model"))


def test_preannotate_stores_suggestions_and_reorders_queue(S, tmp_path, capsys):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    assert cli.main(["preannotate", str(run_id), "--order", "entropy"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "completed" and out["metrics"]["samples"] == 6
    _, rows = unlabeled(S, pid)
    assert len(rows) == 6
    assert all(r.spans for r in rows), "the trained toy model finds the names and places"
    assert all(0.0 <= r.confidence <= 1.0 for r in rows)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        preds = {p.sample_id: p.output for p in run_repo.predictions(s, out["run_id"])}
        scores = {sid: o["uncertainty"]["entropy"]["min"] for sid, o in preds.items()}
        queue = sample_repo.queue_ids(s, project, limit=100)
        # Labelled samples never get suggestions.
        labelled = list(sample_repo.iter_labeled(s, project, source="model"))
    assert all(not r.spans for r in labelled)
    assert set(queue) == set(scores)
    assert [scores[q] for q in queue] == sorted(scores.values(), reverse=True)
    for o in preds.values():
        for measure in active.MEASURES:
            assert 0.0 <= o["uncertainty"][measure]["mean"] <= o["uncertainty"][measure]["min"] <= 1.0


def test_reorder_between_orders_and_random_is_seeded(S, tmp_path, capsys):
    pid, run_id = tm.trained_cls_run(S, tmp_path)
    assert cli.main(["preannotate", str(run_id), "--limit", "3"]) == 0
    capsys.readouterr()
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        summary = active.reorder_queue(s, project, "margin")
        assert (summary["samples"], summary["scored"]) == (4, 3)
        by_margin = sample_repo.queue_ids(s, project, limit=10)
        active.reorder_queue(s, project, "random")
        first = sample_repo.queue_ids(s, project, limit=10)
        active.reorder_queue(s, project, "random")
        assert sample_repo.queue_ids(s, project, limit=10) == first
        unscored = by_margin[-1]
        assert unscored == max(by_margin), "the sample no pass scored comes last"
    _, rows = unlabeled(S, pid)
    assert sum(1 for r in rows if r.categories) == 3


def test_uncertainty_measures():
    sure = active.distribution_uncertainty([1.0, 0.0, 0.0])
    unsure = active.distribution_uncertainty([1 / 3] * 3)
    assert sure == {"least_confidence": 0.0, "margin": 0.0, "entropy": 0.0}
    assert unsure["entropy"] == pytest.approx(1.0) and unsure["margin"] == pytest.approx(1.0)
    assert unsure["least_confidence"] == pytest.approx(2 / 3)
    agg = active.aggregate_uncertainty([sure, unsure])
    assert agg["entropy"] == {"min": pytest.approx(1.0), "mean": pytest.approx(0.5)}


def test_unknown_order_is_refused(S):
    pid = tm.ner_project(S)
    with S.begin() as s, pytest.raises(ValueError, match="unknown queue order 'fifo': expected one of import, random, least_confidence"):
        active.reorder_queue(s, project_repo.get_project_by_id(s, pid), "fifo")


def test_worker_dispatches_preannotate(S, tmp_path):
    from core.runs.jobs import handler_for
    from core.labeling.preannotate import create

    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        pre = create(s, run_id, limit=2, status="running")
    handler_for("preannotate")(pre)
    with S.begin() as s:
        run = run_repo.get_run(s, pre)
        assert run.status == "completed" and run.metrics["samples"] == 2 and run.progress == 1.0


def ent(text: str, words: str, label: str, score: float, after: int = 0) -> dict:
    start = text.index(words, after)
    return {"start": start, "end": start + len(words), "label": label, "text": words, "score": score}


def test_a_b_b_split_is_one_span_and_distinct_neighbours_stay_apart():
    from core.labeling.preannotate import merge_split_entities

    text = "Flew from New York to Paris , London and Lagos Nigeria"
    found = [ent(text, "New", "location", 0.9), ent(text, "York", "location", 0.7),  # B-LOC B-LOC
             ent(text, "Paris", "location", 0.95), ent(text, "London", "location", 0.9),  # comma between
             ent(text, "Lagos", "location", 0.8), ent(text, "Nigeria", "person", 0.6)]  # types differ
    merged = merge_split_entities(text, found)
    assert [(m["text"], m["label"]) for m in merged] == [
        ("New York", "location"), ("Paris", "location"), ("London", "location"), ("Lagos", "location"),
        ("Nigeria", "person")]
    assert merged[0]["score"] == 0.7  # the joined span is as sure as its least sure part
    three = merge_split_entities("in New  York City", [ent("in New  York City", w, "location", 0.9) for w in
                                                       ("New", "York", "City")])
    assert [m["text"] for m in three] == ["New  York City"]


def test_spans_below_the_threshold_are_not_suggested():
    from core.labeling.preannotate import DEFAULT_MIN_CONFIDENCE, suggested_spans

    text = "Apple pie with Anna"
    found = [ent(text, "Apple", "person", 0.14), ent(text, "Anna", "person", 0.93)]
    assert suggested_spans(text, found, DEFAULT_MIN_CONFIDENCE) == [(15, 19, "person", 0.93)]
    assert len(suggested_spans(text, found, 0.0)) == 2


def test_the_threshold_is_validated_with_the_bad_value():
    from core.labeling.preannotate import PreannotateConfig

    with pytest.raises(ValueError, match=r"min_confidence must be a probability in \[0, 1\), found 1.5"):
        PreannotateConfig(1, "p", min_confidence=1.5)
    assert PreannotateConfig(1, "p").min_confidence > 0


def test_a_pass_with_a_threshold_stores_only_confident_spans(S, tmp_path, capsys):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    assert cli.main(["preannotate", str(run_id), "--min-confidence", "0"]) == 0
    capsys.readouterr()
    _, rows = unlabeled(S, pid)
    assert cli.main(["preannotate", str(run_id), "--min-confidence", "0.999999"]) == 0
    out = json.loads(capsys.readouterr().out)
    _, strict = unlabeled(S, pid)
    stored = sum(len(r.spans) for r in strict)
    assert stored == out["metrics"]["suggested_spans"] < sum(len(r.spans) for r in rows)


def test_the_project_remembers_the_queue_order_and_says_what_it_follows(S, tmp_path, capsys):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        assert (project.queue_order, active.describe_queue(s, project)) == (
            "import", "The queue follows the import order (oldest first).")
    assert cli.main(["preannotate", str(run_id), "--order", "margin", "--aggregate", "mean"]) == 0
    pass_id = json.loads(capsys.readouterr().out)["run_id"]
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        assert (project.queue_order, project.queue_aggregate) == ("margin", "mean")
        assert active.describe_queue(s, project) == (
            f"The queue follows the model's uncertainty: smallest margin averaged over words (pre-annotation run "
            f"#{pass_id}); samples no pass has scored come last, oldest first.")
        active.reorder_queue(s, project, "import")
        queue = sample_repo.queue_ids(s, project, limit=100)
        assert queue == sorted(queue) and project.queue_order == "import"  # oldest first again
