"""Streamlit-free helpers for the Data page: counts, a page of samples, import options,
split assignment and export, each one call into core/db."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from core.data import exporter, importer
from core.base.errors import UserError
from core.base.store import sessions
from db import projects as project_repo
from db import samples as sample_repo

PAGE_SIZE = 25
ANY = "any"
SPLIT_CHOICES = (ANY, "train", "dev", "test", "unassigned")
STATUS_CHOICES = (ANY, "unlabeled", "labeled", "skipped")
UPLOAD_TYPES = ["conll", "bio", "iob", "iobes", "jsonl", "ndjson", "json", "csv", "tsv", "tab", "txt", "text"]
FROM_FILE = "from the file (else unassigned)"


@dataclass(frozen=True)
class ProjectInfo:
    task: str
    multilabel: bool
    stats: dict


def info(project: str) -> ProjectInfo:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        return ProjectInfo(p.task, p.multilabel, sample_repo.stats(s, p))


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
                   skip_invalid: bool) -> importer.ImportRequest:
    return importer.ImportRequest(
        project=project, filename=filename, fmt=None if fmt == "auto" else fmt,
        split=None if split == FROM_FILE else split, text_column=text_col.strip() or None,
        label_column=label_col.strip() or None, skip_invalid=skip_invalid,
    )


def preview(request: importer.ImportRequest, data: bytes) -> dict:
    try:
        return importer.preview(request, data)
    except UserError as exc:
        return {"format": request.fmt or "?", "records": 0, "invalid": 0, "labels": [], "warnings": [], "rows": [],
                "errors": [{"line": 0, "message": str(exc)}]}


def run_import(request: importer.ImportRequest, data: bytes) -> dict:
    return importer.import_bytes(request, data)


def assign(project: str, train: float, dev: float, test: float, seed: int, only_unassigned: bool) -> dict[str, int]:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        return sample_repo.assign_splits(s, p, {"train": train, "dev": dev, "test": test}, seed, only_unassigned)


def export_formats(task: str) -> list[str]:
    return ["conll", "jsonl"] if task == "ner" else ["jsonl", "csv", "tsv"]


def export(project: str, fmt: str, split: str) -> tuple[bytes, dict, str]:
    data, report = exporter.export_bytes(project, fmt, None if split == ANY else split)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in project).strip("_") or "export"
    suffix = f"_{split}" if split != ANY else ""
    return data, report, f"{safe}{suffix}.{fmt}"
