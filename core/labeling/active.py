"""Active learning: uncertainty measures and the labelling-queue order.

A pre-annotation pass (core.labeling.preannotate) stores, per unlabelled sample, a Prediction row whose
``output["uncertainty"]`` holds every measure below under both aggregations:
``{"least_confidence": {"min": u, "mean": u}, "margin": {...}, "entropy": {...}}``.
Every measure is an *uncertainty* in [0, 1] (higher = the model is less sure = label it sooner),
so ``Sample.priority`` takes it as is (the queue serves the highest priority first).

NER scores tokens one by one and aggregates over a sample's words: ``min`` reads the sample as
being as certain as its least certain word (the max of the per-word uncertainties), ``mean``
averages them. Classification has one distribution per sample, so both aggregations agree.
"""
from __future__ import annotations

import math
import random

from sqlalchemy.orm import Session

from db import runs as run_repo
from db import samples as sample_repo
from db.models import Project

ORDERS: tuple[str, ...] = ("random", "least_confidence", "margin", "entropy")
AGGREGATES: tuple[str, ...] = ("min", "mean")
MEASURES: tuple[str, ...] = ORDERS[1:]
IMPORT_ORDER = "import"  # every priority 0: oldest sample first, as imported
QUEUE_ORDERS: tuple[str, ...] = (IMPORT_ORDER, *ORDERS)  # what Project.queue_order may hold
RANDOM_SEED = 13
ORDER_NAMES = {
    IMPORT_ORDER: "import order (oldest first)",
    "random": "random (a seeded shuffle)",
    "least_confidence": "least confidence",
    "margin": "smallest margin",
    "entropy": "highest entropy",
}


def distribution_uncertainty(probs: list[float]) -> dict[str, float]:
    """The three uncertainty measures of one probability distribution (sums to one).

    least_confidence = 1 - p_max; margin = 1 - (p_1 - p_2); entropy normalised by log(K)
    so that all three lie in [0, 1] and share one scale in the queue.
    """
    ranked = sorted((float(p) for p in probs), reverse=True)
    if not ranked:
        raise ValueError("expected a probability distribution with at least one value, found none")
    second = ranked[1] if len(ranked) > 1 else 0.0
    entropy = -sum(p * math.log(p) for p in ranked if p > 0)
    norm = math.log(len(ranked)) if len(ranked) > 1 else 1.0
    return {
        "least_confidence": _clip(1.0 - ranked[0]),
        "margin": _clip(1.0 - (ranked[0] - second)),
        "entropy": _clip(entropy / norm),
    }


def aggregate_uncertainty(per_token: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per-sample scores from per-word measures: {measure: {"min": ..., "mean": ...}}.

    An empty text (no words) is scored 0: nothing to label, nothing to learn from.
    """
    out: dict[str, dict[str, float]] = {}
    for measure in MEASURES:
        values = [t[measure] for t in per_token]
        out[measure] = {
            "min": max(values) if values else 0.0,  # least certain word = most uncertain word
            "mean": sum(values) / len(values) if values else 0.0,
        }
    return out


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def latest_scores(
    session: Session, project: Project, order: str, aggregate: str = "min", include_run_id: int | None = None
) -> dict[int, float]:
    """Sample id -> uncertainty from the newest completed pre-annotation pass that scored it
    (``include_run_id``: a pass still finishing that counts as completed)."""
    runs = run_repo.list_runs(session, project, kinds=["preannotate"])  # newest first
    scores: dict[int, float] = {}
    for run in reversed(runs):  # oldest first so newer passes overwrite older ones
        if run.status != "completed" and run.id != include_run_id:
            continue
        for pred in run_repo.predictions(session, run.id):
            value = ((pred.output or {}).get("uncertainty") or {}).get(order, {}).get(aggregate)
            if value is not None:
                scores[pred.sample_id] = float(value)
    return scores


def reorder_queue(
    session: Session,
    project: Project,
    order: str,
    aggregate: str = "min",
    seed: int = RANDOM_SEED,
    include_run_id: int | None = None,
) -> dict:
    """Write ``Sample.priority`` for the unlabelled samples of ``project`` by ``order``, and
    record the order on the project (``Project.queue_order``), so the Label page says what the
    queue follows.

    ``import`` is the order of the samples' ids; ``random`` is a seeded shuffle; the uncertainty
    orders read the latest pre-annotation scores. Samples no pass has scored yet get priority 0
    and come after the scored ones of equal uncertainty, oldest first. Returns a summary for the
    caller to show.
    """
    if order not in QUEUE_ORDERS:
        raise ValueError(f"unknown queue order {order!r}: expected one of {', '.join(QUEUE_ORDERS)}")
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregation {aggregate!r}: expected one of {', '.join(AGGREGATES)}")
    project.queue_order, project.queue_aggregate = order, aggregate
    # Sorted: the queue's current order must not leak into the seeded shuffle.
    ids = sorted(sample_repo.queue_ids(session, project, status="unlabeled", limit=10**9))
    if order == IMPORT_ORDER:
        sample_repo.set_priorities(session, {sid: 0.0 for sid in ids})
        return {"order": order, "aggregate": aggregate, "samples": len(ids), "scored": 0, "message": ""}
    if order == "random":
        ranks = list(range(len(ids)))
        random.Random(seed).shuffle(ranks)
        # Priorities in (0, 1]: the queue serves the shuffled order.
        priorities = {sid: (rank + 1) / len(ids) for sid, rank in zip(ids, ranks)}
        sample_repo.set_priorities(session, priorities)
        return {"order": order, "aggregate": aggregate, "samples": len(ids), "scored": len(ids), "message": ""}
    scores = latest_scores(session, project, order, aggregate, include_run_id)
    priorities = {sid: scores.get(sid, 0.0) for sid in ids}
    sample_repo.set_priorities(session, priorities)
    scored = sum(1 for sid in ids if sid in scores)
    message = (
        ""
        if scored
        else "no pre-annotation scores yet: run a pre-annotation pass (Evaluate page or "
        "`cli.py preannotate RUN_ID`) so the queue can follow the model's uncertainty"
    )
    return {"order": order, "aggregate": aggregate, "samples": len(ids), "scored": scored, "message": message}


def describe_queue(session: Session, project: Project) -> str:
    """One sentence on the order the project's labelling queue follows, for the Label page."""
    order, aggregate = project.queue_order, project.queue_aggregate
    name = ORDER_NAMES.get(order, order)
    if order == IMPORT_ORDER:
        return f"The queue follows the {name}."
    if order == "random":
        return f"The queue follows a {name[len('random ('):-1]} of the unlabelled samples; samples added since come last."
    passes = [r for r in run_repo.list_runs(session, project, kinds=["preannotate"]) if r.status == "completed"]
    words = "" if project.task != "ner" else (" of the least sure word" if aggregate == "min" else " averaged over words")
    source = f"pre-annotation run #{passes[0].id}" if passes else "no pre-annotation run yet: nothing is scored"
    return (f"The queue follows the model's uncertainty: {name}{words} ({source}); "
            "samples no pass has scored come last, oldest first.")
