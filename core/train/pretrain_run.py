"""``pretrain`` runs: created here (UI and CLI), executed by the worker (``execute``)."""
from __future__ import annotations

from core.base import settings
from core.base.store import sessions
from core.train.coverage import coverage_after_training, project_coverage
from core.train.pretrain import PRETRAIN_SPLITS, PretrainConfig
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run


def create_pretrain_run(session, project_name: str, config: PretrainConfig, name: str = "",
                        status: str = "queued") -> Run:
    """A new ``pretrain`` run (``queued`` for the worker, ``running`` for a foreground run)."""
    project = project_repo.get_project(session, project_name)
    texts = sum(1 for _ in sample_repo.iter_texts(session, project, PRETRAIN_SPLITS))
    if texts == 0:
        raise ValueError(f"project {project_name!r} has no texts outside the test split to pretrain on: import "
                         "texts (labelled or not) into train, dev or unassigned")
    from core.train.coverage import model_label

    run = run_repo.create_run(session, project, "pretrain", config.to_json(), status=status,
                              name=name or f"pretrain · {model_label(config.model)}")
    if status == "running":
        run_repo.mark_started(session, run.id, pid=None)
    return run


def execute(run_id: int) -> None:
    from core.train.callback import RunCallback
    from core.train.device import choose_device
    from core.train.mlm import pretrain_texts

    S = sessions()
    device = choose_device()
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        project = project_repo.get_project_by_id(s, run.project_id)
        project_id = project.id
        config = PretrainConfig.from_json(run.config)
        run_repo.heartbeat(s, run_id, device=device.describe())
        before = project_coverage(s, project, config.model)
        items = list(sample_repo.iter_texts(s, project, PRETRAIN_SPLITS))
    print(f"[tagtune] pretraining on {len(items):,} texts; coverage before: {before.describe()}", flush=True)
    callback = RunCallback(S, run_id)
    result = pretrain_texts(config, items, settings.runs_dir() / str(run_id), callback=callback, device=device)
    metrics = {**result.metrics, "notes": result.notes, "train_seconds": result.seconds, "steps": result.steps,
               "train_texts": result.texts, "tokenizer_coverage": {"before": before.to_json()}}
    with S.begin() as s:
        metrics["tokenizer_coverage"] = coverage_after_training(s, project_repo.get_project_by_id(s, project_id),
                                                                metrics["tokenizer_coverage"], result.model_dir)
    if result.vocabulary:
        metrics["vocabulary"] = result.vocabulary
    with S.begin() as s:
        run_repo.heartbeat(s, run_id, total_params=result.total_params, trainable_params=result.total_params,
                           labels_used=0, device=device.describe(), **({} if result.cancelled else {"progress": 1.0}))
        if result.cancelled:
            run_repo.finish(s, run_id, "cancelled", metrics=metrics)
        else:
            run_repo.finish(s, run_id, "completed", metrics=metrics, checkpoint=str(result.model_dir))
