"""The worker as a person sees it in a real browser: a short job queued behind a training run
starts and ends while the training runs (issue 14); a worker killed -9 is noticed, its run
interrupted, the worker restarted and reaped, and the Train and Runs pages say so (issue 11)."""
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


def test_a_short_job_queued_behind_a_training_run_starts_before_it_ends(app, page, tmp_path):
    S = app.sessions()
    project_id, model_run = trained_ner_run(S, tmp_path)
    training_run = queue_training(S, "toyner", make_tiny_model(tmp_path / "tiny"), max_steps=1_000_000)
    try:
        page.goto(app.url("train", project="toyner", run=training_run))
        wait_for_app(page)
        wait_for_run(S, training_run, training)
        page.wait_for_function("() => document.querySelector('.st-key-run_status')?.innerText.includes('running')",
                               timeout=60_000)
        page.wait_for_function(
            f"() => document.querySelector('.st-key-worker_status')?.innerText.includes('train #{training_run}')",
            timeout=60_000)

        # Queue a pre-annotation (the batch lane) behind it from the Evaluate page.
        page.goto(app.url("evaluate", project="toyner", run=model_run))
        wait_for_app(page)
        page.get_by_role("tab", name="Pre-annotate").click()
        page.get_by_role("button", name="Start pre-annotation").click()

        def queued() -> list[int]:
            with S.begin() as s:
                return [r.id for r in run_repo.list_runs(s, kinds=["preannotate"])]

        short = wait_until(queued, 60, "the pre-annotation run queued by the button")[0]
        page.wait_for_selector("text=Queued pre-annotation run", timeout=30_000)
        # It runs to the end while the training run is still running, and the page shows it.
        done = wait_for_run(S, short, lambda r, _: r.status not in ("queued", "running"))
        assert done.status == "completed", done.error
        assert run_state(S, training_run)[0].status == "running", "the short job waited for the training run"
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
