"""The model picker: encoders found on this machine, each with its coverage of a project.

Looked for in: the packaged default encoder, the Hugging Face cache (``HF_HUB_CACHE``),
folders named in ``TAGTUNE_MODELS`` (separated by ``os.pathsep``; a folder is a model when it
holds config.json, otherwise its sub-folders are searched two levels deep), and the models
earlier runs exported (fine-tuning runs and domain-adaptive pretraining runs, ``run:N``).
Generative models (causal LM, seq2seq) are left out: Tagtune fine-tunes encoders.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.base import settings

MODELS_ENV = "TAGTUNE_MODELS"
SOURCES = ("run", "packaged", "folder", "hf-cache")
GENERATIVE = ("CausalLM", "ConditionalGeneration", "Seq2SeqLM", "LMHeadModel")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "vocab.json")
RUN_KINDS = ("finetune", "pretrain")


@dataclass(frozen=True)
class FoundModel:
    ref: str        # what the model field takes: a folder or run:N
    name: str       # what a person reads: hub id, folder name, run name
    source: str     # one of SOURCES
    path: str       # the folder with config.json
    detail: str = ""
    kind: str = "encoder"            # or a run's kind: finetune, pretrain
    project_id: int | None = None    # a run's project


def find_models(session=None) -> list[FoundModel]:
    """Every usable encoder found, without duplicates (by folder)."""
    found: list[FoundModel] = []
    packaged = settings.default_encoder()
    if Path(packaged).is_dir():
        found.append(FoundModel(packaged, _short(packaged), "packaged", packaged, "the default encoder"))
    found += _folders()
    found += _hf_cache()
    if session is not None:
        found += _runs(session)
    seen: set[str] = set()
    out = []
    for m in found:
        key = str(Path(m.path).resolve())
        if key not in seen and _is_encoder(Path(m.path)):
            seen.add(key)
            out.append(m)
    return out


def rank(session, project, models: list[FoundModel]) -> list[dict]:
    """Each model with its coverage of the project, best-covering first; the first is the
    recommendation. Ties go to the project's own pretraining runs (adapted to its text, made
    to be started from), then its fine-tuned runs, other projects' runs, the packaged model,
    folders and the Hugging Face cache; newer runs first."""
    from core.train.coverage import project_coverage

    rows = []
    for m in models:
        row = {"ref": m.ref, "name": m.name, "source": m.source, "path": m.path, "detail": m.detail,
               "kind": m.kind, "project_id": m.project_id}
        try:
            coverage = project_coverage(session, project, m.ref)
        except (ValueError, OSError) as exc:
            row.update({"error": str(exc), "share": None})
        else:
            row.update({"share": coverage.share, "coverage": coverage.to_json()})
        rows.append(row)
    rows.sort(key=lambda r: (r["share"] is None, r["share"] or 0.0, _preference(r, project.id), r["name"]))
    for i, r in enumerate(rows):
        r["recommended"] = i == 0 and r["share"] is not None
    return rows


def _preference(row: dict, project_id: int) -> tuple:
    if row["source"] != "run":
        return (3 + SOURCES.index(row["source"]), 0)
    own = row["project_id"] == project_id
    return (0 if own and row["kind"] == "pretrain" else 1 if own else 2, -int(row["ref"].split(":")[1]))


def run_model_folder(ref: str) -> str:
    """The exported model folder of ``run:N`` (a completed fine-tuning or pretraining run)."""
    from core.base.store import sessions
    from db import runs as run_repo
    from db.errors import NotFound

    try:
        run_id = int(ref.strip().split(":", 1)[1])
    except ValueError:
        raise ValueError(f"model {ref!r}: expected run:N with N a run id, e.g. run:12") from None
    with sessions().begin() as s:
        try:
            run = run_repo.get_run(s, run_id)
        except NotFound as exc:
            raise ValueError(f"model {ref!r}: {exc}") from None
        kind, status, checkpoint = run.kind, run.status, run.checkpoint
    if kind not in RUN_KINDS or status != "completed" or not checkpoint or not Path(checkpoint).is_dir():
        raise ValueError(f"model {ref!r} is a {status} {kind} run without an exported model: expected a completed "
                         "fine-tuning or pretraining run; pick another with `python cli.py models PROJECT`")
    return checkpoint


# ---- where models are found --------------------------------------------------------------------

def _folders() -> list[FoundModel]:
    out = []
    for root in filter(None, os.environ.get(MODELS_ENV, "").split(os.pathsep)):
        for folder in _model_folders(Path(root).expanduser(), depth=2):
            out.append(FoundModel(str(folder), folder.name, "folder", str(folder), f"from {MODELS_ENV}"))
    return out


def _model_folders(folder: Path, depth: int) -> list[Path]:
    if not folder.is_dir():
        return []
    if (folder / "config.json").exists():
        return [folder]
    if depth == 0:
        return []
    return [m for sub in sorted(p for p in folder.iterdir() if p.is_dir()) for m in _model_folders(sub, depth - 1)]


def _hf_cache() -> list[FoundModel]:
    """Model snapshots in the Hugging Face hub cache (the one ``refs/main`` names, else the newest)."""
    from huggingface_hub import constants

    cache = Path(constants.HF_HUB_CACHE)
    out = []
    for repo in sorted(cache.glob("models--*")) if cache.is_dir() else []:
        snapshots = [p for p in (repo / "snapshots").glob("*") if (p / "config.json").exists()]
        if not snapshots:
            continue
        main = repo / "refs" / "main"
        named = main.read_text().strip() if main.exists() else None
        chosen = next((p for p in snapshots if p.name == named), max(snapshots, key=lambda p: p.stat().st_mtime))
        hub_id = repo.name[len("models--"):].replace("--", "/")
        out.append(FoundModel(str(chosen), hub_id, "hf-cache", str(chosen), "in the Hugging Face cache"))
    return out


def _runs(session) -> list[FoundModel]:
    from db import projects as project_repo
    from db import runs as run_repo

    out = []
    for run in run_repo.list_runs(session, kinds=RUN_KINDS):
        if run.status != "completed" or not run.checkpoint or not Path(run.checkpoint).is_dir():
            continue
        project = project_repo.get_project_by_id(session, run.project_id).name
        what = "domain-adaptive pretraining" if run.kind == "pretrain" else "fine-tuned"
        out.append(FoundModel(f"run:{run.id}", f"run {run.id} · {run.name}", "run", run.checkpoint,
                              f"{what} on project {project}", run.kind, run.project_id))
    return out


def _is_encoder(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    architectures = config.get("architectures") or []
    if config.get("is_decoder") or config.get("is_encoder_decoder"):
        return False
    if any(marker in a for a in architectures for marker in GENERATIVE):
        return False
    return any((folder / f).exists() for f in TOKENIZER_FILES)


def _short(path: str) -> str:
    p = Path(path)
    return p.parent.name if p.name == "model" else p.name
