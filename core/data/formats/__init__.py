"""Readers and writers for the data formats Tagtune imports and exports (README "Formats").

``parse(data, fmt, options)`` turns the bytes of a file into records plus every bad line;
``detect_format(filename, data)`` picks the format from the extension and, where the
extension says little (``.txt``, ``.json``), from the content.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from core.base.errors import UserError
from core.data.formats.base import (
    FILE_LEVEL, Errors, LineError, ParseOptions, ParseResult, Record, decode, iter_lines, record_problem,
)
from core.data.formats.conll import parse_conll, write_conll
from core.data.formats.jsonl import parse_json, parse_jsonl, write_json, write_jsonl
from core.data.formats.tabular import parse_table, write_table
from core.data.formats.text import parse_fasttext, parse_text, write_fasttext

IMPORT_FORMATS = ("conll", "jsonl", "json", "csv", "tsv", "xlsx", "parquet", "txt", "fasttext")
EXPORT_FORMATS = ("conll", "jsonl", "json", "csv", "tsv", "xlsx", "labelstudio", "hf", "fasttext", "bundle")
BINARY_FORMATS = ("xlsx", "parquet", "hf")  # read and written as bytes, not text
EXTENSIONS = {
    ".conll": "conll", ".conllx": "conll", ".conll03": "conll", ".bio": "conll", ".iob": "conll",
    ".iobes": "conll", ".bmes": "conll", ".ner": "conll",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".parquet": "parquet",
    ".txt": "txt", ".text": "txt", ".ft": "fasttext", ".fasttext": "fasttext",
    ".tagtune": "bundle",
}
EXPORT_EXTENSIONS = {"conll": ".conll", "jsonl": ".jsonl", "json": ".json", "csv": ".csv", "tsv": ".tsv",
                     "xlsx": ".xlsx", "labelstudio": ".json", "hf": ".parquet", "fasttext": ".txt",
                     "bundle": ".tagtune"}
# A tag in the last column: O, or a scheme prefix and a type.
_TAG = re.compile(r"^(?:O|[BIESLUMW][-_]\S+)$")

__all__ = [
    "BINARY_FORMATS", "EXPORT_FORMATS", "FILE_LEVEL", "IMPORT_FORMATS", "Errors", "LineError", "ParseOptions",
    "ParseResult", "Record", "detect_format", "parse", "write_conll", "write_fasttext", "write_json",
    "write_jsonl", "write_table",
]


def detect_format(filename: str, data: bytes | None = None, allowed: tuple[str, ...] = IMPORT_FORMATS) -> str:
    suffix = Path(filename).suffix.lower()
    fmt = EXTENSIONS.get(suffix)
    if suffix == ".parquet" and "hf" in allowed and "parquet" not in allowed:
        fmt = "hf"
    if fmt is None or fmt not in allowed:
        raise UserError(
            f"cannot tell the format of {Path(filename).name!r} from its extension {suffix or '(none)'!r}: "
            f"expected one of {', '.join(sorted(k for k, v in EXTENSIONS.items() if v in allowed))}; "
            f"pass --format {'|'.join(allowed)}"
        )
    if fmt == "txt" and data is not None:
        return sniff_txt(data)
    return fmt


def sniff_txt(data: bytes) -> str:
    """``.txt`` holds CoNLL-2003 (token and tags in columns, tabs or spaces), fastText
    (``__label__`` prefixes) or plain text; the first 50 non-blank lines decide."""
    head = data[:20000]
    for bom in (b"\xef\xbb\xbf",):
        head = head.removeprefix(bom)
    sample = decode(head).text or ""
    lines = [l for _, l in iter_lines(sample)][:-1] or [sample]  # the last line may be cut
    lines = [l for l in lines if l.strip() and not l.startswith("-DOCSTART-")][:50]
    if lines and all(_looks_like_conll(l) for l in lines):
        return "conll"
    if lines and sum(l.startswith("__label__") for l in lines) * 2 >= len(lines):
        return "fasttext"  # most lines labelled: unlabelled lines are allowed
    return "txt"


def _looks_like_conll(line: str) -> bool:
    cols = line.split("\t") if "\t" in line else line.split()
    while cols and not cols[-1].strip():
        cols.pop()
    return 2 <= len(cols) <= 12 and bool(_TAG.match(cols[-1].strip())) and " " not in cols[0].strip()


def parse(data: bytes, fmt: str, options: ParseOptions) -> ParseResult:
    """Records and every bad line of a file's bytes in format ``fmt``."""
    if fmt not in IMPORT_FORMATS:
        raise UserError(f"unknown format {fmt!r}: expected one of {', '.join(IMPORT_FORMATS)}")
    if fmt in ("conll", "txt", "fasttext") and (options.text_column or options.label_column):
        raise UserError(f"--text-column/--label-column apply to csv, tsv, xlsx and json(l) files, not {fmt}; drop them")
    if fmt in ("xlsx", "parquet"):
        from core.data.formats import binary

        result = binary.parse_xlsx(data, options) if fmt == "xlsx" else binary.parse_parquet(data, options)
        return finish(result, options)
    decoded = decode(data)
    if decoded.text is None:
        return ParseResult([], decoded.errors)
    text = decoded.text
    if fmt == "conll":
        result = parse_conll(text, options)
    elif fmt == "jsonl":
        result = parse_jsonl(text, options)
    elif fmt == "json":
        result = parse_json(text, options)
    elif fmt in ("csv", "tsv"):
        result = parse_table(text, options, "\t" if fmt == "tsv" else ",")
    elif fmt == "fasttext":
        result = parse_fasttext(text, options)
    else:
        result = parse_text(text, options)
    if decoded.warning:
        result.warnings.insert(0, {"message": decoded.warning, "count": 1, "lines": [FILE_LEVEL]})
    if decoded.errors:  # undecodable lines come first, then what the parser found
        bad = {e.line for e in decoded.errors}
        result.errors = Errors(decoded.errors).merged(Errors(e for e in result.errors if e.line not in bad))
        kept = [r for r in result.records if "\ufffd" not in r.text]  # records holding a bad line
        result.invalid += len(result.records) - len(kept)
        result.records = kept
    return finish(result, options)


def finish(result: ParseResult, options: ParseOptions) -> ParseResult:
    """Checks every format shares (NUL, surrogates, labels, meta), and HTML entity decoding."""
    kept: list[Record] = []
    problems = Errors()
    for r in result.records:
        if options.decode_entities and "&" in r.text:
            _decode_entities(r)
        problem = record_problem(r)
        if problem:
            problems.append(LineError(r.line, problem))
        else:
            kept.append(r)
    if problems:
        result.errors = result.errors.merged(problems)
        result.invalid += len(result.records) - len(kept)
        result.records = kept
    return result


def _decode_entities(record: Record) -> None:
    """``&amp;`` -> ``&`` in a record's text, moving its tokens and spans with the characters."""
    from core.data.formats.base import remap_offsets

    new = html.unescape(record.text)
    if new == record.text:
        return
    remap_offsets(record, new)


def columns_of(data: bytes, fmt: str) -> list[str]:
    """The column names (CSV/TSV/Excel header, Parquet schema) or keys of the first record
    (JSON/JSONL) a file offers as text and label columns; [] when it has none or is unreadable."""
    import csv
    import io
    import json

    try:
        if fmt in ("csv", "tsv"):
            head = decode(data[:65536]).text or ""
            row = next(csv.reader(io.StringIO(head, newline=""), delimiter="\t" if fmt == "tsv" else ","), [])
            return [c.strip() for c in row if c.strip()]
        if fmt == "xlsx":
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            row = next(book.worksheets[0].iter_rows(values_only=True), ())
            book.close()
            return [str(c).strip() for c in row if c is not None and str(c).strip()]
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(io.BytesIO(data)).names)
        if fmt in ("jsonl", "json"):
            from core.data.formats.jsonl import Reader, iter_json_values

            text = decode(data[:1_000_000]).text or ""
            if fmt == "jsonl":
                first = json.loads(next(l for _, l in iter_lines(text) if l.strip()))
            else:
                first = next(iter(v for _, v in iter_json_values(text, Reader(ParseOptions()))), None)
            if isinstance(first, dict) and isinstance(first.get("data"), dict):
                first = first["data"]
            return [k for k in first if not k.startswith("_")] if isinstance(first, dict) else []
    except Exception:  # noqa: BLE001 - a hint for the form only; the import reports the real problem
        return []
    return []
