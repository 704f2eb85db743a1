"""Creating ICL runs (the CLI and the ICL page create them only through here)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.icl.config import IclConfig
from core.base.settings import default_lm_gguf
from db import projects as project_repo
from db import runs as run_repo
from db.models import Run


def config_for(session, project_name: str, settings: dict) -> IclConfig:
    """IclConfig for the project's task with the given settings (ValueError names a bad one)."""
    project = project_repo.get_project(session, project_name)
    return IclConfig(**{"task": project.task, **settings})


def run_name(config: IclConfig) -> str:
    lm = Path(config.lm).name if config.lm else default_lm_gguf().name
    mode = "suggest" if config.suggest else f"{config.shots}-shot {config.selection}"
    return f"icl {mode}{' +cal' if config.calibrate else ''} · {lm}"


def why_not(session, project_name: str, config: IclConfig) -> str | None:
    """Why a run with ``config`` would have nothing to do, or None: checked before it is queued,
    so an empty split never leaves a failed run behind (the page disables its buttons with it)."""
    project = project_repo.get_project(session, project_name)
    if not project_repo.labels_of(session, project):
        return f"project {project_name!r} has no labels: add labels on the Projects page"
    counts = project_repo.split_counts(session, project)
    if config.suggest:
        if not sum(c["unlabeled"] for c in counts.values()):
            return f"project {project_name!r} has no unlabelled samples to suggest labels for: import some"
    elif not counts.get(config.split, {}).get("labeled"):
        others = [f"{s} ({c['labeled']:,})" for s, c in counts.items() if c["labeled"] and s != config.split]
        hint = f"pick {' or '.join(others)}" if others else "label samples or assign splits on the Data page"
        return f"the {config.split} split has no labelled samples to run on and score: {hint}"
    if config.shots and not counts.get(config.pool_split, {}).get("labeled"):
        return (f"no labelled samples in {config.pool_split!r} to draw {config.shots} demonstrations from: label "
                "some, or run zero-shot (0 shots)")
    return None


def create_icl_run(session, project_name: str, settings: dict | IclConfig, status: str = "queued", name: str = "") -> Run:
    """A new ``icl`` run: ``queued`` for the worker, or ``running`` for a foreground run."""
    config = settings if isinstance(settings, IclConfig) else config_for(session, project_name, settings)
    if not config.lm:
        # Name the packaged file on the run, so the Runs page shows which LM answered.
        config = replace(config, lm=str(default_lm_gguf()))
    project = project_repo.get_project(session, project_name)
    if config.task != project.task:
        raise ValueError(f"the ICL config is for task {config.task!r} but project {project_name!r} is "
                         f"{project.task!r}; build the config for this project")
    problem = why_not(session, project_name, config)
    if problem:
        raise ValueError(problem[0].upper() + problem[1:])
    run = run_repo.create_run(session, project, "icl", config.to_json(), status=status, name=name or run_name(config))
    if status == "running":
        run_repo.mark_started(session, run.id, pid=None)
    return run
