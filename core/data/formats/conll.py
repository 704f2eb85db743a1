"""CoNLL: one token per line, the tag in the last column, a blank line between sentences.

Columns are tab separated, or (without a tab) separated by spaces, so CoNLL-2003 as
distributed (``token POS chunk tag``) reads token first and tag last. Empty trailing
columns (a trailing tab) are ignored and the token is stripped of surrounding spaces.
Every tag scheme in core.text.spans is read (BIO, IOB1, IOE1, IOE2, IOBES, BMES, BMEWO,
BILOU, IO); the scheme is decided for the whole file and reported. BIO out.
``-DOCSTART-`` lines are ignored, as are extra blank lines (or lines of only whitespace,
which WNUT uses). LF, CRLF and bare-CR line endings are all line ends.

The file's tokens are kept as the sample's word tokens (joined by one space, CJK per
character, see core.text.tokenize.join_words), so an export gives back the same tokens.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from core.data.formats.base import (
    FILE_LEVEL, Errors, LineError, ParseOptions, ParseResult, Record, Warnings, iter_lines, quote,
)
from core.text.spans import SchemeDetector, TagError, spans_to_bio, split_tag, tags_to_spans
from core.text.tokenize import join_words
from core.base.types import Span

DOCSTART = "-DOCSTART-"
REPAIR_WARNING = ("{n} I-/E- tag{s} that opened an entity (right after O or another type) read as B-, a "
                  "beginning, as seqeval reads them: the rest of the file marks beginnings with B-")


def _tag_problem(tag: str, cache: dict[str, str | None]) -> str | None:
    """The error for a tag no scheme reads, or None; cached because files use few distinct tags."""
    if tag not in cache:
        try:
            split_tag(tag)
            cache[tag] = None
        except TagError as exc:
            cache[tag] = str(exc)
    return cache[tag]


class _Sentences:
    """Collects tokens into sentences, decodes each, and remembers what the whole file uses."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.detector = SchemeDetector()
        self.opening_lines: list[int] = []  # first lines where an I-/E- opened an entity
        self.words: list[str] = []
        self.tags: list[str] = []
        self.first_line = 0
        self.bad = False
        self.entity = False
        self.invalid = 0

    def add(self, number: int, token: str, tag: str) -> None:
        if not self.words:
            self.first_line = number
        self.words.append(token)
        self.tags.append(tag)
        if tag != "O":
            self.entity = True

    def flush(self) -> None:
        if self.words:
            if self.bad:
                self.invalid += 1
            else:
                self.records.append(self._record())
        self.words, self.tags, self.bad, self.entity = [], [], False, False

    def _record(self) -> Record:
        text, offsets = join_words(self.words)
        if not self.entity:
            return Record(self.first_line, text, offsets, [], status="labeled")
        openings = self.detector.add(self.tags)
        if openings and len(self.opening_lines) < 10:
            # a sentence's lines are consecutive, so token i sits on first_line + i
            self.opening_lines += [self.first_line + i for i in openings][: 10 - len(self.opening_lines)]
        return Record(self.first_line, text, offsets, tags_to_spans(offsets, self.tags).spans, status="labeled")


def parse_conll(text: str, options: ParseOptions) -> ParseResult:
    if options.task != "ner":
        return ParseResult([], [LineError(FILE_LEVEL, "CoNLL files hold NER tags: import them into an NER project")])
    errors = Errors()
    tag_cache: dict[str, str | None] = {"O": None}
    out = _Sentences()
    for number, line in iter_lines(text):
        cols = line.split("\t") if "\t" in line else line.split()
        while cols and not cols[-1].strip():  # a trailing tab is not an empty tag column
            cols.pop()
        if not cols:
            out.flush()
            continue
        token = cols[0].strip()
        if token == DOCSTART:
            out.flush()
            continue
        if len(cols) < 2:
            out.add(number, token, "O")
            errors.append(LineError(number, f"too few columns: expected a token and a tag separated by a tab or "
                                            f"spaces, found {quote(line.strip())}; add the tag (O for none)"))
            out.bad = True
            continue
        tag = cols[-1].strip()
        problem = _tag_problem(tag, tag_cache)
        if problem:
            errors.append(LineError(number, problem))
            out.add(number, token or "?", "O")
            out.bad = True
            continue
        if not token:
            errors.append(LineError(number, f"the token is blank (found {quote(cols[0])} before the tag {tag!r}); "
                                            "remove the line"))
            out.add(number, "?", "O")
            out.bad = True
            continue
        out.add(number, token, tag)
    out.flush()
    report = out.detector.report()
    warnings = Warnings()
    if report.repaired:
        for i, number in enumerate(out.opening_lines):
            warnings.add(REPAIR_WARNING, number, report.repaired if i == 0 else 0)
    if not out.records and not errors:
        errors.append(LineError(FILE_LEVEL, "found no sentences: expected lines of `token<TAB>tag`, "
                                            "a blank line between sentences"))
    return ParseResult(out.records, errors, warnings.as_list(), out.invalid, scheme=report.scheme)


def conll_tokens(sample) -> list[tuple[str, tuple[int, int]]]:
    """The tokens a CoNLL line can carry: whitespace-only tokens (Prodigy keeps ``" \\n"`` as a
    token) are left out, since a blank token column would end the sentence; a tab or line break
    inside a token becomes a space."""
    out = []
    for s, e in sample.tokens:
        word = sample.text[int(s):int(e)]
        if word.strip():
            if "\t" in word or "\n" in word or "\r" in word:
                word = " ".join(word.split())
            out.append((word, (int(s), int(e))))
    return out


def write_conll(samples: Iterable, out: TextIO) -> int:
    """Write ``token<TAB>BIO-tag`` lines, a blank line after each sentence; returns the count."""
    count = 0
    for sample in samples:
        kept = conll_tokens(sample)
        if not kept:
            continue
        offsets = [o for _, o in kept]
        if sample.spans:
            tags = spans_to_bio(offsets, [Span(s, e, l) for s, e, l in sample.spans])
        else:
            tags = ["O"] * len(offsets)
        out.write("\n".join(word + "\t" + t for (word, _), t in zip(kept, tags)))
        out.write("\n\n")
        count += 1
    return count
