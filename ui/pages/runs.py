"""Runs: every fine-tuning and in-context run of the project; compare, inspect logs, export."""
import streamlit as st

from core.base.store import sessions
from core.runs.summary import project_runs
from ui import runs_view as view
from ui.run_live import ACTIVE
from ui.worker_status import worker_status
from ui.state import query_int, require_project

st.title("Runs")
worker_status()
project = require_project()


def load() -> list[dict]:
    with sessions().begin() as s:
        return project_runs(s, project)


# Refresh on its own only while a run is queued or running.
@st.fragment(run_every=2.0 if any(r["status"] in ACTIVE for r in load()) else None)
def listing() -> None:
    rows = load()
    if not rows:
        st.info("No runs yet: start one on the Train page.")
        return
    st.caption("Select rows to overlay their curves and compare them; the first selected run's details "
               "are shown below.")
    selected = view.runs_table(rows)
    by_id = {r["id"]: r for r in rows}
    if selected:
        view.compare(rows, selected)
    focus = selected[0] if selected else query_int("run")
    if focus in by_id:
        view.details(by_id[focus])
    elif any(r["status"] in ACTIVE for r in rows):
        st.caption("A run is in progress: open it on the Train page to watch it live.")


listing()
