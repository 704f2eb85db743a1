"""Evaluate page parts: run picker, metric tables, confusion heatmap, error breakdown with links."""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import plotly.express as px
import streamlit as st

from core.base.store import sessions
from db import projects as project_repo
from db import runs as run_repo
from ui import safe

KIND_NAMES = {
    "wrong_type": "Wrong type (same span)",
    "wrong_boundary": "Wrong boundary (same type)",
    "wrong_type_and_boundary": "Wrong type and boundary",
    "spurious": "Spurious (no gold entity)",
    "missed": "Missed (no prediction)",
}


def runs_of(project_name: str, kinds=("finetune", "icl")) -> dict[int, str]:
    """Completed runs of the project, newest first: id -> label for a picker."""
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        return {
            r.id: f"#{r.id} · {r.kind} · {r.name or (r.config or {}).get('model', '')}"[:90]
            for r in run_repo.list_runs(s, project, kinds=kinds)
            if r.status == "completed" and (r.kind == "icl" or r.checkpoint)
        }


def pick_run(project_name: str, kinds=("finetune", "icl"), key: str = "run_picker") -> int | None:
    """A run selectbox kept in step with ``?run=``."""
    options = runs_of(project_name, kinds)
    if not options:
        return None
    wanted = st.query_params.get("run")
    ids = list(options)
    index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in options else 0
    run_id = st.selectbox("Run", ids, index=index, format_func=options.get, key=key)
    if st.query_params.get("run") != str(run_id):
        st.query_params["run"] = str(run_id)
    return run_id


def inspect_link(project: str, run_id: int, sample_id: int, split: str, kind: str | None = None) -> str:
    query = {"project": project, "run": run_id, "sample": sample_id, "split": split} | ({"kind": kind} if kind else {})
    return f"/inspect?{urlencode(query)}"


def ner_tables(res: dict) -> None:
    rep = res["report"]
    a, b, c = st.columns(3)
    a.metric("F1 (micro)", f"{rep['f1']:.3f}")
    b.metric("Precision", f"{rep['precision']:.3f}")
    c.metric("Recall", f"{rep['recall']:.3f}")
    rows = {**rep["per_label"], **{f"{k} avg": v for k, v in rep["averages"].items()}}
    st.dataframe(_report_frame(rows), width="stretch")


def classification_tables(res: dict) -> None:
    rep = res["report"]
    a, b, c = st.columns(3)
    a.metric("Accuracy", f"{rep['accuracy']:.3f}")
    b.metric("Macro F1", f"{rep['macro_f1']:.3f}")
    c.metric("Micro F1", f"{rep['micro_f1']:.3f}")
    st.dataframe(_report_frame(rep["per_label"]), width="stretch")


def _report_frame(rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(rows).T[["precision", "recall", "f1-score", "support"]]
    frame["support"] = frame["support"].astype(int)
    return frame.round(3)


def confusion_heatmap(labels: list[str], matrix: list[list[int]], title: str) -> None:
    labels = [safe.plot(l) for l in labels]
    fig = px.imshow(
        matrix, x=labels, y=labels, text_auto=True, color_continuous_scale="Blues",
        labels={"x": "predicted", "y": "gold", "color": "count"}, aspect="auto", title=title,
    )
    with st.container(key="confusion-heatmap"):
        st.plotly_chart(fig, width="stretch")


def error_breakdown(project: str, run_id: int, split: str, res: dict) -> None:
    """Counts per error kind; picking a row lists its samples with links to the inspector."""
    errors = res["errors"]
    st.caption(
        f"{errors['fp']} false positives and {errors['fn']} false negatives "
        f"({errors['tp']} correct entities). Pick a row to see its samples."
    )
    frame = pd.DataFrame(
        [{"error": KIND_NAMES[k], "count": n, "samples": len(errors["samples"][k])} for k, n in errors["counts"].items()]
    )
    with st.container(key="error-breakdown"):
        picked = st.dataframe(frame, hide_index=True, on_select="rerun", selection_mode="single-row", key="error_table")
    rows = picked.selection.rows if picked else []
    if not rows:
        return
    kind = list(errors["counts"])[rows[0]]
    items = [i for i in errors["items"] if i["kind"] == kind]
    listing = pd.DataFrame(
        [
            {
                "sample": i["sample_id"],
                "gold": _span_text(i["gold"]),
                "predicted": _span_text(i["predicted"]),
                "inspect": inspect_link(project, run_id, i["sample_id"], split, kind),
            }
            for i in items
        ]
    )
    st.markdown(f"**{KIND_NAMES[kind]}** · {len(items)} errors in {len(errors['samples'][kind])} samples")
    st.dataframe(
        listing, hide_index=True, width="stretch",
        column_config={"inspect": st.column_config.LinkColumn("inspect", display_text="open in inspector")},
    )


def _span_text(span: list | None) -> str:
    return "—" if span is None else f"{span[3]!r} {span[2]} [{span[0]}, {span[1]})"


def confident_mistakes(project: str, run_id: int, split: str, res: dict) -> None:
    st.caption(f"{res['mistake_count']} mistakes; the most confident first.")
    frame = pd.DataFrame(
        [
            {
                "sample": m["sample_id"], "text": m["text"][:120], "gold": ", ".join(m["gold"]),
                "predicted": ", ".join(m["predicted"]), "confidence": m["confidence"],
                "inspect": inspect_link(project, run_id, m["sample_id"], split),
            }
            for m in res["mistakes"]
        ]
    )
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_config={"inspect": st.column_config.LinkColumn("inspect", display_text="open in inspector")},
    )
