"""Streamlit glue for the Projects page: create a project, read and save its label set.

Widget callbacks run before the page script, so a new project can be made the current one
(the sidebar picker's state) before the picker is drawn."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.data import projects
from db import projects as project_repo
from db import samples as sample_repo
from db.errors import AlreadyExists, NotFound
from ui import safe


@dataclass(frozen=True)
class LabelRow:
    id: int
    name: str
    colour: str
    hotkey: str
    description: str
    count: int


def overview() -> list[dict]:
    """One row per project: name, task, counts, and a link to its Data page."""
    rows = []
    with sessions().begin() as s:
        for p in project_repo.list_projects(s):
            st_ = sample_repo.stats(s, p)
            task = "classification (multi-label)" if p.multilabel else p.task
            rows.append({
                "project": p.name, "task": task, "samples": st_["samples"], "labelled": st_["labeled"],
                "labels": ", ".join(st_["labels"]), "data": f"/data?project={_q(p.name)}",
            })
    return rows


def _q(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def create_from_form() -> None:
    """on_click of the create form: make the project and switch the picker to it."""
    name = st.session_state.get("new_project_name", "").strip()
    task = st.session_state.get("new_project_task", "ner")
    labels = [l.strip() for l in st.session_state.get("new_project_labels", "").split(",") if l.strip()]
    multilabel = bool(st.session_state.get("new_project_multilabel")) and task == "classification"
    try:
        with sessions().begin() as s:
            project_repo.create_project(s, name, task, labels, multilabel)
    except (ValueError, AlreadyExists) as exc:
        st.session_state["projects_message"] = ("error", str(exc))
        return
    _make_current(name)
    st.session_state["new_project_name"] = ""
    st.session_state["new_project_labels"] = ""
    st.session_state["projects_message"] = ("success", f"Created project {name!r}. Import data on the Data page.")


def label_rows(project: str) -> tuple[int, str, list[LabelRow]]:
    with sessions().begin() as s:
        p = project_repo.get_project(s, project)
        counts = sample_repo.stats(s, p)["labels"]
        rows = [
            LabelRow(l.id, l.name, l.colour, l.hotkey or "", l.description or "", counts.get(l.name, 0))
            for l in project_repo.labels_of(s, p)
        ]
        return p.id, p.task, rows


@dataclass(frozen=True)
class LabelEdit:
    colour: str
    hotkey: str
    description: str


def widget_key(project_id: int, row: LabelRow, field: str) -> str:
    # The saved value is part of the key: after a save the widget starts from the new value.
    value = {"colour": row.colour, "hotkey": row.hotkey, "description": zlib.crc32(row.description.encode())}[field]
    return f"label_{field}_{project_id}_{row.id}_{value}"


def save_labels(project: str, rows: list[LabelRow], edits: dict[int, LabelEdit], new_names: str) -> tuple[str, str]:
    """Save the colours, hotkeys and descriptions edited in the form; add the new labels."""
    specs = []
    for r in rows:
        edit = edits.get(r.id, LabelEdit(r.colour, r.hotkey, r.description))
        if not project_repo.HEX_COLOUR.match(edit.colour or ""):
            return "error", f"colour {edit.colour!r} of {r.name!r} is not a #rrggbb colour; pick one with the picker"
        hotkey = (edit.hotkey or "").strip()
        specs.append(project_repo.LabelSpec(r.name, edit.colour, hotkey or None, edit.description))
    known = {r.name for r in rows}
    added = [n.strip() for n in new_names.split(",") if n.strip() and n.strip() not in known]
    specs += [project_repo.LabelSpec(n, None, "") for n in dict.fromkeys(added)]
    try:
        with sessions().begin() as s:
            project_repo.update_labels(s, project_repo.get_project(s, project), specs)
    except ValueError as exc:
        return "error", str(exc)
    return "success", "Labels saved" + (f"; added {', '.join(added)}." if added else ".")


def delete_label(project: str, name: str) -> tuple[str, str]:
    try:
        with sessions().begin() as s:
            project_repo.delete_label(s, project_repo.get_project(s, project), name)
    except NotFound as exc:
        return "error", str(exc)
    return "success", f"Deleted label {name!r} and its annotations."


def rename_or_delete(project: str) -> None:
    """Rename the current project, or delete it with everything it holds after a typed confirmation."""
    st.text_input("New name", value=project, key=f"rename_to_{project}")
    st.button("Rename", key=f"rename_{project}", on_click=_rename, args=(project,))
    st.divider()
    plan = projects.plan_delete(sessions(), project)
    st.warning(
        f"Deleting removes the project's {count(plan.samples, 'sample')} with their labels, its "
        f"{count(plan.runs, 'run')} and {count(len(plan.folders), 'folder or file', 'folders and files')} of "
        "theirs on disk (checkpoints, logs, exported models, cached embeddings). This cannot be undone.",
        icon=":material/delete_forever:")
    if plan.active_runs:
        st.info("A run of this project is queued or running: cancel it on the Runs page before deleting.")
    typed = st.text_input("Type the project's name to confirm", key=f"delete_confirm_{project}")
    st.button("Delete project", key=f"delete_{project}", type="primary", on_click=_delete, args=(project,),
              disabled=typed != project or bool(plan.active_runs),
              help="Enabled once the name typed above matches the project's name exactly.")


def _rename(old: str) -> None:
    new = st.session_state.get(f"rename_to_{old}", "")
    try:
        name = projects.rename(sessions(), old, new)
    except (ValueError, AlreadyExists, NotFound) as exc:
        st.session_state["projects_message"] = ("error", str(exc))
        return
    _make_current(name)
    st.session_state["projects_message"] = ("success", f"Renamed project {old!r} to {name!r}.")


def _delete(name: str) -> None:
    try:
        plan = projects.delete(sessions(), name)
    except (UserError, NotFound) as exc:
        st.session_state["projects_message"] = ("error", str(exc))
        return
    st.session_state.pop("project", None)
    st.session_state.pop("project_picker", None)
    st.query_params.pop("project", None)
    st.session_state["projects_message"] = (
        "success", f"Deleted project {name!r}: {count(plan.samples, 'sample')}, {count(plan.runs, 'run')}, "
                   f"{count(len(plan.folders), 'folder or file', 'folders and files')} on disk.")


def count(n: int, one: str, many: str | None = None) -> str:
    """ "1 run", "3 runs", "0 samples"."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _make_current(name: str) -> None:
    st.session_state["project"] = name
    st.session_state["project_picker"] = name
    st.query_params["project"] = name


def show_message(key: str) -> None:
    kind, text = st.session_state.pop(key, (None, None))
    if kind:
        getattr(st, kind)(safe.md(text))
