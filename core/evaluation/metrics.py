"""Scores shared by training (dev metric), evaluation and in-context learning.

NER is scored at entity level with seqeval (called directly: ``evaluate.load`` needs the
network); classification with plain counts so multilabel and single-label share one path.
"""
from __future__ import annotations

from collections import Counter

from seqeval.metrics import classification_report as seqeval_report
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from core.text.spans import spans_to_bio
from core.base.types import Example, Span


def bio_pairs(gold: list[Example], predicted: list[list[Span]]) -> tuple[list[list[str]], list[list[str]]]:
    """Word-level BIO tags for gold examples and predicted spans (same order)."""
    y_true = [spans_to_bio(ex.tokens, ex.spans) for ex in gold]
    y_pred = [spans_to_bio(ex.tokens, spans) for ex, spans in zip(gold, predicted)]
    return y_true, y_pred


def ner_scores(y_true: list[list[str]], y_pred: list[list[str]], strict: bool = False) -> dict:
    """Entity-level report: micro/macro/weighted averages and per label P/R/F1/support."""
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    report = seqeval_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    per_label = {
        k: {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if not k.endswith(" avg")
    }
    averages = {
        k.replace(" avg", ""): {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if k.endswith(" avg")
    }
    return {
        "f1": float(f1_score(y_true, y_pred, zero_division=0, **kwargs)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0, **kwargs)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0, **kwargs)),
        "per_label": per_label,
        "averages": averages,
        "mode": "strict" if strict else "default",
    }


def classification_scores(gold: list[list[str]], pred: list[list[str]], labels: list[str]) -> dict:
    """Accuracy (exact set match), per-label P/R/F1/support, macro/micro F1, confusion matrix.

    The confusion matrix counts (gold, predicted) for single-label samples only; rows are gold.
    """
    tp, fp, fn = Counter(), Counter(), Counter()
    exact = 0
    for g, p in zip(gold, pred):
        gs, ps = set(g), set(p)
        exact += gs == ps
        for l in gs & ps:
            tp[l] += 1
        for l in ps - gs:
            fp[l] += 1
        for l in gs - ps:
            fn[l] += 1
    per_label = {}
    for l in labels:
        prec = tp[l] / (tp[l] + fp[l]) if tp[l] + fp[l] else 0.0
        rec = tp[l] / (tp[l] + fn[l]) if tp[l] + fn[l] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_label[l] = {"precision": prec, "recall": rec, "f1-score": f1, "support": tp[l] + fn[l]}
    stp, sfp, sfn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p = stp / (stp + sfp) if stp + sfp else 0.0
    micro_r = stp / (stp + sfn) if stp + sfn else 0.0
    index = {l: i for i, l in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred):
        if len(g) == 1 and len(p) == 1 and g[0] in index and p[0] in index:
            matrix[index[g[0]]][index[p[0]]] += 1
    return {
        "accuracy": exact / len(gold) if gold else 0.0,
        "macro_f1": sum(v["f1-score"] for v in per_label.values()) / len(labels) if labels else 0.0,
        "micro_f1": 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0,
        "per_label": per_label,
        "labels": labels,
        "confusion": matrix,
        "n": len(gold),
    }


HEADLINE = {"ner": "f1", "classification": "accuracy"}


def headline(task: str, metrics: dict | None) -> tuple[str, float | None]:
    """The one number a run is compared by: entity F1 for NER, accuracy for classification.

    Run.metrics holds the dict returned by ner_scores / classification_scores (plus extras such
    as "split", "seconds_per_sample"), so the headline is read from its top level.
    """
    name = HEADLINE[task]
    value = (metrics or {}).get(name)
    return name, (float(value) if value is not None else None)
