"""A model pre-annotates unlabelled samples; in the labeller its suggestions are pre-filled,
Enter accepts them, and a wrong type is corrected with one label key."""
from __future__ import annotations

import time

import pytest

from core.labeling import preannotate
from core.text.tokenize import word_offsets
from db import engine
from db import projects as project_repo
from db import samples as sample_repo
from tests import tiny_runs as tm
from tests.e2e.label_helpers import NER, open_label, shown_spans, stored, wait_sample

pytestmark = pytest.mark.e2e

RIGHT = "Carol flew to Paris on Monday ."  # the toy model gets both entities right
WRONG = "Lima flew to Oslo on Monday ."  # it reads any first word as a person: Lima is a place


def saved(app, sample_id: int, timeout: float = 15.0):
    """The sample's human labels once the save has landed (the labeller may repaint first)."""
    deadline = time.monotonic() + timeout
    while True:
        row, _, _ = stored(app, sample_id)
        if row.status == "labeled" or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


def test_accept_and_correct_model_suggestions(app, page, tmp_path, monkeypatch):
    S = app.sessions()
    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, pid)
        sample_repo.add_samples(s, project, [sample_repo.NewSample(t, word_offsets(t)) for t in (RIGHT, WRONG)])
        right_id, wrong_id = sample_repo.queue_ids(s, project, limit=100)[-2:]
    monkeypatch.setenv("TAGTUNE_HOME", str(app.home))
    engine.reset()
    with S.begin() as s:
        pre_id = preannotate.create(s, run_id, status="running")
    preannotate.execute(pre_id)  # the worker's handler, run here so the test controls timing
    with S.begin() as s:
        assert sample_repo.annotations_of(s, wrong_id, source="model").spans == [(0, 4, "PER"), (13, 17, "LOC")]

    open_label(page, app, "toyner", sample=wrong_id)
    wait_sample(page, wrong_id)
    assert shown_spans(page) == [("PER", "Lima"), ("LOC", "Oslo")]
    assert page.locator('[data-testid="suggestion-badge"]').is_visible()
    page.keyboard.press("ArrowRight")  # put the cursor on "Lima"
    page.keyboard.press("2")  # the one correcting key: LOC
    assert shown_spans(page) == [("LOC", "Lima"), ("LOC", "Oslo")]
    page.keyboard.press("Enter")
    page.wait_for_selector(f'{NER}[data-busy="false"]:not([data-sample-id="{wrong_id}"])')
    row = saved(app, wrong_id)
    assert row.status == "labeled" and row.spans == [(0, 4, "LOC"), (13, 17, "LOC")]

    open_label(page, app, "toyner", sample=right_id)
    wait_sample(page, right_id)
    assert shown_spans(page) == [("PER", "Carol"), ("LOC", "Paris")]
    page.keyboard.press("Enter")  # accepting the suggestions is one key
    page.wait_for_selector(f'{NER}[data-busy="false"]:not([data-sample-id="{right_id}"])')
    row = saved(app, right_id)
    assert row.status == "labeled" and row.spans == [(0, 5, "PER"), (14, 19, "LOC")]
