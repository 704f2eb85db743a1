"""Runs: every fine-tuning and in-context run of the project; compare them on the same samples,
inspect logs, download models; the background jobs pages queued."""
import streamlit as st

from core.base.store import sessions
from core.runs.jobs import QUICK, kinds_in
from core.runs.summary import project_runs
from ui import runs_view as view
from ui.run_live import ACTIVE
from ui.worker_status import worker_status
from ui.state import query_int, require_project

st.title("Runs")
worker_status()
project = require_project()
JOB_KINDS = set(kinds_in(QUICK))  # scoring, rankings, previews, exports: listed apart


def load() -> tuple[list[dict], list[dict]]:
    with sessions().begin() as s:
        rows = project_runs(s, project)
    return [r for r in rows if r["kind"] not in JOB_KINDS], [r for r in rows if r["kind"] in JOB_KINDS]


# Refresh on its own only while a run or job is queued or running.
@st.fragment(run_every=2.0 if any(r["status"] in ACTIVE for part in load() for r in part) else None)
def listing() -> None:
    rows, jobs = load()
    if not rows:
        st.info("No runs yet: start one on the Train page.")
        view.jobs_table(jobs)
        return
    st.caption("Select rows to overlay their curves and compare them; the first selected run's details "
               "are shown below. `n` is how many samples a score covers; equal `samples` fingerprints "
               "mean the same samples.")
    by_id = {r["id"]: r for r in rows}
    selected = view.selection(view.runs_table(rows), by_id)
    if selected:
        view.compare(rows, selected)
    focus = selected[0] if selected else query_int("run")
    if focus in by_id:
        view.details(by_id[focus])
    elif any(r["status"] in ACTIVE for r in rows):
        st.caption("A run is in progress: open it on the Train page to watch it live.")
    view.jobs_table(jobs)


listing()
