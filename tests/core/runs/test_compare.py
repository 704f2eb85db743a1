"""Comparisons true by construction: an ICL run on 30 samples and a fine-tuned run on the whole
split are flagged; after "score on the same samples" both numbers come from the same 30 samples."""
from __future__ import annotations

import json

import pytest
import torch

import cli
from core.evaluation import report
from core.evaluation.coverage import sample_fingerprint
from core.icl import runner
from core.icl.launch import create_icl_run
from core.runs import compare
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm
from tests.core.icl import tinylm


def run_cli(capsys, *argv) -> dict:
    capsys.readouterr()  # drop what the fixtures printed
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    try:
        return json.loads(captured.out)
    except ValueError:
        raise AssertionError(f"not one JSON object on stdout: {captured.out[:2000]!r}") from None


@pytest.fixture
def icl_and_finetuned(S, tmp_path):
    """A classification project with 40 labelled test samples, a fine-tuned run scored on all 40
    and an ICL run (a tiny LM that always answers 'pos') on the first 30."""
    pid = tm.cls_project(S, n=120)
    ft = tm.finetune_run(S, pid, tm.trained_model("classification", 40, tmp_path / "ft"))
    report.evaluate(S, ft, "test")
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["pos"])
    with S.begin() as s:
        icl = create_icl_run(s, "toycls", {"lm": str(lm), "shots": 2, "selection": "random", "limit": 30},
                             status="running").id
    runner.execute(icl)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        test = list(sample_repo.iter_labeled(s, project, splits=["test"]))
    assert len(test) == 40
    return icl, ft, test


def independent_accuracy(checkpoint: str, rows) -> float:
    """Accuracy of the fine-tuned model on ``rows``, predicted here with plain transformers."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint).eval()
    right = 0
    for row in rows:
        with torch.no_grad():
            best = int(model(**tok(row.text, return_tensors="pt")).logits[0].argmax())
        right += [model.config.id2label[best]] == list(row.categories)
    return right / len(rows)


def test_different_samples_are_flagged_and_same_samples_make_them_comparable(S, capsys, icl_and_finetuned):
    icl, ft, test = icl_and_finetuned
    first30 = test[:30]

    before = run_cli(capsys, "runs", "toycls", "--compare", f"{icl},{ft}")
    assert before["comparable"] is False
    assert {r["id"]: r["n"] for r in before["rows"]} == {icl: 30, ft: 40}
    assert "scored on different test samples" in before["reason"]
    assert f"#{icl} (30 samples)" in before["reason"] and f"#{ft} (40 samples)" in before["reason"]

    after = run_cli(capsys, "runs", "toycls", "--compare", f"{icl},{ft}", "--same-samples")
    assert after["comparable"] is True and after["reason"] == ""
    assert len(after["scored"]["jobs"]) == 1  # only the fine-tuned run needed scoring
    rows = {r["id"]: r for r in after["rows"]}
    fingerprint = sample_fingerprint(r.id for r in first30)
    assert after["fingerprint"] == fingerprint
    assert {i: (r["n"], r["sample_fingerprint"]) for i, r in rows.items()} == {
        icl: (30, fingerprint), ft: (30, fingerprint)}
    # Both numbers are accuracies on exactly those 30 samples: the ICL model always says 'pos' ...
    assert rows[icl]["value"] == pytest.approx(sum(r.categories == ["pos"] for r in first30) / 30)
    # ... and the fine-tuned run's is what its model scores on them, predicted independently.
    with S.begin() as s:
        checkpoint = run_repo.get_run(s, ft).checkpoint
    assert rows[ft]["value"] == pytest.approx(independent_accuracy(checkpoint, first30))

    again = run_cli(capsys, "runs", "toycls", "--compare", f"{icl},{ft}", "--same-samples")
    assert again["scored"]["jobs"] == [] and again["rows"] == after["rows"]  # nothing left to score


def test_the_plan_for_fine_tuned_runs_alone_is_the_whole_split(S, icl_and_finetuned, tmp_path):
    _, ft, test = icl_and_finetuned
    with S.begin() as s:
        other = run_repo.create_run(s, project_repo.get_project_by_id(s, run_repo.get_run(s, ft).project_id),
                                    "finetune", {}, status="running")
        run_repo.finish(s, other.id, "completed", checkpoint=run_repo.get_run(s, ft).checkpoint,
                        metrics={"accuracy": 0.5, "split": "dev", "n": 13, "sample_fingerprint": "x"})
    with S.begin() as s:
        plan = compare.same_samples_plan(s, [ft, other.id], "test")
        result = compare.compare(s, [ft, other.id], "test")
    assert plan.sample_ids is None and plan.to_score == [other.id]  # ft is already scored on all 40
    assert result.comparable is False and f"#{other.id} not scored on test yet" in result.reason


def test_a_relabelled_sample_makes_the_cached_score_stale_for_the_plan(S, icl_and_finetuned):
    icl, ft, test = icl_and_finetuned
    with S.begin() as s:
        compare.queue_same_samples(s, [icl, ft], "test", status="running")
    with S.begin() as s:
        job = run_repo.jobs_of(s, ft, "evaluate")[0]
    from core.evaluation.jobs import execute

    execute(job.id)
    with S.begin() as s:
        assert compare.same_samples_plan(s, [icl, ft], "test").to_score == []
        row = test[0]
        sample_repo.save_annotations(s, row.id, row.version, categories=["neg" if row.categories == ["pos"] else "pos"])
    with S.begin() as s:
        assert compare.same_samples_plan(s, [icl, ft], "test").to_score == [ft]


def test_runs_of_another_project_are_refused_by_name(S, capsys, icl_and_finetuned):
    other = tm.ner_project(S, "other")
    with S.begin() as s:
        run = run_repo.create_run(s, project_repo.get_project_by_id(s, other), "icl", {}, status="running")
        run_id = run.id
    icl, _, _ = icl_and_finetuned
    assert cli.main(["runs", "toycls", "--compare", f"{icl},{run_id}"]) == 1
    assert f"runs [{run_id}] are not runs of project 'toycls'" in capsys.readouterr().err
