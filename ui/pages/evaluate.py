"""Evaluate: scores of a run on a split, where it goes wrong, and the model-in-the-loop tools.
Scoring runs in the worker: the page shows the job's progress, then the cached scores."""
import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.evaluation import jobs as eval_jobs
from core.evaluation.report import result
from ui import eval_view as view
from ui import loop_view
from ui import safe
from ui.run_live import ACTIVE, start_worker, watch_job
from ui.splits import empty_reason, split_box
from ui.state import require_project

st.title("Evaluate")
project = require_project()

left, mid, right = st.columns([3, 1, 1])
with left:
    run_id = view.pick_run(project)
if run_id is None:
    st.info("No completed run in this project yet: train one on the Train page or run ICL.")
    st.stop()
options, sizes = view.evaluable_splits(project, run_id)
split = split_box(project, "evaluate", options, sizes, where=mid)
empty = empty_reason(split, sizes)
strict = right.toggle("Strict IOB2", key="eval_strict", help="seqeval strict mode: an I- tag after O is no entity")
refresh = right.button("Re-evaluate", help=empty or "score again, ignoring the cached scores", disabled=bool(empty))

if empty:  # nothing to score: say why instead of queueing a job that would fail
    st.info(empty)
    ev = None
else:
    try:
        state = eval_jobs.state(sessions(), run_id, split, refresh=refresh)
    except UserError as exc:
        st.warning(safe.md(exc))
        st.stop()
    ev = state.result
    if ev is None:
        if state.job_status in ACTIVE:
            start_worker()
        job = watch_job(state.job_id, f"Scoring run #{run_id} on {split}", key="evaluate")
        if job["status"] not in ACTIVE and st.button("Try again", key="eval_retry", icon=":material/refresh:"):
            with sessions().begin() as s:
                eval_jobs.queue(s, run_id, split, refresh=True)
            st.rerun()

if ev is not None:
    res = result(ev, strict=strict)
    st.caption(f"{ev['n']} labelled samples in {split} · samples {ev['sample_fingerprint'][:8]}")
    if ev["task"] == "ner":
        scores, confusion, errors = st.tabs(["Scores", "Confusion", "Errors"])
        with scores:
            view.ner_tables(res)
        with confusion:
            view.confusion_heatmap(res["confusion"]["labels"], res["confusion"]["matrix"],
                                   "Word-level confusion of entity types")
        with errors:
            view.error_breakdown(project, run_id, split, res)
    else:
        scores, confusion, mistakes = st.tabs(["Scores", "Confusion", "Confident mistakes"])
        with scores:
            view.classification_tables(res)
        with confusion:
            rep = res["report"]
            view.confusion_heatmap(rep["labels"], rep["confusion"], "Confusion (single-label samples)")
        with mistakes:
            view.confident_mistakes(project, run_id, split, res)

st.divider()
st.subheader("Model in the loop")
pre, curve, label_errors = st.tabs(["Pre-annotate", "Learning curve", "Likely label errors"])
with pre:
    loop_view.preannotate_section(project, run_id)
with curve:
    loop_view.learning_curve_section(project, run_id)
with label_errors:
    loop_view.label_errors_section(project, run_id)
