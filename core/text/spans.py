"""Spans <-> token tags, tag schemes and snapping to word tokens.

Tag schemes read: BIO (IOB2), IOB1, IOE1, IOE2, IOBES (and its spellings BMES, BMEWO,
BILOU) and IO. Every scheme is first rewritten to the B/I/E/S prefixes that seqeval reads
(``M``->``I``, ``L``->``E``, ``U``/``W``->``S``, ``_`` separator -> ``-``), then decoded by
seqeval's ``get_entities``, so an import reads entities exactly as the evaluation scores them.
Nothing is decoded by hand: the schemes differ only in spelling once rewritten, and seqeval's
rules (an ``I-`` after ``O`` or another type opens an entity, ``E-``/``S-`` close one) cover
IOB1, IOE1/IOE2 and IO as well.
"""
from __future__ import annotations

from dataclasses import dataclass

from seqeval.metrics.sequence_labeling import get_entities

from core.base.types import Span

Offsets = list[tuple[int, int]] | tuple[tuple[int, int], ...]

# Prefix spellings of the schemes, rewritten to what seqeval reads.
_PREFIX = {"B": "B", "I": "I", "E": "E", "S": "S", "M": "I", "L": "E", "U": "S", "W": "S"}
SCHEMES = ("BIO", "IOB1", "IOE1", "IOE2", "IOBES", "BMES", "BMEWO", "BILOU", "IO")


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
    """A tag that no supported scheme can read."""


@dataclass
class TagResult:
    spans: list[Span]
    repaired: int  # I-/E- tags that opened an entity in a file that marks beginnings with B-


def split_tag(tag: str) -> tuple[str, str | None]:
    """``(prefix, type)`` of a tag in any supported spelling; ``("O", None)`` for outside."""
    if tag == "O":
        return "O", None
    if len(tag) > 2 and tag[1] in "-_" and tag[0] in _PREFIX:
        return tag[0], tag[2:]
    raise TagError(
        f"unknown tag {tag!r}: expected O or a prefix B-, I-, E-, S- (IOBES), M- (BMES), W- (BMEWO), "
        "L-, U- (BILOU) followed by a type, as in B-PER; fix the tag or drop the line"
    )


def to_seqeval(tag: str) -> str:
    """The same tag in the B/I/E/S spelling seqeval reads (``M-PER`` -> ``I-PER``)."""
    prefix, kind = split_tag(tag)
    return "O" if kind is None else f"{_PREFIX[prefix]}-{kind}"


_SPELLING: dict[str, str] = {"O": "O"}  # tag -> seqeval spelling, filled as tags are seen


def decode(tokens: Offsets, tags: list[str], detector: SchemeDetector | None = None,
           openings: list[int] | None = None) -> list[Span]:
    """Spans of a tagged sentence in any supported scheme, decoded by seqeval's get_entities;
    ``detector`` (if given) takes the sentence, and ``openings`` receives its opening indices."""
    # seqeval walks every tag with four calls each; the O's around the entities cannot change
    # what it finds (it starts from O), so it reads only the stretch from first to last entity tag.
    lo, hi = 0, len(tags) - 1
    while lo <= hi and tags[lo] == "O":
        lo += 1
    if lo > hi:
        return []
    while tags[hi] == "O":
        hi -= 1
    window = tags[lo:hi + 1]
    spelling = _SPELLING
    try:
        normal = [spelling[t] for t in window]
    except KeyError:
        for t in window:
            if t not in spelling:
                spelling[t] = to_seqeval(t)
        normal = [spelling[t] for t in window]
    entities = get_entities(normal)
    if detector is not None:
        found = detector.observe(window, entities)
        if openings is not None:
            openings += [i + lo for i in found]
    return [Span(tokens[a + lo][0], tokens[b + lo][1], kind) for kind, a, b in entities]


def tags_to_spans(tokens: Offsets, tags: list[str]) -> TagResult:
    """Spans of a tagged sentence in any supported scheme, decoded by seqeval.

    ``repaired`` counts I-/E- tags that opened an entity while the sentence marks
    beginnings with B- (BIO/IOBES): seqeval reads them as beginnings, and so do we.
    """
    spans = decode(tokens, tags)
    normal = [_SPELLING.get(t) or to_seqeval(t) for t in tags]
    return TagResult(spans, count_openings(normal) if any(t[0] == "B" for t in normal) else 0)


def count_openings(tags: list[str]) -> int:
    """I-/E- tags (seqeval spelling) that open an entity: after O, after another type, or
    after an entity that closed (E-/S-)."""
    count, prev_prefix, prev_kind = 0, "O", None
    for tag in tags:
        prefix, kind = ("O", None) if tag == "O" else (tag[0], tag[2:])
        if prefix in "IE" and (prev_kind != kind or prev_prefix in "ESO"):
            count += 1
        prev_prefix, prev_kind = prefix, kind
    return count


@dataclass
class SchemeReport:
    """Which scheme a file's tags are written in, and how many I-/E- tags were repairs."""

    scheme: str
    repaired: int = 0

    def describe(self) -> str:
        return {
            "BIO": "BIO (IOB2): B- begins an entity, I- continues it",
            "IOB1": "IOB1: I- begins an entity; B- only separates two adjacent entities of one type",
            "IOE1": "IOE1: I- inside an entity; E- only ends an entity followed by one of the same type",
            "IOE2": "IOE2: E- ends every entity, I- is the rest",
            "IOBES": "IOBES: B- begin, I- inside, E- end, S- single-token entity",
            "BMES": "BMES: B- begin, M- middle, E- end, S- single-token entity",
            "BMEWO": "BMEWO: B- begin, M- middle, E- end, W- single-token entity",
            "BILOU": "BILOU: B- begin, I- inside, L- last, U- unit-length entity",
            "IO": "IO: I- marks every token of an entity; adjacent tokens of one type form one entity",
            "none": "no entity tags (every token is O)",
        }[self.scheme]


class SchemeDetector:
    """Feed every sentence's tags; ``report()`` names the scheme of the whole file.

    The scheme is decided per file, not per sentence: an ``I-`` that opens an entity is the
    scheme itself in IOB1/IOE/IO files, and a repair in BIO/IOBES files. The facts are read off
    the entities seqeval finds, so detecting costs little beside decoding.
    """

    def __init__(self) -> None:
        self.tags: set[str] = set()  # every distinct tag seen
        self.b_after_other = False  # a B- not right after a tag of its own type: BIO, not IOB1
        self.i_without_e = False  # an entity that ends on I-/M-: IOE1, not IOE2
        self.openings = 0  # I-/E-/M-/L- tags that open an entity

    def add(self, tags: list[str]) -> list[int]:
        """Take one sentence; returns the indices of the I-/E- tags that open an entity."""
        normal = [to_seqeval(t) for t in tags]
        return self.observe(tags, get_entities(normal))

    def observe(self, tags: list[str], entities: list[tuple[str, int, int]]) -> list[int]:
        """Take one sentence and the entities seqeval found in it."""
        self.tags.update(tags)
        openings = []
        for kind, first, last in entities:
            prefix = tags[first][0]
            if prefix in "IEML":
                openings.append(first)
            elif prefix == "B" and not (first and tags[first - 1] != "O" and tags[first - 1][2:] == kind):
                self.b_after_other = True
            if tags[last][0] in "IM":
                self.i_without_e = True
        self.openings += len(openings)
        return openings

    def report(self) -> SchemeReport:
        p = {t[0] for t in self.tags if t != "O"}
        if not p:
            return SchemeReport("none")
        if p & {"L", "U"}:
            return SchemeReport("BILOU", self._repairs(p))
        if "W" in p:
            return SchemeReport("BMEWO", self._repairs(p))
        if "M" in p:
            return SchemeReport("BMES", self._repairs(p))
        if p & {"E", "S"}:
            if "B" not in p and "S" not in p:
                return SchemeReport("IOE1" if self.i_without_e else "IOE2")
            return SchemeReport("IOBES", self._repairs(p))
        if "B" not in p:
            return SchemeReport("IO")
        if not self.b_after_other and self.openings:
            return SchemeReport("IOB1")
        return SchemeReport("BIO", self.openings)

    def _repairs(self, prefixes: set[str]) -> int:
        return self.openings if "B" in prefixes else 0
