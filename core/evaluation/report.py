"""Evaluate a run on a split: the same scoring for fine-tuned runs (predicted by running the
model through an ordered loader) and ICL runs (their stored Prediction rows).

NER is scored with seqeval in both modes: ``default`` (conlleval-like; an I- after O opens an
entity) and ``strict`` (IOB2; such an I- is not an entity). Fine-tuned runs are scored on their
raw word tags, so the two modes differ exactly where the model emits invalid BIO.

An evaluation covers the labelled samples of a split, or an exact set of them (``sample_ids``:
"score on the same samples" as another run), and says which: ``n`` and ``sample_fingerprint``
(core.evaluation.coverage). Results are cached in ``Run.metrics["eval"][key]`` (key: the split, or
``split@fingerprint`` for a set) with a fingerprint of the model, the stored predictions and the
gold labels' versions; a changed checkpoint, new ICL predictions or relabelled samples invalidate
the cache. Pages never run this themselves: they queue an ``evaluate`` job (core.evaluation.jobs)
and read the cache.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from core.base.errors import UserError
from core.base.store import to_example
from core.base.types import Example, Span
from core.evaluation.coverage import coverage, sample_fingerprint
from core.evaluation.metrics import classification_scores, ner_scores
from core.evaluation.ner_errors import breakdown, word_confusion
from core.inference import predict
from core.text.spans import spans_to_bio
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

EVAL_VERSION = 3
MODES = ("default", "strict")
MISTAKES_SHOWN = 25
# Share of an evaluation's time per phase, for the overall progress of an ``evaluate`` job.
PLAN = {"loading the model": 0.1, "predicting": 0.8, "scoring": 0.1}


@dataclass
class Predicted:
    """What a run predicted for the gold examples of a split (same order as ``gold``)."""

    gold: list[Example]
    tags: list[list[str]] | None = None  # NER: word tags (raw model output or spans -> BIO)
    categories: list[list[str]] | None = None  # classification
    scores: list[dict[str, float]] | None = None  # classification: label -> probability


def cache_key(split: str, sample_ids=None) -> str:
    """Where an evaluation is cached in ``Run.metrics["eval"]``: the split, or split@set."""
    return split if sample_ids is None else f"{split}@{sample_fingerprint(sample_ids)}"


def cached(S: sessionmaker[Session], run_id: int, split: str, sample_ids=None) -> dict | None:
    """The cached evaluation when it is still valid, else None (cheap: indexed queries only)."""
    with S.begin() as s:
        return current(s, run_repo.get_run(s, run_id), split, sample_ids)


def current(session: Session, run, split: str, sample_ids=None) -> dict | None:
    """``cached`` inside a session, for a Run row."""
    wanted = None if sample_ids is None else sorted({int(i) for i in sample_ids})
    found = ((run.metrics or {}).get("eval") or {}).get(cache_key(split, wanted))
    if not found:
        return None
    return found if found.get("fingerprint") == _state(session, run, split, wanted)[0] else None


def evaluate(S: sessionmaker[Session], run_id: int, split: str = "test", refresh: bool = False,
             sample_ids=None, progress=None) -> dict:
    """Both scoring modes for ``run_id`` on ``split`` (or exactly ``sample_ids`` of it), cached on
    the run. ``progress``: a core.runs.progress.Progress (phases and on_progress). See ``result``."""
    wanted = None if sample_ids is None else sorted({int(i) for i in sample_ids})
    key = cache_key(split, wanted)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        task, labels = project.task, [l.name for l in project_repo.labels_of(s, project)]
        fingerprint, ids = _state(s, run, split, wanted)
        found = ((run.metrics or {}).get("eval") or {}).get(key)
        if found and found.get("fingerprint") == fingerprint and not refresh:
            return found
        _check_covered(run, split, wanted, ids)
        covered = set(ids)
        gold = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[split], sample_ids=wanted)
                if r.id in covered]
        stored = {p.sample_id: p.output for p in run_repo.predictions(s, run_id)} if run.kind == "icl" else {}
        model_run = _RunInfo(run.id, run.kind, run.status, run.checkpoint, run.config or {})
    predicted = _predict(model_run, task, gold, stored, progress)
    _phase(progress, "scoring")
    result = {"fingerprint": fingerprint, "run_id": run_id, "split": split, "task": task,
              **coverage(ex.id for ex in gold), "sample_ids": wanted}
    if task == "ner":
        y_true = [spans_to_bio(ex.tokens, ex.spans) for ex in gold]
        for mode in MODES:
            result[mode] = _ner_result(gold, y_true, predicted.tags, labels, strict=mode == "strict")
    else:
        result["default"] = _classification_result(gold, predicted, labels)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        metrics = dict(run.metrics or {})
        metrics["eval"] = {**(metrics.get("eval") or {}), key: result}
        run_repo.set_metrics(s, run_id, metrics)
    return result


def result(evaluation: dict, strict: bool = False) -> dict:
    """One mode of an evaluation (classification has only the default one)."""
    if evaluation["task"] == "ner" and strict:
        return evaluation["strict"]
    return evaluation["default"]


@dataclass
class _RunInfo:
    id: int
    kind: str
    status: str
    checkpoint: str | None
    config: dict


def _state(s, run, split: str, wanted: list[int] | None) -> tuple[str, list[int]]:
    """(cache fingerprint, ids of the samples the evaluation covers).

    The fingerprint changes whenever the model, the stored predictions or the gold labels change.
    """
    project = project_repo.get_project_by_id(s, run.project_id)
    versions = sample_repo.labeled_versions(s, project, [split], sample_ids=wanted)
    predicted = run_repo.prediction_ids(s, run.id) if run.kind == "icl" else {}
    if run.kind == "icl":
        versions = [(i, v) for i, v in versions if i in predicted]
    model = {"kind": run.kind, "checkpoint": run.checkpoint, "finished": str(run.finished_at)}
    if run.checkpoint:
        try:
            model["mtime"] = (Path(run.checkpoint) / "config.json").stat().st_mtime
        except OSError:
            model["mtime"] = None
    data = {"v": EVAL_VERSION, "model": model, "gold": versions, "pred": sorted(predicted.values())}
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest(), [i for i, _ in versions]


def _check_covered(run, split: str, wanted: list[int] | None, ids: list[int]) -> None:
    if not ids:
        what = "predicted by this ICL run" if run.kind == "icl" else "to evaluate"
        raise UserError(
            f"no labelled samples {what} in split {split!r} for run {run.id}; label or assign samples to "
            f"{split!r} on the Data page, or pick another split (--split dev)"
        )
    missing = sorted(set(wanted or ()) - set(ids))
    if missing:
        why = "has no prediction for" if run.kind == "icl" else "cannot score"
        raise UserError(
            f"run {run.id} {why} {len(missing)} of the {len(wanted)} requested samples of {split!r} "
            f"(ids {missing[:5]}{'…' if len(missing) > 5 else ''}): expected labelled {split!r} samples"
            + (" it predicted; run ICL on the full split instead" if run.kind == "icl"
               else "; they were relabelled or moved, so score on the current split instead")
        )


def _phase(progress, name: str) -> None:
    if progress is not None:
        progress.phase(name)


def _predict(run: _RunInfo, task: str, gold: list[Example], stored: dict[int, dict], progress=None) -> Predicted:
    """What the run predicts for ``gold``: its stored predictions (ICL) or its model's, through
    the one inference path (``progress(done, total)`` after every batch)."""
    if run.kind == "icl":
        return _from_stored(task, gold, stored)
    if run.kind != "finetune" or run.status != "completed" or not run.checkpoint:
        raise UserError(
            f"run {run.id} cannot be evaluated: expected a completed fine-tuning or ICL run, found a "
            f"{run.status} {run.kind!r} run; wait for it to finish or pick another run"
        )
    _phase(progress, "loading the model")
    lm = predict.load(run.checkpoint, task, run.config.get("max_length"))
    _phase(progress, "predicting")
    preds = predict.predict_examples(lm, gold, on_progress=progress)
    if task == "ner":
        return Predicted(gold, tags=[p.tags for p in preds])
    return Predicted(gold, categories=[p.categories for p in preds], scores=[p.scores for p in preds])


def _from_stored(task: str, gold: list[Example], stored: dict[int, dict]) -> Predicted:
    if task == "ner":
        tags = []
        for ex in gold:
            spans = [Span(int(s), int(e), str(l)) for s, e, l in (stored[ex.id] or {}).get("spans", [])]
            tags.append(spans_to_bio(ex.tokens, spans))
        return Predicted(gold, tags=tags)
    cats = [list((stored[ex.id] or {}).get("categories", [])) for ex in gold]
    scores = [dict((stored[ex.id] or {}).get("scores") or {}) for ex in gold]
    return Predicted(gold, categories=cats, scores=scores)


def _ner_result(gold: list[Example], y_true, y_pred, types: list[str], strict: bool) -> dict:
    report = ner_scores(y_true, y_pred, strict=strict)
    errors = breakdown(gold, y_true, y_pred, strict=strict)
    return {"report": report, "errors": errors, "confusion": word_confusion(y_true, y_pred, types)}


def _classification_result(gold: list[Example], predicted: Predicted, labels: list[str]) -> dict:
    gold_cats = [list(ex.categories) for ex in gold]
    report = classification_scores(gold_cats, predicted.categories, labels)
    mistakes = []
    for ex, g, p, sc in zip(gold, gold_cats, predicted.categories, predicted.scores):
        if set(g) != set(p):
            conf = max((sc.get(l, 0.0) for l in p), default=0.0) if sc else None
            mistakes.append(
                {"sample_id": ex.id, "text": ex.text[:300], "gold": g, "predicted": p, "confidence": conf}
            )
    mistakes.sort(key=lambda m: -(m["confidence"] or 0.0))
    return {
        "report": report,
        "mistakes": mistakes[:MISTAKES_SHOWN],
        "mistake_count": len(mistakes),
        "mistake_ids": [m["sample_id"] for m in mistakes],
    }
