"""Plain text: one unlabelled sample per line. Blank lines are skipped; each line is kept
exactly as written (inner and outer spaces included), only the line break is dropped."""
from __future__ import annotations

from core.data.formats.base import FILE_LEVEL, LineError, ParseOptions, ParseResult, Record
from core.text.tokenize import word_offsets


def parse_text(text: str, options: ParseOptions) -> ParseResult:
    records = [
        Record(number, line, word_offsets(line), status="unlabeled")
        for number, line in enumerate((l.rstrip("\r") for l in text.split("\n")), start=1)
        if line.strip()
    ]
    if not records:
        return ParseResult([], [LineError(FILE_LEVEL, "found no text: expected one sample per line")])
    return ParseResult(records, [])
