"""Scores shared by training (dev metric), evaluation and in-context learning.

NER is scored at entity level with seqeval (called directly: ``evaluate.load`` needs the
network); classification with scikit-learn on label-indicator rows, so multilabel and
single-label share one path.
"""
from __future__ import annotations

from seqeval.metrics import classification_report as seqeval_report
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.metrics import precision_score as seqeval_precision
from seqeval.metrics import recall_score as seqeval_recall
from seqeval.scheme import IOB2
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

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
        "f1": float(seqeval_f1(y_true, y_pred, zero_division=0, **kwargs)),
        "precision": float(seqeval_precision(y_true, y_pred, zero_division=0, **kwargs)),
        "recall": float(seqeval_recall(y_true, y_pred, zero_division=0, **kwargs)),
        "per_label": per_label,
        "averages": averages,
        "mode": "strict" if strict else "default",
    }


def classification_scores(gold: list[list[str]], pred: list[list[str]], labels: list[str]) -> dict:
    """Accuracy (exact set match), per-label P/R/F1/support, macro/micro F1, confusion matrix.

    Single- and multi-label samples share one path: label sets become indicator rows
    (``MultiLabelBinarizer``) scored by scikit-learn. A predicted label outside ``labels`` counts
    as a false positive in micro F1 and breaks an exact match, but gets no row of its own; macro
    F1 averages over ``labels``. The confusion matrix counts (gold, predicted) for single-label
    samples only (a multilabel sample has no one cell); rows are gold.
    """
    if not gold:
        return _empty_classification(labels)
    unknown = sorted({l for row in gold + pred for l in row} - set(labels))
    binarizer = MultiLabelBinarizer(classes=list(labels) + unknown)
    y_true = binarizer.fit_transform([set(g) for g in gold])  # (samples, classes) 0/1
    y_pred = binarizer.transform([set(p) for p in pred])
    ours = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=ours, average=None, zero_division=0
    )
    per_label = {
        label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1-score": float(f1[i]),
                "support": int(support[i])}
        for i, label in enumerate(labels)
    }
    single = [(g[0], p[0]) for g, p in zip(gold, pred)
              if len(g) == 1 and len(p) == 1 and g[0] in per_label and p[0] in per_label]
    matrix = (confusion_matrix([g for g, _ in single], [p for _, p in single], labels=labels).tolist()
              if single else [[0] * len(labels) for _ in labels])
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),  # subset accuracy: the whole label set right
        "macro_f1": float(f1_score(y_true, y_pred, labels=ours, average="macro", zero_division=0)) if labels else 0.0,
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "per_label": per_label,
        "labels": labels,
        "confusion": matrix,
        "n": len(gold),
    }


def _empty_classification(labels: list[str]) -> dict:
    zero = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    return {"accuracy": 0.0, "macro_f1": 0.0, "micro_f1": 0.0, "per_label": {l: dict(zero) for l in labels},
            "labels": labels, "confusion": [[0] * len(labels) for _ in labels], "n": 0}


HEADLINE = {"ner": "f1", "classification": "accuracy"}


def headline(task: str, metrics: dict | None) -> tuple[str, float | None]:
    """The one number a run is compared by: entity F1 for NER, accuracy for classification.

    Run.metrics holds the dict returned by ner_scores / classification_scores (plus extras such
    as "split", "seconds_per_sample"), so the headline is read from its top level.
    """
    name = HEADLINE[task]
    value = (metrics or {}).get(name)
    return name, (float(value) if value is not None else None)
