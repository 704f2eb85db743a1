"""Evaluate page parts: run picker, metric tables, confusion heatmap, error breakdown with links."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.base.store import sessions
from db import projects as project_repo
from db import runs as run_repo
from ui import safe
from core.interpret.inspection import prob_text
from ui.links import open_on_pick

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
            for r in run_repo.list_runs(s, project, kinds=kinds, metrics=False)
            if r.status == "completed" and (r.kind == "icl" or r.checkpoint)
            and not (r.config or {}).get("suggest")  # LLM suggestions for unlabelled samples: nothing to score
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


def evaluable_splits(project_name: str, run_id: int) -> tuple[list[str], dict[str, int]]:
    """Splits a run can be scored on, with their labelled samples: test, dev and train for a
    fine-tuned run; only the split an ICL run predicted (its samples with a prediction)."""
    with sessions().begin() as s:
        project = project_repo.get_project(s, project_name)
        run = run_repo.get_run(s, run_id, metrics=False)  # read below only for an ICL run
        sizes = {k: v["labeled"] for k, v in project_repo.split_counts(s, project).items()}
        if run.kind != "icl":
            return ["test", "dev", "train"], sizes
        split = (run.metrics or {}).get("split") or (run.config or {}).get("split") or "test"
        return [split], {split: len(run_repo.predictions(s, run_id))}


def inspect_query(project: str, run_id: int, sample_id: int, split: str, kind: str | None = None) -> dict:
    return {"project": project, "run": run_id, "sample": sample_id, "split": split} | ({"kind": kind} if kind else {})


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


def confusion_figure(labels: list[str], matrix: list[list[int]], title: str, log: bool = True,
                     hide_o: bool = False) -> go.Figure:
    """Heatmap of counts (rows gold, columns predicted). The cells show the counts; the colour
    is log10(1 + count) when ``log``, so one huge cell (thousands of O→O words) does not leave
    every error cell the same pale blue; ``hide_o`` leaves the O→O cell uncoloured."""
    counts = np.asarray(matrix, dtype=float)  # (gold, predicted)
    colour = np.log10(1.0 + counts) if log else counts.copy()
    if hide_o and "O" in labels:
        o = labels.index("O")
        colour[o, o] = np.nan  # drawn blank, still labelled with its count
    top = float(np.nanmax(colour)) if np.isfinite(colour).any() else 0.0
    colorbar = dict(title="count")
    if log:
        ticks = [t for t in (0, 1, 10, 100, 1_000, 10_000, 100_000) if np.log10(1 + t) <= max(top, 0.3) * 1.001]
        colorbar.update(tickvals=[float(np.log10(1 + t)) for t in ticks], ticktext=[f"{t:,}" for t in ticks],
                        title="count (log)")
    shown = [safe.plot(label) for label in labels]  # label names are user input; Plotly reads <b>, <br>
    fig = go.Figure(go.Heatmap(
        z=colour, x=shown, y=shown, text=[[f"{int(c):,}" for c in row] for row in counts], texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=top or 1, colorbar=colorbar, hoverongaps=False,
        hovertemplate="gold %{y} → predicted %{x}: %{text}<extra></extra>",
    ))
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="gold", yaxis_autorange="reversed",
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def confusion_heatmap(labels: list[str], matrix: list[list[int]], title: str) -> None:
    log_col, o_col = st.columns(2)
    log = log_col.toggle("Log colour scale", value=True, key="confusion_log",
                         help="colour by log(1 + count), so small error counts stay visible next to large ones")
    hide_o = "O" in labels and o_col.toggle("Leave O→O uncoloured", value=True, key="confusion_hide_o",
                                            help="words outside every entity, correctly left out: usually "
                                                 "thousands, which would swamp the colour scale")
    with st.container(key="confusion-heatmap"):
        st.plotly_chart(confusion_figure(labels, matrix, title, log=log, hide_o=hide_o), width="stretch")


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
    listing = [{"sample": i["sample_id"], "gold": _span_text(i["gold"]), "predicted": _span_text(i["predicted"])}
               for i in items]
    st.markdown(f"**{KIND_NAMES[kind]}** · {len(items)} errors in {len(errors['samples'][kind])} samples · "
                "pick one to open it in the inspector")
    open_on_pick(listing, "error_listing", "ui/pages/inspect.py", width="stretch",
                 query=lambda row: inspect_query(project, run_id, row["sample"], split, kind))


def _span_text(span: list | None) -> str:
    return "—" if span is None else f"{span[2]} “{span[3]}”"


def confident_mistakes(project: str, run_id: int, split: str, res: dict) -> None:
    st.caption(f"{res['mistake_count']} mistakes; the most confident first.")
    rows = [{"sample": m["sample_id"], "text": m["text"][:120], "gold": ", ".join(m["gold"]),
             "predicted": ", ".join(m["predicted"]), "confidence": prob_text(m["confidence"])}
            for m in res["mistakes"]]
    st.caption("Pick a row to open it in the inspector.")
    open_on_pick(rows, "confident_mistakes", "ui/pages/inspect.py", width="stretch",
                 query=lambda row: inspect_query(project, run_id, row["sample"], split))
