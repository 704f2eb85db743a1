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


def test_evaluate_page_shows_the_cached_scores(S, tmp_path):
    _, run_id = tm.trained_ner_run(S, tmp_path)
    at = page("evaluate", project="toyner", run=run_id)
    assert not at.exception, at.exception
    f1 = evaluate(S, run_id, "test")["default"]["report"]["f1"]
    assert [m.value for m in at.metric][0] == f"{f1:.3f}"
    assert len(at.tabs) >= 6  # scores/confusion/errors + pre-annotate/curve/label errors


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
    assert "<script>" not in out and "&lt;script&gt;" in out and ">Bob<" in out


def _drop_test_split(S, pid):
    """Move the project's test samples to train: a project with train and dev only."""
    from sqlalchemy import update

    from db.models import Sample

    with S.begin() as s:
        s.execute(update(Sample).where(Sample.project_id == pid, Sample.split == "test").values(split="train"))


def test_evaluate_and_inspect_start_on_a_split_that_exists_and_remember_it(S, tmp_path):
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    _drop_test_split(S, pid)
    at = page("evaluate", project="toyner", run=run_id)
    assert not at.exception, at.exception
    box = at.selectbox(key="evaluate_split_toyner")
    assert box.value == "dev" and box.format_func("test") == "test (0 labelled)"
    assert any("labelled samples in dev" in c.value for c in at.caption)
    box.set_value("test").run()
    assert any("The test split has no labelled samples: pick train" in i.value for i in at.info)
    assert next(b for b in at.button if b.label == "Re-evaluate").disabled
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


def test_the_preannotation_form_queues_a_pass_with_its_confidence_threshold(S, tmp_path):
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
