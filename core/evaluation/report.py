"""Evaluate a run on a split: the same scoring for fine-tuned runs (predicted by running the
model through an ordered loader) and ICL runs (their stored Prediction rows).

NER is scored with seqeval in both modes: ``default`` (conlleval-like; an I- after O opens an
entity) and ``strict`` (IOB2; such an I- is not an entity). Fine-tuned runs are scored on their
raw word tags, so the two modes differ exactly where the model emits invalid BIO.

Results are cached in ``Run.metrics["eval"][split]`` together with a fingerprint of the model
and of the gold labels; a changed checkpoint, new ICL predictions or relabelled samples
invalidate the cache.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from core.inference import predict
from core.base.errors import UserError
from core.evaluation.ner_errors import breakdown, word_confusion
from core.evaluation.metrics import classification_scores, ner_scores
from core.text.spans import spans_to_bio
from core.base.store import to_example
from core.base.types import Example, Span
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

EVAL_VERSION = 2
MODES = ("default", "strict")
MISTAKES_SHOWN = 25


@dataclass
class Predicted:
    """What a run predicted for the gold examples of a split (same order as ``gold``)."""

    gold: list[Example]
    tags: list[list[str]] | None = None  # NER: word tags (raw model output or spans -> BIO)
    categories: list[list[str]] | None = None  # classification
    scores: list[dict[str, float]] | None = None  # classification: label -> probability


def evaluate(S: sessionmaker[Session], run_id: int, split: str = "test", refresh: bool = False) -> dict:
    """Both scoring modes for ``run_id`` on ``split``, cached on the run. See ``result`` for one mode."""
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        task, labels = project.task, [l.name for l in project_repo.labels_of(s, project)]
        gold_rows = list(sample_repo.iter_labeled(s, project, splits=[split]))
        stored = {p.sample_id: (p.id, p.output) for p in run_repo.predictions(s, run_id)} if run.kind == "icl" else {}
        fingerprint = _fingerprint(run, gold_rows, stored)
        cached = ((run.metrics or {}).get("eval") or {}).get(split)
        if cached and cached.get("fingerprint") == fingerprint and not refresh:
            return cached
        model_run = _RunInfo(run.id, run.kind, run.status, run.checkpoint, run.config or {})
    if run.kind == "icl":
        gold_rows = [r for r in gold_rows if r.id in stored]
    if not gold_rows:
        raise UserError(
            f"no labelled samples to evaluate in split {split!r} for run {run_id}; label or assign samples to "
            f"{split!r} on the Data page, or pick another split (--split dev)"
        )
    gold = [to_example(r) for r in gold_rows]
    predicted = _predict(model_run, task, gold, {k: v[1] for k, v in stored.items()})
    result = {"fingerprint": fingerprint, "run_id": run_id, "split": split, "task": task, "n": len(gold)}
    if task == "ner":
        y_true = [spans_to_bio(ex.tokens, ex.spans) for ex in gold]
        for mode in MODES:
            result[mode] = _ner_result(gold, y_true, predicted.tags, labels, strict=mode == "strict")
    else:
        result["default"] = _classification_result(gold, predicted, labels)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        metrics = dict(run.metrics or {})
        metrics["eval"] = {**(metrics.get("eval") or {}), split: result}
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


def _fingerprint(run, gold_rows, stored: dict) -> str:
    """Changes whenever the model, the stored predictions or the gold labels change."""
    model = {"kind": run.kind, "checkpoint": run.checkpoint, "finished": str(run.finished_at)}
    if run.checkpoint:
        try:
            model["mtime"] = (Path(run.checkpoint) / "config.json").stat().st_mtime
        except OSError:
            model["mtime"] = None
    data = {
        "v": EVAL_VERSION,
        "model": model,
        "gold": [(r.id, r.version) for r in gold_rows],
        "pred": sorted(v[0] for v in stored.values()),
    }
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _predict(run: _RunInfo, task: str, gold: list[Example], stored: dict[int, dict],
             on_progress: predict.Progress | None = None) -> Predicted:
    """What the run predicts for ``gold``: its stored predictions (ICL) or its model's, through
    the one inference path (``on_progress(done, total)`` after every batch)."""
    if run.kind == "icl":
        return _from_stored(task, gold, stored)
    if run.kind != "finetune" or run.status != "completed" or not run.checkpoint:
        raise UserError(
            f"run {run.id} cannot be evaluated: expected a completed fine-tuning or ICL run, found a "
            f"{run.status} {run.kind!r} run; wait for it to finish or pick another run"
        )
    lm = predict.load(run.checkpoint, task, run.config.get("max_length"))
    preds = predict.predict_examples(lm, gold, on_progress=on_progress)
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
