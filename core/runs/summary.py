"""Runs as plain rows for the Runs page, the Train page and ``cli.py runs``."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from core.evaluation.metrics import headline
from db import projects as project_repo
from db import runs as run_repo
from db.models import Run, utcnow

# The smoothed loss averages over about this share of the logged points (at least 2, at most 20):
# a fixed weight smooths a 12-point curve as hard as a 2,000-point one.
SMOOTHING_SHARE = 1 / 8
SMOOTHING_MAX_SPAN = 20


def run_row(run: Run, task: str) -> dict:
    config = run.config or {}
    metrics = run.metrics or {}
    name, value = headline(task, metrics)
    if run.kind == "pretrain":  # masked-LM pretraining has no task metric: its held-out loss
        name, value = "loss", metrics.get("dev_loss")
    return {
        "id": run.id,
        "kind": run.kind,
        "name": run.name,
        "status": run.status,
        "strategy": config.get("strategy") if run.kind == "finetune" else None,
        "limit": config.get("limit") if run.kind == "icl" else None,
        "model": _short_model(config.get("model") or config.get("lm")),
        "trainable_params": run.trainable_params,
        "total_params": run.total_params,
        "wall_seconds": run_repo.duration(run),
        "peak_memory_mb": run.peak_memory_mb,
        "metric": name,
        "value": value,
        "split": metrics.get("split"),
        "n": metrics.get("n"),
        "sample_fingerprint": metrics.get("sample_fingerprint"),
        "test_value": headline_on_test(task, metrics),
        "test_n": n_on_test(metrics),
        "labels_used": run.labels_used,
        "seconds_per_sample": metrics.get("seconds_per_sample"),
        "progress": run.progress,
        "phase": run.phase,
        "phase_progress": run.phase_progress,
        "phase_started_at": run.phase_started_at,
        "device": run.device,
        "created_at": run.created_at.isoformat(timespec="seconds") if run.created_at else None,
        "checkpoint": run.checkpoint,
        "log_path": run.log_path,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
    }


def headline_on_test(task: str, metrics: dict) -> float | None:
    """The headline on the test split, so fine-tuned (scored on dev while training) and ICL runs
    (scored on the split they ran on) compare on the same data: the run's own score when it ran
    on test, else a cached evaluation on test (core.evaluation.report), else None."""
    if metrics.get("split") == "test":
        return headline(task, metrics)[1]
    cached = ((metrics.get("eval") or {}).get("test") or {}).get("default")
    return headline(task, cached["report"])[1] if cached else None


def n_on_test(metrics: dict) -> int | None:
    """How many test samples ``headline_on_test`` covers."""
    if metrics.get("split") == "test":
        return metrics.get("n")
    return ((metrics.get("eval") or {}).get("test") or {}).get("n")


def _short_model(model: str | None) -> str | None:
    if not model:
        return None
    path = Path(model)
    if path.name == "model" and path.parent.name:  # the packaged MiniLM lives in .../<package>/model
        return path.parent.name
    return path.name if path.is_absolute() else model


def project_runs(session, project_name: str, kinds=None) -> list[dict]:
    project = project_repo.get_project(session, project_name)
    return [run_row(r, project.task) for r in run_repo.list_runs(session, project, kinds)]


def curves(session, run_ids: list[int]) -> dict[int, dict[str, list[tuple[int, float]]]]:
    """{run_id: {metric name: [(step, value), ...]}} for charts."""
    out: dict[int, dict[str, list[tuple[int, float]]]] = {i: {} for i in run_ids}
    for p in run_repo.points(session, run_ids):
        out[p.run_id].setdefault(p.name, []).append((p.step, p.value))
    return out


def smooth(values: list[float], span: float | None = None) -> list[float]:
    """Zero-phase exponential smoothing: the mean of a forward and a backward pandas ``ewm``.

    A one-sided moving average (TensorBoard's) lags behind a falling loss and is drawn above
    every raw point; averaging it with the same average run backwards cancels the lag on a
    straight stretch, so the smoothed curve goes through the raw points, not above them.
    ``span`` (in logged points) defaults to an eighth of the curve, between 2 and 20.
    """
    if not values:
        return []
    span = span or min(SMOOTHING_MAX_SPAN, max(2.0, len(values) * SMOOTHING_SHARE))
    series = pd.Series(values, dtype=float)
    forward = series.ewm(span=span, adjust=True).mean()
    backward = series[::-1].ewm(span=span, adjust=True).mean()[::-1]
    return ((forward + backward) / 2).tolist()


def eta_seconds(run: dict) -> float | None:
    """Remaining time from elapsed wall time and progress (None before the first step)."""
    progress, elapsed = run.get("progress") or 0.0, run.get("wall_seconds")
    if run.get("status") != "running" or not elapsed or progress <= 0.0 or progress >= 1.0:
        return None
    return elapsed * (1 - progress) / progress


def phase_eta_seconds(run: dict, now: datetime | None = None) -> float | None:
    """Remaining time of the current phase (an evaluation, an export) from its own progress."""
    fraction, started = run.get("phase_progress"), run.get("phase_started_at")
    if run.get("status") != "running" or started is None or not fraction or fraction >= 1.0:
        return None
    elapsed = ((now or utcnow()) - started).total_seconds()
    return elapsed * (1 - fraction) / fraction if elapsed > 0 else None
