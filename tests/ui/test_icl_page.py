"""The In-context page through AppTest with a tiny causal LM: the preview and one-sample output
are jobs (the page never loads the LM), then queue a run."""
from __future__ import annotations

import json
import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.runs.jobs import handler_for
from db import projects as project_repo
from db import runs as run_repo
from tests import tiny_runs as tm
from tests.core.icl import tinylm

PAGE = Path(__file__).resolve().parents[2] / "ui" / "pages" / "icl.py"


def run_queued(S, kind: str) -> int:
    """Run the queued job of ``kind`` here, as the worker would; its id."""
    with S.begin() as s:
        (job,) = [r for r in run_repo.list_runs(s, kinds=[kind]) if r.status == "queued"]
        run_repo.mark_started(s, job.id, pid=os.getpid())
    handler_for(kind)(job.id)
    return job.id


def test_preview_run_one_and_queue(S, tmp_path, monkeypatch):
    import core.icl.lm
    import core.runs.worker

    started = []
    monkeypatch.setattr(core.runs.worker, "ensure_worker", lambda *a, **k: started.append(1) or {})
    tm.cls_project(S)
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["neg"])
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["project"] = "toycls"
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="icl_lm").set_value(str(lm))
    at.selectbox(key="icl_selection").set_value("random")
    at.number_input(key="icl_shots").set_value(2)
    at.run()
    loaded, load_folder = [], core.icl.lm._load_folder
    monkeypatch.setattr(core.icl.lm, "_load_folder", lambda *a, **k: loaded.append(1) or load_folder(*a, **k))
    at.button(key="icl_preview").click().run()
    assert not at.exception, at.exception
    assert loaded == [] and not at.code  # the page queued a job and shows its progress
    assert at.get("progress") and started
    run_queued(S, "icl_preview")
    assert loaded == [1]  # the job loaded the LM
    at.run()
    assert not at.exception, at.exception
    prompt = at.code[0].value
    assert "Classify the text into exactly one of these categories: pos, neg." in prompt
    assert prompt.count("Category:") == 3  # two demonstrations and the query

    at.button(key="icl_run_one").click().run()
    run_queued(S, "icl_preview")
    at.run()
    assert not at.exception, at.exception
    raw = json.loads(at.code[1].value)
    assert set(raw) == {"pos", "neg"} and raw["neg"] > raw["pos"]
    assert any("Predicted: **neg**" in m.value for m in at.markdown)

    started.clear()
    at.button(key="icl_start").click().run()
    assert not at.exception, at.exception
    with S.begin() as s:
        runs = run_repo.list_runs(s, project_repo.get_project(s, "toycls"), kinds=["icl"])
        assert [r.status for r in runs] == ["queued"]
        assert runs[0].config["lm"] == str(lm) and runs[0].config["shots"] == 2
    assert started == [1]

    # The queued run is acknowledged with its id and a way to its progress.
    note = " ".join(s.value for s in at.success)
    assert f"Queued run #{runs[0].id}: 2-shot random on test" in note
    assert any(b.label == f"Open run #{runs[0].id} on the Runs page" for b in at.button)


def test_the_split_defaults_to_one_with_samples_and_empty_splits_disable_the_run(S, tmp_path, monkeypatch):
    import core.runs.worker

    monkeypatch.setattr(core.runs.worker, "ensure_worker", lambda *a, **k: {})
    with S.begin() as s:
        project = project_repo.create_project(s, "devonly", "classification", tm.CATEGORIES)
        from core.text.tokenize import word_offsets
        from db import samples as sample_repo

        rows = [sample_repo.NewSample(t, word_offsets(t), split=split, status="labeled", categories=[c])
                for i, (split, (t, c)) in enumerate([("train", tm.cls_text(0)), ("train", tm.cls_text(1)),
                                                     ("dev", tm.cls_text(2))])]
        sample_repo.add_samples(s, project, rows)
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["project"] = "devonly"
    at.run()
    assert not at.exception, at.exception
    box = at.selectbox(key="icl_split_devonly")
    assert box.value == "dev"  # there is no test split: start on one that has samples
    assert box.format_func("test") == "test (0 labelled)"
    assert not at.button(key="icl_start").disabled
    box.set_value("test").run()
    assert at.button(key="icl_start").disabled
    assert any("the test split has no labelled samples to run on and score: pick train (2) or dev (1)" in c.value
               for c in at.caption)
    assert at.button(key="icl_suggest").disabled  # nothing unlabelled to suggest for
    assert at.query_params["split"] == "test"
    # The choice is remembered for the project when the page is opened again in this session.
    at.query_params.pop("split")
    at.run()
    assert at.selectbox(key="icl_split_devonly").value == "test"
    with S.begin() as s:
        assert run_repo.list_runs(s, project_repo.get_project(s, "devonly")) == []
