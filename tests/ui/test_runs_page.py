"""Runs page through AppTest: fine-tuned and ICL runs in one table, compared on the same split."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.evaluation.report import evaluate
from core.runs.summary import headline_on_test
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm

PAGE = Path(__file__).resolve().parents[2] / "ui" / "pages" / "runs.py"


def test_headline_on_test_prefers_the_runs_own_test_score_then_a_cached_evaluation():
    assert headline_on_test("ner", {"split": "test", "f1": 0.5}) == 0.5
    assert headline_on_test("ner", {"split": "dev", "f1": 0.5}) is None
    cached = {"split": "dev", "f1": 0.5, "eval": {"test": {"default": {"report": {"f1": 0.25}}}}}
    assert headline_on_test("ner", cached) == 0.25
    assert headline_on_test("classification", {"split": "test", "accuracy": 0.75}) == 0.75


def test_runs_page_lists_finetune_and_icl_runs_with_their_test_scores(S, tmp_path):
    pid, ft_id = tm.trained_ner_run(S, tmp_path)
    f1_test = evaluate(S, ft_id, "test")["default"]["report"]["f1"]
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        icl = run_repo.create_run(s, project, "icl", {"lm": "/models/SmolLM2"}, status="running")
        row = next(sample_repo.iter_labeled(s, project, splits=["test"]))
        run_repo.save_prediction(s, icl.id, row.id, {"spans": []})
        run_repo.finish(s, icl.id, "completed", metrics={"split": "test", "f1": 0.125, "seconds_per_sample": 2.0})
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params["project"] = "toyner"
    at.query_params["run"] = str(icl.id)
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value.set_index("id")
    assert set(frame.index) == {ft_id, icl.id}
    assert frame.loc[icl.id, "test"] == 0.125
    assert abs(frame.loc[ft_id, "test"] - f1_test) < 1e-9
    assert frame.loc[icl.id, "kind"] == "icl" and frame.loc[ft_id, "kind"] == "finetune"
