"""How much of a collection of texts a tokenizer can represent.

The unit is the word token of ``core.text.tokenize`` (one per character for CJK), the same
unit training feeds the tokenizer (``is_split_into_words``): a word token is *uncovered* when
its subword tokens include the unknown token. A WordPiece model maps a whole word to ``[UNK]``
when one of its characters is missing, so for space-delimited scripts this counts words, and
for Chinese it counts characters.

Counting is done once per distinct word token (``WordCounts``), so a corpus of millions of
characters costs one tokenizer call per distinct character or word. Which word tokens a
tokenizer cannot represent is asked through a callable, so this module imports no model code.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core.text.tokenize import is_cjk_char

# Above this share of uncovered word tokens the Data and Train pages warn; above the second,
# fine-tuning refuses to start unless the vocabulary is extended or the user insists.
WARN_SHARE = 0.05
REFUSE_SHARE = 0.30
EXAMPLES = 20  # most frequent uncovered word tokens shown with a figure

_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class WordCounts:
    """Occurrences of each distinct word token in a set of texts."""

    counts: Counter

    @classmethod
    def of(cls, items: Iterable[tuple[str, Sequence[Sequence[int]]]]) -> WordCounts:
        """From ``(text, word offsets)`` pairs (offsets as stored on samples)."""
        counts: Counter = Counter()
        for text, tokens in items:
            counts.update(text[s:e] for s, e in tokens)
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cjk_share(self) -> float:
        """Share of word tokens that are single CJK characters."""
        total = self.total
        cjk = sum(n for w, n in self.counts.items() if len(w) == 1 and is_cjk_char(w))
        return cjk / total if total else 0.0


@dataclass(frozen=True)
class Coverage:
    """Uncovered word tokens of a set of texts under one tokenizer."""

    unit: str                   # "character" (mostly CJK text) or "word"
    tokens: int                 # word tokens counted
    unknown: int                # of them mapped (wholly or in part) to the unknown token
    distinct: int               # distinct word tokens
    distinct_unknown: int
    examples: tuple[str, ...]   # the most frequent uncovered word tokens
    unknown_token: str = "[UNK]"

    @property
    def share(self) -> float:
        """Share of word tokens (characters for CJK) the tokenizer cannot represent."""
        return self.unknown / self.tokens if self.tokens else 0.0

    @property
    def covered(self) -> float:
        return 1.0 - self.share

    def figure(self) -> str:
        """'61.2% of the characters'."""
        return f"{self.share:.1%} of the {self.unit}s"

    def detail(self) -> str:
        """'2,627 of 2,857 distinct; 1,234,567 of 2,017,000 in all'."""
        return f"{self.distinct_unknown:,} of {self.distinct:,} distinct; {self.unknown:,} of {self.tokens:,} in all"

    def describe(self) -> str:
        """'61.2% of the characters (2,627 of 2,857 distinct; ...)' — as every message gives it."""
        return f"{self.figure()} ({self.detail()})"

    def to_json(self) -> dict:
        return {"unit": self.unit, "tokens": self.tokens, "unknown": self.unknown, "distinct": self.distinct,
                "distinct_unknown": self.distinct_unknown, "examples": list(self.examples),
                "share": round(self.share, 6), "unknown_token": self.unknown_token}

    @classmethod
    def from_json(cls, data: dict) -> Coverage:
        return cls(data["unit"], int(data["tokens"]), int(data["unknown"]), int(data["distinct"]),
                   int(data["distinct_unknown"]), tuple(data.get("examples") or ()),
                   data.get("unknown_token") or "[UNK]")


def measure(words: WordCounts, unknown: Callable[[list[str]], list[bool]]) -> Coverage:
    """Coverage of ``words``; ``unknown(types)`` says for each distinct word token whether the
    tokenizer maps any part of it to the unknown token (one batched call)."""
    types = sorted(words.counts)
    flags = unknown(types) if types else []
    missing = [w for w, bad in zip(types, flags) if bad]
    by_count = sorted(missing, key=lambda w: (-words.counts[w], w))
    return Coverage(
        unit="character" if words.cjk_share >= 0.5 else "word",
        tokens=words.total,
        unknown=sum(words.counts[w] for w in missing),
        distinct=len(types),
        distinct_unknown=len(missing),
        examples=tuple(by_count[:EXAMPLES]),
    )


def characters_of(words: Iterable[str]) -> list[str]:
    """Distinct non-space characters of ``words``, in first-seen order."""
    seen: dict[str, None] = {}
    for word in words:
        for ch in word:
            if not _SPACE.match(ch):
                seen.setdefault(ch, None)
    return list(seen)
