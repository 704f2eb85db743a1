"""Renaming and deleting a project, files on disk included.

Deleting a project deletes its rows (db.projects.delete_project) and then the folders of its
runs (``$TAGTUNE_HOME/runs/<id>``: checkpoints, logs, exported models) and its cached sentence
embeddings. Only paths inside the Tagtune home are removed: a model folder the user pointed a
run at elsewhere stays. A project with a queued or running run is refused:
the worker would write into a folder that no longer belongs to anything.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from core.base import settings
from core.base.errors import UserError
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class DeletePlan:
    """What deleting a project removes, for the confirmation and the report."""

    project: str
    samples: int
    runs: int
    folders: list[Path] = field(default_factory=list)
    active_runs: list[int] = field(default_factory=list)


def rename(S: sessionmaker[Session], old: str, new: str) -> str:
    with S.begin() as s:
        return project_repo.rename_project(s, project_repo.get_project(s, old), new).name


def plan_delete(S: sessionmaker[Session], name: str) -> DeletePlan:
    with S.begin() as s:
        project = project_repo.get_project(s, name)
        runs = run_repo.list_runs(s, project)
        # Only the runs' own folders under $TAGTUNE_HOME/runs: a model the user pointed at elsewhere stays.
        folders = [settings.runs_dir() / str(r.id) for r in runs if (settings.runs_dir() / str(r.id)).exists()]
        folders += sorted(settings.cache_dir().glob(f"embeddings/*/project-{project.id}.npz"))
        return DeletePlan(name, sample_repo.stats(s, project)["samples"], len(runs), folders,
                          [r.id for r in runs if r.status in ACTIVE])


def delete(S: sessionmaker[Session], name: str) -> DeletePlan:
    """Delete the project and its files; returns what was removed. Refuses while a run is active."""
    plan = plan_delete(S, name)
    if plan.active_runs:
        ids = ", ".join(f"#{i}" for i in plan.active_runs)
        raise UserError(f"project {name!r} has runs that are queued or running ({ids}); cancel them on the Runs "
                        "page (or wait for them to end), then delete the project")
    with S.begin() as s:
        project_repo.delete_project(s, project_repo.get_project(s, name))
    for path in plan.folders:  # after the rows are gone: a failed removal leaves files, never dangling rows
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return plan
