"""A run's live view: status, phase and progress with ETA and samples/s, curves, cancel. While
the run is queued or running it refreshes itself with ``st.fragment(run_every=...)``.

``watch_job`` is the same for the quick jobs pages queue (an evaluation, a ranking, a preview, an
export): a live bar with the job's phase, its fraction and ETA, and Cancel; when the job ends the
page reruns once and shows the stored result."""
from __future__ import annotations

import streamlit as st

from core.base.store import sessions
from core.runs.summary import curves, eta_seconds, phase_eta_seconds, run_row
from db import projects as project_repo
from db import runs as run_repo
from ui import charts
from ui import safe

REFRESH_SECONDS = 1.5
JOB_REFRESH_SECONDS = 1.0
ACTIVE = ("queued", "running")
STATUS_ICON = {"queued": ":material/schedule:", "running": ":material/directions_run:",
               "completed": ":material/check_circle:", "failed": ":material/error:", "cancelled": ":material/cancel:",
               "interrupted": ":material/warning:"}


def load(run_id: int) -> tuple[dict, dict]:
    with sessions().begin() as s:
        run = run_repo.get_run(s, run_id)
        task = project_repo.get_project_by_id(s, run.project_id).task
        return run_row(run, task), curves(s, [run_id])[run_id]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def status_line(row: dict, series: dict) -> None:
    with st.container(key="run_status"):
        st.markdown(f"**Run #{row['id']}** · {safe.md(row['name'])} · {STATUS_ICON.get(row['status'], '')} "
                    f"`{row['status']}`" + (" · cancelling…" if row["cancel_requested"] and row["status"] == "running"
                                            else ""))
        speed = series.get("samples_per_second", [])
        progress_bar(row, f" · {speed[-1][1]:.1f} samples/s" if speed and row["phase"] in (None, "training") else "")
        if row["error"]:
            st.error(safe.md(row["error"]))
        if row["status"] == "completed" and row["value"] is not None:
            st.success(f"{row['split'] or 'dev'} {row['metric']} = {row['value']:.4f} · model at `{row['checkpoint']}`")


def progress_bar(row: dict, extra: str = "") -> None:
    """The run's bar. In a phase other than training steps (an evaluation, saving, exporting) the
    bar follows that phase's own progress and ETA, so it never sits still while work goes on."""
    overall = min(max(row["progress"] or 0.0, 0.0), 1.0)
    phase = row.get("phase")
    if row["status"] == "queued":
        st.progress(0.0, text="waiting for the worker…")
        return
    if row["status"] == "running" and phase and phase != "training":
        fraction = min(max(row.get("phase_progress") or 0.0, 0.0), 1.0)
        text = (f"{phase} · {fraction:.0%} · ETA {_duration(phase_eta_seconds(row))} · run {overall:.0%}"
                f" · elapsed {_duration(row['wall_seconds'])}{extra}")
        st.progress(fraction, text=text)
        return
    text = (f"{phase + ' · ' if phase and row['status'] == 'running' else ''}{overall:.0%} · elapsed "
            f"{_duration(row['wall_seconds'])} · ETA {_duration(eta_seconds(row))}{extra}")
    st.progress(overall, text=text)


def load_job(job_id: int) -> dict:
    with sessions().begin() as s:
        run = run_repo.get_run(s, job_id)
        task = project_repo.get_project_by_id(s, run.project_id).task
        return {**run_row(run, task), "metrics": dict(run.metrics or {}), "config": dict(run.config or {})}


def watch_job(job_id: int, what: str, key: str) -> dict:
    """A live bar for one job until it ends (then the page reruns); returns the job's row.

    ``what`` names the work for people ("Scoring run #3 on test"); ``key`` keeps widgets apart."""
    row = load_job(job_id)
    was_active = row["status"] in ACTIVE

    @st.fragment(run_every=JOB_REFRESH_SECONDS if was_active else None)
    def body() -> None:
        row = load_job(job_id)
        with st.container(key=f"job_{key}"):
            if row["status"] in ACTIVE:
                st.caption(f"{what} · job #{job_id} runs in the background: you can leave this page and come back.")
                progress_bar(row)
                if not row["cancel_requested"]:
                    if st.button("Cancel", key=f"cancel_job_{key}", icon=":material/stop:"):
                        with sessions().begin() as s:
                            run_repo.request_cancel(s, job_id)
                        st.rerun(scope="fragment")
                else:
                    st.caption("cancelling…")
            elif row["status"] != "completed":
                st.warning(f"{what}: job #{job_id} {row['status']}" + (f": {safe.md(row['error'])}" if row["error"] else ""))
        if was_active and row["status"] not in ACTIVE:
            st.rerun(scope="app")  # show the result the job stored

    body()
    return row


def curve_charts(run_id: int, series: dict, metric: str) -> None:
    name = {run_id: f"#{run_id}"}
    left, middle, right = st.columns(3)
    with left.container(key="loss_chart"):
        st.plotly_chart(charts.loss_figure(charts.pick({run_id: series}, "loss", name)), key=f"loss_{run_id}")
    with middle.container(key="lr_chart"):
        st.plotly_chart(charts.learning_rate_figure(charts.pick({run_id: series}, "learning_rate", name)),
                        key=f"lr_{run_id}")
    with right.container(key="dev_chart"):
        st.plotly_chart(charts.line_figure(charts.pick({run_id: series}, f"dev_{metric}", name),
                                           f"Dev {metric} per evaluation", metric, markers=True), key=f"dev_{run_id}")


def cancel_button(row: dict) -> None:
    if row["status"] in ACTIVE and not row["cancel_requested"]:
        if st.button("Cancel run", key="cancel_run", icon=":material/stop:"):
            with sessions().begin() as s:
                run_repo.request_cancel(s, row["id"])
            st.rerun(scope="fragment")


def live_run(run_id: int) -> None:
    row, _ = load(run_id)
    was_active = row["status"] in ACTIVE

    @st.fragment(run_every=REFRESH_SECONDS if was_active else None)
    def body() -> None:
        row, series = load(run_id)
        status_line(row, series)
        cancel_button(row)
        curve_charts(run_id, series, row["metric"])
        if was_active and row["status"] not in ACTIVE:
            st.rerun(scope="app")  # stop refreshing once the run is over

    body()


def start_worker() -> None:
    """Make sure a worker serves this home (a job was just queued, or waits in the queue)."""
    from core.runs.worker import ensure_worker

    ensure_worker()
