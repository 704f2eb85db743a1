"""Who is labelling: an identity picked from the known annotators (or added), not a free-text box.

Remembered for the browser session and in ``?annotator=``, so a reload or a bookmark labels as
the same person; a new session without the parameter starts on the most recently active one."""
from __future__ import annotations

import getpass

import streamlit as st

from core.base.store import sessions
from db import projects as project_repo

NEW_ANNOTATOR = "+ someone new…"
ANNOTATOR_MAX = 100  # Annotation.annotator is a String(100)


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still label, just anonymously
        return "annotator"


def clean_annotator(name: str) -> str:
    """A usable annotator name, or ValueError saying why not."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("expected a name for the new annotator, found an empty one; type a name")
    if len(name) > ANNOTATOR_MAX:
        raise ValueError(f"expected a name of at most {ANNOTATOR_MAX} characters, found {len(name)}; shorten it")
    if not name.isprintable() or name == NEW_ANNOTATOR:
        raise ValueError(f"{name!r} cannot be an annotator name; pick another")
    return name


def known_annotators() -> list[str]:
    with sessions().begin() as s:
        return project_repo.annotators(s)


def current_annotator(known: list[str]) -> str:
    """Who labels in this browser: ``?annotator=`` (a bookmark), else this session's choice,
    else the most recently active annotator, else the computer's user name."""
    for wanted in (st.query_params.get("annotator"), st.session_state.get("annotator_name")):
        if wanted:
            try:
                return clean_annotator(wanted)
            except ValueError:
                continue
    return known[0] if known else default_annotator()


def choose_annotator() -> str:
    """The sidebar's identity picker: a known annotator or someone new. Remembered for this
    browser session and in ``?annotator=``, so a bookmark labels as the same person."""
    known = known_annotators()
    name = current_annotator(known)
    options = [*dict.fromkeys([name, *known]), NEW_ANNOTATOR]
    picked = st.selectbox("Annotator", options, index=0, key=f"annotator_pick_{name}",
                          help="Every accept and skip is saved with this name; pick yourself once per browser.")
    if picked == NEW_ANNOTATOR:
        typed = st.text_input("New annotator's name", key="annotator_new", placeholder="e.g. Ada")
        if typed:
            try:
                name = clean_annotator(typed)
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("annotator_new", None)
                _remember(name)
                st.rerun()
        return name
    _remember(picked)
    return picked


def _remember(name: str) -> None:
    st.session_state["annotator_name"] = name
    if st.query_params.get("annotator") != name:
        st.query_params["annotator"] = name
