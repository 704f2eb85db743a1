"""Learning curve: retrain a fine-tuning run's configuration on 10, 25, 50 and 100% of the
labelled training samples and record the dev headline metric against the labels used.

Subsets are nested (one seeded shuffle, then prefixes), so each point adds labels to the last.
Each point is a MetricPoint of this run named ``curve_dev_<metric>`` whose ``step`` is the number
of labelled training samples used. Training goes through core.train.trainer.train_examples, the
same entry point as the worker's fine-tuning runs; models are not exported (only scores matter).
"""
from __future__ import annotations

import math
import random
import shutil
from dataclasses import asdict, dataclass

from core.base import settings
from core.base.errors import UserError
from core.evaluation.metrics import headline
from core.base.store import sessions, to_example
from core.runs.context import load_run_context
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

FRACTIONS = (0.1, 0.25, 0.5, 1.0)
POINT_PREFIX = "curve_dev_"


@dataclass(frozen=True)
class LearningCurveConfig:
    base_run_id: int
    project: str
    fractions: tuple[float, ...] = FRACTIONS
    seed: int = 13

    def __post_init__(self):
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        if not isinstance(self.base_run_id, int) or self.base_run_id < 1:
            raise ValueError(f"base_run_id must be a run id (a positive integer), found {self.base_run_id!r}")
        if not self.fractions or any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError(f"fractions must be shares in (0, 1], found {list(self.fractions)}; e.g. 0.1,0.25,0.5,1")
        if list(self.fractions) != sorted(set(self.fractions)):
            raise ValueError(f"fractions must increase without repeats, found {list(self.fractions)}")


def create(session, base_run_id: int, fractions: tuple[float, ...] = FRACTIONS, status: str = "queued") -> int:
    base = run_repo.get_run(session, base_run_id)
    if base.kind != "finetune":
        raise UserError(f"run {base_run_id} is a {base.kind!r} run: expected a fine-tuning run whose settings "
                        "the learning curve retrains; pick one on the Evaluate page")
    project = project_repo.get_project_by_id(session, base.project_id)
    config = LearningCurveConfig(base_run_id, project.name, tuple(fractions))
    data = asdict(config)
    data["fractions"] = list(config.fractions)
    run = run_repo.create_run(session, project, "learning_curve", data, status=status,
                              name=f"learning curve of run {base_run_id}", parent_run_id=base_run_id)
    return run.id


def subset_sizes(n: int, fractions: tuple[float, ...]) -> list[int]:
    """Samples per point: at least one, never more than n, no repeated sizes."""
    sizes = []
    for f in fractions:
        k = min(n, max(1, math.ceil(f * n)))
        if not sizes or k > sizes[-1]:
            sizes.append(k)
    return sizes


def execute(run_id: int) -> None:
    """Worker handler (core.runs.jobs contract)."""
    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.trainer import train_examples

    S = sessions()
    with S.begin() as s:
        ctx = load_run_context(s, run_id)
        config = LearningCurveConfig(**ctx.config)
        base = run_repo.get_run(s, config.base_run_id)
        train_config = TrainConfig.from_json(base.config).replace(continue_from=None, replay_share=0.0)
        task, multilabel, labels = ctx.task, ctx.multilabel, list(ctx.labels)
        rows = list(sample_repo.iter_labeled(s, ctx.project(s), splits=["train", "dev"]))
    train = [to_example(r) for r in rows if r.split == "train"]
    dev = [to_example(r) for r in rows if r.split == "dev"]
    if not dev and len(train) >= 10:
        train, dev = D.hold_out(train, 0.1, train_config.seed)
    if not train or not dev:
        raise ValueError(f"project {ctx.project_name!r} has {len(train)} labelled train and {len(dev)} dev samples: "
                         "expected both (a dev split, or 10+ train samples to hold some out); label more")
    random.Random(config.seed).shuffle(train)
    sizes = subset_sizes(len(train), config.fractions)
    metric = headline(task, None)[0]
    out_dir = settings.runs_dir() / str(run_id)
    for i, size in enumerate(sizes):
        callback = _PointCallback(S, run_id, i, len(sizes))
        result = train_examples(train_config, train[:size], dev, labels, task, out_dir / f"n{size}",
                                multilabel=multilabel, callback=callback, export=False)
        shutil.rmtree(out_dir / f"n{size}", ignore_errors=True)
        if result.cancelled:
            with S.begin() as s:
                run_repo.finish(s, run_id, "cancelled", metrics=_summary(s, run_id, metric))
            return
        value = headline(task, result.metrics)[1]
        with S.begin() as s:
            run_repo.add_points(s, run_id, size, None, {POINT_PREFIX + metric: value})
            run_repo.heartbeat(s, run_id, progress=(i + 1) / len(sizes), labels_used=size)
    with S.begin() as s:
        run_repo.finish(s, run_id, "completed", metrics=_summary(s, run_id, metric))


def _summary(s, run_id: int, metric: str) -> dict:
    points = run_repo.points(s, [run_id], names=[POINT_PREFIX + metric])
    return {"metric": metric, "points": [[p.step, p.value] for p in points],
            metric: points[-1].value if points else None}


class _PointCallback:
    """RunCallback scaled to one point of the curve: progress across all points, cancel checks,
    and no per-step points (the curve's points are indexed by labels used, not steps)."""

    def __new__(cls, S, run_id: int, index: int, count: int):
        from core.train.callback import RunCallback

        class Scaled(RunCallback):
            def write(self, step, epoch, values):
                return None

            def progress(self, step, total):
                share = step / total if total else 0.0
                super().progress(int(1000 * (index + share)), 1000 * count)

        return Scaled(S, run_id)


def latest_curve(session, project) -> dict | None:
    """The newest learning-curve run of the project with its points: labels used -> dev metric."""
    runs = run_repo.list_runs(session, project, kinds=["learning_curve"])
    if not runs:
        return None
    run = runs[0]
    metric = headline(project.task, None)[0]
    points = run_repo.points(session, [run.id], names=[POINT_PREFIX + metric])
    return {"run_id": run.id, "status": run.status, "metric": metric, "progress": run.progress,
            "points": [{"labels": p.step, "value": p.value} for p in points]}
