"""Spans <-> token tags, tag-scheme normalisation and snapping to word tokens."""
from __future__ import annotations

from dataclasses import dataclass

from core.base.types import Span

Offsets = list[tuple[int, int]] | tuple[tuple[int, int], ...]


def snap(tokens: Offsets, start: int, end: int) -> tuple[int, int] | None:
    """Widen ``[start, end)`` to the word tokens it touches; None when it touches none."""
    touched = [(s, e) for s, e in tokens if s < end and e > start]
    if not touched:
        return None
    return touched[0][0], touched[-1][1]


def token_range(tokens: Offsets, span: Span) -> tuple[int, int] | None:
    """Indices ``[first, last]`` of the tokens a span covers (after snapping)."""
    idx = [i for i, (s, e) in enumerate(tokens) if s < span.end and e > span.start]
    return (idx[0], idx[-1]) if idx else None


def spans_to_bio(tokens: Offsets, spans: tuple[Span, ...] | list[Span]) -> list[str]:
    tags = ["O"] * len(tokens)
    for span in sorted(spans):
        rng = token_range(tokens, span)
        if rng is None:
            continue
        first, last = rng
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{span.label}"
    return tags


class TagError(ValueError):
    """A tag that no supported scheme (BIO, IOB1, IOBES/BILOU) can read."""


@dataclass
class TagResult:
    spans: list[Span]
    repaired: int  # I- tags that opened an entity and were read as B-, as seqeval does


def _split_tag(tag: str) -> tuple[str, str | None]:
    if tag == "O":
        return "O", None
    if len(tag) > 2 and tag[1] in "-_" and tag[0] in "BIESLU":
        return tag[0], tag[2:]
    raise TagError(
        f"unknown tag {tag!r}: expected O or a prefix B-, I-, E-, S-, L- or U- followed by a type "
        "(BIO, IOB1 or IOBES); fix the tag or drop the line"
    )


def tags_to_spans(tokens: Offsets, tags: list[str]) -> TagResult:
    """Read BIO, IOB1 or IOBES/BILOU tags into spans.

    An I- that does not continue an entity of its type starts a new one (IOB1 and the
    seqeval repair of BIO); ``repaired`` counts them when the file otherwise uses B-.
    """
    parsed = [_split_tag(t) for t in tags]
    uses_b = any(p == "B" for p, _ in parsed)
    spans: list[Span] = []
    repaired = 0
    cur_label: str | None = None
    cur_start = cur_end = 0
    for (prefix, label), (s, e) in zip(parsed, tokens):
        if prefix in ("I", "E", "L") and cur_label == label:
            cur_end = e
        else:
            if cur_label is not None:
                spans.append(Span(cur_start, cur_end, cur_label))
                cur_label = None
            if prefix != "O":
                if prefix in ("I", "E", "L") and uses_b:
                    repaired += 1
                cur_label, cur_start, cur_end = label, s, e
        if prefix in ("E", "L", "S", "U") and cur_label is not None:
            spans.append(Span(cur_start, cur_end, cur_label))
            cur_label = None
    if cur_label is not None:
        spans.append(Span(cur_start, cur_end, cur_label))
    return TagResult(spans, repaired)
