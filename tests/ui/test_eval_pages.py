"""Evaluate and Inspect pages through Streamlit's AppTest (no browser): real runs, real scores."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation.report import evaluate
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm

PAGES = Path(__file__).resolve().parents[2] / "ui" / "pages"


def page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = str(v)
    return at.run()


def run_queued(S, kind: str) -> int:
    """Run the queued job of ``kind`` here, as the worker would; its id."""
    import os

    from core.runs.jobs import handler_for

    with S.begin() as s:
        (job,) = [r for r in run_repo.list_runs(s, kinds=[kind]) if r.status == "queued"]
        run_repo.mark_started(s, job.id, pid=os.getpid())
    handler_for(kind)(job.id)
    return job.id


@pytest.fixture
def no_worker(monkeypatch):
    import core.runs.worker

    started = []
    monkeypatch.setattr(core.runs.worker, "ensure_worker", lambda *a, **k: started.append(1) or {})
    return started


def test_evaluate_page_queues_scoring_then_shows_the_cached_scores(S, tmp_path, no_worker):
    _, run_id = tm.trained_ner_run(S, tmp_path)
    at = page("evaluate", project="toyner", run=run_id)
    assert not at.exception, at.exception
    assert not at.metric and at.get("progress") and no_worker  # a job scores it; the page waits on nothing
    assert len(at.tabs) == 3  # the model-in-the-loop tabs are there meanwhile
    job_id = run_queued(S, "evaluate")
    at.run()
    assert not at.exception, at.exception
    f1 = evaluate(S, run_id, "test")["default"]["report"]["f1"]
    assert [m.value for m in at.metric][0] == f"{f1:.3f}"
    assert len(at.tabs) >= 6  # scores/confusion/errors + pre-annotate/curve/label errors
    with S.begin() as s:
        assert [j.id for j in run_repo.list_runs(s, kinds=["evaluate"])] == [job_id]  # cached: no new job


def test_a_failed_scoring_job_is_shown_and_not_requeued_on_every_visit(S, tmp_path, no_worker):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    at = page("evaluate", project="toyner", run=run_id)
    with S.begin() as s:
        (job,) = run_repo.list_runs(s, kinds=["evaluate"])
        run_repo.mark_started(s, job.id, pid=None)
        run_repo.finish(s, job.id, "failed", error="RuntimeError: out of memory")
    at.run()
    assert any("out of memory" in w.value for w in at.warning)
    at.run()
    with S.begin() as s:
        assert len(run_repo.list_runs(s, kinds=["evaluate"])) == 1
    at.button(key="eval_retry").click().run()
    with S.begin() as s:
        assert [j.status for j in run_repo.list_runs(s, kinds=["evaluate"])] == ["queued", "failed"]


def test_label_errors_are_ranked_by_a_job(S, tmp_path, no_worker):
    _, run_id = tm.trained_ner_run(S, tmp_path)
    at = page("evaluate", project="toyner", run=run_id)
    at.selectbox(key="label_errors_split").set_value("dev").run()
    at.button(key="find_label_errors").click().run()
    assert not at.exception, at.exception
    run_queued(S, "label_errors")
    at.run()
    assert not at.exception, at.exception
    with S.begin() as s:
        (job,) = run_repo.list_runs(s, kinds=["label_errors"])
        assert job.status == "completed" and job.config["split"] == "dev"
    assert any(f"Ranked by job #{job.id}" in c.value for c in at.caption)


def test_inspector_on_an_icl_run_shows_stored_predictions_only(S):
    pid = tm.ner_project(S)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        run = run_repo.create_run(s, project, "icl", {}, status="running")
        row = next(sample_repo.iter_labeled(s, project, splits=["test"]))
        run_repo.save_prediction(s, run.id, row.id, {"spans": [[0, row.spans[0][1], "LOC"]]})
        run_repo.finish(s, run.id, "completed", metrics={})
        run_id = run.id
    at = page("inspect", project="toyner", run=run_id, sample=row.id)
    assert not at.exception, at.exception
    html = " ".join(m.value for m in at.markdown)
    assert "tt-diff" in html  # the wrongly typed span is marked on both sides
    assert any("need a fine-tuned model" in i.value for i in at.info)


@pytest.mark.parametrize("text", ['<script>alert("x")</script> Bob'])
def test_marked_text_escapes_html(text):
    from ui.inspect_view import marked_text

    start = text.index("Bob")
    out = marked_text(text, [(start, start + 3, "PER")], set())
    import html
    import re

    assert "<script>" not in out and ">Bob<" in out
    assert html.unescape(re.sub(r"<[^>]+>", "", out)).startswith(text)  # the tags shown as characters


def test_inspector_attributions_come_from_a_job(S, tmp_path, no_worker):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        row = next(sample_repo.iter_labeled(s, project_repo.get_project_by_id(s, pid), splits=["test"]))
    at = page("inspect", project="toyner", run=run_id, sample=row.id)
    assert not at.exception, at.exception
    at.select_slider(key="attr_steps").set_value(16)
    at.button(key="attr_go").click().run()
    assert not at.exception, at.exception
    assert not any("Attributions for" in m.value for m in at.markdown)  # queued, not computed in the page
    job_id = run_queued(S, "attribution")
    at.run()
    assert not at.exception, at.exception
    first_word = row.text[row.tokens[0][0]:row.tokens[0][1]]
    assert any(f"Attributions for **'{first_word}' →" in m.value for m in at.markdown)
    with S.begin() as s:
        assert run_repo.get_run(s, job_id).config["steps"] == 16


def _drop_test_split(S, pid):
    """Move the project's test samples to train: a project with train and dev only."""
    from sqlalchemy import update

    from db.models import Sample

    with S.begin() as s:
        s.execute(update(Sample).where(Sample.project_id == pid, Sample.split == "test").values(split="train"))


def test_evaluate_and_inspect_start_on_a_split_that_exists_and_remember_it(S, tmp_path, no_worker):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    _drop_test_split(S, pid)
    at = page("evaluate", project="toyner", run=run_id)
    assert not at.exception, at.exception
    box = at.selectbox(key="evaluate_split_toyner")
    assert box.value == "dev" and box.format_func("test") == "test (0 labelled)"
    with S.begin() as s:
        (job,) = run_repo.list_runs(s, kinds=["evaluate"])
        assert job.config["split"] == "dev"  # scoring queued on the split that exists
    box.set_value("test").run()
    assert any("The test split has no labelled samples: pick train" in i.value for i in at.info)
    assert next(b for b in at.button if b.label == "Re-evaluate").disabled
    with S.begin() as s:
        assert len(run_repo.list_runs(s, kinds=["evaluate"])) == 1  # no job for the empty split
    box = at.selectbox(key="evaluate_split_toyner").set_value("train").run()
    at.query_params.pop("split")
    at.run()
    assert at.selectbox(key="evaluate_split_toyner").value == "train"  # remembered for the project

    at = page("inspect", project="toyner", run=run_id)
    assert not at.exception, at.exception
    assert at.selectbox(key="inspect_split_toyner").value == "dev"
    assert not any("No labelled samples" in i.value for i in at.info)


def test_inspect_numbers_words_alike_in_the_token_table_and_the_heatmap(S, tmp_path):
    from core.interpret.inspection import attention_data, sample_view
    from ui.attention_view import axis_labels

    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        sample = next(sample_repo.iter_labeled(s, project, splits=["test"]))
    view = sample_view(S, run_id, sample.id)
    table = [f"{row['#']}:{row['word']}" for row in view.token_rows]
    words = axis_labels(attention_data(S, run_id, sample.id, words=True))
    assert words[0] == "[CLS]" and words[-1] == "[SEP]"
    assert words[1:-1] == table  # word 0 is "0:Alice" in both
    subwords = axis_labels(attention_data(S, run_id, sample.id, words=False))
    assert subwords[1].startswith("0:") and all(":" in t for t in subwords[1:-1])
    assert len(set(subwords)) == len(subwords)  # Plotly would merge equal names
    for row in view.token_rows:  # "O 0.97, B-PER 0.014, I-LOC 3.1e-04": never a 0.00
        assert all(float(part.rsplit(" ", 1)[1]) > 0 for part in row["top 3"].split(", ")), row["top 3"]


def test_the_preannotation_form_queues_a_pass_with_its_confidence_threshold(S, tmp_path, no_worker):
    from core.labeling.preannotate import DEFAULT_MIN_CONFIDENCE

    pid, run_id = tm.trained_ner_run(S, tmp_path)
    at = page("evaluate", project="toyner", run=run_id)
    box = at.number_input(key="preannotate_threshold")
    assert box.value == DEFAULT_MIN_CONFIDENCE
    box.set_value(0.3)
    at = next(b for b in at.button if b.label == "Start pre-annotation").click().run()
    assert not at.exception, at.exception
    with S.begin() as s:
        (queued,) = run_repo.list_runs(s, project_repo.get_project_by_id(s, pid), kinds=["preannotate"])
    assert queued.config["min_confidence"] == 0.3 and queued.status == "queued"
    assert any(f"Queued pre-annotation run {queued.id}" in m.value for m in at.success)
