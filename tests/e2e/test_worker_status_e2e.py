"""The worker as a person sees it in a real browser: a quick job (the scoring the Evaluate page
queues) behind a training run starts and ends while the training runs (issue 14); a worker
killed -9 is noticed, its run interrupted, the worker restarted and reaped, and the Train and
Runs pages say so (issue 11)."""
from __future__ import annotations

import os
import signal

import pytest

from db import runs as run_repo
from db import workers as worker_repo
from tests.e2e.conftest import wait_for_app
from tests.tiny_models import make_tiny_model
from tests.tiny_runs import trained_ner_run
from tests.worker_helpers import is_zombie, queue_training, run_state, training, wait_for_run, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def status_text(page, key: str) -> str:
    box = page.locator(f".st-key-{key}")
    return box.inner_text() if box.count() else ""


def test_a_quick_job_queued_behind_a_training_run_starts_before_it_ends(app, page, tmp_path):
    S = app.sessions()
    project_id, model_run = trained_ner_run(S, tmp_path)
    training_run = queue_training(S, "toyner", make_tiny_model(tmp_path / "tiny"), max_steps=1_000_000)
    try:
        page.goto(app.url("train", project="toyner", run=training_run))
        wait_for_app(page)
        wait_for_run(S, training_run, training)
        page.wait_for_function(
            f"() => document.querySelector('.st-key-worker_status')?.innerText.includes('train #{training_run}')",
            timeout=60_000)

        # Opening the Evaluate page on an unscored run queues its scoring job (the quick lane)...
        page.goto(app.url("evaluate", project="toyner", run=model_run))

        def scoring() -> list[int]:
            with S.begin() as s:
                return [r.id for r in run_repo.list_runs(s, kinds=["evaluate"])]

        job = wait_until(scoring, 120, "the scoring job queued by the Evaluate page")[0]
        # ...which runs to the end while the training run still runs, and the page shows its scores.
        done = wait_for_run(S, job, lambda r, _: r.status not in ("queued", "running"))
        assert done.status == "completed", done.error
        assert run_state(S, training_run)[0].status == "running", "the quick job waited for the training run"
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
    finally:
        with S.begin() as s:
            run_repo.request_cancel(s, training_run)
        wait_for_run(S, training_run, lambda r, _: r.status != "running")


def test_a_killed_worker_is_restarted_reaped_and_reported(app, page, tmp_path):
    S = app.sessions()
    trained_ner_run(S, tmp_path)
    run_id = queue_training(S, "toyner", make_tiny_model(tmp_path / "tiny"), max_steps=1_000_000)
    page.goto(app.url("train", project="toyner", run=run_id))
    wait_for_app(page)
    run = wait_for_run(S, run_id, training)
    with S.begin() as s:
        worker = worker_repo.running(s)[-1].pid
    page.wait_for_function(
        f"() => document.querySelector('.st-key-worker_status')?.innerText.includes('pid {worker}')", timeout=60_000)

    os.kill(worker, signal.SIGKILL)
    # Within seconds: the run is interrupted (not left "running · ETA ..."), the worker replaced
    # and reaped (no zombie under the server), and the page says what happened.
    run = wait_for_run(S, run_id, lambda r, _: r.status != "running", timeout=30)
    assert run.status == "interrupted" and "killed by SIGKILL" in run.error
    page.wait_for_function("() => document.querySelector('.st-key-worker_status')?.innerText.includes('restarted 1')",
                           timeout=30_000)
    text = status_text(page, "worker_status")
    assert f"the worker (pid {worker}) was killed by SIGKILL; run #{run_id} interrupted" in text
    page.wait_for_function("() => document.querySelector('.st-key-run_status')?.innerText.includes('interrupted')",
                           timeout=30_000)
    assert not is_zombie(worker)

    # The replacement serves the queue, and the Runs page says the same.
    def replacement() -> list[int]:
        with S.begin() as s:
            return [w.pid for w in worker_repo.running(s) if w.pid != worker]

    assert wait_until(replacement, 60, "a replacement worker")
    page.goto(app.url("runs", project="toyner"))
    wait_for_app(page)
    page.wait_for_function("() => document.querySelector('.st-key-worker_status')?.innerText.includes('restarted 1')",
                           timeout=30_000)
