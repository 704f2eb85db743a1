"""Pre-annotation: a fine-tuned run's model suggests labels for the unlabelled samples.

A run of kind ``preannotate`` (config: PreannotateConfig) walks the project's unlabelled samples
in id order and, per sample, stores
- the suggestions as annotations with source ``model`` and a confidence (db.samples.replace_suggestions):
  NER spans with the lowest word probability inside the span, classification categories with
  their probability; the labeller shows them pre-filled. NER spans are repaired and filtered
  first (``suggested_spans``): two spans of one type with nothing but spaces between them are
  one entity the model split with a second B- tag ("New York" as B-LOC B-LOC), and spans below
  ``min_confidence`` are not suggested (a pre-filled wrong span costs a click to remove and
  anchors the annotator). The default threshold is measured on WNUT 2017 dev by
  bench/preannotate_threshold.py (README, "Evaluation and the labelling loop");
- a Prediction row of this run with the suggestion and its uncertainty scores (core.labeling.active),
then reorders the labelling queue by the chosen uncertainty. Progress and the cancel flag are
checked after every batch.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from core.inference import predict
from core.labeling.active import AGGREGATES, ORDERS, aggregate_uncertainty, distribution_uncertainty, reorder_queue
from core.base.errors import UserError
from core.base.store import sessions
from core.runs.context import load_run_context
from core.runs.progress import Progress
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

# The suggestion threshold that gave the best F1 of suggestions on WNUT 2017 dev (0.2 of 0, 0.1, ... 0.9;
# MiniLM fine-tuned 1 epoch: bench/preannotate_threshold.py, README); 0 suggests every predicted span.
DEFAULT_MIN_CONFIDENCE = 0.2
# Samples predicted and written per transaction (also the cancel/progress granularity): enough
# for the inference path's token batches to fill, about a second on a 2-core CPU.
CHUNK = 128
PLAN = {"loading the model": 0.05, "predicting": 0.9, "reordering the queue": 0.05}


@dataclass(frozen=True)
class PreannotateConfig:
    model_run_id: int
    project: str
    limit: int | None = None
    order: str = "least_confidence"
    aggregate: str = "min"
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # NER: spans below it are not suggested

    def __post_init__(self):
        if not isinstance(self.model_run_id, int) or self.model_run_id < 1:
            raise ValueError(f"model_run_id must be a run id (a positive integer), found {self.model_run_id!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(f"limit must be a positive number of samples or empty, found {self.limit!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, found {self.order!r}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, found {self.aggregate!r}")
        if isinstance(self.min_confidence, bool) or not isinstance(self.min_confidence, (int, float)) \
                or not 0.0 <= self.min_confidence < 1.0:
            raise ValueError(f"min_confidence must be a probability in [0, 1), found {self.min_confidence!r}; "
                             "0 suggests every predicted span")


def merge_split_entities(text: str, entities: list[dict]) -> list[dict]:
    """Join neighbouring entities of one type with only whitespace (or nothing) between them:
    the model's B-X B-X for one name. The joined entity scores the lower of the two.
    In WNUT 2017 gold, 16 of 1,975 train entities (0.8%) touch one of their own type, and
    several of those are splits themselves ("White House", "islamic state"), so the rule
    is almost always right."""
    out: list[dict] = []
    for ent in sorted(entities, key=lambda e: (e["start"], e["end"])):
        last = out[-1] if out else None
        if last and last["label"] == ent["label"] and last["end"] <= ent["start"] \
                and not text[last["end"]:ent["start"]].strip():
            out[-1] = {**last, "end": ent["end"], "text": text[last["start"]:ent["end"]],
                       "score": min(last["score"], ent["score"])}
        else:
            out.append(dict(ent))
    return out


def suggested_spans(text: str, entities: list[dict], min_confidence: float) -> list[tuple[int, int, str, float]]:
    """(start, end, label, confidence) to pre-fill: split entities merged, then the unsure dropped."""
    return [(e["start"], e["end"], e["label"], _clip(e["score"]))
            for e in merge_split_entities(text, entities) if e["score"] >= min_confidence]


def create(session, model_run_id: int, limit: int | None = None, order: str = "least_confidence",
           aggregate: str = "min", status: str = "queued", min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> int:
    """Queue a pre-annotation run for the project of ``model_run_id``; returns its id."""
    model_run = run_repo.get_run(session, model_run_id)
    if model_run.kind != "finetune" or model_run.status != "completed" or not model_run.checkpoint:
        raise UserError(
            f"run {model_run_id} cannot pre-annotate: expected a completed fine-tuning run with a model, "
            f"found a {model_run.status} {model_run.kind!r} run; train a model first"
        )
    project = project_repo.get_project_by_id(session, model_run.project_id)
    config = PreannotateConfig(model_run_id, project.name, limit, order, aggregate, min_confidence)
    run = run_repo.create_run(
        session, project, "preannotate", asdict(config), status=status,
        name=f"pre-annotate with run {model_run_id}", parent_run_id=model_run_id,
    )
    return run.id


def run_foreground(model_run_id: int, limit: int | None = None, order: str = "least_confidence", aggregate: str = "min",
                   min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> dict:
    """The CLI path: the same code as the worker, in this process."""
    S = sessions()
    with S.begin() as s:
        run_id = create(s, model_run_id, limit, order, aggregate, status="running", min_confidence=min_confidence)
        run_repo.mark_started(s, run_id, pid=None, device="cpu")
    try:
        execute(run_id)
    except Exception as exc:
        with S.begin() as s:
            run_repo.finish(s, run_id, "failed", error=str(exc))
        raise
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        return {"run_id": run_id, "status": run.status, "metrics": run.metrics}


def execute(run_id: int) -> None:
    """Worker handler (core.runs.jobs contract)."""
    S = sessions()
    progress = Progress(S, run_id, PLAN, stop_on_cancel=False)  # cancels are checked per chunk below
    progress.phase("loading the model")
    with S.begin() as s:
        ctx = load_run_context(s, run_id)
        config = PreannotateConfig(**ctx.config)
        model_run = run_repo.get_run(s, config.model_run_id)
        project = ctx.project(s)
        task = ctx.task
        lm = predict.load_run(model_run, task)
        todo = [(r.id, r.text, r.tokens) for r in sample_repo.iter_labeled(s, project, statuses=("unlabeled",))]
        todo = todo[: config.limit] if config.limit else todo
        run_repo.heartbeat(s, run_id, progress=0.0, total_steps=len(todo))
    progress.phase("predicting")
    started, spans_suggested, uncertainty_sum = time.perf_counter(), 0, 0.0
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        preds = predict.predict_texts(lm, [(text, tokens) for _, text, tokens in chunk])
        with S.begin() as s:
            for (sample_id, _, _), pred in zip(chunk, preds):
                output = _store(s, run_id, sample_id, task, lm, pred, config.min_confidence)
                spans_suggested += len(output.get("spans", []))
                uncertainty_sum += output["uncertainty"][config.order if config.order != "random" else "entropy"][config.aggregate]
            done = start + len(chunk)
            if run_repo.cancel_requested(s, run_id):
                run_repo.finish(s, run_id, "cancelled", metrics={"samples": done, "cancelled_at": done})
                return
        progress(done, len(todo))
    progress.phase("reordering the queue")
    with S.begin() as s:
        queue = reorder_queue(s, ctx.project(s), config.order, config.aggregate, include_run_id=run_id)
        metrics = {
            "samples": len(todo),
            "suggested_spans": spans_suggested,
            "mean_uncertainty": uncertainty_sum / len(todo) if todo else 0.0,
            "seconds_per_sample": (time.perf_counter() - started) / len(todo) if todo else 0.0,
            "queue": queue,
        }
        run_repo.heartbeat(s, run_id, phase=None, phase_progress=None, phase_started_at=None, progress=1.0)
        run_repo.finish(s, run_id, "completed", metrics=metrics)


def _store(s, run_id: int, sample_id: int, task: str, lm: predict.LoadedModel, pred: predict.TextPrediction,
           min_confidence: float) -> dict:
    """Write one sample's suggestions and Prediction row; returns the Prediction output."""
    if task == "ner":
        per_word = [distribution_uncertainty(dist) for dist in pred.probs]
        spans = suggested_spans(pred.text, predict.entities(pred), min_confidence)
        sample_repo.replace_suggestions(s, sample_id, "model", spans=spans, run_id=run_id)
        output = {"spans": [[st, en, l] for st, en, l, _ in spans], "confidences": [c for *_, c in spans]}
    else:
        per_word = [distribution_uncertainty(_as_distribution(pred.scores, lm.multilabel))]
        cats = [(c, _clip(pred.scores[c])) for c in pred.categories]
        sample_repo.replace_suggestions(s, sample_id, "model", categories=cats, run_id=run_id)
        output = {"categories": pred.categories, "scores": pred.scores}
    output["uncertainty"] = aggregate_uncertainty(per_word)
    run_repo.save_prediction(s, run_id, sample_id, output)
    return output


def _as_distribution(scores: dict[str, float], multilabel: bool) -> list[float]:
    """Multilabel sigmoids are independent: score the least decided label as a yes/no choice."""
    if not multilabel:
        return list(scores.values())
    p = min(scores.values(), key=lambda v: abs(v - 0.5)) if scores else 0.5
    return [p, 1.0 - p]


def _clip(x: float) -> float:
    return min(1.0, max(0.0, float(x)))
