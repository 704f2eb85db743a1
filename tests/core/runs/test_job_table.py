"""The job table and the quick jobs pages queue: exports, attributions, ICL previews."""
from __future__ import annotations

import os
import zipfile

import pytest

from core.runs.jobs import JOBS, handler_for, lane_of
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from tests import tiny_runs as tm

PAGE_JOBS = ("evaluate", "label_errors", "icl_preview", "attribution", "export_model")


def run_job(S, job_id: int) -> None:
    with S.begin() as s:
        run_repo.mark_started(s, job_id, pid=os.getpid())
        kind = run_repo.get_run(s, job_id).kind
    handler_for(kind)(job_id)


def status(S, job_id: int):
    with S.begin() as s:
        job = run_repo.get_run(s, job_id)
        return job.status, job.error, job.metrics


def test_every_kind_has_a_handler_and_the_database_takes_it(S):
    pid = tm.ner_project(S, n=3)
    for kind in JOBS:
        handler_for(kind)
        with S.begin() as s:
            run_repo.create_run(s, project_repo.get_project_by_id(s, pid), kind, {})
    # The dispatch table is the one list of kinds (no CHECK in the database): a run of a kind it
    # does not know fails in the worker with the fix (tests/core/runs/test_jobs.py).


@pytest.mark.parametrize("kind", PAGE_JOBS)
def test_jobs_a_page_waits_on_run_in_the_quick_lane(kind):
    assert lane_of(kind) == "quick"


def test_export_zips_the_model_folder_and_is_reused(S, tmp_path):
    from core.runs import export

    _, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        job_id = export.queue(s, run_id).id
    run_job(S, job_id)
    state, error, metrics = status(S, job_id)
    assert state == "completed", error
    with S.begin() as s:
        checkpoint = run_repo.get_run(s, run_id).checkpoint
        assert export.queue(s, run_id).id == job_id  # the zip is still there: no second export
    with zipfile.ZipFile(metrics["path"]) as zf:
        names = set(zf.namelist())
    folder = os.path.basename(checkpoint)
    assert {f"{folder}/config.json", f"{folder}/model.safetensors"} <= names
    assert metrics["files"] == len(names)
    os.remove(metrics["path"])
    with S.begin() as s:
        assert export.queue(s, run_id).id != job_id  # gone: export again


def test_attribution_job_explains_one_word_and_is_reused(S, tmp_path):
    from core.interpret import attribution_job

    pid, run_id = tm.trained_ner_run(S, tmp_path)
    with S.begin() as s:
        row = next(sample_repo.iter_labeled(s, project_repo.get_project_by_id(s, pid), splits=["test"]))
        job_id = attribution_job.queue(s, run_id, row.id, word=0, steps=16).id
    run_job(S, job_id)
    state, error, metrics = status(S, job_id)
    assert state == "completed", error
    assert [w["text"] for w in metrics["words"]] == [row.text[a:b] for a, b in row.tokens]
    assert metrics["word_index"] == 0 and metrics["steps"] == 16 and metrics["sample_id"] == row.id
    with S.begin() as s:
        assert attribution_job.queue(s, run_id, row.id, word=0, steps=16).id == job_id
        assert attribution_job.queue(s, run_id, row.id, word=1, steps=16).id != job_id


def test_icl_preview_builds_the_prompt_and_predicts_in_the_worker(S, tmp_path):
    from core.icl import preview
    from core.icl.config import IclConfig
    from tests.core.icl import tinylm

    pid = tm.cls_project(S)
    lm = tinylm.biased_gpt2(tmp_path / "lm", favoured=["pos"])
    config = IclConfig(task="classification", lm=str(lm), shots=2, selection="random")
    with S.begin() as s:
        row = next(sample_repo.iter_labeled(s, project_repo.get_project_by_id(s, pid), splits=["test"]))
        job_id = preview.queue(s, "toycls", config, row.id, predict=True).id
    run_job(S, job_id)
    state, error, metrics = status(S, job_id)
    assert state == "completed", error
    assert row.text in metrics["prompt"] and len(metrics["demo_ids"]) == 2
    assert metrics["output"]["categories"] == ["pos"] and set(metrics["output"]["scores"]) == {"pos", "neg"}
    with S.begin() as s:
        # The prediction's prompt answers a prompt-only preview of the same settings and sample.
        assert preview.queue(s, "toycls", config, row.id, predict=False).id == job_id
        other = preview.queue(s, "toycls", IclConfig(task="classification", lm=str(lm), shots=1), row.id)
        assert other.id != job_id and other.status == "queued"
