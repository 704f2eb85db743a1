"""CoNLL: one ``token<TAB>tag`` (or space separated, token first, tag last) per line, a blank
line between sentences. BIO, IOB1 and IOBES/BILOU in; BIO out. ``-DOCSTART-`` lines are
ignored, as are extra blank lines (or lines of only whitespace, which WNUT uses).

The file's tokens are kept as the sample's word tokens (joined by one space, CJK per
character, see core.tokenize.join_words), so an export gives back the same tokens.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from core.data.formats.base import FILE_LEVEL, LineError, ParseOptions, ParseResult, Record, Warnings
from core.text.spans import TagError, spans_to_bio, tags_to_spans
from core.text.tokenize import join_words
from core.base.types import Span

DOCSTART = "-DOCSTART-"
REPAIR_WARNING = "I- tag(s) opened an entity (after O or another type) and were read as B-, as seqeval does"


def _tag_problem(tag: str, cache: dict[str, str | None]) -> str | None:
    """The error for a tag no scheme reads, or None; cached because files use few distinct tags."""
    if tag not in cache:
        try:
            tags_to_spans([(0, 1)], [tag])
            cache[tag] = None
        except TagError as exc:
            cache[tag] = str(exc)
    return cache[tag]


def parse_conll(text: str, options: ParseOptions) -> ParseResult:
    if options.task != "ner":
        return ParseResult([], [LineError(FILE_LEVEL, "CoNLL files hold NER tags: import them into an NER project")])
    records: list[Record] = []
    errors: list[LineError] = []
    warnings = Warnings()
    tag_cache: dict[str, str | None] = {}
    words: list[str] = []
    tags: list[str] = []
    first_line = 0
    bad = False
    invalid = 0
    # I-/E-/L- tags that open an entity: repairs when the file uses B- (BIO/IOBES), the
    # scheme itself when it never does (IOB1). Decided for the whole file, not per sentence.
    openings: list[int] = []
    uses_b = False
    prev_type: str | None = None

    valid_tags: set[str] = {"O"}
    entity = False  # does the current sentence have a non-O tag (else no spans to read)

    def flush() -> None:
        nonlocal words, tags, bad, invalid, prev_type, entity
        if words:
            if bad:
                invalid += 1
            else:
                records.append(_record(first_line, words, tags, entity))
        words, tags, bad, prev_type, entity = [], [], False, None, False

    for number, line in enumerate(text.split("\n"), start=1):
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) == 2:  # the common case, `token<TAB>tag`: checked with two lookups
            token, tag = cols
            tag = tag.rstrip()
            if tag in valid_tags and token.strip() and token != DOCSTART:
                if not words:
                    first_line = number
                words.append(token)
                tags.append(tag)
                prefix = tag[0]
                if prefix != "O":
                    entity = True
                    kind = tag[2:]
                    if prefix in "IEL" and kind != prev_type:
                        openings.append(number)
                    uses_b = uses_b or prefix == "B"
                    prev_type = None if prefix in "ESLU" else kind
                else:
                    prev_type = None
                continue
        if not line.strip():
            flush()
            continue
        if cols[0] == DOCSTART:
            flush()
            continue
        if not words:
            first_line = number
        words.append(cols[0])
        if len(cols) < 2 or not cols[-1].strip():
            errors.append(
                LineError(number, f"too few columns: expected a token and a tag separated by a tab, found {line.strip()!r}")
            )
            bad = True
            continue
        token, tag = cols[0], cols[-1].strip()
        tags.append(tag)
        if not token.strip():
            errors.append(LineError(number, f"the token is blank (found {token!r} before the tag {tag!r}); remove the line"))
            bad = True
        problem = _tag_problem(tag, tag_cache)
        if problem:
            errors.append(LineError(number, problem))
            bad = True
            continue
        valid_tags.add(tag)
        # a valid tag on a line with more than two columns (CoNLL-2003: token POS chunk tag)
        prefix, kind = tag[0], tag[2:]
        entity = entity or prefix != "O"
        if tag != "O" and prefix in "IEL" and kind != prev_type:
            openings.append(number)
        uses_b = uses_b or prefix == "B"
        prev_type = None if tag == "O" or prefix in "ESLU" else kind
    flush()
    if uses_b and openings:
        for number in openings:
            warnings.add(REPAIR_WARNING, number)
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, "found no sentences: expected lines of `token<TAB>tag`"))
    return ParseResult(records, errors, warnings.as_list(), invalid)


def _record(first_line: int, words: list[str], tags: list[str], entity: bool) -> Record:
    text, offsets = join_words(words)
    spans = tags_to_spans(offsets, tags).spans if entity else []
    return Record(first_line, text, offsets, spans, status="labeled")


def write_conll(samples: Iterable, out: TextIO) -> int:
    """Write ``token<TAB>BIO-tag`` lines, a blank line after each sentence; returns the count."""
    count = 0
    for sample in samples:
        tokens, text = sample.tokens, sample.text
        if not tokens:
            continue
        if sample.spans:
            tags = spans_to_bio(tokens, [Span(s, e, l) for s, e, l in sample.spans])
        else:
            tags = ["O"] * len(tokens)
        out.write("\n".join(text[s:e] + "\t" + t for (s, e), t in zip(tokens, tags)))
        out.write("\n\n")
        count += 1
    return count
