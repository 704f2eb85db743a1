"""What every parser returns, and the checks they share (decoding, spans, categories).

Parsers never stop at the first problem: each bad line becomes a ``LineError`` and the
parser carries on, so the person fixing the file sees every problem at once. Line numbers
are 1-based physical lines of the file; ``line 0`` is a problem with the file as a whole.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from core.text.spans import snap
from core.base.types import SPLITS, Span

FILE_LEVEL = 0  # the line number of an error about the whole file (empty, binary, ...)
MAX_WARNING_LINES = 10


@dataclass
class Record:
    """One sample read from a file, not yet in the database."""

    line: int
    text: str
    tokens: list[tuple[int, int]]
    spans: list[Span] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    status: str = "labeled"
    split: str | None = None  # None: the importer's --split, else 'unassigned'
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class ParseOptions:
    task: str = "ner"  # 'ner' | 'classification': decides what a label column means
    multilabel: bool = False
    text_column: str | None = None
    label_column: str | None = None


class Warnings:
    """Counts of things the parser repaired or assumed, with the first lines they happened on."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, list[int]]] = {}

    def add(self, message: str, line: int, count: int = 1) -> None:
        total, lines = self._seen.get(message, (0, []))
        if len(lines) < MAX_WARNING_LINES:
            lines.append(line)
        self._seen[message] = (total + count, lines)

    def as_list(self) -> list[dict]:
        return [
            {"message": f"{count} {message}", "count": count, "lines": lines}
            for message, (count, lines) in self._seen.items()
        ]


@dataclass
class ParseResult:
    records: list[Record]
    errors: list[LineError]
    warnings: list[dict] = field(default_factory=list)
    invalid: int = 0  # records left out because of an error

    @property
    def labels(self) -> list[str]:
        """Every label used, in order of first appearance."""
        seen: dict[str, None] = {}
        for r in self.records:
            for s in r.spans:
                seen.setdefault(s.label, None)
            for c in r.categories:
                seen.setdefault(c, None)
        return list(seen)


def decode(data: bytes) -> tuple[str | None, list[LineError]]:
    """UTF-8 text of a file (a BOM is dropped); None plus errors when it is not text.

    Undecodable lines are reported one by one (and replaced by U+FFFD so the other lines
    can still be checked); NUL bytes mean a binary file.
    """
    if not data.strip():
        return None, [LineError(FILE_LEVEL, "the file is empty: expected at least one sample; pick another file")]
    if b"\x00" in data[:65536]:
        return None, [
            LineError(
                FILE_LEVEL,
                "this is a binary file (it contains NUL bytes): expected UTF-8 text such as CoNLL, JSONL, "
                "CSV/TSV or plain text; export the data as text first",
            )
        ]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    errors = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                LineError(
                    number,
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8",
                )
            )
    return data.decode("utf-8", errors="replace"), errors


def check_split(value, line: int) -> tuple[str | None, LineError | None]:
    if value is None or value == "":
        return None, None
    if value not in SPLITS:
        return None, LineError(line, f"unknown split {value!r}: expected one of {', '.join(SPLITS)}")
    return value, None


def check_text(value, line: int, where: str = "'text'") -> tuple[str | None, LineError | None]:
    if not isinstance(value, str):
        found = "nothing" if value is None else type(value).__name__
        return None, LineError(line, f"expected a string in {where}, found {found}; give each sample its text")
    if not value.strip():
        return None, LineError(line, f"the text in {where} is empty; remove the line or give it a text")
    return value, None


def snap_spans(
    text: str,
    tokens: list[tuple[int, int]],
    raw: Iterable[tuple[object, object, object]],
    line: int,
    warnings: Warnings,
) -> tuple[list[Span], list[LineError]]:
    """Check character spans against the text, widen them to word tokens, refuse overlaps."""
    spans: list[Span] = []
    errors: list[LineError] = []
    for start, end, label in raw:
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            errors.append(LineError(line, f"span offsets must be integers, found start={start!r} end={end!r}"))
            continue
        if not isinstance(label, str) or not label.strip():
            errors.append(LineError(line, f"span [{start}, {end}) has no label (found {label!r}); give it a label name"))
            continue
        if not 0 <= start < end <= len(text):
            errors.append(
                LineError(
                    line,
                    f"span [{start}, {end}) {label!r} is outside its text of {len(text)} characters: expected "
                    f"0 <= start < end <= {len(text)}; fix the offsets",
                )
            )
            continue
        snapped = snap(tokens, start, end)
        if snapped is None:
            errors.append(
                LineError(line, f"span [{start}, {end}) {label!r} = {text[start:end]!r} touches no word token; remove it")
            )
            continue
        if snapped != (start, end):
            warnings.add("spans were widened to whole word tokens", line)
        spans.append(Span(snapped[0], snapped[1], label.strip()))
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            errors.append(
                LineError(
                    line,
                    f"spans overlap: {a.label} {text[a.start:a.end]!r} [{a.start}, {a.end}) and {b.label} "
                    f"{text[b.start:b.end]!r} [{b.start}, {b.end}); NER spans must not overlap, keep one",
                )
            )
    return spans, errors


def check_categories(values: list, line: int, options: ParseOptions) -> tuple[list[str], list[LineError]]:
    cats: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            return [], [LineError(line, f"expected label names as strings, found {v!r}")]
        if v.strip() not in cats:
            cats.append(v.strip())
    if len(cats) > 1 and not options.multilabel:
        return [], [
            LineError(
                line,
                f"found {len(cats)} labels {cats} but the project is single-label: keep one, or create the "
                "project with --multilabel",
            )
        ]
    return cats, []
