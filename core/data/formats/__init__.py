"""Readers and writers for the data formats Tagtune imports and exports (DESIGN.md).

``parse(data, fmt, options)`` turns the bytes of a file into records plus every bad line;
``detect_format(filename, data)`` picks the format from the extension (and, for ``.txt``,
from the content: ``token<TAB>tag`` lines mean CoNLL).
"""
from __future__ import annotations

import re
from pathlib import Path

from core.base.errors import UserError
from core.data.formats.base import FILE_LEVEL, LineError, ParseOptions, ParseResult, Record, decode
from core.data.formats.conll import parse_conll, write_conll
from core.data.formats.jsonl import parse_jsonl, write_jsonl
from core.data.formats.tabular import parse_table, write_table
from core.data.formats.text import parse_text

IMPORT_FORMATS = ("conll", "jsonl", "csv", "tsv", "txt")
EXPORT_FORMATS = ("conll", "jsonl", "csv", "tsv")
EXTENSIONS = {
    ".conll": "conll", ".conllx": "conll", ".bio": "conll", ".iob": "conll", ".iobes": "conll",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".text": "txt",
}
_CONLL_LINE = re.compile(r"^\S+(?:\t[^\t\n]*)*[\t ]+(?:O|[BIESLU][-_]\S+)\s*$")

__all__ = [
    "EXPORT_FORMATS", "FILE_LEVEL", "IMPORT_FORMATS", "LineError", "ParseOptions", "ParseResult", "Record",
    "detect_format", "parse", "write_conll", "write_jsonl", "write_table",
]


def detect_format(filename: str, data: bytes | None = None, allowed: tuple[str, ...] = IMPORT_FORMATS) -> str:
    suffix = Path(filename).suffix.lower()
    fmt = EXTENSIONS.get(suffix)
    if fmt is None or fmt not in allowed:
        raise UserError(
            f"cannot tell the format of {Path(filename).name!r} from its extension {suffix or '(none)'!r}: "
            f"expected one of {', '.join(sorted(k for k, v in EXTENSIONS.items() if v in allowed))}; "
            f"pass --format {'|'.join(allowed)}"
        )
    if fmt == "txt" and data is not None and _looks_like_conll(data):
        return "conll"
    return fmt


def _looks_like_conll(data: bytes) -> bool:
    """CoNLL-2003 ships as .txt: call it CoNLL when the first lines all end in a tag."""
    lines = [l for l in data[:20000].decode("utf-8", errors="replace").split("\n")[:-1] if l.strip()][:50]
    return bool(lines) and all(_CONLL_LINE.match(l.rstrip("\r")) for l in lines)


def parse(data: bytes, fmt: str, options: ParseOptions) -> ParseResult:
    """Records and every bad line of a file's bytes in format ``fmt``."""
    if fmt not in IMPORT_FORMATS:
        raise UserError(f"unknown format {fmt!r}: expected one of {', '.join(IMPORT_FORMATS)}")
    if fmt in ("conll", "txt") and (options.text_column or options.label_column):
        raise UserError(f"--text-column/--label-column apply to csv, tsv and jsonl files, not {fmt}; drop them")
    text, errors = decode(data)
    if text is None:
        return ParseResult([], errors)
    if fmt == "conll":
        result = parse_conll(text, options)
    elif fmt == "jsonl":
        result = parse_jsonl(text, options)
    elif fmt in ("csv", "tsv"):
        result = parse_table(text, options, "\t" if fmt == "tsv" else ",")
    else:
        result = parse_text(text, options)
    if errors:  # undecodable lines come first, then what the parser found
        bad = {e.line for e in errors}
        result.errors = errors + [e for e in result.errors if e.line not in bad]
        kept = [r for r in result.records if "\ufffd" not in r.text]  # records holding a bad line
        result.invalid += len(result.records) - len(kept)
        result.records = kept
    return result
