"""Runs page pieces: the runs table (with what each score covers), overlaid curves, the
comparison on the same samples (or why not, and the jobs that make it so), the background jobs,
one run's details."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from core.base.errors import UserError
from core.base.store import sessions
from core.runs import export
from core.runs.compare import compare as compare_runs
from core.runs.compare import icl_on_full_split, queue_same_samples, same_samples_plan
from core.runs.summary import curves
from db import projects as project_repo
from db import runs as run_repo
from ui import charts
from ui import safe
from ui.run_live import start_worker
from ui.splits import empty_reason, split_box

LOG_TAIL_CHARS = 20_000


def table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "id": r["id"], "kind": r["kind"], "name": r["name"], "status": r["status"], "strategy": r["strategy"],
        "model": r["model"], "metric": r["metric"], "value": r["value"], "split": r["split"], "n": r["n"],
        "samples": (r["sample_fingerprint"] or "")[:8] or None,
        "test": r["test_value"], "test n": r["test_n"],
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
                       "n": st.column_config.NumberColumn("n", help="samples the headline was computed on"),
                       "samples": st.column_config.TextColumn(
                           "samples", help="fingerprint of the samples scored: equal fingerprints, same samples"),
                       "trainable params": st.column_config.NumberColumn(format="localized"),
                       "total params": st.column_config.NumberColumn(format="localized")},
    )
    return [int(frame.iloc[i]["id"]) for i in event.selection.rows]


def selection(picked: list[int], by_id: dict[int, dict]) -> list[int]:
    """The runs to compare: the table's selection, kept in ``?compare=3,5`` so a comparison is a
    link; the link's runs until the table is first used in this session."""
    if picked or st.session_state.get("runs_picked"):
        st.session_state["runs_picked"] = True
        wanted = ",".join(map(str, picked))
        if st.query_params.get("compare", "") != wanted:
            if wanted:
                st.query_params["compare"] = wanted
            else:
                st.query_params.pop("compare", None)
        return picked
    linked = [int(x) for x in st.query_params.get("compare", "").split(",") if x.strip().isdigit()]
    return [i for i in linked if i in by_id]


def compare(rows: list[dict], run_ids: list[int]) -> None:
    """Overlay the selected runs' curves and compare their scores on one split, on the same
    samples, or flag that they were scored on different ones."""
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
    project, sizes = _labelled_per_split(run_ids[0])
    split = split_box(project, "compare", ["test", "dev", "train"], sizes, label="Compare on")
    empty = empty_reason(split, sizes)
    if empty:  # nothing to score the runs on: say so instead of offering jobs that would fail
        with st.container(key="compare_verdict"):
            st.info(empty)
        return
    with sessions().begin() as s:
        result = compare_runs(s, run_ids, split)
    frame = pd.DataFrame([{
        "id": r["id"], "kind": r["kind"], "name": r["name"], "model": by_id[r["id"]]["model"],
        "value": r["value"], "n": r["n"], "samples": (r["sample_fingerprint"] or "")[:8] or None,
        "scored by": _source(r["source"]), "labels used": by_id[r["id"]]["labels_used"],
        "s/sample": by_id[r["id"]]["seconds_per_sample"], "model size (params)": by_id[r["id"]]["total_params"],
        "trainable params": by_id[r["id"]]["trainable_params"], "wall s": by_id[r["id"]]["wall_seconds"],
    } for r in result.rows])
    with st.container(key="compare_table"):
        st.dataframe(frame, hide_index=True,
                     column_config={"value": st.column_config.NumberColumn(f"{result.metric} on {split}",
                                                                           format="%.4f")})
    with st.container(key="compare_verdict"):
        if result.comparable:
            n = result.rows[0]["n"]
            st.success(f"Comparable: every run is scored on the same {n} {split} samples "
                       f"({result.fingerprint[:8]}).")
        else:
            st.warning(f"Not comparable: {result.reason}.")
            same_samples_actions(run_ids, split, by_id)


def _labelled_per_split(run_id: int) -> tuple[str, dict[str, int]]:
    """(the run's project, its labelled samples per split)."""
    with sessions().begin() as s:
        project = project_repo.get_project_by_id(s, run_repo.get_run(s, run_id).project_id)
        return project.name, {k: v["labeled"] for k, v in project_repo.split_counts(s, project).items()}


def _source(source: str | None) -> str | None:
    if source is None:
        return None
    return "the run itself" if source == "run" else "evaluation " + source.split(":", 1)[1]


def same_samples_actions(run_ids: list[int], split: str, by_id: dict[int, dict]) -> None:
    """Score the runs on the same samples (a job per run), or run an ICL run on the full split."""
    try:
        with sessions().begin() as s:
            plan = same_samples_plan(s, run_ids, split)
    except UserError as exc:
        st.caption(safe.md(exc))
        plan = None
    left, right = st.columns(2)
    if plan is not None and plan.to_score and left.button(
            "Score on the same samples", key="score_same_samples", icon=":material/balance:",
            help=f"Scores runs {', '.join(f'#{i}' for i in plan.to_score)} on {plan.note}, in the background"):
        with sessions().begin() as s:
            _, queued = queue_same_samples(s, run_ids, split)
        start_worker()
        st.toast(f"Queued {len(queued)} scoring job(s)")
        st.rerun()
    partial = [i for i in run_ids if by_id[i]["kind"] == "icl" and by_id[i]["status"] == "completed"
               and by_id[i]["limit"]]
    for run_id in partial:
        if right.button(f"Run ICL #{run_id}'s settings on the full {split} split", key=f"icl_full_{run_id}",
                        help="a new ICL run without --limit: then it compares with runs scored on the whole split"):
            with sessions().begin() as s:
                new_id = icl_on_full_split(s, run_id, split)
            start_worker()
            st.toast(f"Queued ICL run #{new_id}")
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
def jobs_table(rows: list[dict]) -> None:
    """The background jobs pages queued (scoring, rankings, previews, exports), newest first."""
    if not rows:
        return
    with st.expander(f"Background jobs ({sum(r['status'] in ('queued', 'running') for r in rows)} active)"):
        frame = pd.DataFrame([{
            "id": r["id"], "kind": r["kind"], "name": r["name"], "status": r["status"], "phase": r["phase"],
            "progress": round(100 * (r["progress"] or 0.0)), "wall s": r["wall_seconds"], "error": r["error"],
        } for r in rows[:50]])
        st.dataframe(frame, hide_index=True, width="stretch", key="jobs_table",
                     column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0,
                                                                                max_value=100)})


def details(row: dict) -> None:
    """One run: error, log, where its model is, download, cancel."""
    st.subheader(f"Run #{row['id']} · {safe.md(row['name'])}")
    if row["error"]:
        st.error(safe.md(row["error"]))
    with st.container(key="run_details"):
        if row["checkpoint"] and row["kind"] == "finetune":
            st.markdown(f"Exported model: `{row['checkpoint']}` (loads with `transformers.pipeline`)")
            download(row)
        if row["status"] in ("queued", "running") and not row["cancel_requested"]:
            if st.button("Cancel run", key=f"cancel_{row['id']}", icon=":material/stop:"):
                with sessions().begin() as s:
                    run_repo.request_cancel(s, row["id"])
                st.rerun()
        log = Path(row["log_path"]) if row["log_path"] else None
        with st.expander("Log", expanded=row["status"] in ("failed", "interrupted")):
            if log and log.exists():
                text = readable_log(log.read_text(errors="replace"))
                st.caption(f"`{log}`" + (" (last part)" if len(text) > LOG_TAIL_CHARS else ""))
                st.code(text[-LOG_TAIL_CHARS:], language=None)
            else:
                st.caption("No log yet.")


# ECMA-48 escapes: CSI (colours, cursor moves: ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \),
# and the short ones (ESC, intermediate bytes, final byte: charset switches like ESC ( B).
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-~])")


def readable_log(text: str) -> str:
    """A run log as a person reads it: without terminal colour codes, and with progress bars
    (rewritten in place with carriage returns) shown at their last state."""
    lines = []
    for line in ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        lines.append(line.rstrip("\r").rsplit("\r", 1)[-1])
    return "\n".join(lines)


def download(row: dict) -> None:
    """The model as a zip: a job writes it (with progress), then the button serves the file."""
    with sessions().begin() as s:
        jobs = [j for j in run_repo.jobs_of(s, row["id"], export.KIND)]
        ready = next((j.metrics["path"] for j in jobs if j.status == "completed"
                      and Path((j.metrics or {}).get("path", "")).is_file()), None)
        active = next((j for j in jobs if j.status in ("queued", "running")), None)
    if ready:
        st.download_button("Download model (zip)", data=lambda: Path(ready).read_bytes(),
                           file_name=Path(ready).name, mime="application/zip", key=f"download_{row['id']}",
                           icon=":material/download:")
    elif active is not None:
        st.progress(min(max(active.phase_progress or 0.0, 0.0), 1.0),
                    text=f"Zipping the model (job #{active.id})… {round(100 * (active.phase_progress or 0))}%")
    elif st.button("Prepare a zip of the model", key=f"export_{row['id']}", icon=":material/folder_zip:"):
        try:
            with sessions().begin() as s:
                export.queue(s, row["id"])
            start_worker()
        except UserError as exc:
            st.error(safe.md(exc))
        st.rerun()
