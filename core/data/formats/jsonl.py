"""JSON Lines: one object per line.

NER records carry character spans in any of these shapes:
  Prodigy  ``{"text", "spans": [{"start", "end", "label"}], "tokens": [{"start", "end"}]?}``
  doccano  ``{"text", "label": [[start, end, "LABEL"]]}`` or ``"entities": [{"start_offset", ...}]``
Classification records carry a label (string) or labels (list) in the label column: the
first of ``categories``, ``label``, ``labels``, ``accept`` present (or ``--label-column``);
Prodigy's ``cats`` ({"A": 1.0, "B": 0.0}) counts the labels scored 0.5 or more.

``split``, ``status`` and ``meta`` are read back as written by our export, so JSONL
export then import gives the same samples. Other keys go into ``meta`` (keys starting with
``_``, Prodigy's hashes, are dropped). A record with no label key at all is unlabelled;
``"answer": "ignore"``/``"reject"`` marks it skipped.
"""
from __future__ import annotations

import json
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
    snap_spans,
)
from core.text.tokenize import word_offsets
from core.base.types import STATUSES

NER_KEYS = ("spans", "label", "entities")
CATEGORY_KEYS = ("categories", "label", "labels", "accept", "cats")
RESERVED = {"text", "tokens", "meta", "split", "status", "answer"}
ANSWER_STATUS = {"accept": "labeled", "ignore": "skipped", "reject": "skipped"}


def parse_jsonl(text: str, options: ParseOptions) -> ParseResult:
    records: list[Record] = []
    errors: list[LineError] = []
    warnings = Warnings()
    invalid = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(
                LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno}); is the line truncated? "
                          "expected one complete JSON object per line")
            )
            invalid += 1
            continue
        if not isinstance(obj, dict):
            errors.append(LineError(number, f"expected a JSON object {{\"text\": ...}}, found a {type(obj).__name__}"))
            invalid += 1
            continue
        record, problems = _record(obj, number, options, warnings)
        if problems:
            errors.extend(problems)
            invalid += 1
        else:
            records.append(record)
    if not records and not errors:
        errors.append(LineError(FILE_LEVEL, "found no JSON objects: expected one {\"text\": ...} object per line"))
    return ParseResult(records, errors, warnings.as_list(), invalid)


def _record(obj: dict, line: int, options: ParseOptions, warnings: Warnings) -> tuple[Record | None, list[LineError]]:
    text_key = options.text_column or "text"
    text, err = check_text(obj.get(text_key), line, f"{text_key!r}")
    if err:
        return None, [err]
    split, err = check_split(obj.get("split"), line)
    if err:
        return None, [err]
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        return None, [LineError(line, f"expected 'meta' to be an object, found {type(meta).__name__}")]
    tokens, err = _tokens(obj.get("tokens"), text, line)
    if err:
        return None, [err]
    if options.task == "ner":
        key = options.label_column or next((k for k in NER_KEYS if k in obj), None)
        record, errors = _ner(obj, key, text, tokens, line, warnings)
    else:
        key = options.label_column or next((k for k in CATEGORY_KEYS if k in obj), None)
        record, errors = _classification(obj, key, text, tokens, line, options)
    if errors:
        return None, errors
    status, err = _status(obj, line, labelled=record.status == "labeled")
    if err:
        return None, [err]
    record.status, record.split = status, split
    extra = {k: v for k, v in obj.items() if k not in RESERVED and k != key and k != text_key and not k.startswith("_")}
    record.meta = {**extra, **meta}
    return record, []


def _status(obj: dict, line: int, labelled: bool) -> tuple[str, LineError | None]:
    if "status" in obj:
        if obj["status"] not in STATUSES:
            return "", LineError(line, f"unknown status {obj['status']!r}: expected one of {', '.join(STATUSES)}")
        return obj["status"], None
    if "answer" in obj:
        return ANSWER_STATUS.get(obj["answer"], "labeled" if labelled else "unlabeled"), None
    return ("labeled" if labelled else "unlabeled"), None


def _tokens(raw, text: str, line: int) -> tuple[list[tuple[int, int]], LineError | None]:
    """Tokens given in the record (Prodigy shape) are kept; otherwise derived from the text."""
    if raw is None:
        return word_offsets(text), None
    tokens: list[tuple[int, int]] = []
    try:
        for t in raw:
            s, e = (t["start"], t["end"]) if isinstance(t, dict) else (t[0], t[1])
            tokens.append((int(s), int(e)))
    except (KeyError, IndexError, TypeError, ValueError):
        return [], LineError(line, "expected 'tokens' as [{\"start\": S, \"end\": E}, ...]; fix or remove the key")
    prev_end = 0
    for s, e in tokens:
        if not (prev_end <= s < e <= len(text)):
            return [], LineError(
                line, f"token [{s}, {e}) is out of order or outside the text of {len(text)} characters; "
                "fix the tokens or remove the key to re-tokenise"
            )
        prev_end = e
    return tokens, None


def _span_triples(value, line: int) -> tuple[list[tuple], LineError | None]:
    if not isinstance(value, list):
        return [], LineError(
            line, f"expected a list of spans [{{\"start\", \"end\", \"label\"}}] or [[start, end, label]], "
            f"found {type(value).__name__}"
        )
    triples = []
    for item in value:
        if isinstance(item, dict):
            start = item.get("start", item.get("start_offset"))
            end = item.get("end", item.get("end_offset"))
            triples.append((start, end, item.get("label")))
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            triples.append(tuple(item))
        else:
            return [], LineError(line, f"expected a span {{\"start\", \"end\", \"label\"}} or [start, end, label], found {item!r}")
    return triples, None


def _ner(obj, key, text, tokens, line, warnings) -> tuple[Record | None, list[LineError]]:
    if key is None:
        return Record(line, text, tokens, status="unlabeled"), []
    if key not in obj:
        return None, [LineError(line, f"no key {key!r} in this record; found keys {sorted(obj)}")]
    triples, err = _span_triples(obj[key], line)
    if err:
        return None, [err]
    spans, errors = snap_spans(text, tokens, triples, line, warnings)
    return Record(line, text, tokens, spans=spans), errors


def _classification(obj, key, text, tokens, line, options) -> tuple[Record | None, list[LineError]]:
    if key is None:
        return Record(line, text, tokens, status="unlabeled"), []
    if key not in obj:
        return None, [LineError(line, f"no key {key!r} in this record; found keys {sorted(obj)}")]
    value = obj[key]
    if value is None or value == "" or value == []:
        return Record(line, text, tokens, status="unlabeled"), []
    if isinstance(value, dict):
        value = [k for k, score in value.items() if isinstance(score, (int, float)) and score >= 0.5]
    elif isinstance(value, str):
        value = [value]
    elif not isinstance(value, list):
        return None, [LineError(line, f"expected a label or a list of labels in {key!r}, found {value!r}")]
    cats, errors = check_categories(value, line, options)
    return Record(line, text, tokens, categories=cats), errors


def write_jsonl(samples: Iterable, out: TextIO, task: str) -> int:
    """Prodigy-shaped records with our split/status/meta; read back by parse_jsonl exactly."""
    count = 0
    for s in samples:
        obj: dict = {"text": s.text}
        if task == "ner":
            tokens = [(int(a), int(b)) for a, b in s.tokens]
            index = {a: i for i, (a, _) in enumerate(tokens)}
            ends = {b: i for i, (_, b) in enumerate(tokens)}
            obj["tokens"] = [{"text": s.text[a:b], "start": a, "end": b, "id": i} for i, (a, b) in enumerate(tokens)]
            obj["spans"] = [
                {"start": a, "end": b, "label": l, "token_start": index.get(a), "token_end": ends.get(b)}
                for a, b, l in s.spans
            ]
        else:
            obj["categories"] = list(s.categories)
        obj.update({"split": s.split, "status": s.status, "meta": s.meta or {}})
        out.write(json.dumps(obj, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count
