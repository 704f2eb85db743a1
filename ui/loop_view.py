"""Model-in-the-loop parts of the Evaluate page: pre-annotation passes, the learning curve,
likely label errors. Each is a job queued for the worker; this only reads their rows."""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import plotly.express as px
import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.labeling import label_errors
from core.labeling.active import AGGREGATES, ORDERS
from core.runs.summary import eta_seconds
from core.train import learning_curve
from db import projects as project_repo
from db import runs as run_repo
from ui.run_live import start_worker, watch_job


def _is_finetune(run_id: int) -> bool:
    with sessions().begin() as s:
        return run_repo.get_run(s, run_id).kind == "finetune"


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
        a, b, c = st.columns(3)
        order = a.selectbox("Then order the queue by", [o for o in ORDERS if o != "random"] + ["random"])
        aggregate = b.selectbox("NER: aggregate words by", AGGREGATES)
        limit = c.number_input("At most (0 = all)", min_value=0, value=0, step=100)
        submitted = st.form_submit_button("Start pre-annotation")
    if submitted:
        from core.labeling.preannotate import create

        try:
            with sessions().begin() as s:
                new_id = create(s, run_id, int(limit) or None, order, aggregate)
            start_worker()
            st.success(f"Queued pre-annotation run {new_id}; the worker runs it in the background.")
        except (UserError, ValueError) as exc:
            st.error(str(exc))
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
            st.error(str(exc))
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
            st.error(str(exc))
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
    frame = pd.DataFrame([
        {"sample": c["sample_id"], "score": round(c["score"], 3), "text": c["text"][:100],
         "gold": c["gold"], "model": c["predicted"],
         "review": "/label?" + urlencode({"project": project, "sample": c["sample_id"]})}
        for c in found
    ])
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"review": st.column_config.LinkColumn("review", display_text="open in labeller")})
