"""Model-in-the-loop parts of the Evaluate page: pre-annotation passes, the learning curve,
likely label errors. Each is a job queued for the worker; this only reads their rows."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.labeling import label_errors
from core.labeling.active import AGGREGATES, ORDER_NAMES, ORDERS
from core.labeling.preannotate import DEFAULT_MIN_CONFIDENCE, create
from core.runs.summary import eta_seconds
from core.train import learning_curve
from db import projects as project_repo
from db import runs as run_repo
from ui import safe
from ui.links import open_on_pick
from ui.run_live import start_worker, watch_job


def _is_finetune(run_id: int) -> bool:
    with sessions().begin() as s:
        return run_repo.get_run(s, run_id, metrics=False).kind == "finetune"


def _recent(project: str, kind: str, limit: int = 5) -> list[dict]:
    with sessions().begin() as s:
        runs = run_repo.list_runs(s, project_repo.get_project(s, project), kinds=[kind])[:limit]
        rows = []
        for r in runs:
            eta = eta_seconds({"status": r.status, "progress": r.progress, "wall_seconds": run_repo.duration(r)})
            rows.append({"run": r.id, "status": r.status, "phase": r.phase, "progress": round(100 * (r.progress or 0.0)),
                         "ETA s": round(eta) if eta is not None else None, "from run": r.parent_run_id,
                         "result": r.metrics, "error": r.error})
        return rows


def preannotate_section(project: str, run_id: int) -> None:
    st.caption("Apply this run's model to the unlabelled samples: its suggestions appear pre-filled in the "
               "labeller, and the queue follows the model's uncertainty.")
    if not _is_finetune(run_id):
        st.info("Pick a fine-tuned run: only a trained model can pre-annotate.")
        return
    with st.form("preannotate_form"):
        a, b, c, d = st.columns(4)
        order = a.selectbox("Then order the queue by", [o for o in ORDERS if o != "random"] + ["random"],
                            format_func=ORDER_NAMES.get)
        aggregate = b.selectbox("NER: aggregate words by", AGGREGATES,
                                format_func={"min": "least sure word", "mean": "mean over words"}.get)
        limit = c.number_input("At most (0 = all)", min_value=0, value=0, step=100)
        threshold = d.number_input(
            "NER: suggest spans from confidence", min_value=0.0, max_value=0.99, value=DEFAULT_MIN_CONFIDENCE,
            step=0.05, key="preannotate_threshold",
            help="A span is pre-filled only when its least sure word has at least this probability (0 = every "
                 "predicted span). The default gave the best F1 of suggestions on WNUT 2017 dev "
                 "(bench/preannotate_threshold.py). Split names (B-X B-X) are joined into one span either way.")
        submitted = st.form_submit_button("Start pre-annotation")
    if submitted:
        try:
            with sessions().begin() as s:
                new_id = create(s, run_id, int(limit) or None, order, aggregate,
                                min_confidence=float(threshold))
            start_worker()
            st.success(f"Queued pre-annotation run {new_id}; the worker runs it in the background.")
        except (UserError, ValueError) as exc:
            st.error(safe.md(exc))
    _status_table(project, "preannotate")


@st.fragment(run_every=3)
def _status_table(project: str, kind: str) -> None:
    rows = _recent(project, kind)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100)})


def learning_curve_section(project: str, run_id: int) -> None:
    st.caption("Retrain this run's configuration on 10, 25, 50 and 100% of the labelled training samples "
               "and plot the dev score against the number of labels used.")
    if not _is_finetune(run_id):
        st.info("Pick a fine-tuned run: the curve retrains its configuration.")
        return
    if st.button("Start learning curve", key="start_curve"):
        try:
            with sessions().begin() as s:
                new_id = learning_curve.create(s, run_id)
            start_worker()
            st.success(f"Queued learning-curve run {new_id}.")
        except (UserError, ValueError) as exc:
            st.error(safe.md(exc))
    _curve_chart(project)


@st.fragment(run_every=5)
def _curve_chart(project: str) -> None:
    with sessions().begin() as s:
        curve = learning_curve.latest_curve(s, project_repo.get_project(s, project))
    if curve is None:
        return
    st.caption(f"Learning-curve run {curve['run_id']} · {curve['status']}")
    if curve["points"]:
        frame = pd.DataFrame(curve["points"])
        fig = px.line(frame, x="labels", y="value", markers=True,
                      labels={"labels": "labelled training samples", "value": curve["metric"]})
        with st.container(key="learning-curve"):
            st.plotly_chart(fig, width="stretch")


def label_errors_section(project: str, run_id: int) -> None:
    st.caption("Labelled samples where the model confidently disagrees with the gold label: review them.")
    if not _is_finetune(run_id):
        st.info("Pick a fine-tuned run.")
        return
    among = st.selectbox("Among", ["all labelled", "train", "dev", "test"], key="label_errors_split")
    split = None if among == "all labelled" else among
    if st.button("Find likely label errors", key="find_label_errors"):
        try:
            with sessions().begin() as s:
                label_errors.queue(s, run_id, split, limit=50)
            start_worker()
        except (UserError, ValueError) as exc:
            st.error(safe.md(exc))
    with sessions().begin() as s:
        job = label_errors.latest(s, run_id, split)
        job_id = job.id if job is not None else None
    if job_id is None:
        return
    row = watch_job(job_id, f"Ranking likely label errors of run #{run_id} ({among})", key="label_errors")
    if row["status"] != "completed":
        return
    found = row["metrics"].get("candidates", [])
    st.caption(f"Ranked by job #{job_id} · {row['created_at']}")
    if not found:
        st.success("The model agrees with every gold label it was shown.")
        return
    rows = [{"sample": c["sample_id"], "score": round(c["score"], 3), "text": c["text"][:100],
             "gold": c["gold"], "model": c["predicted"]} for c in found]
    st.caption("Pick a row to review it in the labeller.")
    open_on_pick(rows, "label_error_rows", "ui/pages/label.py", width="stretch",
                 query=lambda row: {"project": project, "sample": row["sample"]})
