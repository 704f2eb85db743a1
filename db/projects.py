"""Repository functions for projects and labels. Session first; never commit."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from sqlalchemy import func, select, union_all, update
from sqlalchemy.orm import Session

from db.errors import AlreadyExists, NotFound
from db.models import Annotation, Label, Project, Sample

LABEL_MAX = 100  # labels.name is String(100)
# `|` joins multi-labels in CSV, tab and line breaks end CoNLL/TSV columns and rows.
_LABEL_FORBIDDEN = re.compile("[|\t\n\r\x00-\x1f\x7f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")

# Tableau-like palette: distinguishable, readable with dark text.
PALETTE = (
    "#8ecae6", "#ffb703", "#b5e48c", "#f4a3a8", "#cdb4db",
    "#ffd6a5", "#a0c4ff", "#caffbf", "#fdffb6", "#bdb2ff",
)


HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_colour(colour: str, label: str) -> str:
    """``colour`` when it is ``#rrggbb``; colours go into the pages' CSS, so nothing else is stored."""
    if not isinstance(colour, str) or not HEX_COLOUR.match(colour):
        raise ValueError(
            f"colour {colour!r} of label {label!r} is not a #rrggbb colour (e.g. #8ecae6); pick one with the picker"
        )
    return colour


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


def touch(session: Session, project_id: int) -> tuple[int, int]:
    """Give the project a new revision: every change to its samples, human annotations or labels
    calls this in the same transaction, so counts cached by revision are never stale. A random
    value, not a counter: a rolled-back change must not leave a revision that a later, different
    change would reuse (a cache filled inside the rolled-back transaction would then look fresh).
    Returns (the revision replaced, the new one); call it after the transaction's first write, so
    on SQLite the write lock is held and the replaced revision is exact (FOR UPDATE elsewhere)."""
    table = Project.__table__
    old = int(session.scalar(select(table.c.revision).where(table.c.id == project_id).with_for_update()) or 0)
    new = random.randrange(1, 2**31)
    while new == old:
        new = random.randrange(1, 2**31)
    session.execute(update(table).where(table.c.id == project_id).values(revision=new))
    return old, new


def revision(session: Session, project_id: int) -> int:
    return int(session.scalar(select(Project.revision).where(Project.id == project_id)) or 0)


def rename_project(session: Session, project: Project, new_name: str) -> Project:
    """Give ``project`` a new unique name (runs, samples and labels keep pointing at its id)."""
    new_name = new_name.strip()
    if not new_name:
        raise ValueError("expected a new project name, found an empty one; type the new name")
    if new_name == project.name:
        return project
    clash = session.scalar(select(Project.id).where(Project.name == new_name, Project.id != project.id))
    if clash is not None:
        raise AlreadyExists(f"a project named {new_name!r} already exists; pick another name")
    project.name = new_name
    session.flush()
    return project


def delete_project(session: Session, project: Project) -> None:
    """Delete the project with its labels, samples, annotations, runs, metric points and
    predictions (ON DELETE CASCADE). Files on disk are the caller's: core.data.projects."""
    session.delete(project)
    session.flush()


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
    position = start = len(existing)
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
            colour=check_colour(spec.colour, name) if spec.colour else PALETTE[position % len(PALETTE)],
            hotkey=spec.hotkey if spec.hotkey is not None else _default_hotkey(position),
            position=position,
            description=spec.description,
        )
        session.add(label)
        existing[name] = label
        position += 1
    session.flush()
    if position != start:
        touch(session, project.id)
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
            label.colour = check_colour(spec.colour, label.name)
        label.description = spec.description
    session.flush()
    touch(session, project.id)
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
    touch(session, project.id)


def annotators(session: Session) -> list[str]:
    """Everyone who has labelled or skipped a sample in any project, most recently active first."""
    saved = select(Sample.annotator.label("name"), Sample.updated_at.label("at")).where(Sample.annotator.is_not(None))
    labelled = select(Annotation.annotator.label("name"), Annotation.created_at.label("at")).where(
        Annotation.annotator.is_not(None), Annotation.source == "human")
    both = union_all(saved, labelled).subquery()
    rows = session.execute(select(both.c.name, func.max(both.c.at).label("last"))
                           .group_by(both.c.name).order_by(func.max(both.c.at).desc(), both.c.name))
    return [name for name, _ in rows if name.strip()]


SPLITS = ("train", "dev", "test", "unassigned")


def split_counts(session: Session, project: Project) -> dict[str, dict[str, int]]:
    """{split: {"samples": n, "labeled": n, "unlabeled": n}} for every split, zeros included
    (from the maintained counts, db/counts.py: no count over the samples on every page run)."""
    from db import counts

    out = {split: {"samples": 0, "labeled": 0, "unlabeled": 0} for split in SPLITS}
    for (split, status), n in counts.counts(session, project.id).by_split_status.items():
        found = out.setdefault(split, {"samples": 0, "labeled": 0, "unlabeled": 0})
        found["samples"] += n
        if status in ("labeled", "unlabeled"):
            found[status] += n
    return out
