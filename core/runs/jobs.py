"""The worker's dispatch table: which function executes a run of each kind, and in which lane.

Adding a run kind is one line in ``JOBS``: ``"kind": Job("package.module:function", LANE)``.

Lanes (README "The background worker"): each lane runs its own runs, one at a time, next to the
other lanes, so a long training run never holds up a short job.

- ``train``: fine-tuning, learning curves, pretraining: long, and the one lane that owns the GPU.
- ``batch``: long predictions over many samples (ICL runs over a split, pre-annotation of the
  pool): minutes, but never behind a training run, and never in front of a quick job.
- ``quick``: jobs a page waits on (evaluation, scoring, label-error ranking, previews, exports).

On a GPU machine the ``batch`` and ``quick`` lanes are guests: while the ``train`` lane runs they
run on the CPU, otherwise on the GPU capped at ``TAGTUNE_GUEST_GPU_FRACTION`` of its memory
(default 0.2), so a training run that starts meanwhile still finds the rest (core/runs/lanes.py).

Contract for a handler ``execute(run_id: int) -> None``:
- it runs in its own process (forked by core/runs/launcher.py), with the run already
  ``running`` in the database and its own fresh database connections;
- it loads the run with ``core.runs.context.load_run_context`` and opens the database with
  ``core.base.store.sessions()`` (short ``with S.begin()`` blocks);
- it reports progress only through rows (MetricPoint via ``db.runs.add_points``, ``Run.progress``
  via ``db.runs.heartbeat``) and checks ``db.runs.cancel_requested`` regularly;
- it ends the run with ``db.runs.finish(...)`` as completed / cancelled, or raises: the worker
  marks a raised or killed run ``failed`` with the error text.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

TRAIN, BATCH, QUICK = "train", "batch", "quick"


@dataclass(frozen=True)
class Lane:
    name: str
    slots: int  # runs of this lane at once
    owns_gpu: bool  # False: a guest that must leave the GPU's memory to the train lane
    description: str


LANES: dict[str, Lane] = {
    TRAIN: Lane(TRAIN, 1, True, "training runs"),
    BATCH: Lane(BATCH, 1, False, "long predictions (ICL runs, pre-annotation)"),
    QUICK: Lane(QUICK, 1, False, "short jobs (evaluation, scoring, previews, exports)"),
}


@dataclass(frozen=True)
class Job:
    handler: str  # "package.module:function", imported in the run's process
    lane: str

    def __post_init__(self) -> None:
        if ":" not in self.handler:
            raise ValueError(f"handler {self.handler!r}: expected 'package.module:function'")
        if self.lane not in LANES:
            raise ValueError(f"lane {self.lane!r}: expected one of {', '.join(LANES)}")


JOBS: dict[str, Job] = {
    "finetune": Job("core.train.runner:execute", TRAIN),
    "learning_curve": Job("core.train.learning_curve:execute", TRAIN),
    "icl": Job("core.icl.runner:execute", BATCH),
    "preannotate": Job("core.labeling.preannotate:execute", BATCH),
    # Jobs a page waits on: each reports a phase, a fraction and honours Cancel (core.runs.progress).
    "evaluate": Job("core.evaluation.jobs:execute", QUICK),
    "label_errors": Job("core.labeling.label_errors:execute", QUICK),
    "icl_preview": Job("core.icl.preview:execute", QUICK),
    "attribution": Job("core.interpret.attribution_job:execute", QUICK),
    "export_model": Job("core.runs.export:execute", QUICK),
}


def job_for(kind: str) -> Job:
    if kind not in JOBS:
        raise ValueError(f"unknown run kind {kind!r}: expected one of {', '.join(sorted(JOBS))}; "
                         "add it to JOBS in core/runs/jobs.py")
    return JOBS[kind]


def handler_for(kind: str) -> Callable[[int], None]:
    module, _, fn = job_for(kind).handler.partition(":")
    return getattr(importlib.import_module(module), fn)


def lane_of(kind: str) -> str:
    return job_for(kind).lane


def kinds_in(lane: str) -> list[str]:
    return sorted(kind for kind, job in JOBS.items() if job.lane == lane)


def handler_modules() -> list[str]:
    """Every handler's module, for the launcher to import once before it forks run processes."""
    return sorted({job.handler.partition(":")[0] for job in JOBS.values()})
