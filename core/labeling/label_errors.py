"""Likely label errors: labelled samples where a trained model confidently disagrees with gold.

Score of a sample = how sure the model is that the gold label is wrong, 1 - p(gold), taken
over the words (NER: the word tag the model most confidently rejects, among words where its
prediction differs) or over the categories (classification). Samples the model agrees with
are not listed. As in confident learning, a model scores best on data it was not trained on:
prefer the dev or test split, or a model trained on another fold.
"""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from core.inference import predict
from core.text.spans import spans_to_bio
from core.base.store import to_example
from core.base.types import Span
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo


def rank(S: sessionmaker[Session], run_id: int, limit: int = 20, split: str | None = None) -> list[dict]:
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        task, name = project.task, project.name
        lm = predict.load_run(run, task)
        gold = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[split] if split else None)]
    preds = predict.predict_examples(lm, gold)
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
