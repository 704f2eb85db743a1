"""Model-in-the-loop parts of the Evaluate page: pre-annotation passes, the learning curve,
likely label errors. Runs are queued for the worker; this only reads their rows."""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import plotly.express as px
import streamlit as st

from core.labeling.active import AGGREGATES, ORDERS
from core.base.errors import UserError
from core.base.store import sessions
from db import projects as project_repo
from db import runs as run_repo
from ui import safe


def _is_finetune(run_id: int) -> bool:
    with sessions().begin() as s:
        return run_repo.get_run(s, run_id).kind == "finetune"


def _recent(project: str, kind: str, limit: int = 5) -> list[dict]:
    with sessions().begin() as s:
        runs = run_repo.list_runs(s, project_repo.get_project(s, project), kinds=[kind])[:limit]
        return [
            {"run": r.id, "status": r.status, "progress": round(100 * (r.progress or 0.0)),
             "from run": r.parent_run_id, "result": r.metrics, "error": r.error}
            for r in runs
        ]


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
    try:
        from core.train import learning_curve
    except ModuleNotFoundError:
        st.info("Learning curves are not available in this build.")
        return
    if not _is_finetune(run_id):
        st.info("Pick a fine-tuned run: the curve retrains its configuration.")
        return
    if st.button("Start learning curve", key="start_curve"):
        try:
            with sessions().begin() as s:
                new_id = learning_curve.create(s, run_id)
            st.success(f"Queued learning-curve run {new_id}.")
        except (UserError, ValueError) as exc:
            st.error(safe.md(exc))
    _curve_chart(project)


@st.fragment(run_every=5)
def _curve_chart(project: str) -> None:
    from core.train import learning_curve

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
    split = st.selectbox("Among", ["all labelled", "train", "dev", "test"], key="label_errors_split")
    if st.button("Find likely label errors", key="find_label_errors"):
        from core.labeling.label_errors import rank

        with st.spinner("Scoring labelled samples…"):
            found = rank(sessions(), run_id, limit=50, split=None if split == "all labelled" else split)
        st.session_state["label_errors"] = (run_id, found)
    run_and_found = st.session_state.get("label_errors")
    if not run_and_found or run_and_found[0] != run_id:
        return
    found = run_and_found[1]
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
