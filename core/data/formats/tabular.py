"""CSV and TSV with a header row: a text column and (for classification) a label column.

Parsed with the csv module, so quoted fields (the drug reviews' ``\"\"\"...\"\"\"``) keep
their value exactly, quotes, HTML entities and double spaces included.

- Text column: ``--text-column`` (default ``text``). Label column: ``--label-column``
  (default ``label``; when that default is absent every row is imported unlabelled).
- An empty label cell means an unlabelled sample.
- Multilabel projects: labels in one cell are separated by ``|`` (commas are common inside
  label names such as conditions, so they never split).
- A ``split`` column with train/dev/test/unassigned sets each row's split.
- Every other column is kept in the sample's ``meta`` (written back by the CSV export).
"""
from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable
from typing import TextIO

from core.data.formats.base import (
    FILE_LEVEL,
    LineError,
    ParseOptions,
    ParseResult,
    Record,
    Warnings,
    check_categories,
    check_split,
    check_text,
)
from core.text.tokenize import word_offsets

MULTILABEL_SEPARATOR = "|"
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def parse_table(text: str, options: ParseOptions, delimiter: str) -> ParseResult:
    name = "TSV" if delimiter == "\t" else "CSV"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return ParseResult([], [LineError(FILE_LEVEL, f"the {name} file has no header row")])
    except csv.Error as exc:
        return ParseResult([], [LineError(1, f"cannot read the header row: {exc}")])
    problem = _header_problem(header, options, name)
    if problem:
        return ParseResult([], [problem])
    text_col = options.text_column or "text"
    label_col = options.label_column or "label"
    warnings = Warnings()
    if label_col not in header:
        warnings.add(f"rows imported unlabelled: no {label_col!r} column (columns: {header}); pass --label-column", 1)
        label_col = None
    if options.task == "ner" and label_col is not None:
        return ParseResult([], [LineError(1, f"{name} files hold one label per text: import the {label_col!r} "
                                             "column into a classification project, or spans as JSONL/CoNLL")])
    records: list[Record] = []
    errors: list[LineError] = []
    invalid = 0
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(start, f"cannot read this row: {exc}"))
            invalid += 1
            continue
        line = start
        if not any(cell.strip() for cell in row):
            continue
        record, err = _record(row, header, text_col, label_col, line, options)
        if err:
            errors.append(err)
            invalid += 1
        else:
            records.append(record)
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, f"the {name} file has a header but no rows"))
    return ParseResult(records, errors, warnings.as_list(), invalid)


def _header_problem(header: list[str], options: ParseOptions, name: str) -> LineError | None:
    text_col = options.text_column or "text"
    if text_col not in header:
        hint = "" if options.text_column else "; name the text column with --text-column"
        return LineError(1, f"no column named {text_col!r} in the {name} header: found {header}{hint}")
    if options.label_column and options.label_column not in header:
        return LineError(1, f"no column named {options.label_column!r} in the {name} header: found {header}")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        return LineError(1, f"the header repeats the column {dupes[0]!r}; give every column its own name")
    return None


def _record(row, header, text_col, label_col, line, options) -> tuple[Record | None, LineError | None]:
    if len(row) != len(header):
        few = "few" if len(row) < len(header) else "many"
        return None, LineError(
            line, f"too {few} columns: expected {len(header)} as in the header, found {len(row)}; "
            "check the separators and quotes on this row"
        )
    cells = dict(zip(header, row))
    text, err = check_text(cells[text_col], line, f"column {text_col!r}")
    if err:
        return None, err
    split, err = check_split(cells.get("split"), line)
    if err:
        return None, err
    meta = {k: v for k, v in cells.items() if k not in (text_col, label_col, "split")}
    raw = cells.get(label_col, "") if label_col else ""
    if not raw.strip():
        return Record(line, text, word_offsets(text), status="unlabeled", split=split, meta=meta), None
    values = raw.split(MULTILABEL_SEPARATOR) if options.multilabel else [raw]
    cats, errors = check_categories(values, line, options)
    if errors:
        return None, errors[0]
    return Record(line, text, word_offsets(text), categories=cats, split=split, meta=meta), None


def write_table(samples: Iterable, out: TextIO, delimiter: str = ",") -> int:
    """text, label (``|``-joined when several), split, then the meta columns of the first rows."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    rows = iter(samples)
    count = 0
    meta_cols: list[str] | None = None
    for s in rows:
        if meta_cols is None:
            meta_cols = [k for k in (s.meta or {}) if k not in ("text", "label", "split")]
            writer.writerow(["text", "label", "split", *meta_cols])
        meta = s.meta or {}
        writer.writerow([s.text, MULTILABEL_SEPARATOR.join(s.categories), s.split, *(_cell(meta.get(k)) for k in meta_cols)])
        count += 1
    if meta_cols is None:
        writer.writerow(["text", "label", "split"])
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)
