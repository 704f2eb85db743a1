"""Export a project's samples and human annotations (README "Formats").

- ``conll``: NER only, ``token<TAB>BIO-tag``; labelled samples only (an unlabelled sentence
  written as all ``O`` would read back as labelled). Whitespace tokens are left out.
- ``jsonl`` / ``json``: every sample, Prodigy-shaped with ``tokens``/``spans`` (NER) or
  ``categories`` (classification), plus ``split``, ``status``, ``meta``, ``annotator``,
  ``annotated_at``, ``seconds`` and ``source``: importing it gives back the same samples.
- ``labelstudio``: Label Studio tasks (JSON), every sample.
- ``hf``: Parquet in the Hugging Face datasets shape (labelled samples; ClassLabel names inside).
- ``csv`` / ``tsv`` / ``xlsx``: classification: text, label, split, annotator, annotated_at and
  every meta column; spreadsheet formulas are neutralised (see core.data.formats.tabular).
- ``fasttext``: classification, ``__label__A text`` lines.
- ``bundle``: the whole project (core.data.bundle).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from core.base.errors import UserError
from core.base.store import sessions
from core.base.types import SPLITS
from core.data import formats, importer
from db import projects as project_repo
from db import samples as sample_repo

MEDIA_TYPES = {
    "conll": "text/plain", "jsonl": "application/jsonl", "json": "application/json", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "labelstudio": "application/json", "fasttext": "text/plain",
    "bundle": "application/jsonl", "hf": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NER_ONLY = ("conll",)
CLASSIFICATION_ONLY = ("csv", "tsv", "xlsx", "fasttext")
LABELLED_ONLY = ("conll", "hf")  # an unlabelled sample cannot be told apart from one with no entities
WHOLE_SPLIT = ("bundle",)


def formats_for(task: str) -> list[str]:
    """Export formats that can carry a project of this task."""
    other = CLASSIFICATION_ONLY if task == "ner" else NER_ONLY
    return [f for f in formats.EXPORT_FORMATS if f not in other]


def _check(task: str, fmt: str, split: str | None) -> None:
    if fmt not in formats.EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}: expected one of {', '.join(formats.EXPORT_FORMATS)}")
    if split is not None and split not in SPLITS:
        raise UserError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    if fmt in NER_ONLY and task != "ner":
        raise UserError("CoNLL holds NER tags but this is a classification project; use --format jsonl or csv")
    if fmt in CLASSIFICATION_ONLY and task != "classification":
        raise UserError(f"{fmt} export is for classification projects; use --format conll or jsonl for NER")
    if fmt in WHOLE_SPLIT and split is not None:
        raise UserError("a bundle carries the whole project: drop --split")


def write(project: str, out: IO, fmt: str, split: str | None = None, S: sessionmaker[Session] | None = None) -> dict:
    """Write the export to an open stream (binary for xlsx/hf, text otherwise); returns
    {"exported", "left_out", "format", "split", "notes"}."""
    S = S or sessions()
    notes: list[str] = []
    if fmt == "bundle":
        from core.data.bundle import write_bundle

        with S.begin() as s:
            _check(project_repo.get_project(s, project).task, fmt, split)
        count = write_bundle(project, out, S)
        return {"exported": count, "left_out": 0, "format": fmt, "split": None, "notes": notes}
    with importer.no_gc(), S.begin() as s:
        proj = project_repo.get_project(s, project)
        _check(proj.task, fmt, split)
        splits = [split] if split else None
        statuses = ("labeled",) if fmt in LABELLED_ONLY else None
        rows = sample_repo.iter_labeled(s, proj, splits=splits, statuses=statuses)
        labels = [l.name for l in project_repo.labels_of(s, proj)]
        count = _write_rows(fmt, rows, out, proj, labels, notes)
        total = sample_repo.list_samples(s, proj, split=split, limit=0)[1]
    return {"exported": count, "left_out": total - count, "format": fmt, "split": split, "notes": notes}


def _write_rows(fmt: str, rows, out: IO, proj, labels: list[str], notes: list[str]) -> int:
    if fmt == "conll":
        return formats.write_conll(rows, out)
    if fmt == "jsonl":
        return formats.write_jsonl(rows, out, proj.task)
    if fmt == "json":
        return formats.write_json(rows, out, proj.task)
    if fmt == "labelstudio":
        from core.data.formats.labelstudio import write_labelstudio

        return write_labelstudio(rows, out, proj.task)
    if fmt == "fasttext":
        count, flattened = formats.write_fasttext(rows, out)
        if flattened:
            notes.append(f"{flattened:,} text{'s' if flattened != 1 else ''} had line breaks, written as spaces "
                         "(fastText is one sample a line)")
        return count
    if fmt == "xlsx":
        from core.data.formats.binary import write_xlsx

        return write_xlsx(rows, out)
    if fmt == "hf":
        from core.data.formats.binary import write_hf

        return write_hf(rows, out, proj.task, labels, proj.multilabel)
    return formats.write_table(rows, out, "\t" if fmt == "tsv" else ",")


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
        if fmt in formats.BINARY_FORMATS:
            with tmp.open("wb") as out:
                report = write(project, out, fmt, split, S)
        else:
            with tmp.open("w", encoding="utf-8", newline="") as out:
                report = write(project, out, fmt, split, S)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return {**report, "path": str(path)}


def export_bytes(project: str, fmt: str, split: str | None = None, S: sessionmaker[Session] | None = None) -> tuple[bytes, dict]:
    """The export as bytes (UTF-8 for text formats, for a download button) and its report."""
    if fmt in formats.BINARY_FORMATS:
        buffer = io.BytesIO()
        report = write(project, buffer, fmt, split, S)
        return buffer.getvalue(), report
    text = io.StringIO(newline="")
    report = write(project, text, fmt, split, S)
    return text.getvalue().encode("utf-8"), report
