"""Import a file into a project: all or nothing.

Everything is parsed and checked before the database is touched; when any line is bad
nothing is written (unless ``skip_invalid``), so a bad file never leaves half an import.
The good records then go in with one transaction through the repository functions, and
labels found in the data are added to the project.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from core.data import formats
from core.base.errors import UserError
from core.data.formats import ParseOptions, ParseResult
from core.base.store import sessions
from core.base.types import SPLITS
from db import projects as project_repo
from db import samples as sample_repo

IMPORT_ANNOTATOR = "import"
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ImportRequest:
    project: str
    filename: str
    fmt: str | None = None  # None: from the file's extension
    split: str | None = None  # overrides any split the file gives
    text_column: str | None = None
    label_column: str | None = None
    skip_invalid: bool = False

    def __post_init__(self) -> None:
        if self.split is not None and self.split not in SPLITS:
            raise UserError(f"unknown split {self.split!r}: expected one of {', '.join(SPLITS)}")
        if self.fmt is not None and self.fmt not in formats.IMPORT_FORMATS:
            raise UserError(f"unknown format {self.fmt!r}: expected one of {', '.join(formats.IMPORT_FORMATS)}")


def check(request: ImportRequest, data: bytes, S: sessionmaker[Session] | None = None) -> tuple[str, ParseResult]:
    """The format used and the parse of ``data`` against the project's task; writes nothing."""
    S = S or sessions()
    with S.begin() as s:
        project = project_repo.get_project(s, request.project)
        options = ParseOptions(project.task, project.multilabel, request.text_column, request.label_column)
    fmt = request.fmt or formats.detect_format(request.filename, data)
    return fmt, formats.parse(data, fmt, options)


def preview(request: ImportRequest, data: bytes, S: sessionmaker[Session] | None = None) -> dict:
    """What an import would do, for the Data page: counts, labels, errors and the first records."""
    fmt, result = check(request, data, S)
    return {
        "format": fmt,
        "records": len(result.records),
        "invalid": result.invalid,
        "labels": result.labels,
        "errors": [e.as_dict() for e in result.errors],
        "warnings": result.warnings,
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
    ``{"imported", "skipped", "errors": [{"line", "message"}], "warnings", "labels_added", "format",
    "valid"}`` (``valid``: records that passed the checks)."""
    with no_gc():
        return _import(request, data, S or sessions())


def _import(request: ImportRequest, data: bytes, S: sessionmaker[Session]) -> dict:
    fmt, result = check(request, data, S)
    report = {
        "imported": 0,
        "skipped": 0,
        "errors": [e.as_dict() for e in result.errors],
        "warnings": result.warnings,
        "labels_added": [],
        "format": fmt,
        "valid": len(result.records),
    }
    if result.errors and not request.skip_invalid:
        return report
    if not result.records:
        return report
    with S.begin() as s:
        project = project_repo.get_project(s, request.project)
        known = {l.name for l in project_repo.labels_of(s, project)}
        new = [name for name in result.labels if name not in known]
        project_repo.ensure_labels(s, project, [project_repo.LabelSpec(n) for n in new])
        report["imported"] = sample_repo.add_samples(s, project, _new_samples(result, request.split), annotator=IMPORT_ANNOTATOR)
    report["skipped"] = result.invalid
    report["labels_added"] = new
    return report


def import_path(request: ImportRequest, path: str | os.PathLike, S: sessionmaker[Session] | None = None) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no file at {str(path)!r}: expected a file to import; check the path")
    return import_bytes(request, path.read_bytes(), S)


def _new_samples(result: ParseResult, split: str | None):
    for r in result.records:
        yield sample_repo.NewSample(
            text=r.text,
            tokens=r.tokens,
            split=split or r.split or "unassigned",
            status=r.status,
            spans=[(sp.start, sp.end, sp.label) for sp in r.spans],
            categories=r.categories,
            meta=r.meta,
        )


def failure_reason(report: dict) -> str:
    """One line for stderr: how many lines are bad, the first, and the fix."""
    errors = report["errors"]
    first = errors[0]
    where = "" if first["line"] == 0 else f"line {first['line']}: "
    more = f" (and {len(errors) - 1} more, listed in the report)" if len(errors) > 1 else ""
    fix = "; fix the file, or pass --skip-invalid to import the valid samples only" if report.get("valid") else ""
    return f"nothing imported: {where}{first['message']}{more}{fix}"
