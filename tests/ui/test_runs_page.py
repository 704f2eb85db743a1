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


def test_comparing_runs_on_different_samples_is_flagged_until_they_are_scored_alike(S, tmp_path, monkeypatch):
    import os

    import core.runs.worker
    from core.runs.jobs import handler_for

    monkeypatch.setattr(core.runs.worker, "ensure_worker", lambda *a, **k: {})
    pid, ft_id = tm.trained_ner_run(S, tmp_path)
    evaluate(S, ft_id, "test")  # all 8 test samples
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        icl = run_repo.create_run(s, project, "icl", {"lm": "/models/SmolLM2", "limit": 3}, status="running")
        rows = list(sample_repo.iter_labeled(s, project, splits=["test"]))[:3]
        for row in rows:  # perfect on the 3 samples it ran on
            run_repo.save_prediction(s, icl.id, row.id, {"spans": [list(x) for x in row.spans]})
        from core.evaluation.coverage import coverage

        run_repo.finish(s, icl.id, "completed", metrics={"split": "test", "f1": 1.0, **coverage(r.id for r in rows)})
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params["project"] = "toyner"
    at.query_params["compare"] = f"{icl.id},{ft_id}"
    at.run()
    assert not at.exception, at.exception
    (verdict,) = [w for w in at.warning if "comparable" in w.value]
    assert "Not comparable: scored on different test samples" in verdict.value
    compared = at.dataframe[1].value.set_index("id")
    assert (compared.loc[icl.id, "n"], compared.loc[ft_id, "n"]) == (3, 8)
    at.button(key="score_same_samples").click().run()
    with S.begin() as s:
        (job,) = run_repo.jobs_of(s, ft_id, "evaluate")
        run_repo.mark_started(s, job.id, pid=os.getpid())
        assert job.config["sample_ids"] == sorted(r.id for r in rows)
    handler_for("evaluate")(job.id)
    at.run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if "comparable" in w.value] and "same 3 test samples" in at.success[0].value
    compared = at.dataframe[1].value.set_index("id")
    assert (compared.loc[icl.id, "n"], compared.loc[ft_id, "n"]) == (3, 3)
    assert compared.loc[icl.id, "samples"] == compared.loc[ft_id, "samples"]


def test_the_run_log_shows_no_terminal_codes_and_progress_bars_at_their_last_state():
    from ui.runs_view import readable_log

    raw = ("\x1b[32mINFO\x1b[0m loading\r\n"
           "Loading weights:   0%|          | 0/103 [00:00<?, ?it/s]\rLoading weights: 100%|██████████| 103/103\n"
           "\x1b[1;31mERROR\x1b[0m \x1b[2Kdone\x1b(B\x1b]0;title\x07\n")
    assert readable_log(raw) == "INFO loading\nLoading weights: 100%|██████████| 103/103\nERROR done\n"


def _compare_app(run_ids):
    def app(run_ids):
        from core.base.store import sessions
        from core.runs.summary import project_runs
        from ui import runs_view

        with sessions().begin() as s:
            rows = project_runs(s, "toyner")
        runs_view.compare(rows, list(run_ids))

    return AppTest.from_function(app, default_timeout=60, kwargs={"run_ids": run_ids})


def test_comparing_on_a_split_that_does_not_exist_says_why_and_offers_no_jobs(S, tmp_path):
    from sqlalchemy import update

    from db.models import Sample

    pid, ft_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        s.execute(update(Sample).where(Sample.project_id == pid, Sample.split == "test").values(split="unassigned"))
    at = _compare_app([ft_id]).run()
    assert not at.exception, at.exception
    box = at.selectbox(key="compare_split_toyner")
    assert box.value == "dev" and box.format_func("test") == "test (0 labelled)"  # starts on a split that exists
    box.set_value("test").run()
    assert any("The test split has no labelled samples: pick train" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "score_same_samples"]
