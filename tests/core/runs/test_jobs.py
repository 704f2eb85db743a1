"""The dispatch table and its lanes, the device share of guest lanes, the run-context loader."""
from __future__ import annotations

import importlib
import os

import pytest

from core.runs import jobs
from core.runs.context import load_run_context
from core.runs.lanes import Board, device_env, guest_fraction
from db import projects as project_repo
from db import runs as run_repo


def test_every_kind_has_an_importable_handler_and_a_lane():
    for kind, job in jobs.JOBS.items():
        module, _, fn = job.handler.partition(":")
        assert callable(getattr(importlib.import_module(module), fn)), kind
        assert job.lane in jobs.LANES
        assert kind in jobs.kinds_in(job.lane)
    assert sorted(k for lane in jobs.LANES for k in jobs.kinds_in(lane)) == sorted(jobs.JOBS)


def test_training_and_short_jobs_never_share_a_lane():
    assert jobs.lane_of("finetune") == jobs.TRAIN
    assert jobs.lane_of("preannotate") != jobs.TRAIN and jobs.lane_of("icl") != jobs.TRAIN
    assert [lane.name for lane in jobs.LANES.values() if lane.owns_gpu] == [jobs.TRAIN]


def test_an_unknown_kind_or_lane_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="unknown run kind 'nope': expected one of .*finetune.*add it to JOBS"):
        jobs.handler_for("nope")
    with pytest.raises(ValueError, match="lane 'slow': expected one of train, batch, quick"):
        jobs.Job("core.train.runner:execute", "slow")
    with pytest.raises(ValueError, match="expected 'package.module:function'"):
        jobs.Job("core.train.runner.execute", jobs.TRAIN)


def test_guest_lanes_leave_the_gpu_to_training(monkeypatch):
    train, quick = jobs.LANES[jobs.TRAIN], jobs.LANES[jobs.QUICK]
    assert device_env(train, train_busy=False) == {}
    # While a training run holds the GPU, a guest runs on the CPU...
    assert device_env(quick, train_busy=True) == {"CUDA_VISIBLE_DEVICES": ""}
    # ...otherwise on a capped share of its memory, so a training run that starts meanwhile fits.
    monkeypatch.setenv("TAGTUNE_GUEST_GPU_FRACTION", "0.3")
    assert device_env(quick, train_busy=False) == {"TAGTUNE_GPU_MEMORY_FRACTION": "0.3"}
    monkeypatch.setenv("TAGTUNE_GUEST_GPU_FRACTION", "1.5")
    with pytest.raises(ValueError, match=r"TAGTUNE_GUEST_GPU_FRACTION=1.5: expected a share of GPU memory in \(0, 1\]"):
        guest_fraction()


def test_the_board_tracks_what_each_lane_runs():
    board = Board()
    board.add(jobs.TRAIN, 4)
    board.add(jobs.QUICK, 9)
    assert board.busy(jobs.TRAIN) and not board.busy(jobs.BATCH)
    assert board.running() == [4, 9]
    board.remove(jobs.TRAIN, 4)
    assert board.snapshot() == {jobs.TRAIN: [], jobs.BATCH: [], jobs.QUICK: [9]}


def test_the_run_context_has_the_run_project_labels_and_config(S):
    with S.begin() as s:
        project = project_repo.create_project(s, "ctx", "classification", ["b", "a"], multilabel=True)
        run_id = run_repo.create_run(s, project, "finetune", {"model": "m", "epochs": 2}, name="r1").id
    with S.begin() as s:
        ctx = load_run_context(s, run_id)
        assert ctx.project(s).name == "ctx"
    assert (ctx.run_id, ctx.kind, ctx.name, ctx.project_name, ctx.task, ctx.multilabel) == \
        (run_id, "finetune", "r1", "ctx", "classification", True)
    assert ctx.labels == ("b", "a") and ctx.config == {"model": "m", "epochs": 2}


def test_a_run_of_a_kind_nobody_handles_fails_with_the_fix(S):
    from core.runs.child import run_child

    with S.begin() as s:
        project = project_repo.create_project(s, "k", "ner", ["PER"])
        run_id = run_repo.create_run(s, project, "no_such_kind", {}).id
        run_repo.claim_next(s)
    assert run_child(run_id, "no_such_kind", os.getppid()) == 1
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
    assert run.status == "failed"
    assert "unknown run kind 'no_such_kind'" in run.error and "add it to JOBS in core/runs/jobs.py" in run.error
