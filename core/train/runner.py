"""The worker's handler for ``finetune`` runs: database in, train_examples, database out.

Train on the project's labelled ``train`` split, pick the best checkpoint and report on ``dev``;
without a dev split a share of train is held out (and the run says so in its metrics).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from core.base import settings
from core.base.store import sessions, to_example
from core.train import data as D
from core.train.callback import RunCallback
from core.train.coverage import coverage_after_training, coverage_before_training, project_words
from core.train.config import TrainConfig
from core.train.device import choose_device
from core.train.trainer import train_examples
from core.base.types import Example
from core.runs.context import load_run_context
from core.evaluation.coverage import coverage
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

HOLD_OUT_SHARE = 0.1  # share of train held out as dev when a project has no dev split
MIN_TRAIN_FOR_HOLD_OUT = 10
TRAIN_IDS_FILE = "train_sample_ids.json"
# Texts a vocabulary extension draws from: every split but test, labelled or not (test texts
# never shape the model, so test scores stay honest).
VOCABULARY_SPLITS = ["train", "dev", "unassigned"]

log = logging.getLogger(__name__)


def execute(run_id: int) -> None:
    S = sessions()
    device = choose_device()
    with S.begin() as s:
        ctx = load_run_context(s, run_id)
        task, multilabel, labels = ctx.task, ctx.multilabel, list(ctx.labels)
        config = TrainConfig.from_json(ctx.config)
        run_repo.heartbeat(s, run_id, device=device.describe())
        project = ctx.project(s)
        by_split = _examples(s, project)
        parent = _parent(s, config, ctx.project_id) if config.continue_from else None
        unknown_share = coverage_before_training(s, project, config)  # may refuse (tokenizer coverage)
        words = project_words(s, project, VOCABULARY_SPLITS) if config.extend_vocabulary else None

    out_dir = settings.runs_dir() / str(run_id)
    train, dev = by_split.get("train", []), by_split.get("dev", [])
    notes: list[str] = [unknown_share["warning"]] if unknown_share.get("warning") else []
    init_from = None
    if parent is not None:
        init_from, labels, train, note = _continue(parent, labels, train, config)
        notes.append(note)
    if not train:
        raise ValueError(f"project {ctx.project_name!r} has no labelled samples in the train split: expected at least "
                         "one; label samples and put them in train on the Data page")
    dev_split = "dev"
    if not dev:
        if len(train) >= MIN_TRAIN_FOR_HOLD_OUT:
            train, dev = D.hold_out(train, HOLD_OUT_SHARE, config.seed)
            dev_split = "held-out train"
            notes.append(f"no labelled dev split: held out {len(dev)} of the train samples "
                         f"({HOLD_OUT_SHARE:.0%}) to pick the best checkpoint and score the run")
        else:
            notes.append("no labelled dev split and too few train samples to hold some out: "
                         "the run keeps its last checkpoint and has no dev scores")
    for note in notes:
        log.info(note)

    callback = RunCallback(S, run_id)
    result = train_examples(config, train, dev, labels, task, out_dir, multilabel=multilabel,
                            callback=callback, init_from=init_from, device=device, vocabulary_words=words)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / TRAIN_IDS_FILE).write_text(json.dumps(sorted(ex.id for ex in train if ex.id is not None)))
    metrics = dict(result.metrics)
    if metrics:
        metrics["split"] = dev_split
        # What the dev score covers: the dev samples train_examples could score (its own filter).
        scored, _ = D.usable(dev, D.LabelScheme(task, tuple(labels), multilabel))
        metrics.update(coverage(ex.id for ex in scored))
    metrics.update({"notes": notes + result.notes, "train_seconds": result.train_seconds,
                    "train_samples_per_second": result.train_samples_per_second, "steps": result.steps,
                    "dev_samples": len(dev), "train_samples": len(train)})
    if result.vocabulary:
        metrics["vocabulary"] = result.vocabulary
    with S.begin() as s:
        metrics["tokenizer_coverage"] = coverage_after_training(s, project_repo.get_project_by_id(s, project.id),
                                                                unknown_share, result.model_dir)
        done = {"phase": None, "phase_progress": None, "phase_started_at": None}
        done.update({} if result.cancelled else {"progress": 1.0})
        run_repo.heartbeat(s, run_id, trainable_params=result.trainable_params, total_params=result.total_params,
                           peak_memory_mb=result.peak_memory_mb, labels_used=len(train), device=result.device,
                           **done)
        if result.cancelled:
            run_repo.finish(s, run_id, "cancelled", metrics=metrics)
        else:
            run_repo.finish(s, run_id, "completed", metrics=metrics, checkpoint=str(result.model_dir))


def _examples(s, project) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for row in sample_repo.iter_labeled(s, project, splits=["train", "dev"]):
        out.setdefault(row.split, []).append(to_example(row))
    return out


def _parent(s, config: TrainConfig, project_id: int):
    parent = run_repo.get_run(s, config.continue_from)
    if parent.project_id != project_id or parent.kind != "finetune":
        raise ValueError(f"continue_from is {config.continue_from}: expected a fine-tuning run of this project")
    if parent.status != "completed" or not parent.checkpoint or not Path(parent.checkpoint).exists():
        raise ValueError(f"continue_from is {config.continue_from}, a {parent.status} run without an exported "
                         "model: expected a completed run; pick another run or start from a model")
    return {"id": parent.id, "checkpoint": parent.checkpoint}


def _continue(parent: dict, labels: list[str], train: list[Example], config: TrainConfig):
    """Start from the parent's model; train on samples it did not see plus a replayed share."""
    saved = json.loads((Path(parent["checkpoint"]) / "tagtune.json").read_text())
    if set(labels) != set(saved["labels"]):
        added = sorted(set(labels) - set(saved["labels"]))
        raise ValueError(f"labels changed since run {parent['id']} (now {labels}, then {saved['labels']}; added "
                         f"{added}): its head cannot predict them; start a fresh run instead of continuing")
    ids_file = Path(parent["checkpoint"]).parent / TRAIN_IDS_FILE
    seen = set(json.loads(ids_file.read_text())) if ids_file.exists() else set()
    new = [ex for ex in train if ex.id not in seen]
    old = [ex for ex in train if ex.id in seen]
    mixed = D.replay_mix(new, old, config.replay_share, config.seed)
    if not new:
        raise ValueError(f"no samples were labelled since run {parent['id']}: expected new labelled train samples "
                         "to continue on; label more or start a fresh run")
    note = (f"continued from run {parent['id']}: {len(new)} new samples + {len(mixed) - len(new)} replayed "
            f"of {len(old)} earlier ones")
    return parent["checkpoint"], list(saved["labels"]), mixed, note
