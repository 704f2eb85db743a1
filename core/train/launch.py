"""Creating fine-tuning runs (the UI and the CLI queue runs only through here)."""
from __future__ import annotations

from core.train.config import TrainConfig
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run


def create_finetune_run(session, project_name: str, config: TrainConfig, name: str = "",
                        status: str = "queued") -> Run:
    """A new ``finetune`` run for the project (``queued`` for the worker, or ``running`` for a
    foreground run that nobody else may claim). Checks there is something to train on; the
    stored configuration has the preset resolved for the labelled train samples."""
    project = project_repo.get_project(session, project_name)
    counts = sample_repo.stats(session, project)
    labelled_train, words = train_size(session, project_name)
    if labelled_train == 0:
        raise ValueError(
            f"project {project_name!r} has no labelled samples in the train split (it has {counts['labeled']} "
            "labelled in all): label samples and assign them to train on the Data page"
        )
    if not project_repo.labels_of(session, project):
        raise ValueError(f"project {project_name!r} has no labels: add labels on the Projects page")
    if config.continue_from is not None:
        parent = run_repo.get_run(session, config.continue_from)
        if parent.project_id != project.id:
            raise ValueError(f"continue_from is {config.continue_from}, a run of another project: "
                             f"pick a run of {project_name!r}")
    # Refuses here (before anything is queued) when the tokenizer cannot represent the text.
    from core.train.coverage import coverage_before_training

    coverage_before_training(session, project, config)
    # Stored as it will train: the preset's choices for this many samples written out.
    config = config.resolved(labelled_train, words)
    run = run_repo.create_run(session, project, "finetune", config.to_json(), status=status,
                              name=name or f"{config.strategy} · {_model_name(config.model)}",
                              parent_run_id=config.continue_from)
    if status == "running":
        run_repo.mark_started(session, run.id, pid=None)
    return run


def _model_name(model: str) -> str:
    from core.runs.summary import _short_model

    return _short_model(model) or model


def train_size(session, project_name: str) -> tuple[int, int]:
    """Labelled samples in the train split and their words: what a preset sizes its schedule by."""
    return sample_repo.split_size(session, project_repo.get_project(session, project_name), "train")
