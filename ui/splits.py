"""The split picker of the Evaluate, Inspect and In-context pages.

It starts on a split that has samples (test, else dev, else train), says how many each split
holds, and remembers the choice per project for this browser session and in ``?split=`` (so a
link opens the same view). A page whose chosen split is empty gets the reason back to show
next to its disabled actions."""
from __future__ import annotations

import streamlit as st

from core.base.store import sessions
from db import projects as project_repo

PREFERRED = ("test", "dev", "train", "unassigned")


def counts(project: str) -> dict[str, dict[str, int]]:
    with sessions().begin() as s:
        return project_repo.split_counts(s, project_repo.get_project(s, project))


def default_split(options: list[str], sizes: dict[str, int], remembered: str | None, wanted: str | None) -> str:
    """``?split=`` if it is an option, else this session's choice for the project, else the first
    preferred split that holds samples, else the first option."""
    for choice in (wanted, remembered):
        if choice in options:
            return choice
    return next((s for s in PREFERRED if s in options and sizes.get(s, 0) > 0), options[0])


def split_box(project: str, page: str, options: list[str], sizes: dict[str, int], what: str = "labelled",
              label: str = "Split", where=st) -> str:
    """A split selectbox showing each split's size; the choice is kept per project."""
    memory = st.session_state.setdefault("split_choice", {})
    start = default_split(options, sizes, memory.get(project), st.query_params.get("split"))
    key = f"{page}_split_{project}"
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # options changed (another run): start again from the default
    chosen = where.selectbox(label, options, index=options.index(start), key=key,
                             format_func=lambda s: f"{s} ({sizes.get(s, 0):,} {what})")
    memory[project] = chosen
    if st.query_params.get("split") != chosen:
        st.query_params["split"] = chosen
    return chosen


def empty_reason(split: str, sizes: dict[str, int], what: str = "labelled samples") -> str | None:
    """Why there is nothing to do on ``split``, or None."""
    if sizes.get(split, 0) > 0:
        return None
    others = [f"{s} ({n:,})" for s, n in sizes.items() if n > 0 and s != split]
    hint = f"pick {' or '.join(others)}" if others else "import data or assign splits on the Data page"
    return f"The {split} split has no {what}: {hint}."
