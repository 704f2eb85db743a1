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
    import html
    import re

    assert "<script>" not in out and ">Bob<" in out
    assert html.unescape(re.sub(r"<[^>]+>", "", out)).startswith(text)  # the tags shown as characters
