"""CSV, TSV and Excel sheets: a text column and (for classification) a label column.

Parsed with the csv module, so quoted fields (the drug reviews' ``\"\"\"...\"\"\"``) keep
their value exactly, quotes, HTML entities and double spaces included.

- Text column: ``--text-column`` (default ``text``), label column: ``--label-column``
  (default ``label``; when that default is absent every row is imported unlabelled). Names
  match whatever their case (``Text``); a 1-based number (``2``) names a column by position.
- No header row (no cell names a text or label column, and the first row reads like data):
  the columns are ``column 1``, ``column 2``, ...; the text is the column with the longest
  cells, and in a two-column file the other column is the label. The import says so.
- Empty header cells are named ``column N``; a row shorter than the header has its missing
  cells read as empty (the import counts them); a longer row is an error.
- An empty label cell means an unlabelled sample. Multi-label projects: labels in one cell
  are separated by ``|`` (commas are common inside label names such as conditions).
- A ``split`` column sets each row's split; ``annotator`` and ``annotated_at`` columns set
  who labelled it and when. Every other column is kept in the sample's ``meta``, typed per
  column as pandas would (all integers: int, all numbers: float, else text); an empty
  cell is no value (the key is absent).
- Export neutralises spreadsheet formulas (OWASP "CSV injection"): a cell starting with
  ``= + - @``, tab or carriage return gets a leading ``'`` (and a cell already starting with
  ``'`` followed by one of those, or by ``'``, gets one more); import removes exactly one.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from core.data.formats.base import (
    FILE_LEVEL, LABEL_NAMES, TEXT_NAMES, Errors, LineError, ParseOptions, ParseResult, Record, Warnings,
    check_categories, check_split, check_text, iter_lines, quote,
)
from core.text.tokenize import word_offsets

MULTILABEL_SEPARATOR = "|"
RESERVED = ("split", "annotator", "annotated_at")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_NAMES = {"text", "label", "labels", "split", "id", *TEXT_NAMES, *LABEL_NAMES}
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def neutralise(cell: str) -> str:
    """OWASP CSV-injection escape, reversible by ``restore``."""
    if cell.startswith(FORMULA_START) or (cell.startswith("'") and cell[1:2] and cell[1] in (*FORMULA_START, "'")):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    if cell.startswith("'") and cell[1:2] and cell[1] in (*FORMULA_START, "'"):
        return cell[1:]
    return cell


# Excel writes "CSV" with semicolons where the decimal mark is a comma (most of Europe), and
# some tools use pipes; read as commas, such a file is one column and nothing imports.
OTHER_CSV_DELIMITERS = (";", "|")


def csv_delimiter(text: str) -> str:
    """The header row's delimiter: a comma unless the header is one column with commas but
    several with ``;`` or ``|`` (then the one giving the most columns). Only the header decides:
    texts hold commas and semicolons alike, column names rarely do."""
    first = next((line for _, line in iter_lines(text[:65536]) if line.strip()), "")

    def width(delimiter: str) -> int:
        try:
            return len(next(csv.reader([first], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            return 0

    if width(",") > 1:
        return ","
    best = max(OTHER_CSV_DELIMITERS, key=width)
    return best if width(best) > 1 else ","


# Excel's hint line: "sep=;" before the header names the delimiter (and is no header).
EXCEL_SEP_LINE = re.compile(r"sep=(.)\r?\n")


def parse_table(text: str, options: ParseOptions, delimiter: str, skipped_lines: int = 0) -> ParseResult:
    if delimiter == "," and (hint := EXCEL_SEP_LINE.match(text)):
        return parse_table(text[hint.end():], options, hint.group(1), skipped_lines=1)
    if delimiter == "," and (found := csv_delimiter(text)) != ",":
        result = parse_table(text, options, found)
        why = " (as Excel writes CSV where the decimal mark is a comma)" if found == ";" else ""
        result.warnings.insert(0, {"message": f"the CSV file separates its columns with {found!r}, not commas{why}: "
                                              "read it that way; check the preview", "count": 1, "lines": [FILE_LEVEL]})
        return result
    name = "TSV" if delimiter == "\t" else "CSV"
    # strict: a quote never closed is an error, not a field swallowing the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

    def rows() -> Iterator[tuple[int, list[str] | csv.Error]]:
        while True:
            start = reader.line_num + 1 + skipped_lines
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, exc
                continue
            yield start, row

    return parse_rows(rows(), options, name)


def parse_rows(rows: Iterator[tuple[int, list[str] | Exception]], options: ParseOptions, name: str) -> ParseResult:
    """Records from ``(line, cells)`` pairs; the first pair is the header (or the first row)."""
    first = next(rows, None)
    if first is None:
        return ParseResult([], [LineError(FILE_LEVEL, f"the {name} file is empty: expected a header row and rows")])
    line, header = first
    if isinstance(header, Exception):
        return ParseResult([], [LineError(line, f"cannot read the header row: {header}; fix its quotes")])
    warnings = Warnings()
    pending: list[tuple[int, list[str]]] = []
    layout = _layout(header, rows, options, name, warnings, pending)
    if isinstance(layout, LineError):
        return ParseResult([], [layout])
    columns, text_i, label_i = layout
    if options.task == "ner" and label_i is not None:
        return ParseResult([], [LineError(1, f"{name} files hold one label per text: import the "
                                             f"{columns[label_i]!r} column into a classification project, "
                                             "or spans as JSONL/CoNLL")])
    records: list[Record] = []
    errors = Errors()
    invalid = 0
    short = 0

    def all_rows():
        yield from pending
        yield from rows

    for line, row in all_rows():
        if isinstance(row, Exception):
            errors.append(LineError(line, f"cannot read this row: {row}; check its quotes"))
            invalid += 1
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(columns):
            short += 1
            row = [*row, *([""] * (len(columns) - len(row)))]
        record, err = _record(row, columns, text_i, label_i, line, options)
        if err:
            errors.append(err)
            invalid += 1
        else:
            records.append(record)
    if label_i is None and options.task != "ner" and records:
        warnings.add("{n} row{s} will be imported unlabelled: no label column was found or chosen "
                     f"(columns: {', '.join(columns)}); choose the label column to import labels", 1, len(records))
    if short:
        warnings.add("{n} row{s} had fewer cells than the header; the missing cells were read as empty", 0, short)
    _type_meta(records)
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, f"the {name} file has a header but no rows; add rows below it"))
    return ParseResult(records, errors, warnings.as_list(), invalid)


def _find(columns: list[str], wanted: str) -> int | None:
    if wanted.isdigit() and 1 <= int(wanted) <= len(columns) and wanted not in columns:
        return int(wanted) - 1
    if wanted in columns:
        return columns.index(wanted)
    folded = [c.casefold() for c in columns]
    return folded.index(wanted.casefold()) if wanted.casefold() in folded else None


def _looks_like_header(header: list[str], options: ParseOptions) -> bool:
    names = {h.strip().casefold() for h in header}
    wanted = {w.casefold() for w in (options.text_column, options.label_column) if w and not w.isdigit()}
    if names & (HEADER_NAMES | wanted):
        return True
    # data, not names: a cell of several words or a number
    return not any(len(h.split()) >= 3 or _FLOAT.fullmatch(h.strip() or "x") for h in header)


def _layout(header, rows, options, name, warnings, pending):
    """Column names and the text/label column indices, or the error that stops the file."""
    if not _looks_like_header(header, options):
        columns = [f"column {i + 1}" for i in range(len(header))]
        pending.append((1, header))
        for line, row in rows:  # a few rows to see which column holds the text
            pending.append((line, row))
            if len(pending) >= 50:
                break
        text_i = _find(columns, options.text_column) if options.text_column else _longest(pending, len(columns))
        if text_i is None:
            return LineError(1, f"no column {options.text_column!r} in this {name} file without a header row: "
                                f"it has {len(columns)} columns; pass --text-column 1..{len(columns)}")
        if options.label_column:
            label_i = _find(columns, options.label_column)
        else:
            label_i = (1 - text_i) if len(columns) == 2 and options.task != "ner" else None
        label_name = "none" if label_i is None else columns[label_i]
        warnings.add(f"the first row reads like data, not column names: read as a {name} file without a header "
                     f"row; text from {columns[text_i]}, label from {label_name}; choose other columns by number "
                     "(e.g. 2) if these are wrong", 1, 1)
        return columns, text_i, label_i
    columns = [h.strip() or f"column {i + 1}" for i, h in enumerate(header)]
    blank = [c for c, h in zip(columns, header) if not h.strip()]
    if blank:
        warnings.add(f"header cell{'s' if len(blank) > 1 else ''} without a name read as {', '.join(blank)}", 1, len(blank))
    folded = [c.casefold() for c in columns]
    dupes = sorted({c for c, f in zip(columns, folded) if folded.count(f) > 1})
    if dupes:
        return LineError(1, f"the header repeats the column {dupes[0]!r}; give every column its own name")
    text_i = _find(columns, options.text_column or "text")
    if text_i is None and not options.text_column:
        text_i = _first_of(columns, TEXT_NAMES)
        if text_i is not None:
            warnings.add(f"no 'text' column: the texts are read from {columns[text_i]!r}; choose another text "
                         "column if that is wrong", 1, 1)
    if text_i is None:
        hint = "" if options.text_column else "; name the text column with --text-column"
        return LineError(1, f"no column named {(options.text_column or 'text')!r} in the {name} header: found "
                            f"{quote(columns)}{hint}")
    if options.label_column:
        label_i = _find(columns, options.label_column)
        if label_i is None:
            return LineError(1, f"no column named {options.label_column!r} in the {name} header: found {quote(columns)}; "
                                "pick one of them with --label-column")
    else:
        label_i = _find(columns, "label")
        if label_i is None:
            label_i = _find(columns, "labels")
        if label_i is None and options.task != "ner":
            label_i = _first_of([c if i != text_i else "" for i, c in enumerate(columns)], LABEL_NAMES)
            if label_i is not None:
                warnings.add(f"no 'label' column: the labels are read from {columns[label_i]!r}; choose another "
                             "label column if that is wrong", 1, 1)
    return columns, text_i, label_i


def _first_of(columns: list[str], names: tuple[str, ...]) -> int | None:
    return next((i for name in names if (i := _find(columns, name)) is not None), None)


def _longest(rows: list[tuple[int, list]], width: int) -> int:
    totals = [0] * width
    for _, row in rows:
        if isinstance(row, list):
            for i, cell in enumerate(row[:width]):
                totals[i] += len(cell)
    return max(range(width), key=lambda i: totals[i])


def _record(row, columns, text_i, label_i, line, options) -> tuple[Record | None, LineError | None]:
    if len(row) > len(columns):
        return None, LineError(
            line, f"too many columns: expected {len(columns)} as in the header, found {len(row)}; "
            "check the separators and quotes on this row"
        )
    cells = [restore(c) for c in row]
    text, err = check_text(cells[text_i], line, f"column {columns[text_i]!r}")
    if err:
        return None, err
    named = dict(zip(columns, cells))
    split, err = check_split(_reserved(named, "split"), line)
    if err:
        return None, err
    meta = {c: v for i, (c, v) in enumerate(zip(columns, cells))
            if i not in (text_i, label_i) and c.casefold() not in RESERVED}
    record = Record(line, text, word_offsets(text), split=split, meta=meta)
    annotator = _reserved(named, "annotator")
    record.annotator = annotator or None
    when = _reserved(named, "annotated_at")
    if when:
        from core.data.formats.jsonl import parse_time

        record.annotated_at = parse_time(when)
        if record.annotated_at is None:
            return None, LineError(line, f"annotated_at {quote(when)} is not an ISO 8601 time; fix or empty the cell")
    raw = cells[label_i] if label_i is not None else ""
    if not raw.strip():
        record.status = "unlabeled"
        return record, None
    values = raw.split(MULTILABEL_SEPARATOR) if options.multilabel else [raw]
    cats, errors = check_categories(values, line, options)
    if errors:
        return None, errors[0]
    record.categories = cats
    return record, None


def _reserved(named: dict, key: str) -> str | None:
    for c, v in named.items():
        if c.casefold() == key:
            return v
    return None


def _type_meta(records: list[Record]) -> None:
    """Meta cells are text in the file: type each column as pandas would (ints, floats, JSON)."""
    if not records:
        return
    for r in records:  # an empty cell is no value (export writes absent keys as empty cells)
        if "" in r.meta.values():
            r.meta = {k: v for k, v in r.meta.items() if v != ""}
    keys = list(dict.fromkeys(k for r in records for k in r.meta))
    for key in keys:
        values = [r.meta[key] for r in records if r.meta.get(key, "") != ""]
        if not values:
            continue
        if all(_INT.fullmatch(v) for v in values):
            convert = int
        elif all(_FLOAT.fullmatch(v) for v in values):
            convert = float
        elif all(v[:1] in "{[" and _json_ok(v) for v in values):
            convert = json.loads
        else:
            continue
        for r in records:
            if key in r.meta:
                r.meta[key] = convert(r.meta[key])


def _json_ok(value: str) -> bool:
    try:
        json.loads(value)
        return True
    except ValueError:
        return False


def table_rows(samples: Iterable) -> Iterator[list]:
    """Header then one row per sample: text, label, split, annotator, annotated_at, every meta key
    (the union over all samples, in order of first appearance)."""
    rows = list(samples)
    meta_cols = list(dict.fromkeys(
        k for s in rows for k in (s.meta or {}) if k.casefold() not in ("text", "label", *RESERVED)
    ))
    yield ["text", "label", "split", "annotator", "annotated_at", *meta_cols]
    for s in rows:
        meta = s.meta or {}
        yield [s.text, MULTILABEL_SEPARATOR.join(s.categories), s.split, getattr(s, "annotator", None) or "",
               getattr(s, "annotated_at", None) or "", *(_cell(meta.get(k)) for k in meta_cols)]


def write_table(samples: Iterable, out: TextIO, delimiter: str = ",") -> int:
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    count = -1
    for row in table_rows(samples):
        writer.writerow([neutralise(c) for c in row])
        count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
