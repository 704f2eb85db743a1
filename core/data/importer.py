"""Import a file into a project: all or nothing.

Everything is parsed and checked before the database is touched; when any line is bad
nothing is written (unless ``skip_invalid``), so a bad file never leaves half an import.
The good records then go in with one transaction through the repository functions, and
labels found in the data are added to the project. Two imports adding the same new label
at once both succeed: the loser of the race retries once on the label's unique constraint.
"""
from __future__ import annotations

import gc
import json
import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.base.errors import UserError
from core.base.store import sessions
from core.base.types import SPLITS
from core.data import formats
from core.data.formats import ParseOptions, ParseResult
from core.text.spans import SchemeReport
from db import projects as project_repo
from db import samples as sample_repo
from db.models import Sample

IMPORT_ANNOTATOR = "import"
PREVIEW_ROWS = 20
DUPLICATES = ("keep", "skip")


@dataclass(frozen=True)
class ImportRequest:
    project: str
    filename: str
    fmt: str | None = None  # None: from the file's extension
    split: str | None = None  # overrides any split the file gives
    text_column: str | None = None
    label_column: str | None = None
    skip_invalid: bool = False
    tag_names: tuple[str, ...] | None = None  # Hugging Face class ids -> names
    duplicates: str = "keep"  # samples whose normalised text is already there: keep or skip
    decode_entities: bool | None = None  # None: the project's remembered choice

    def __post_init__(self) -> None:
        if self.split is not None and self.split not in SPLITS:
            raise UserError(f"unknown split {self.split!r}: expected one of {', '.join(SPLITS)}")
        if self.fmt is not None and self.fmt not in formats.IMPORT_FORMATS:
            raise UserError(f"unknown format {self.fmt!r}: expected one of {', '.join(formats.IMPORT_FORMATS)}")
        if self.duplicates not in DUPLICATES:
            raise UserError(f"unknown duplicates choice {self.duplicates!r}: expected keep or skip")


def text_key(text: str) -> str:
    """The normalised text duplicates are found by (kept in a hash set): Unicode NFC, runs of
    whitespace as one space, no outer whitespace (case is kept: "Apple" and "apple" differ)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def tag_names(value: str | None) -> tuple[str, ...] | None:
    """``--tag-names``: ``A,B,C`` in id order, or a dataset_info.json / features JSON file."""
    if not value:
        return None
    if value.endswith(".json"):
        from core.data.formats.binary import features_of, hf_names

        path = Path(value)
        if not path.is_file():
            raise UserError(f"no file at {value!r}: expected a dataset_info.json with the features; check the path")
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"{value!r} is not valid JSON ({exc}); point --tag-names at dataset_info.json") from exc
        names = hf_names(features_of(info) or info)
        if not names:
            raise UserError(f"no ClassLabel names for ner_tags or label in {value!r}; pass --tag-names A,B,C instead")
        return names
    return tuple(n.strip() for n in value.split(","))


def _options(request: ImportRequest, project) -> ParseOptions:
    decode = request.decode_entities
    if decode is None:
        decode = bool((project.import_options or {}).get("decode_entities", False))
    return ParseOptions(project.task, project.multilabel, request.text_column, request.label_column,
                        request.tag_names, decode)


def check(request: ImportRequest, data: bytes, S: sessionmaker[Session] | None = None) -> tuple[str, ParseResult]:
    """The format used and the parse of ``data`` against the project's task; writes nothing."""
    S = S or sessions()
    with S.begin() as s:
        project = project_repo.get_project(s, request.project)
        options = _options(request, project)
    fmt = request.fmt or formats.detect_format(request.filename, data)
    if fmt == "bundle":
        raise UserError("a .tagtune file is a whole project: use `project import FILE` (or the Projects page) to "
                        "create a project from it")
    return fmt, formats.parse(data, fmt, options)


@dataclass
class Duplicates:
    in_project: int = 0  # records whose text the project already has
    in_file: int = 0  # records repeating an earlier record of the file
    drop: frozenset[int] = frozenset()  # record indices to leave out when skipping

    def as_dict(self, action: str) -> dict:
        return {"in_project": self.in_project, "in_file": self.in_file, "action": action,
                "skipped": len(self.drop) if action == "skip" else 0}


def find_duplicates(s: Session, project, result: ParseResult) -> Duplicates:
    known = {text_key(t) for t in s.scalars(select(Sample.text).where(Sample.project_id == project.id))}
    seen: set[str] = set()
    drop: list[int] = []
    in_project = in_file = 0
    for i, r in enumerate(result.records):
        key = text_key(r.text)
        if key in known:
            in_project += 1
            drop.append(i)
        elif key in seen:
            in_file += 1
            drop.append(i)
        seen.add(key)
    return Duplicates(in_project, in_file, frozenset(drop))


def _scheme(result: ParseResult) -> dict | None:
    if not result.scheme:
        return None
    return {"name": result.scheme, "description": SchemeReport(result.scheme).describe()}


def preview(request: ImportRequest, data: bytes, S: sessionmaker[Session] | None = None) -> dict:
    """What an import would do, for the Data page: counts, labels, errors and the first records."""
    S = S or sessions()
    fmt, result = check(request, data, S)
    with S.begin() as s:
        dupes = find_duplicates(s, project_repo.get_project(s, request.project), result)
    return {
        "format": fmt,
        "records": len(result.records),
        "invalid": result.invalid,
        "labels": result.labels,
        "errors": [e.as_dict() for e in result.errors],
        "error_count": len(result.errors),
        "warnings": result.warnings,
        "scheme": _scheme(result),
        "duplicates": dupes.as_dict(request.duplicates),
        "rows": [
            {
                "line": r.line,
                "text": r.text,
                "labels": [f"{r.text[s.start:s.end]} ({s.label})" for s in r.spans] or r.categories,
                "status": r.status,
                "split": request.split or r.split or "unassigned",
            }
            for r in result.records[:PREVIEW_ROWS]
        ],
    }


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a large import creates millions of small objects and
    no cycles, and each full collection rescans them all (it tripled the import time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_bytes(request: ImportRequest, data: bytes, S: sessionmaker[Session] | None = None) -> dict:
    """Parse, check and (when clean, or with skip_invalid) write. Returns the import report:
    ``{"imported", "skipped", "errors": [first 100 {"line", "message"}], "error_count", "warnings",
    "labels_added", "format", "scheme", "duplicates", "valid"}`` (``valid``: records that passed)."""
    with no_gc():
        return _import(request, data, S or sessions())


class _LabelRace(Exception):
    """Another import added one of our new labels between our read and our insert."""


def _import(request: ImportRequest, data: bytes, S: sessionmaker[Session]) -> dict:
    fmt, result = check(request, data, S)
    report = {
        "imported": 0,
        "skipped": 0,
        "errors": [e.as_dict() for e in result.errors],
        "error_count": len(result.errors),
        "warnings": result.warnings,
        "labels_added": [],
        "format": fmt,
        "scheme": _scheme(result),
        "duplicates": None,
        "valid": len(result.records),
    }
    if (result.errors and not request.skip_invalid) or not result.records:
        return report
    for attempt in range(2):
        try:
            with S.begin() as s:
                project = project_repo.get_project(s, request.project)
                dupes = find_duplicates(s, project, result)
                new = _add_labels(s, project, result.labels)
                drop = dupes.drop if request.duplicates == "skip" else frozenset()
                report["imported"] = sample_repo.add_samples(
                    s, project, _new_samples(result, request.split, drop), annotator=IMPORT_ANNOTATOR)
                if request.decode_entities is not None:
                    project_repo.set_import_option(s, project, "decode_entities", request.decode_entities)
            break
        except _LabelRace:
            if attempt:
                raise UserError("another import added the same labels at the same moment twice in a row; "
                                "import the file again") from None
    report["skipped"] = result.invalid
    report["labels_added"] = new
    report["duplicates"] = dupes.as_dict(request.duplicates)
    return report


def _add_labels(s: Session, project, names: list[str]) -> list[str]:
    known = {l.name for l in project_repo.labels_of(s, project)}
    new = [name for name in names if name not in known]
    try:
        project_repo.ensure_labels(s, project, [project_repo.LabelSpec(n) for n in new])
    except IntegrityError as exc:  # the whole transaction rolls back and is tried once more
        raise _LabelRace() from exc
    return new


def import_path(request: ImportRequest, path: str | os.PathLike, S: sessionmaker[Session] | None = None) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no file at {str(path)!r}: expected a file to import; check the path")
    return import_bytes(request, path.read_bytes(), S)


def _new_samples(result: ParseResult, split: str | None, drop: frozenset[int]):
    for i, r in enumerate(result.records):
        if i in drop:
            continue
        yield sample_repo.NewSample(
            text=r.text,
            tokens=r.tokens,
            split=split or r.split or "unassigned",
            status=r.status,
            spans=[(sp.start, sp.end, sp.label) for sp in r.spans],
            categories=r.categories,
            meta=r.meta,
            annotator=r.annotator,
            annotated_at=datetime.fromisoformat(r.annotated_at) if r.annotated_at else None,
            seconds=r.seconds or 0.0,
        )


def failure_reason(report: dict) -> str:
    """One line for stderr: how many lines are bad, the first, and the fix."""
    errors = report["errors"]
    first = errors[0]
    total = report.get("error_count", len(errors))
    where = "" if first["line"] == 0 else f"line {first['line']}: "
    more = f" (and {total - 1:,} more, listed in the report)" if total > 1 else ""
    fix = "; fix the file, or pass --skip-invalid to import the valid samples only" if report.get("valid") else ""
    return f"nothing imported: {where}{first['message']}{more}{fix}"
