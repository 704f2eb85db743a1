"""Likely label errors: labelled samples where a trained model confidently disagrees with gold.

Score of a sample = how sure the model is that the gold label is wrong, 1 - p(gold), taken
over the words (NER: the word tag the model most confidently rejects, among words where its
prediction differs) or over the categories (classification). Samples the model agrees with
are not listed. As in confident learning, a model scores best on data it was not trained on:
prefer the dev or test split, or a model trained on another fold.

Pages queue a ``label_errors`` job (``queue``) and read its ranking from the job's metrics; the
CLI ranks in the foreground (``rank``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session, sessionmaker

from core.base.errors import UserError
from core.base.store import sessions
from core.inference import predict
from core.runs.context import load_run_context
from core.runs.progress import Cancelled, Progress
from core.text.spans import spans_to_bio
from core.base.store import to_example
from core.base.types import Span
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run


KIND = "label_errors"
SPLITS = ("train", "dev", "test")
# Share of a ranking job's time per phase (core.runs.progress).
PLAN = {"loading the model": 0.1, "predicting": 0.85, "ranking": 0.05}


@dataclass(frozen=True)
class LabelErrorsConfig:
    run_id: int
    split: str | None = None  # None: every labelled sample
    limit: int = 50

    def __post_init__(self):
        if not isinstance(self.run_id, int) or self.run_id < 1:
            raise ValueError(f"run_id must be a run id (a positive integer), found {self.run_id!r}")
        if self.split is not None and self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or empty (all), found {self.split!r}")
        if not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"limit must be a positive number of samples, found {self.limit!r}")


def queue(session, run_id: int, split: str | None = None, limit: int = 50) -> Run:
    """The queued or running ranking job for this run and split, or a new one."""
    config = LabelErrorsConfig(run_id, split, limit)
    model_run = run_repo.get_run(session, run_id)
    if model_run.kind != "finetune" or model_run.status != "completed" or not model_run.checkpoint:
        raise UserError(f"run {run_id} cannot rank label errors: expected a completed fine-tuning run with a "
                        f"model, found a {model_run.status} {model_run.kind!r} run; pick a fine-tuned run")
    for job in run_repo.jobs_of(session, run_id, KIND):
        if job.status in run_repo.ACTIVE and LabelErrorsConfig(**job.config) == config:
            return job
    project = project_repo.get_project_by_id(session, model_run.project_id)
    return run_repo.create_run(session, project, KIND, asdict(config), parent_run_id=run_id,
                               name=f"label errors of run {run_id} in {split or 'all labelled'}")


def latest(session, run_id: int, split: str | None) -> Run | None:
    """The newest ranking job of this run for this split (any status)."""
    return next((j for j in run_repo.jobs_of(session, run_id, KIND) if j.config.get("split") == split), None)


def execute(job_id: int) -> None:
    """Worker handler (core.runs.jobs contract): the ranking goes to the job's metrics."""
    S = sessions()
    with S.begin() as s:
        config = LabelErrorsConfig(**load_run_context(s, job_id).config)
    progress = Progress(S, job_id, PLAN)
    try:
        found = rank(S, config.run_id, limit=config.limit, split=config.split, progress=progress)
    except Cancelled:
        with S.begin() as s:
            run_repo.finish(s, job_id, "cancelled")
        return
    progress.done()
    with S.begin() as s:
        run_repo.finish(s, job_id, "completed", metrics={"run_id": config.run_id, "split": config.split,
                                                         "candidates": found})


def rank(S: sessionmaker[Session], run_id: int, limit: int = 20, split: str | None = None,
         progress: Progress | None = None) -> list[dict]:
    if progress is not None:
        progress.phase("loading the model")
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        task, name = project.task, project.name
        lm = predict.load_run(run, task)
        gold = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[split] if split else None)]
    if progress is not None:
        progress.phase("predicting")
    preds = predict.predict_examples(lm, gold, on_progress=progress)
    if progress is not None:
        progress.phase("ranking")
    found = []
    for ex, pred in zip(gold, preds):
        score = _ner_score(lm, ex, pred) if task == "ner" else _category_score(lm, ex, pred)
        if score is None:
            continue
        predicted = [f"{sp.label}: {ex.text[sp.start:sp.end]}" for sp in pred.spans()] if task == "ner" else pred.categories
        gold_desc = [f"{sp.label}: {ex.text[sp.start:sp.end]}" for sp in ex.spans] if task == "ner" else list(ex.categories)
        found.append({
            "sample_id": ex.id, "score": score, "text": ex.text, "split": ex.split,
            "gold": "; ".join(gold_desc), "predicted": "; ".join(predicted),
            "link": f"/label?project={name}&sample={ex.id}",
        })
    found.sort(key=lambda f: (-f["score"], f["sample_id"]))
    return found[:limit]


def _ner_score(lm: predict.LoadedModel, ex, pred: predict.TextPrediction) -> float | None:
    gold_tags = spans_to_bio(ex.tokens, [Span(sp.start, sp.end, sp.label) for sp in ex.spans])
    index = {l: i for i, l in enumerate(lm.labels)}
    rejected = [
        1.0 - (dist[index[g]] if g in index else 0.0)
        for g, p, dist in zip(gold_tags, pred.tags, pred.probs)
        if g != p
    ]
    return max(rejected) if rejected else None


def _category_score(lm: predict.LoadedModel, ex, pred: predict.TextPrediction) -> float | None:
    gold = set(ex.categories)
    if gold == set(pred.categories):
        return None
    if lm.multilabel:  # each label is its own yes/no decision
        return max(abs((1.0 if l in gold else 0.0) - p) for l, p in pred.scores.items())
    return 1.0 - sum(pred.scores.get(l, 0.0) for l in gold)
