"""Shared page state: the current project (and run/sample) from the URL, so links are shareable."""
from __future__ import annotations

import streamlit as st

from core.base.store import sessions
from db import projects as project_repo


def project_names() -> list[str]:
    with sessions().begin() as s:
        return [p.name for p in project_repo.list_projects(s)]


def require_project(then: str = "") -> str:
    """The current project's name; without any project, say where to create one and stop the page.

    ``then``: what to do next once a project exists, e.g. "then import data on the Data page".
    """
    name = current_project_name()
    if name is None:
        st.info("No project yet: create one on the Projects page" + (f", {then}." if then else "."))
        st.stop()
    return name


def current_project_name(sidebar: bool = True) -> str | None:
    """The project named in ``?project=``, else the last one picked, else the first.

    Shows a picker in the sidebar and keeps ``?project=`` in the URL in step with it.
    """
    names = project_names()
    if not names:
        return None
    wanted = st.query_params.get("project") or st.session_state.get("project")
    index = names.index(wanted) if wanted in names else 0
    where = st.sidebar if sidebar else st
    name = where.selectbox("Project", names, index=index, key="project_picker")
    st.session_state["project"] = name
    if st.query_params.get("project") != name:
        st.query_params["project"] = name
    return name


def query_int(key: str) -> int | None:
    value = st.query_params.get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
