"""Where a NER model goes wrong: each false positive and false negative explained.

Entities are read from tags exactly as seqeval reads them in the chosen mode, so the counts add
up to seqeval's own false positives and false negatives:

    FP = wrong_type + wrong_boundary + wrong_type_and_boundary + spurious
    FN = wrong_type + wrong_boundary + wrong_type_and_boundary + missed

A predicted and a gold entity that are not an exact match are paired one to one, first with the
same span (wrong type), then overlapping with the same type (wrong boundary), then overlapping
with another type; largest overlap first. Unpaired predictions are spurious, unpaired gold
entities missed.
"""
from __future__ import annotations

from collections import Counter

from seqeval.metrics.sequence_labeling import get_entities
from sklearn.metrics import confusion_matrix
from seqeval.scheme import IOB2, Entities

from core.base.types import Example

KINDS = ("wrong_type", "wrong_boundary", "wrong_type_and_boundary", "spurious", "missed")
Entity = tuple[str, int, int]  # (type, first word, last word inclusive)


def entities(tags: list[str], strict: bool) -> set[Entity]:
    if strict:
        return {(e.tag, e.start, e.end - 1) for e in Entities([tags], IOB2).entities[0]}
    return {(t, s, e) for t, s, e in get_entities(tags)}


def _overlap(a: Entity, b: Entity) -> int:
    return max(0, min(a[2], b[2]) - max(a[1], b[1]) + 1)


def pair_errors(gold: set[Entity], pred: set[Entity]) -> list[tuple[str, Entity | None, Entity | None]]:
    """(kind, gold entity, predicted entity) for every entity that is not an exact match."""
    fps, fns = sorted(pred - gold), sorted(gold - pred)
    out = []
    rules = (
        ("wrong_type", lambda g, p: (g[1], g[2]) == (p[1], p[2])),
        ("wrong_boundary", lambda g, p: g[0] == p[0] and _overlap(g, p) > 0),
        ("wrong_type_and_boundary", lambda g, p: _overlap(g, p) > 0),
    )
    for kind, fits in rules:
        candidates = sorted(
            ((g, p) for g in fns for p in fps if fits(g, p)), key=lambda gp: (-_overlap(*gp), gp)
        )
        for g, p in candidates:
            if g in fns and p in fps:
                fns.remove(g)
                fps.remove(p)
                out.append((kind, g, p))
    out += [("spurious", None, p) for p in fps]
    out += [("missed", g, None) for g in fns]
    return out


def breakdown(gold: list[Example], y_true: list[list[str]], y_pred: list[list[str]], strict: bool = False) -> dict:
    """Counts per kind, the sample ids behind each count, and every error with char offsets."""
    counts: Counter[str] = Counter({k: 0 for k in KINDS})
    samples: dict[str, list[int]] = {k: [] for k in KINDS}
    items = []
    tp = fp = fn = 0
    for ex, t, p in zip(gold, y_true, y_pred):
        g_ents, p_ents = entities(t, strict), entities(p, strict)
        tp += len(g_ents & p_ents)
        fp += len(p_ents - g_ents)
        fn += len(g_ents - p_ents)
        for kind, g, pr in pair_errors(g_ents, p_ents):
            counts[kind] += 1
            if not samples[kind] or samples[kind][-1] != ex.id:
                samples[kind].append(ex.id)
            items.append({"sample_id": ex.id, "kind": kind, "gold": _chars(ex, g), "predicted": _chars(ex, pr)})
    return {"counts": dict(counts), "samples": samples, "items": items, "tp": tp, "fp": fp, "fn": fn}


def _chars(ex: Example, ent: Entity | None) -> list | None:
    """[start_char, end_char, type, text] of a word-index entity."""
    if ent is None:
        return None
    start, end = ex.tokens[ent[1]][0], ex.tokens[ent[2]][1]
    return [start, end, ent[0], ex.text[start:end]]


def _type(tag: str) -> str:
    return "O" if tag == "O" else tag[2:]


def word_confusion(y_true: list[list[str]], y_pred: list[list[str]], types: list[str]) -> dict:
    """Word-level confusion of entity types (B-/I- merged) plus O; rows gold, columns predicted."""
    seen = {_type(t) for seq in y_true + y_pred for t in seq}
    labels = list(types) + sorted(seen - set(types) - {"O"}) + ["O"]
    pairs = [(_type(t), _type(p)) for t_seq, p_seq in zip(y_true, y_pred) for t, p in zip(t_seq, p_seq)]
    if not pairs:
        return {"labels": labels, "matrix": [[0] * len(labels) for _ in labels]}
    matrix = confusion_matrix([t for t, _ in pairs], [p for _, p in pairs], labels=labels)
    return {"labels": labels, "matrix": matrix.tolist()}
