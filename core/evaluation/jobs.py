"""``evaluate`` jobs: score a run on a split, or on exactly the samples another run was scored on,
in the worker (quick lane), with progress and Cancel. Pages and the Runs comparison queue them
here and read the result from the run's evaluation cache (core.evaluation.report)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from core.base.errors import UserError
from core.base.store import sessions
from core.evaluation import report
from core.runs.context import load_run_context
from core.runs.progress import Cancelled, Progress
from db import projects as project_repo
from db import runs as run_repo
from db.models import Run

KIND = "evaluate"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class EvaluateConfig:
    run_id: int
    split: str = "test"
    sample_ids: tuple[int, ...] | None = None  # None: every labelled sample of the split
    refresh: bool = False

    def __post_init__(self):
        if not isinstance(self.run_id, int) or self.run_id < 1:
            raise ValueError(f"run_id must be a run id (a positive integer), found {self.run_id!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, found {self.split!r}")
        if self.sample_ids is not None:
            ids = tuple(sorted({int(i) for i in self.sample_ids}))
            if not ids:
                raise ValueError("sample_ids is empty: expected the ids of the samples to score, or none for the split")
            object.__setattr__(self, "sample_ids", ids)

    @property
    def key(self) -> str:
        return report.cache_key(self.split, self.sample_ids)

    def to_json(self) -> dict:
        data = asdict(self)
        data["sample_ids"] = list(self.sample_ids) if self.sample_ids is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> EvaluateConfig:
        ids = data.get("sample_ids")
        return cls(int(data["run_id"]), data.get("split", "test"), tuple(ids) if ids is not None else None,
                   bool(data.get("refresh", False)))


def queue(session, run_id: int, split: str = "test", sample_ids=None, refresh: bool = False,
          status: str = "queued") -> Run:
    """The queued or running ``evaluate`` job for this run and split (or sample set); a new one
    when there is none. Raises UserError for a run that cannot be scored. ``status="running"``
    creates a job the caller runs in the foreground (no worker claims it)."""
    config = EvaluateConfig(run_id, split, tuple(sample_ids) if sample_ids is not None else None, refresh)
    target = run_repo.get_run(session, run_id)
    if target.status != "completed" or target.kind not in ("finetune", "icl") or (
            target.kind == "finetune" and not target.checkpoint):
        raise UserError(
            f"run {run_id} cannot be evaluated: expected a completed fine-tuning or ICL run, found a "
            f"{target.status} {target.kind!r} run; wait for it to finish or pick another run"
        )
    active = latest(session, run_id, split, config.sample_ids, statuses=run_repo.ACTIVE) if status == "queued" else None
    if active is not None:
        return active
    project = project_repo.get_project_by_id(session, target.project_id)
    what = f"{len(config.sample_ids)} {split} samples" if config.sample_ids else split
    job = run_repo.create_run(session, project, KIND, config.to_json(), name=f"score run {run_id} on {what}",
                              parent_run_id=run_id, status=status)
    if status == "running":
        run_repo.mark_started(session, job.id, pid=None)
    return job


def latest(session, run_id: int, split: str, sample_ids=None, statuses=None) -> Run | None:
    """The newest ``evaluate`` job of this run for this split or sample set (of ``statuses``)."""
    key = report.cache_key(split, sample_ids)
    for job in run_repo.jobs_of(session, run_id, KIND):
        if EvaluateConfig.from_json(job.config).key == key and (statuses is None or job.status in statuses):
            return job
    return None


def execute(job_id: int) -> None:
    """Worker handler (core.runs.jobs contract)."""
    S = sessions()
    with S.begin() as s:
        config = EvaluateConfig.from_json(load_run_context(s, job_id).config)
    progress = Progress(S, job_id, report.PLAN)
    try:
        ev = report.evaluate(S, config.run_id, config.split, refresh=config.refresh,
                             sample_ids=config.sample_ids, progress=progress)
    except Cancelled:
        with S.begin() as s:
            run_repo.finish(s, job_id, "cancelled")
        return
    progress.done()
    rep = report.result(ev)["report"]
    metrics = {"run_id": config.run_id, "split": config.split, "key": config.key, "n": ev["n"],
               "sample_fingerprint": ev["sample_fingerprint"]}
    metrics.update({k: rep[k] for k in ("f1", "precision", "recall", "accuracy", "macro_f1") if k in rep})
    with S.begin() as s:
        run_repo.finish(s, job_id, "completed", metrics=metrics)


@dataclass
class EvalState:
    """What the Evaluate page shows for a run and split: the evaluation, or the job behind it."""

    result: dict | None  # the cached evaluation, when it is current
    job_id: int | None = None  # the job scoring it now, or the last one that failed
    job_status: str | None = None


def state(S, run_id: int, split: str, refresh: bool = False) -> EvalState:
    """The current evaluation, else the job computing it, queued here on first need. A job that
    failed is reported, not retried on every visit (``refresh`` queues a new one)."""
    with S.begin() as s:
        active = latest(s, run_id, split, statuses=run_repo.ACTIVE)
        if active is not None:
            return EvalState(None, active.id, active.status)
        current = report.current(s, run_repo.get_run(s, run_id), split)
        if current is not None and not refresh:
            return EvalState(current)
        last = latest(s, run_id, split)
        if last is not None and last.status != "completed" and not refresh:
            return EvalState(None, last.id, last.status)
        job = queue(s, run_id, split, refresh=refresh)
        return EvalState(None, job.id, job.status)
