"""The one run-context loader every run handler starts with: the run, its project, the project's
labels and the run's stored config, read in one place instead of a prelude per handler."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from db import projects as project_repo
from db import runs as run_repo
from db.models import Project


@dataclass(frozen=True)
class RunContext:
    run_id: int
    kind: str
    name: str
    config: dict  # the run's stored config JSON; each handler parses its own config dataclass
    parent_run_id: int | None
    project_id: int
    project_name: str
    task: str  # "ner" | "classification"
    multilabel: bool
    labels: tuple[str, ...]  # in the project's label order

    def project(self, session: Session) -> Project:
        """The project row, for repository calls in ``session``."""
        return project_repo.get_project_by_id(session, self.project_id)


def load_run_context(session: Session, run_id: int) -> RunContext:
    run = run_repo.get_run(session, run_id)
    project = project_repo.get_project_by_id(session, run.project_id)
    return RunContext(
        run_id=run.id,
        kind=run.kind,
        name=run.name,
        config=dict(run.config or {}),
        parent_run_id=run.parent_run_id,
        project_id=project.id,
        project_name=project.name,
        task=project.task,
        multilabel=bool(project.multilabel),
        labels=tuple(label.name for label in project_repo.labels_of(session, project)),
    )
