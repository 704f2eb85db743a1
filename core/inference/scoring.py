"""Scores of a model on labelled examples through the one prediction path: what training stores
as its dev curve and final dev score, and what ``cli.py evaluate`` reports, come from the same
per-word predictions and the same metric functions, so they are equal on the same samples."""
from __future__ import annotations

import math

from core.base.types import Example
from core.evaluation.metrics import classification_scores, ner_scores
from core.inference.model import LoadedModel
from core.inference.predict import Progress, TextPrediction, predict_examples
from core.text.spans import spans_to_bio

EPSILON = 1e-12  # floor for a probability inside a log


def score_examples(lm: LoadedModel, examples: list[Example], on_progress: Progress | None = None) -> dict:
    """Entity-level seqeval scores per word (NER) or classification scores on ``examples``, plus
    ``loss``: the mean negative log-likelihood of the gold word tags (NER) or of the gold
    categories (classification; multilabel: binary cross-entropy per label), and ``n``."""
    preds = predict_examples(lm, examples, on_progress=on_progress)
    if lm.task == "ner":
        gold = [spans_to_bio(ex.tokens, ex.spans) for ex in examples]
        scores = ner_scores(gold, [p.tags for p in preds])
        scores["loss"] = _ner_loss(lm, gold, preds)
    else:
        gold = [list(ex.categories) for ex in examples]
        scores = classification_scores(gold, [p.categories for p in preds], lm.labels)
        scores["loss"] = _category_loss(lm, gold, preds)
    scores["n"] = len(examples)
    return scores


def _ner_loss(lm: LoadedModel, gold: list[list[str]], preds: list[TextPrediction]) -> float:
    index = {label: i for i, label in enumerate(lm.labels)}
    total, count = 0.0, 0
    for tags, pred in zip(gold, preds):
        for tag, dist in zip(tags, pred.probs):
            total -= math.log(max(dist[index[tag]] if tag in index else 0.0, EPSILON))
            count += 1
    return total / count if count else 0.0


def _category_loss(lm: LoadedModel, gold: list[list[str]], preds: list[TextPrediction]) -> float:
    total = 0.0
    for cats, pred in zip(gold, preds):
        if lm.multilabel:
            total -= sum(math.log(max(p if label in cats else 1.0 - p, EPSILON))
                         for label, p in pred.scores.items()) / max(1, len(pred.scores))
        else:
            total -= math.log(max(sum(pred.scores.get(c, 0.0) for c in cats), EPSILON))
    return total / len(preds) if preds else 0.0
