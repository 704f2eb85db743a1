"""The Evaluate page on a run that has no scores yet: scoring runs in the worker while the page
shows its progress and stays usable; another page opens meanwhile; the scores appear after.

To hold the job mid-work on any machine (fast or loaded), the test pauses the job's process with
SIGSTOP once the job reports its predicting phase, and resumes it with SIGCONT after the other
page has opened: a real job, real pages, no timing guesses.
"""
from __future__ import annotations

import os
import signal

import pytest

from core.evaluation.report import cached
from db import runs as run_repo
from tests import tiny_runs as tm
from tests.e2e.conftest import _require_chromium, start_app, stop_app, wait_for_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TEST_SAMPLES = 1500


@pytest.fixture
def app(app_home):
    _require_chromium()
    # A paused job sends no heartbeats: give it longer than the default before it counts as dead.
    server = start_app(app_home, {"TAGTUNE_NO_DEMO": "1", "TAGTUNE_STALE_SECONDS": "300"})
    yield server
    stop_app(server)


def wait_for_job(S, check, timeout: float = 300.0):
    """Poll the job row (the app's own signal) until ``check(job)``; the job."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with S.begin() as s:
            jobs = run_repo.list_runs(s, kinds=["evaluate"])
            if jobs and check(jobs[0]):
                return jobs[0]
        time.sleep(0.05)
    raise AssertionError(f"the evaluate job never got there: {jobs[0].status if jobs else 'no job'}")


def nav(page, path: str) -> None:
    """In-app navigation through the sidebar (no reload of the browser tab)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
    page.wait_for_url(f"**/{path}**")
    wait_for_app(page)


def test_evaluate_page_shows_progress_and_stays_usable(app, page, tmp_path):
    S = app.sessions()
    pid = tm.ner_project(S, "big", n=3 * TEST_SAMPLES, unlabeled=0)
    run_id = tm.finetune_run(S, pid, tm.trained_model("ner", 40, tmp_path / "model"))

    page.goto(app.url("evaluate", project="big", run=run_id))
    wait_for_app(page)
    bar = page.locator('.st-key-job_evaluate [data-testid="stProgress"]')
    bar.wait_for(timeout=120_000)  # the first visit of a server imports the libraries: long on a busy machine
    job = wait_for_job(S, lambda j: j.status == "running" and j.phase == "predicting" and j.pid)
    os.kill(job.pid, signal.SIGSTOP)
    try:
        page.wait_for_function(
            "() => document.querySelector('.st-key-job_evaluate')?.innerText.includes('predicting')")
        page.locator(".st-key-job_evaluate").screenshot(path=str(app.home / "evaluate-progress.png"))

        nav(page, "runs")  # another page opens while the scoring job is mid-way
        page.get_by_text("Background jobs (1 active)").wait_for()
        with S.begin() as s:
            assert run_repo.get_run(s, job.id).status == "running"

        nav(page, "evaluate")
        bar.wait_for(timeout=120_000)
        assert "predicting" in page.locator(".st-key-job_evaluate").inner_text()
    finally:
        os.kill(job.pid, signal.SIGCONT)

    metric = page.locator('[data-testid="stMetricValue"]').first
    metric.wait_for(timeout=300_000)
    done = wait_for_job(S, lambda j: j.status != "running")
    assert (done.status, done.error) == ("completed", None)
    ev = cached(S, run_id, "test")
    assert ev["n"] == TEST_SAMPLES
    assert metric.inner_text() == f"{ev['default']['report']['f1']:.3f}"
    assert page.locator(".st-key-job_evaluate").count() == 0
