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
from core.text.spans import SchemeDetector, TagError, decode, spans_to_bio, split_tag
from core.text.tokenize import join_words
from core.base.types import Span

DOCSTART = "-DOCSTART-"
REPAIR_WARNING = ("{n} I-/E- tag{s} that opened an entity (right after O or another type) read as B-, a "
                  "beginning, as seqeval reads them: the rest of the file marks beginnings with B-")


def parse_conll(text: str, options: ParseOptions) -> ParseResult:
    if options.task != "ner":
        return ParseResult([], [LineError(FILE_LEVEL, "CoNLL files hold NER tags: import them into an NER project")])
    errors = Errors()
    known = {"O"}  # tags already checked
    problems: dict[str, str | None] = {}
    detector = SchemeDetector()
    opening_lines: list[int] = []  # first lines where an I-/E- opened an entity
    records: list[Record] = []
    words: list[str] = []
    tags: list[str] = []
    first_line, bad, entity, invalid = 0, False, False, 0

    def flush() -> None:
        nonlocal words, tags, bad, entity, invalid
        if words:
            if bad:
                invalid += 1
            else:
                records.append(_record(first_line, words, tags, entity, detector, opening_lines))
        words, tags, bad, entity = [], [], False, False

    for number, line in iter_lines(text):
        tab = line.find("\t")
        cut = tab if tab >= 0 else line.find(" ")
        # the common cases, `token<TAB>tag` and `token tag` (MSRA, NCRF++): two lookups
        if cut > 0 and line.find("\t" if tab >= 0 else " ", cut + 1) < 0:
            tag = line[cut + 1:]
            token = line[:cut]
            if tag in known and not token[0].isspace() and not token[-1].isspace() and token != DOCSTART:
                if not words:
                    first_line = number
                words.append(token)
                tags.append(tag)
                if tag != "O":
                    entity = True
                continue
        cols = line.split("\t") if tab >= 0 else line.split()
        while cols and not cols[-1].strip():  # a trailing tab is not an empty tag column
            cols.pop()
        if not cols:
            flush()
            continue
        token = cols[0].strip()
        if token == DOCSTART:
            flush()
            continue
        if not words:
            first_line = number
        tag = cols[-1].strip() if len(cols) > 1 else ""
        problem = None
        if len(cols) < 2:
            problem = (f"too few columns: expected a token and a tag separated by a tab or spaces, found "
                       f"{quote(line.strip())}; add the tag (O for none)")
        elif tag not in known:
            if tag not in problems:
                try:
                    split_tag(tag)
                    problems[tag] = None
                except TagError as exc:
                    problems[tag] = str(exc)
            problem = problems[tag]
            if problem is None:
                known.add(tag)
        if problem is None and not token:
            problem = f"the token is blank (found {quote(cols[0])} before the tag {tag!r}); remove the line"
        if problem:
            errors.append(LineError(number, problem))
            words.append(token or "?")
            tags.append("O")
            bad = True
            continue
        words.append(token)
        tags.append(tag)
        if tag != "O":
            entity = True
    flush()
    report = detector.report()
    warnings = Warnings()
    if report.repaired:
        for i, number in enumerate(opening_lines):
            warnings.add(REPAIR_WARNING, number, report.repaired if i == 0 else 0)
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, "found no sentences: expected lines of `token<TAB>tag`, "
                                            "a blank line between sentences"))
    return ParseResult(records, errors, warnings.as_list(), invalid, scheme=report.scheme)


def _record(first_line: int, words: list[str], tags: list[str], entity: bool, detector: SchemeDetector,
            opening_lines: list[int]) -> Record:
    text, offsets = join_words(words)
    if not entity:
        return Record(first_line, text, offsets, [], status="labeled")
    openings: list[int] = []
    spans = decode(offsets, tags, detector, openings)
    if openings and len(opening_lines) < 10:
        # a sentence's lines are consecutive, so token i sits on first_line + i
        opening_lines += [first_line + i for i in openings][: 10 - len(opening_lines)]
    return Record(first_line, text, offsets, spans, status="labeled")


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
