"""Runs page pieces: the runs table, overlaid curves, the comparison table, one run's details."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core.base.store import sessions
from core.runs.summary import curves
from db import runs as run_repo
from ui import charts
from ui import safe

LOG_TAIL_CHARS = 20_000


def table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "id": r["id"], "kind": r["kind"], "name": r["name"], "status": r["status"], "strategy": r["strategy"],
        "model": r["model"], "metric": r["metric"], "value": r["value"], "split": r["split"],
        "test": r["test_value"],
        "trainable params": r["trainable_params"], "total params": r["total_params"],
        "labels used": r["labels_used"], "s/sample": r["seconds_per_sample"],
        "wall s": round(r["wall_seconds"], 1) if r["wall_seconds"] is not None else None,
        "peak MB": round(r["peak_memory_mb"]) if r["peak_memory_mb"] is not None else None,
        "created": r["created_at"],
    } for r in rows])


def runs_table(rows: list[dict]) -> list[int]:
    """The runs table with multi-row selection; returns the selected run ids."""
    frame = table(rows)
    event = st.dataframe(
        frame, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
        width="stretch",
        column_config={"value": st.column_config.NumberColumn("headline", format="%.4f"),
                       "trainable params": st.column_config.NumberColumn(format="localized"),
                       "total params": st.column_config.NumberColumn(format="localized")},
    )
    return [int(frame.iloc[i]["id"]) for i in event.selection.rows]


def compare(rows: list[dict], run_ids: list[int]) -> None:
    """Overlay the selected runs' curves and compare them in one table."""
    by_id = {r["id"]: r for r in rows}
    names = {i: f"#{i} {safe.plot(by_id[i]['name'])}" for i in run_ids}
    with sessions().begin() as s:
        series = curves(s, run_ids)
    metric = by_id[run_ids[0]]["metric"]
    left, right = st.columns(2)
    with left.container(key="compare_loss"):
        st.plotly_chart(charts.loss_figure(charts.pick(series, "loss", names), raw=False))
    with right.container(key="compare_dev"):
        st.plotly_chart(charts.line_figure(charts.pick(series, f"dev_{metric}", names), f"Dev {metric}", metric,
                                           markers=True))
    compared = table([by_id[i] for i in run_ids])[
        ["id", "kind", "name", "model", "metric", "value", "split", "test", "labels used", "s/sample", "total params",
         "trainable params", "wall s", "peak MB"]]
    with st.container(key="compare_table"):
        st.dataframe(compared.rename(columns={"total params": "model size (params)"}), hide_index=True,
                     column_config={"test": st.column_config.NumberColumn(f"{metric} on test", format="%.4f")})
    missing = [i for i in run_ids if by_id[i]["test_value"] is None and by_id[i]["status"] == "completed"]
    if missing and st.button(f"Score {len(missing)} run(s) on the test split", key="score_on_test",
                             help="Fine-tuned runs report dev while training; this evaluates them on test "
                                  "so every run in the table is compared on the same samples."):
        score_on_test(missing)
        st.rerun()


def score_on_test(run_ids: list[int]) -> None:
    from core.base.errors import UserError
    from core.evaluation.report import evaluate

    for run_id in run_ids:
        with st.spinner(f"Scoring run #{run_id} on test…"):
            try:
                evaluate(sessions(), run_id, "test")
            except UserError as exc:
                st.warning(f"Run #{run_id}: {safe.md(exc)}")


def details(row: dict) -> None:
    """One run: error, log, where its model is, download, cancel."""
    st.subheader(f"Run #{row['id']} · {safe.md(row['name'])}")
    if row["error"]:
        st.error(safe.md(row["error"]))
    with st.container(key="run_details"):
        if row["checkpoint"]:
            st.markdown(f"Exported model: `{row['checkpoint']}` (loads with `transformers.pipeline`)")
            st.download_button("Download model (zip)", data=lambda: zip_folder(Path(row["checkpoint"])),
                               file_name=f"tagtune-run-{row['id']}.zip", mime="application/zip",
                               key=f"download_{row['id']}", icon=":material/download:")
        if row["status"] in ("queued", "running") and not row["cancel_requested"]:
            if st.button("Cancel run", key=f"cancel_{row['id']}", icon=":material/stop:"):
                with sessions().begin() as s:
                    run_repo.request_cancel(s, row["id"])
                st.rerun()
        log = Path(row["log_path"]) if row["log_path"] else None
        with st.expander("Log", expanded=row["status"] in ("failed", "interrupted")):
            if log and log.exists():
                text = log.read_text(errors="replace")
                st.caption(f"`{log}`" + (" (last part)" if len(text) > LOG_TAIL_CHARS else ""))
                st.code(text[-LOG_TAIL_CHARS:], language=None)
            else:
                st.caption("No log yet.")


def zip_folder(folder: Path) -> bytes:
    """The exported model folder as a zip (built only when the download is clicked)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()
