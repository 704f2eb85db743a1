"""Export a project's samples and human annotations.

- ``conll``: NER only, ``token<TAB>BIO-tag``; labelled samples only (an unlabelled sentence
  written as all ``O`` would read back as labelled).
- ``jsonl``: every sample, Prodigy-shaped with ``tokens``/``spans`` (NER) or ``categories``
  (classification), plus ``split``, ``status`` and ``meta``: importing it gives back the same
  samples, tokens, annotations, splits, statuses and meta.
- ``csv`` / ``tsv``: classification only: ``text,label,split`` and the meta columns.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from core.data import formats, importer
from core.base.errors import UserError
from core.base.store import sessions
from core.base.types import SPLITS
from db import projects as project_repo
from db import samples as sample_repo

MEDIA_TYPES = {"conll": "text/plain", "jsonl": "application/jsonl", "csv": "text/csv", "tsv": "text/tab-separated-values"}


def _check(task: str, fmt: str, split: str | None) -> None:
    if fmt not in formats.EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}: expected one of {', '.join(formats.EXPORT_FORMATS)}")
    if split is not None and split not in SPLITS:
        raise UserError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    if fmt == "conll" and task != "ner":
        raise UserError("CoNLL holds NER tags but this is a classification project; use --format jsonl or csv")
    if fmt in ("csv", "tsv") and task != "classification":
        raise UserError(f"{fmt.upper()} export is for classification projects; use --format conll or jsonl for NER")


def write(project: str, out: TextIO, fmt: str, split: str | None = None, S: sessionmaker[Session] | None = None) -> dict:
    """Write the export to an open text stream; returns {"exported", "left_out", "format", "split"}."""
    S = S or sessions()
    with importer.no_gc(), S.begin() as s:
        proj = project_repo.get_project(s, project)
        _check(proj.task, fmt, split)
        splits = [split] if split else None
        statuses = ("labeled",) if fmt == "conll" else None
        rows = sample_repo.iter_labeled(s, proj, splits=splits, statuses=statuses)
        if fmt == "conll":
            count = formats.write_conll(rows, out)
        elif fmt == "jsonl":
            count = formats.write_jsonl(rows, out, proj.task)
        else:
            count = formats.write_table(rows, out, "\t" if fmt == "tsv" else ",")
        total = sample_repo.list_samples(s, proj, split=split, limit=0)[1]
    return {"exported": count, "left_out": total - count, "format": fmt, "split": split}


def export_path(
    project: str, path: str | os.PathLike, fmt: str | None = None, split: str | None = None,
    S: sessionmaker[Session] | None = None,
) -> dict:
    """Write to ``path`` (format from its extension when not given) through a temporary file,
    so a failed export never leaves half a file behind."""
    path = Path(path)
    fmt = fmt or formats.detect_format(path.name, allowed=formats.EXPORT_FORMATS)
    if path.parent and not path.parent.exists():
        raise UserError(f"no folder {str(path.parent)!r} to write {path.name!r} into; create it first")
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            report = write(project, out, fmt, split, S)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {**report, "path": str(path)}


def export_bytes(project: str, fmt: str, split: str | None = None, S: sessionmaker[Session] | None = None) -> tuple[bytes, dict]:
    """The export as UTF-8 bytes (for a download button) and its report."""
    buffer = io.StringIO(newline="")
    report = write(project, buffer, fmt, split, S)
    return buffer.getvalue().encode("utf-8"), report
