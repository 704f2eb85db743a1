"""Streamlit-free helpers for the Data page: counts, a page of samples, import options,
split assignment and export, each one call into core/db."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from core.data import exporter, formats, importer
from core.base.errors import UserError
from core.base.store import sessions
from db import projects as project_repo
from db import samples as sample_repo

PAGE_SIZE = 25
ANY = "any"
SPLIT_CHOICES = (ANY, "train", "dev", "test", "unassigned")
STATUS_CHOICES = (ANY, "unlabeled", "labeled", "skipped")
UPLOAD_TYPES = sorted(ext.lstrip(".") for ext in formats.EXTENSIONS)
FROM_FILE = "from the file (else unassigned)"
DEFAULT_COLUMN = "(default)"
COLUMN_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "json", "parquet")


@dataclass(frozen=True)
class ProjectInfo:
    task: str
    multilabel: bool
    stats: dict
    decode_entities: bool  # the project's remembered import choice


def info(project: str) -> ProjectInfo:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        return ProjectInfo(p.task, p.multilabel, sample_repo.stats(s, p),
                           bool((p.import_options or {}).get("decode_entities", False)))


def label_counts(stats: dict) -> str:
    """One line of annotation counts per label (shown as plain text: label names are user input)."""
    return "Annotations per label: " + " · ".join(f"{k} {v:,}" for k, v in stats["labels"].items()) \
        if stats["labels"] else "No labels yet: importing labelled data adds them."


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def detected_format(filename: str, data: bytes, fmt: str) -> str | None:
    if fmt != "auto":
        return fmt
    try:
        return formats.detect_format(filename, data)
    except UserError:
        return None


def column_choices(filename: str, data: bytes, fmt: str) -> list[str]:
    """The columns a file offers for text and label (empty: the format has no columns)."""
    found = detected_format(filename, data, fmt)
    return formats.columns_of(data, found) if found in COLUMN_FORMATS else []


def warning_text(warning: dict) -> str:
    lines = [n for n in warning["lines"] if n > 0]
    if not lines:
        return warning["message"]
    more = ", …" if warning["count"] > len(lines) and len(lines) >= 10 else ""
    return f"{warning['message']} (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}{more})"


def summary(check: dict) -> str:
    """The preview's first line, as plain text."""
    total = check.get("error_count", len(check["errors"]))
    labels = ", ".join(check["labels"]) or "none"
    scheme = f"; tags read as {check['scheme']['name']}" if check.get("scheme") else ""
    return (f"Preview ({check['format']}): {plural(check['records'], 'valid sample')}, {plural(total, 'problem')}; "
            f"labels: {labels}{scheme}")


def duplicates_text(check: dict) -> str | None:
    d = check.get("duplicates") or {}
    found = d.get("in_project", 0) + d.get("in_file", 0)
    if not found:
        return None
    return (f"{plural(found, 'duplicate')} by normalised text: {d['in_project']:,} already in the project, "
            f"{d['in_file']:,} repeated within the file")


def label_link(project: str, sample_id: int) -> str:
    return "/label?" + urlencode({"project": project, "sample": sample_id})


def _filters(split: str, status: str, search: str) -> dict:
    return {"split": None if split == ANY else split, "status": None if status == ANY else status,
            "search": search.strip() or None}


def count_samples(project: str, split: str, status: str, search: str) -> int:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        return sample_repo.list_samples(s, p, **_filters(split, status, search), limit=0)[1]


def page_of_samples(project: str, split: str, status: str, search: str, page: int) -> list[dict]:
    """Rows for the browse table: text, human labels, split, status and a link to label it."""
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        rows, _ = sample_repo.list_samples(
            s, p, **_filters(split, status, search), offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE
        )
        ids = [r.id for r in rows]
        found = sample_repo.iter_labeled(s, p, statuses=None, sample_ids=ids) if ids else []
        labelled = {x.id: x for x in found}
    table = []
    for r in rows:
        x = labelled.get(r.id)
        labels = [f"{x.text[a:b]} ({l})" for a, b, l in x.spans] + list(x.categories) if x else []
        table.append({
            "id": r.id, "text": r.text, "labels": ", ".join(labels), "split": r.split, "status": r.status,
            "label": label_link(project, r.id),
        })
    return table


def digest(data: bytes, *options) -> str:
    return hashlib.sha1(data + repr(options).encode()).hexdigest()


def import_request(project: str, filename: str, fmt: str, split: str, text_col: str, label_col: str,
                   skip_invalid: bool, duplicates: str = "keep", decode_entities: bool | None = None,
                   tag_names: str = "") -> importer.ImportRequest:
    column = lambda value: None if not value or value == DEFAULT_COLUMN else value.strip() or None  # noqa: E731
    return importer.ImportRequest(
        project=project, filename=filename, fmt=None if fmt == "auto" else fmt,
        split=None if split == FROM_FILE else split, text_column=column(text_col),
        label_column=column(label_col), skip_invalid=skip_invalid, duplicates=duplicates,
        decode_entities=decode_entities, tag_names=importer.tag_names(tag_names.strip()) if tag_names.strip() else None,
    )


def preview(request: importer.ImportRequest, data: bytes) -> dict:
    try:
        return importer.preview(request, data)
    except UserError as exc:
        return {"format": request.fmt or "?", "records": 0, "invalid": 0, "labels": [], "warnings": [], "rows": [],
                "errors": [{"line": 0, "message": str(exc)}], "error_count": 1, "scheme": None, "duplicates": None}


def is_bundle(filename: str) -> bool:
    return filename.lower().endswith(".tagtune")


def import_bundle(data: bytes, name: str) -> dict:
    """Create a project from a bundle; {"project", "imported", "errors"} (errors: nothing written)."""
    from core.data.bundle import import_bundle as load

    try:
        return load(data, name.strip() or None)
    except UserError as exc:
        return {"project": None, "imported": 0, "errors": [{"line": 0, "message": str(exc)}]}


def run_import(request: importer.ImportRequest, data: bytes) -> dict:
    return importer.import_bytes(request, data)


def assign(project: str, train: float, dev: float, test: float, seed: int, only_unassigned: bool) -> dict[str, int]:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        return sample_repo.assign_splits(s, p, {"train": train, "dev": dev, "test": test}, seed, only_unassigned)


def export_formats(task: str) -> list[str]:
    return exporter.formats_for(task)


def export(project: str, fmt: str, split: str) -> tuple[bytes, dict, str]:
    data, report = exporter.export_bytes(project, fmt, None if split == ANY or fmt == "bundle" else split)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in project).strip("_") or "export"
    suffix = f"_{split}" if split != ANY and fmt != "bundle" else ""
    return data, report, f"{safe}{suffix}{formats.EXPORT_EXTENSIONS[fmt]}"


def export_caption(report: dict) -> str:
    text = plural(report["exported"], "sample")
    if report["left_out"]:
        text += f" ({report['left_out']:,} left out: this format holds labelled samples only)"
    return " ".join([text, *report.get("notes", [])])
