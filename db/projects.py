"""Repository functions for projects and labels. Session first; never commit."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import AlreadyExists, NotFound
from db.models import Label, Project

LABEL_MAX = 100  # labels.name is String(100)
# `|` joins multi-labels in CSV, tab and line breaks end CoNLL/TSV columns and rows.
_LABEL_FORBIDDEN = re.compile("[|\t\n\r\x00-\x1f\x7f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Tableau-like palette: distinguishable, readable with dark text.
PALETTE = (
    "#8ecae6", "#ffb703", "#b5e48c", "#f4a3a8", "#cdb4db",
    "#ffd6a5", "#a0c4ff", "#caffbf", "#fdffb6", "#bdb2ff",
)


@dataclass(frozen=True)
class LabelSpec:
    name: str
    colour: str | None = None
    hotkey: str | None = None
    description: str = ""


def create_project(
    session: Session,
    name: str,
    task: str,
    labels: list[str] | list[LabelSpec] = (),
    multilabel: bool = False,
    language: str = "en",
) -> Project:
    name = name.strip()
    if not name:
        raise ValueError("expected a project name, found an empty one; give the project a name")
    if task not in ("ner", "classification"):
        raise ValueError(f"expected task 'ner' or 'classification', found {task!r}; pass --task ner|classification")
    if multilabel and task != "classification":
        raise ValueError("multilabel applies to classification projects only; drop --multilabel for NER")
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise AlreadyExists(f"a project named {name!r} already exists; pick another name or use it")
    project = Project(name=name, task=task, multilabel=multilabel, language=language)
    session.add(project)
    session.flush()
    ensure_labels(session, project, [l if isinstance(l, LabelSpec) else LabelSpec(l) for l in labels])
    return project


def get_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        names = session.scalars(select(Project.name).order_by(Project.name)).all()
        known = ", ".join(names) if names else "none yet"
        raise NotFound(f"no project named {name!r}; known projects: {known}; create it with `project create`")
    return project


def get_project_by_id(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))


def labels_of(session: Session, project: Project) -> list[Label]:
    return list(session.scalars(select(Label).where(Label.project_id == project.id).order_by(Label.position, Label.id)))


def _default_hotkey(position: int) -> str | None:
    return str(position + 1) if position < 9 else None


def ensure_labels(session: Session, project: Project, specs: list[LabelSpec]) -> dict[str, Label]:
    """Create the labels that do not exist yet (keeping order); return all by name."""
    existing = {l.name: l for l in labels_of(session, project)}
    position = len(existing)
    for spec in specs:
        name = spec.name.strip()
        if not name:
            raise ValueError("expected a label name, found an empty one; remove the empty entry")
        problem = label_problem(name)
        if problem:
            raise ValueError(problem)
        if name in existing:
            continue
        label = Label(
            project_id=project.id,
            name=name,
            colour=spec.colour or PALETTE[position % len(PALETTE)],
            hotkey=spec.hotkey if spec.hotkey is not None else _default_hotkey(position),
            position=position,
            description=spec.description,
        )
        session.add(label)
        existing[name] = label
        position += 1
    session.flush()
    return existing


def update_labels(session: Session, project: Project, specs: list[LabelSpec]) -> list[Label]:
    """Set colour, hotkey, description and order of the given labels; add new ones.

    Labels not listed are kept (deleting a label deletes its annotations: use delete_label).
    Hotkeys must be single characters and unique within the project.
    """
    keys = [s.hotkey for s in specs if s.hotkey]
    for key in keys:
        if len(key) != 1 or key in "sS" or not key.isprintable() or key == " ":
            raise ValueError(
                f"hotkey {key!r} is not usable: expected one printable character other than 's' "
                "(skip) and space; pick another key"
            )
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"hotkey {dupes[0]!r} is given to more than one label; give each label its own key")
    by_name = ensure_labels(session, project, specs)
    for position, spec in enumerate(specs):
        label = by_name[spec.name.strip()]
        label.position = position
        label.hotkey = spec.hotkey or None
        if spec.colour:
            label.colour = spec.colour
        label.description = spec.description
    session.flush()
    return labels_of(session, project)


def set_import_option(session: Session, project: Project, key: str, value) -> None:
    """Remember an import choice for the project (e.g. decode_entities)."""
    project.import_options = {**(project.import_options or {}), key: value}
    session.flush()


def label_problem(name: str) -> str | None:
    """Why a label name cannot be stored and exported (length, characters), or None."""
    if len(name) > LABEL_MAX:
        return f"label {name[:40]!r}… has {len(name)} characters: expected at most {LABEL_MAX}; shorten it"
    bad = _LABEL_FORBIDDEN.search(name)
    if bad:
        return (f"label {name[:200]!r} contains {bad.group()!r}, which CSV/CoNLL exports cannot carry "
                "(no |, tab, line break or control character); rename the label")
    if _SURROGATE.search(name):
        return f"label {name[:200]!r} holds a lone surrogate (half of a broken character); fix the label"
    return None


def delete_label(session: Session, project: Project, name: str) -> None:
    label = session.scalar(select(Label).where(Label.project_id == project.id, Label.name == name))
    if label is None:
        raise NotFound(f"project {project.name!r} has no label {name!r}")
    session.delete(label)
    session.flush()
