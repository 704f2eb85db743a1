"""Label Studio tasks: ``{"data": {"text"}, "annotations": [{"result": [...]}], "meta"}``.

Read: ``labels`` results become spans, ``choices`` results categories; the first annotation
that was not cancelled is used (several: the import says so); a task whose annotations were
all cancelled is skipped, one without annotations is unlabelled. Older exports call
annotations ``completions``. Other result kinds (relations, text areas, boxes) and
predictions are left out, and the import says how many. ``completed_by`` becomes the
annotator, ``updated_at``/``created_at`` the time, ``lead_time`` the seconds spent.
Write: one task per sample, the sample's meta beside the text in ``data``, its split in the
task's ``meta``, human annotations as one annotation.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from core.data.formats.base import LineError, Record, check_categories, check_split, check_text, snap_spans
from core.text.tokenize import word_offsets

TASK_ID = "label_studio_id"  # meta key keeping the task id, so a re-export can be matched


def read_task(task: dict, line: int, reader) -> tuple[Record | None, list[LineError]]:
    options, warnings = reader.options, reader.warnings
    data = task["data"]
    text_key = options.text_column or ("text" if "text" in data else _only_text_key(data))
    if text_key is None:
        return None, [LineError(line, f"no text in the task's data (keys {sorted(data)[:10]}); name the key "
                                      "with --text-column")]
    text, err = check_text(data.get(text_key), line, f"data.{text_key}")
    if err:
        return None, [err]
    meta = {k: v for k, v in data.items() if k != text_key}
    task_meta = task.get("meta") if isinstance(task.get("meta"), dict) else {}
    split, err = check_split(task_meta.get("split"), line)
    if err:
        return None, [err]
    meta.update({k: v for k, v in task_meta.items() if k != "split"})
    if "id" in task:
        meta[TASK_ID] = task["id"]
    if task.get("predictions"):
        warnings.add("{n} Label Studio task{s} had predictions, left out (only annotations are imported)", line)
    tokens = word_offsets(text)
    annotations = task.get("annotations", task.get("completions")) or []
    live = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not live:
        status = "skipped" if annotations else "unlabeled"
        return Record(line, text, tokens, status=status, split=split, meta=meta), []
    if len(live) > 1:
        warnings.add("{n} Label Studio task{s} had several annotations: the first was kept", line)
    ann = live[0]
    raw_spans, choices, other = [], [], 0
    for result in ann.get("result") or []:
        kind, value = result.get("type"), result.get("value") or {}
        if kind == "labels" and isinstance(value.get("labels"), list):
            if len(value["labels"]) > 1:
                warnings.add("{n} Label Studio span{s} had several labels: the first was kept", line)
            raw_spans.append((value.get("start"), value.get("end"), value["labels"][0] if value["labels"] else None))
        elif kind == "choices" and isinstance(value.get("choices"), list):
            choices.extend(value["choices"])
        else:
            other += 1
    if other:
        warnings.add("{n} Label Studio result{s} of another kind (relations, text areas, regions) left out", line, other)
    record = Record(line, text, tokens, split=split, meta=meta)
    if options.task == "ner":
        if choices:
            warnings.add("{n} Label Studio choice{s} left out: this is an NER project", line, len(choices))
        spans, errors = snap_spans(text, tokens, list(dict.fromkeys(raw_spans)), line, warnings)
        record.spans = spans
    else:
        if raw_spans:
            warnings.add("{n} Label Studio span{s} left out: this is a classification project", line, len(raw_spans))
        cats, errors = check_categories(choices, line, options)
        record.categories = cats
    if errors:
        return None, errors
    who = ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    record.annotator = None if who is None else str(who)
    from core.data.formats.jsonl import parse_time

    record.annotated_at = parse_time(ann.get("updated_at") or ann.get("created_at"))
    if isinstance(ann.get("lead_time"), (int, float)) and ann["lead_time"] >= 0:
        record.seconds = float(ann["lead_time"])
    return record, []


def _only_text_key(data: dict) -> str | None:
    keys = [k for k, v in data.items() if isinstance(v, str)]
    return keys[0] if len(keys) == 1 else None


def task_of(s, task: str) -> dict:
    out: dict = {"data": {"text": s.text, **{k: v for k, v in (s.meta or {}).items() if k not in ("text", TASK_ID)}},
                 "meta": {"split": s.split}}
    if (s.meta or {}).get(TASK_ID) is not None:
        out["id"] = s.meta[TASK_ID]
    if s.status == "unlabeled":
        out["annotations"] = []
        return out
    if task == "ner":
        result = [{"from_name": "label", "to_name": "text", "type": "labels",
                   "value": {"start": a, "end": b, "text": s.text[a:b], "labels": [l]}} for a, b, l in s.spans]
    else:
        result = [{"from_name": "choice", "to_name": "text", "type": "choices",
                   "value": {"choices": list(s.categories)}}] if s.categories else []
    ann: dict = {"result": result, "was_cancelled": s.status == "skipped"}
    if getattr(s, "annotator", None) is not None:
        ann["completed_by"] = s.annotator
    if getattr(s, "annotated_at", None) is not None:
        ann["created_at"] = ann["updated_at"] = s.annotated_at + "Z"
    if getattr(s, "seconds", None):
        ann["lead_time"] = s.seconds
    out["annotations"] = [ann]
    return out


def write_labelstudio(samples: Iterable, out: TextIO, task: str) -> int:
    """A JSON array of Label Studio tasks, one a line."""
    from core.data.formats.jsonl import write_array

    return write_array((task_of(s, task) for s in samples), out)
