"""Plain value types shared by formats, training, evaluation and ICL.

Spans are character offsets into ``text``; word tokens are derived (see core.text.tokenize)
and stored only as a cache. Subword tokens are never stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TASKS = ("ner", "classification")
SPLITS = ("train", "dev", "test", "unassigned")
STATUSES = ("unlabeled", "labeled", "skipped")


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Example:
    """One sample as the core sees it: text, word offsets, gold spans or categories."""

    text: str
    tokens: tuple[tuple[int, int], ...]
    spans: tuple[Span, ...] = ()
    categories: tuple[str, ...] = ()
    id: int | None = None
    split: str = "unassigned"
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def words(self) -> list[str]:
        return [self.text[s:e] for s, e in self.tokens]
