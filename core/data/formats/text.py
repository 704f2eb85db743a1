"""Plain text, one unlabelled sample per line, and fastText (``__label__A __label__B text``).

Plain text: blank lines are skipped; each line is kept exactly as written (inner and outer
spaces included), only the line break (LF, CRLF or CR) is dropped.
fastText: the ``__label__`` words at the start of a line are its labels, the rest its text;
a line without labels is an unlabelled sample.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from core.base.errors import UserError
from core.data.formats.base import (
    FILE_LEVEL, Errors, LineError, ParseOptions, ParseResult, Record, Warnings, check_categories, iter_lines,
)
from core.text.tokenize import word_offsets

PREFIX = "__label__"


def parse_text(text: str, options: ParseOptions) -> ParseResult:
    records = [
        Record(number, line, word_offsets(line), status="unlabeled")
        for number, line in iter_lines(text)
        if line.strip()
    ]
    if not records:
        return ParseResult([], [LineError(FILE_LEVEL, "found no text: expected one sample per line")])
    return ParseResult(records, [])


def parse_fasttext(text: str, options: ParseOptions) -> ParseResult:
    if options.task != "classification":
        return ParseResult([], [LineError(FILE_LEVEL, "fastText files hold text labels: import them into a "
                                                      "classification project")])
    records: list[Record] = []
    errors = Errors()
    invalid = 0
    for number, line in iter_lines(text):
        if not line.strip():
            continue
        labels, rest = [], line
        while rest.startswith(PREFIX):
            word, _, rest = rest.partition(" ")
            labels.append(word[len(PREFIX):])
        if not rest.strip():
            errors.append(LineError(number, "the line has labels but no text after them; add the text or remove the line"))
            invalid += 1
            continue
        if any(not l for l in labels):
            errors.append(LineError(number, f"'{PREFIX}' without a label name; write {PREFIX}NAME"))
            invalid += 1
            continue
        cats, problems = check_categories(labels, number, options)
        if problems:
            errors.extend(problems)
            invalid += 1
            continue
        records.append(Record(number, rest, word_offsets(rest), categories=cats,
                              status="labeled" if cats else "unlabeled"))
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, "found no text: expected lines of `__label__NAME text`"))
    return ParseResult(records, errors, Warnings().as_list(), invalid)


def write_fasttext(samples: Iterable, out: TextIO) -> tuple[int, int]:
    """``__label__A text`` lines; returns (count, texts whose line breaks became spaces)."""
    count = flattened = 0
    for s in samples:
        bad = [c for c in s.categories if not c or any(ch.isspace() for ch in c)]
        if bad:
            raise UserError(f"fastText cannot carry the label {bad[0]!r} (labels are single words after "
                            f"{PREFIX}); rename it or export as JSONL/CSV")
        text = s.text
        if "\n" in text or "\r" in text:
            text = " ".join(text.splitlines())
            flattened += 1
        out.write("".join(f"{PREFIX}{c} " for c in s.categories) + text + "\n")
        count += 1
    return count, flattened
