"""JSON Lines (``.jsonl``) and JSON documents (``.json``: an array, one object, or objects
one after another, pretty-printed or not). Every element is read by the same record reader:

NER records carry character spans in any of these shapes:
  Prodigy  ``{"text", "spans": [{"start", "end", "label"}], "tokens": [{"start", "end"}]?}``
  doccano  ``{"text", "label"|"labels": [[start, end, "LABEL"]]}`` or ``"entities": [{"start_offset", ...}]``
  spaCy    ``["text", {"entities": [[start, end, "LABEL"]]}]``
  Label Studio  tasks ``{"data": {"text"}, "annotations"|"completions": [{"result": [...]}]}`` (``labels``
           and ``choices`` results) and JSON-MIN ``{"text", "label": [{"start", "end", "labels": [...]}]}``
  Hugging Face datasets  ``{"tokens": [...], "ner_tags": [ids or tags]}`` (names from ``tag_names``)
Classification records carry a label (string), labels (list), Prodigy's ``accept`` list or
``cats`` ({"A": 1.0, "B": 0.0}: labels scored 0.5 or more), Label Studio choices, or a
Hugging Face class id (names from ``tag_names``).

Prodigy answers: ``accept`` gives labels; ``reject`` is never a positive label: the sample is
imported unlabelled (back in the queue) and the rejected labels/spans are kept in
``meta["rejected"]`` for reference, unused by training; ``ignore`` marks it skipped. Tasks
repeated with the same ``_task_hash`` count once (the last answer wins); answers on the same
``_input_hash`` (ner.teach, textcat.teach: one task per suggestion) fold into one sample.

``split``, ``status``, ``meta``, ``annotator``, ``annotated_at`` and ``seconds`` are read back
as our export writes them, so export then import gives the same samples. Other keys go into
``meta`` (keys starting with ``_``, Prodigy's hashes, are dropped).
"""
from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from core.base.types import STATUSES, Span
from core.data.formats.base import (
    FILE_LEVEL, TEXT_NAMES, Errors, LineError, ParseOptions, ParseResult, Record, Warnings, check_categories,
    check_split, check_text, iter_lines, quote, snap_spans,
)
from core.text.spans import SchemeDetector, TagError, decode, split_tag
from core.text.tokenize import join_words, word_offsets

NER_KEYS = ("spans", "label", "labels", "entities")
CATEGORY_KEYS = ("categories", "label", "labels", "accept", "cats", "sentiment", "choice", "choices", "class", "category")
OURS = {"text", "tokens", "meta", "split", "status", "answer", "annotator", "annotated_at", "seconds", "annotation_source"}
LS_MIN = {"annotation_id", "lead_time", "created_at", "updated_at"}  # Label Studio JSON-MIN bookkeeping
ANSWERS = ("accept", "reject", "ignore")
REJECTED = "rejected"  # meta key holding what a Prodigy 'reject' answer said


@dataclass
class Answer:
    """Prodigy bookkeeping of one record."""

    answer: str | None
    input_hash: object
    task_hash: object


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON (no database stores it the same way); write null or a string")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def _loads(line: str):
    return _DECODER.decode(line)


def json_error(exc: Exception, where: str = "") -> str:
    if isinstance(exc, RecursionError):
        return f"JSON nested too deeply{where} (more than ~{_depth_hint()} levels); flatten the record"
    if isinstance(exc, json.JSONDecodeError):
        return (f"not valid JSON ({exc.msg} at column {exc.colno}){where}; is the line truncated? "
                "expected one complete JSON object per line: fix or remove the line")
    return f"{exc}{where}"


def _depth_hint() -> int:
    import sys

    return sys.getrecursionlimit()


class Reader:
    """Turns decoded JSON values into records; keeps what the whole file needs (warnings,
    tag scheme, Prodigy answers)."""

    def __init__(self, options: ParseOptions) -> None:
        self.options = options
        self.warnings = Warnings()
        self.errors = Errors()
        self.items: list[tuple[Record, Answer | None]] = []
        self.invalid = 0
        self.detector = SchemeDetector()

    def add(self, value, line: int) -> None:
        try:
            record, problems, answer = self._read(value, line)
        except RecursionError:
            record, problems, answer = None, [LineError(line, json_error(RecursionError()))], None
        if problems:
            self.errors.extend(problems)
            self.invalid += 1
        elif record is not None:
            self.items.append((record, answer))

    def bad_json(self, line: int, exc: Exception) -> None:
        self.errors.append(LineError(line, json_error(exc)))
        self.invalid += 1

    def result(self) -> ParseResult:
        records, merged = merge_answers(self.items, self.options, self.warnings, self.errors)
        if merged:
            self.warnings.add("{n} Prodigy answer{s} folded into the sample of the same input "
                              "(same _input_hash or repeated _task_hash)", records[0].line if records else 0, merged)
        if not records and not self.errors:
            self.errors.append(LineError(FILE_LEVEL, "found no JSON objects: expected {\"text\": ...} objects"))
        report = self.detector.report()
        scheme = report.scheme if report.scheme != "none" else None
        return ParseResult(records, self.errors, self.warnings.as_list(), self.invalid,
                           scheme=scheme, merged=merged)

    # ---- one value ----------------------------------------------------------------------------

    def _read(self, value, line: int) -> tuple[Record | None, list[LineError], Answer | None]:
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
            value = {"text": value[0], **value[1]}  # spaCy's (text, annotations) training tuples
        if not isinstance(value, dict):
            return None, [LineError(line, f"expected a JSON object {{\"text\": ...}}, found a {type(value).__name__}; "
                                 "write each sample as one object")], None
        if isinstance(value.get("data"), dict):
            from core.data.formats.labelstudio import read_task

            record, problems = read_task(value, line, self)
            return record, problems, None
        if isinstance(value.get("tokens"), list) and ("ner_tags" in value or "tags" in value) and \
                all(isinstance(t, str) for t in value["tokens"]):
            record, problems = self._hf_tokens(value, line)
            return record, problems, None
        return self._generic(value, line)

    def _generic(self, obj: dict, line: int) -> tuple[Record | None, list[LineError], Answer | None]:
        options = self.options
        text_key = options.text_column or "text"
        if text_key not in obj and not options.text_column:
            text_key = next((k for k in TEXT_NAMES if isinstance(obj.get(k), str)), text_key)
            if text_key != "text":
                self.warnings.add(f"{{n}} record{{s}} had no 'text' key: the texts are read from {text_key!r}; "
                                  "choose another text column if that is wrong", line)
        text, err = check_text(obj.get(text_key), line, f"{text_key!r}")
        if err:
            return None, [err], None
        split, err = check_split(obj.get("split"), line)
        if err:
            return None, [err], None
        meta = obj.get("meta", {})
        if not isinstance(meta, dict):
            return None, [LineError(line, f"expected 'meta' to be an object, found {type(meta).__name__}; "
                                          "make it {\"key\": value} or drop it")], None
        tokens, err = _tokens(obj.get("tokens"), text, line)
        if err:
            return None, [err], None
        if options.task == "ner":
            key = options.label_column or next((k for k in NER_KEYS if k in obj and _span_like(obj[k])), None)
            record, errors = self._ner(obj, key, text, tokens, line)
        else:
            key = options.label_column or next((k for k in CATEGORY_KEYS if k in obj), None)
            record, errors = self._classification(obj, key, text, tokens, line)
        if errors:
            return None, errors, None
        status, err = _status(obj, line, labelled=record.status == "labeled")
        if err:
            return None, [err], None
        record.status, record.split = status, split
        lsmin = "annotation_id" in obj or "lead_time" in obj
        skip = OURS | {key, text_key} | (LS_MIN if lsmin else set())
        extra = {k: v for k, v in obj.items() if k not in skip and not k.startswith("_")}
        record.meta = {**extra, **meta}
        err = _who_and_when(obj, record, line, lsmin)
        if err:
            return None, [err], None
        answer = None
        if "answer" in obj and "status" not in obj:
            if obj["answer"] not in ANSWERS:
                return None, [LineError(line, f"unknown Prodigy answer {quote(obj['answer'])}: expected accept, "
                                              "reject or ignore; fix the answer")], None
            answer = Answer(obj["answer"], obj.get("_input_hash"), obj.get("_task_hash"))
        return record, [], answer

    def _ner(self, obj, key, text, tokens, line) -> tuple[Record | None, list[LineError]]:
        if key is None:
            return Record(line, text, tokens, status="unlabeled"), []
        if key not in obj:
            return None, [LineError(line, f"no key {key!r} in this record; found keys {sorted(obj)[:20]}")]
        own = None if _derived_tokens(obj.get("tokens")) else tokens
        triples, err = _span_triples(obj[key], line, own)
        if err:
            return None, [err]
        triples = list(dict.fromkeys(triples))  # the same span twice is one span
        spans, errors = snap_spans(text, tokens, triples, line, self.warnings)
        return Record(line, text, tokens, spans=spans), errors

    def _classification(self, obj, key, text, tokens, line) -> tuple[Record | None, list[LineError]]:
        if key is None:
            return Record(line, text, tokens, status="unlabeled"), []
        if key not in obj:
            return None, [LineError(line, f"no key {key!r} in this record; found keys {sorted(obj)[:20]}")]
        value = obj[key]
        if value is None or value == "" or value == []:
            return Record(line, text, tokens, status="unlabeled"), []
        if isinstance(value, dict) and isinstance(value.get("choices"), list):  # Label Studio JSON-MIN
            value = value["choices"]
        elif isinstance(value, dict):
            value = [k for k, score in value.items() if isinstance(score, (int, float)) and score >= 0.5]
        elif isinstance(value, str):
            value = [value]
        elif isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        elif not isinstance(value, list):
            return None, [LineError(line, f"expected a label or a list of labels in {key!r}, found {quote(value)}")]
        if any(isinstance(v, int) and not isinstance(v, bool) for v in value):
            value, err = self._names(value, line, key)
            if err:
                return None, [err]
        cats, errors = check_categories(value, line, self.options)
        return Record(line, text, tokens, categories=cats), errors

    def _names(self, ids: list, line: int, key: str) -> tuple[list, LineError | None]:
        names = self.options.tag_names
        if not names:
            return [], LineError(line, f"{key!r} holds class ids ({quote(ids[:5])}) but no names were given: pass "
                                       "--tag-names A,B,C (in id order) or --tag-names dataset_info.json")
        out = []
        for i in ids:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(names):
                return [], LineError(line, f"id {quote(i)} in {key!r} is not one of the {len(names)} names given "
                                           f"(0..{len(names) - 1}); check --tag-names")
            out.append(names[i])
        return out, None

    def _hf_tokens(self, obj: dict, line: int) -> tuple[Record | None, list[LineError]]:
        """Hugging Face datasets token classification: ``tokens`` plus ``ner_tags`` (ids or tags)."""
        if self.options.task != "ner":
            return None, [LineError(line, "tokens with ner_tags are NER data: import them into an NER project")]
        key = "ner_tags" if "ner_tags" in obj else "tags"
        words, tags = obj["tokens"], obj[key]
        if not isinstance(tags, list) or len(tags) != len(words):
            found = len(tags) if isinstance(tags, list) else type(tags).__name__
            return None, [LineError(line, f"{key!r} must give one tag per token: {len(words)} tokens, found {found}; "
                                          "fix the tags")]
        if not words:
            return None, [LineError(line, "the record has no tokens; remove it")]
        if any(not w.strip() for w in words):
            return None, [LineError(line, "a token is blank; remove it from 'tokens' and its tag")]
        if any(isinstance(t, int) and not isinstance(t, bool) for t in tags):
            tags, err = self._names(tags, line, key)
            if err:
                return None, [err]
        for t in tags:
            try:
                split_tag(t) if isinstance(t, str) else split_tag(repr(t))
            except TagError as exc:
                return None, [LineError(line, str(exc))]
        text, offsets = join_words([w.strip() for w in words])
        spans = decode(offsets, tags, self.detector)
        meta = {k: v for k, v in obj.items() if k not in ("tokens", key, "split", "meta") and not k.startswith("_")}
        split, err = check_split(obj.get("split"), line)
        if err:
            return None, [err]
        meta.update(obj.get("meta") or {})
        return Record(line, text, offsets, spans, split=split, meta=meta), []


def _span_like(value) -> bool:
    """A list of spans (or an empty list), not a class label: ``"label": "pos"`` is classification."""
    if not isinstance(value, list):
        return False
    return all(isinstance(v, dict) or (isinstance(v, (list, tuple)) and len(v) == 3) for v in value)


def _status(obj: dict, line: int, labelled: bool) -> tuple[str, LineError | None]:
    if "status" in obj:
        if obj["status"] not in STATUSES:
            return "", LineError(line, f"unknown status {quote(obj['status'])}: expected one of {', '.join(STATUSES)}; "
                                 "fix it or drop the key")
        return obj["status"], None
    return ("labeled" if labelled else "unlabeled"), None


def _who_and_when(obj: dict, record: Record, line: int, lsmin: bool) -> LineError | None:
    """Annotator, time and seconds spent: ours, Label Studio JSON-MIN's or Prodigy's."""
    who = obj.get("annotator", obj.get("_annotator_id"))
    if who is not None:
        record.annotator = str(who)
    when = obj.get("annotated_at")
    if when is None and lsmin:
        when = obj.get("updated_at") or obj.get("created_at")
    if when is None and isinstance(obj.get("_timestamp"), (int, float)):
        when = datetime.fromtimestamp(obj["_timestamp"], timezone.utc).replace(tzinfo=None).isoformat()
    if when is not None:
        parsed = parse_time(when)
        if parsed is None:
            return LineError(line, f"annotated_at {quote(when)} is not an ISO 8601 time (2024-01-30T02:40:43Z); fix it")
        record.annotated_at = parsed
    seconds = obj.get("seconds", obj.get("lead_time") if lsmin else None)
    if seconds is not None:
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            return LineError(line, f"seconds must be a number >= 0, found {quote(seconds)}")
        record.seconds = float(seconds)
    return None


def parse_time(value) -> str | None:
    """An ISO 8601 time as naive UTC ISO text, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat()


def _derived_tokens(raw) -> bool:
    """Whether a record's ``tokens`` carry no offsets (absent, or plain strings): then they are
    derived from the text, and token indexes in the file do not refer to them."""
    return raw is None or (isinstance(raw, list) and bool(raw) and all(isinstance(t, str) for t in raw))


def _tokens(raw, text: str, line: int) -> tuple[list[tuple[int, int]], LineError | None]:
    """Tokens given in the record (Prodigy shape) are kept; otherwise derived from the text."""
    if _derived_tokens(raw):
        return word_offsets(text), None
    try:  # whole-list comprehensions: a 100k-sentence file has two million tokens
        key_start, key_end = ("start", "end") if raw and isinstance(raw[0], dict) else (0, 1)
        starts = list(map(operator.itemgetter(key_start), raw))
        ends = list(map(operator.itemgetter(key_end), raw))
    except (KeyError, IndexError, TypeError):
        return [], LineError(line, "expected 'tokens' as [{\"start\": S, \"end\": E}, ...]; fix or remove the key")
    if not starts:
        return [], LineError(line, "'tokens' is empty; remove the key to re-tokenise")
    if {type(v) for v in starts} | {type(v) for v in ends} != {int}:
        return [], LineError(line, "token offsets must be integers; fix the tokens or remove the key to re-tokenise")
    flat = [v for pair in zip(starts, ends) for v in pair]
    # in order, inside the text, none empty (C-level checks: a large file has millions of tokens)
    if flat != sorted(flat) or flat[0] < 0 or flat[-1] > len(text) or 0 in map(operator.sub, ends, starts):
        return [], LineError(
            line, f"tokens are out of order or outside the text of {len(text)} characters; "
            "fix the tokens or remove the key to re-tokenise"
        )
    return list(zip(starts, ends)), None


def _span_triples(value, line: int, tokens: list[tuple[int, int]] | None = None) -> tuple[list[tuple], LineError | None]:
    """``(start, end, label)`` per span. A span given only by ``token_start``/``token_end``
    (inclusive, as Prodigy writes them) takes its offsets from the record's own ``tokens``."""
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
            label = item.get("label")
            if label is None and isinstance(item.get("labels"), list) and item["labels"]:  # Label Studio JSON-MIN
                label = item["labels"][0]
            if start is None and end is None and ("token_start" in item or "token_end" in item):
                (start, end), err = _token_offsets(item.get("token_start"), item.get("token_end"), tokens, line)
                if err:
                    return [], err
            triples.append((start, end, label))
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            triples.append(tuple(item))
        else:
            return [], LineError(line, f"expected a span {{\"start\", \"end\", \"label\"}} or [start, end, label], "
                                       f"found {quote(item)}")
    return triples, None


def _token_offsets(first, last, tokens: list[tuple[int, int]] | None, line: int) -> tuple[tuple, LineError | None]:
    if tokens is None:
        return (None, None), LineError(line, "a span gives token_start/token_end but no start/end, and the record has "
                                             "no 'tokens' with offsets to resolve them: add \"start\"/\"end\" "
                                             "character offsets to the span, or the tokens")
    ok = all(isinstance(i, int) and not isinstance(i, bool) for i in (first, last))
    if not ok or not 0 <= first <= last < len(tokens):
        return (None, None), LineError(line, f"span token_start={quote(first)} token_end={quote(last)} does not name "
                                             f"tokens of this record: expected 0 <= token_start <= token_end < "
                                             f"{len(tokens)} (token_end counts the last token in); fix them")
    return (tokens[first][0], tokens[last][1]), None


# ---- Prodigy answers ------------------------------------------------------------------------------

def merge_answers(items: list[tuple[Record, Answer | None]], options: ParseOptions, warnings: Warnings,
                  errors: Errors) -> tuple[list[Record], int]:
    """Apply Prodigy answers and fold repeated tasks/inputs into one sample each."""
    if not any(a is not None for _, a in items):
        return [r for r, _ in items], 0
    last_task: dict = {}
    for i, (_, a) in enumerate(items):
        if a is not None and a.task_hash is not None:
            last_task[a.task_hash] = i
    groups: dict = {}
    for i, (_, a) in enumerate(items):
        if a is not None and a.task_hash is not None and last_task[a.task_hash] != i:
            continue  # the same task answered again later: the later answer wins
        key = a.input_hash if a is not None and a.input_hash is not None else ("row", i)
        groups.setdefault(key, []).append(i)
    out: list[Record] = []
    kept = 0
    for idxs in groups.values():
        kept += len(idxs)
        record, problem = _fold([items[i] for i in idxs], options)
        if problem:
            errors.append(problem)
        else:
            out.append(record)
    return out, len(items) - len(groups)


def _fold(group: list[tuple[Record, Answer | None]], options: ParseOptions) -> tuple[Record | None, LineError | None]:
    first = group[0][0]
    accepted = [r for r, a in group if a is None or a.answer == "accept"]
    rejected = [r for r, a in group if a is not None and a.answer == "reject"]
    spans = sorted({s for r in accepted for s in r.spans})
    for a, b in zip(spans, spans[1:]):
        if b.start < a.end:
            return None, LineError(first.line, f"accepted answers on this text give overlapping spans {a.label} "
                                               f"[{a.start}, {a.end}) and {b.label} [{b.start}, {b.end}); keep one")
    cats = list(dict.fromkeys(c for r in accepted for c in r.categories))
    if len(cats) > 1 and not options.multilabel:
        return None, LineError(first.line, f"accepted answers on this text give {len(cats)} labels {cats} but the "
                                           "project is single-label: keep one, or use a multi-label project")
    record = Record(first.line, first.text, first.tokens, spans, cats, split=first.split, meta=dict(first.meta),
                    annotator=first.annotator, annotated_at=first.annotated_at, seconds=first.seconds)
    if accepted:
        record.status = "labeled"
    elif rejected:
        record.status = "unlabeled"
    else:
        record.status = "skipped"
    if rejected:
        record.meta[REJECTED] = {
            "spans": sorted({(s.start, s.end, s.label) for r in rejected for s in r.spans}),
            "labels": list(dict.fromkeys(c for r in rejected for c in r.categories)),
        }
        record.meta[REJECTED]["spans"] = [list(s) for s in record.meta[REJECTED]["spans"]]
    return record, None


# ---- files ------------------------------------------------------------------------------------------

def parse_jsonl(text: str, options: ParseOptions) -> ParseResult:
    reader = Reader(options)
    for number, line in iter_lines(text):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            reader.bad_json(number, exc)
            continue
        reader.add(value, number)
    return reader.result()


def parse_json(text: str, options: ParseOptions) -> ParseResult:
    """A JSON document: an array of records, one record, or records one after another."""
    reader = Reader(options)
    for line, value in iter_json_values(text, reader):
        reader.add(value, line)
    return reader.result()


def iter_json_values(text: str, reader: Reader) -> Iterator[tuple[int, object]]:
    """``(line, value)`` for each element of a top-level array, or each top-level value."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    pos, line, seen = 0, 1, 0

    def skip(p: int) -> int:
        nonlocal line, seen
        n = len(text)
        while p < n and text[p] in " \t\n":
            p += 1
        line += text.count("\n", seen, p)
        seen = p
        return p

    def decode_at(p: int):
        nonlocal line, seen
        try:
            value, end = _DECODER.raw_decode(text, p)
        except json.JSONDecodeError as exc:
            reader.errors.append(LineError(text.count("\n", 0, exc.pos) + 1, json_error(exc).replace(
                "is the line truncated? expected one complete JSON object per line: fix or remove the line",
                "fix the JSON there (reading stopped at this point)")))
            reader.invalid += 1
            return None, None
        except (RecursionError, ValueError) as exc:
            reader.errors.append(LineError(line, json_error(exc, " (reading stopped here)")))
            reader.invalid += 1
            return None, None
        return value, end

    pos = skip(pos)
    if pos < len(text) and text[pos] == "[":
        pos = skip(pos + 1)
        if pos < len(text) and text[pos] == "]":
            return
        while pos < len(text):
            start_line = line
            value, end = decode_at(pos)
            if end is None:
                return
            yield start_line, value
            line += text.count("\n", pos, end)
            seen = end
            pos = skip(end)
            if pos < len(text) and text[pos] == ",":
                pos = skip(pos + 1)
                continue
            if pos < len(text) and text[pos] == "]":
                return
            reader.errors.append(LineError(line, "expected ',' or ']' after an array element; fix the JSON there"))
            reader.invalid += 1
            return
        reader.errors.append(LineError(line, "the JSON array is not closed (no ']'): is the file truncated?"))
        return
    while pos < len(text):
        start_line = line
        value, end = decode_at(pos)
        if end is None:
            return
        yield start_line, value
        line += text.count("\n", pos, end)
        seen = end
        pos = skip(end)


# ---- writers -----------------------------------------------------------------------------------------

def export_record(s, task: str) -> dict:
    """Prodigy-shaped record with our split/status/meta/annotator; read back exactly by the reader."""
    obj: dict = {"text": s.text}
    if task == "ner":
        tokens = [(int(a), int(b)) for a, b in s.tokens]
        index = {a: i for i, (a, _) in enumerate(tokens)}
        ends = {b: i for i, (_, b) in enumerate(tokens)}
        text = s.text
        obj["tokens"] = [{"text": text[a:b], "start": a, "end": b, "id": i} for i, (a, b) in enumerate(tokens)]
        obj["spans"] = [
            {"start": a, "end": b, "label": l, "token_start": index.get(a), "token_end": ends.get(b)}
            for a, b, l in s.spans
        ]
    else:
        obj["categories"] = list(s.categories)
    obj.update({"split": s.split, "status": s.status, "meta": s.meta or {}})
    if getattr(s, "annotator", None) is not None:
        obj["annotator"] = s.annotator
    if getattr(s, "annotated_at", None) is not None:
        obj["annotated_at"] = s.annotated_at
    if getattr(s, "seconds", None):
        obj["seconds"] = s.seconds
    if s.status != "unlabeled":
        obj["annotation_source"] = "human"  # the export carries human annotations (not model suggestions)
    return obj


_ENCODE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def write_jsonl(samples: Iterable, out: TextIO, task: str) -> int:
    count = 0
    for s in samples:
        out.write(_ENCODE(export_record(s, task)))
        out.write("\n")
        count += 1
    return count


def write_json(samples: Iterable, out: TextIO, task: str) -> int:
    """The same records as JSONL, as one JSON array (one record a line, so it diffs well)."""
    return write_array((export_record(s, task) for s in samples), out)


def write_array(objects: Iterable[dict], out: TextIO) -> int:
    """A JSON array written one element a line; returns the count."""
    count = 0
    out.write("[")
    for obj in objects:
        out.write(",\n" if count else "\n")
        out.write(_ENCODE(obj))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


__all__ = ["Reader", "parse_json", "parse_jsonl", "write_json", "write_jsonl", "Span"]
