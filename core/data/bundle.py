"""Project bundles (``.tagtune``): a whole project in one file, to move it between machines.

JSON Lines: the first line is the project (name, task, multi-label, language, import
options) and its labels in order (colour, hotkey, description); then one line per sample
(text, word tokens, split, status, meta, priority, annotator, seconds spent, last change)
with every annotation (source human/model/llm, label, offsets, annotator, time, seconds,
confidence). Importing a bundle creates the project, all or nothing; exporting it again gives
the same file. Runs and trained models are not in a bundle (their folders move as they are).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from core.base.errors import UserError
from core.base.store import sessions
from core.base.types import SPLITS, STATUSES
from core.data.formats.base import Errors, LineError, iter_lines, meta_problem, quote, text_problem
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import AlreadyExists

MAGIC = "tagtune_bundle"
VERSION = 1
SOURCES = ("human", "model", "llm")  # annotations.source (a CHECK constraint)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def write_bundle(project: str, out: TextIO, S: sessionmaker[Session] | None = None) -> int:
    S = S or sessions()
    count = 0
    with S.begin() as s:
        p = project_repo.get_project(s, project)
        head = {
            MAGIC: VERSION,
            "project": {"name": p.name, "task": p.task, "multilabel": p.multilabel, "language": p.language,
                        "import_options": p.import_options or {}, "created_at": _time(p.created_at)},
            "labels": [{"name": l.name, "colour": l.colour, "hotkey": l.hotkey, "description": l.description or ""}
                       for l in project_repo.labels_of(s, p)],
        }
        out.write(json.dumps(head, ensure_ascii=False) + "\n")
        dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
        for sample, anns in sample_repo.iter_for_bundle(s, p):
            row = {
                "text": sample.text, "split": sample.split, "status": sample.status, "priority": sample.priority,
                "annotator": sample.annotator, "seconds": sample.seconds_spent, "updated_at": _time(sample.updated_at),
                "annotations": [
                    {"label": a.name, "start": a.start_char, "end": a.end_char, "source": a.source,
                     "annotator": a.annotator, "created_at": _time(a.created_at), "seconds": a.seconds,
                     "confidence": a.confidence}
                    for a in anns
                ],
            }
            # tokens and meta are spliced in as the JSON text the database holds (no decode/encode
            # of two million token pairs); the line is still one JSON object
            out.write(dumps(row)[:-1])
            out.write(f', "tokens": {sample.tokens_json}, "meta": {sample.meta_json or "{}"}}}\n')
            count += 1
    return count


def import_bundle(data: bytes, name: str | None = None, S: sessionmaker[Session] | None = None) -> dict:
    """Create a project from a bundle (under ``name`` if given); nothing is written on any error."""
    from core.data.formats.base import decode

    S = S or sessions()
    decoded = decode(data)
    if decoded.text is None:
        return _failed(Errors(decoded.errors))
    lines = iter_lines(decoded.text)
    head_line = next(((n, l) for n, l in lines if l.strip()), None)
    errors = Errors()
    try:
        head = json.loads(head_line[1]) if head_line else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get(MAGIC) != VERSION:
        return _failed(Errors([LineError(head_line[0] if head_line else 0,
                                         f"not a Tagtune project bundle (version {VERSION}): the first line must be "
                                         f"{{\"{MAGIC}\": {VERSION}, \"project\": ...}}; export one with --format bundle")]))
    proj, labels = head.get("project") or {}, head.get("labels") or []
    label_names = {l.get("name") for l in labels if isinstance(l, dict)}
    samples = []
    for number, line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            sample, problem = _sample(row, label_names)
        except (ValueError, RecursionError, KeyError, TypeError) as exc:
            sample, problem = None, f"not a bundle sample ({type(exc).__name__}: {quote(str(exc))}); export the bundle again"
        if problem:
            errors.append(LineError(number, problem))
        else:
            samples.append(sample)
    if errors:
        return _failed(errors)
    target = (name or proj.get("name") or "").strip()
    try:
        with S.begin() as s:
            project = project_repo.create_project(s, target, proj.get("task"), [], bool(proj.get("multilabel")),
                                                  proj.get("language") or "en")
            project.import_options = proj.get("import_options") or {}
            specs = [project_repo.LabelSpec(l["name"], l.get("colour"), l.get("hotkey"), l.get("description") or "")
                     for l in labels]
            project_repo.update_labels(s, project, specs)
            imported = sample_repo.add_samples(s, project, samples)
    except AlreadyExists as exc:
        raise UserError(f"{exc} (import the bundle under another name with --name)") from exc
    except ValueError as exc:
        raise UserError(f"the bundle's project or labels are not valid: {exc}") from exc
    return {"project": target, "imported": imported, "labels": [l["name"] for l in labels], "errors": [],
            "error_count": 0}


def _failed(errors: Errors) -> dict:
    return {"project": None, "imported": 0, "errors": [e.as_dict() for e in errors], "error_count": len(errors)}


def _sample(row: dict, labels: set) -> tuple[sample_repo.NewSample | None, str | None]:
    text = row["text"]
    if not isinstance(text, str) or not text:
        return None, "expected a non-empty 'text'"
    problem = text_problem(text) or meta_problem(row.get("meta") or {})
    if problem:
        return None, problem
    if row["split"] not in SPLITS or row["status"] not in STATUSES:
        return None, f"unknown split {quote(row['split'])} or status {quote(row['status'])}"
    anns = []
    for a in row.get("annotations") or []:
        if a["label"] not in labels:
            return None, f"annotation label {quote(a['label'])} is not among the bundle's labels"
        if a["source"] not in SOURCES:
            return None, f"annotation source {quote(a['source'])}: expected one of {', '.join(SOURCES)}"
        start, end = a.get("start"), a.get("end")
        if (start is None) != (end is None) or (start is not None and not 0 <= start < end <= len(text)):
            return None, f"annotation [{start}, {end}) is outside the text of {len(text)} characters"
        anns.append({**a, "created_at": _parse(a.get("created_at"))})
    tokens = [tuple(t) for t in row["tokens"]]
    return sample_repo.NewSample(
        text=text, tokens=tokens, split=row["split"], status=row["status"], meta=row.get("meta") or {},
        annotator=row.get("annotator"), annotated_at=_parse(row.get("updated_at")), seconds=row.get("seconds") or 0.0,
        priority=row.get("priority") or 0.0, annotations=anns,
    ), None


def _parse(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
