"""Open a sample in the inspector in a real browser: attention heatmap and token table render."""
from __future__ import annotations

import pytest

from db import projects as project_repo
from db import samples as sample_repo
from tests import tiny_runs as tm
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_inspector_shows_heatmap_and_token_table(app, page, tmp_path):
    S = app.sessions()
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        sample = next(sample_repo.iter_labeled(s, project, splits=["test"]))
    page.goto(app.url("inspect", project="toyner", run=run_id, sample=sample.id))
    wait_for_app(page)
    heatmap = page.locator(".st-key-attention-heatmap")
    # The first script run imports torch and loads the model: slow on a busy machine.
    heatmap.locator(".js-plotly-plot").wait_for(timeout=120_000)
    # Axis ticks name the subword tokens of this sample, numbered by the word they belong to (as
    # the token table numbers words: the first word is 0 in both), with the special tokens.
    ticks = heatmap.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
    assert ticks[0] == "[CLS]" and ticks[-1] == "[SEP]"
    assert ticks[1] == "0:" + sample.text.split()[0].lower()
    table = page.locator(".st-key-token-table")
    table.locator('[data-testid="stDataFrame"]').wait_for()
    assert page.get_by_text(f"Sample {sample.id} · split test").is_visible()

    # Word level merges subwords: the heatmap redraws with one row per word plus [CLS]/[SEP].
    page.get_by_text("Word level (merge subwords)").click()
    wait_for_app(page)
    page.wait_for_function(
        "n => document.querySelectorAll('.st-key-attention-heatmap .xtick text').length === n",
        arg=len(sample.tokens) + 2,
    )
