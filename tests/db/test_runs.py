"""db/runs.py and db/workers.py: claiming, final statuses, interruption, cancel of a lost run.

Runs on a file SQLite in tmp_path, and on PostgreSQL when TAGTUNE_TEST_DB_URL is set.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from db import projects as project_repo
from db import runs as run_repo
from db import workers as worker_repo
from db.models import Run, Worker, utcnow
from tests.db.claimer import claim_until_empty


@pytest.fixture
def project_id(S) -> int:
    with S.begin() as s:
        return project_repo.create_project(s, "p", "ner", ["PER"]).id


def queue(S, project_id: int, n: int, kind: str = "finetune") -> list[int]:
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, project_id)
        return [run_repo.create_run(s, project, kind, {"i": i}).id for i in range(n)]


def status_of(S, run_id: int) -> str:
    with S.begin() as s:
        return run_repo.get_run(s, run_id).status


def age_heartbeat(S, run_id: int, seconds: float) -> None:
    with S.begin() as s:
        s.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


# ---- claim_next ---------------------------------------------------------------------------------

def test_claim_next_takes_the_oldest_queued_run_of_the_asked_kinds(S, project_id):
    first, second = queue(S, project_id, 2)
    (icl,) = queue(S, project_id, 1, kind="icl")
    with S.begin() as s:
        run = run_repo.claim_next(s, pid=123, kinds=["icl"], worker_id=None)
        assert (run.id, run.status, run.pid) == (icl, "running", 123)
        assert run.started_at is not None and run.heartbeat_at is not None
    with S.begin() as s:
        assert run_repo.claim_next(s, kinds=["icl"]) is None
        assert run_repo.claim_next(s, kinds=["finetune", "icl"]).id == first
        assert run_repo.claim_next(s).id == second
        assert run_repo.claim_next(s) is None


def test_claim_next_honours_a_lanes_slots(S, project_id):
    a, b = queue(S, project_id, 2)
    (other,) = queue(S, project_id, 1, kind="icl")
    with S.begin() as s:
        assert run_repo.claim_next(s, kinds=["finetune"], slots=1).id == a
    with S.begin() as s:
        # The lane is full while `a` runs, whoever claimed it; other lanes are not.
        assert run_repo.claim_next(s, kinds=["finetune"], slots=1) is None
        assert run_repo.claim_next(s, kinds=["icl"], slots=1).id == other
        assert run_repo.claim_next(s, kinds=["finetune"], slots=2).id == b
    with S.begin() as s:
        run_repo.finish(s, a, "completed")
    assert status_of(S, b) == "running"


def _claim_all_in_threads(S, n_threads: int) -> list[int]:
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock, start = threading.Lock(), threading.Barrier(n_threads)

    def claimer(number: int) -> None:
        try:
            start.wait()
            while True:
                with S.begin() as s:
                    run = run_repo.claim_next(s, pid=number)
                    if run is None:
                        return
                    with lock:
                        claimed.append(run.id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return claimed


def test_claim_next_never_hands_one_run_to_two_threads(S, project_id):
    ids = queue(S, project_id, 60)
    claimed = _claim_all_in_threads(S, 8)
    assert sorted(claimed) == ids  # each run exactly once, none lost


def test_claim_next_never_hands_one_run_to_two_processes(S, project_id):
    from core.base import settings

    ids = queue(S, project_id, 60)
    url = os.environ.get("TAGTUNE_DB_URL") or settings.db_url()
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: their own connections
    out, start = ctx.Queue(), ctx.Barrier(4)
    procs = [ctx.Process(target=claim_until_empty, args=(url, out, start)) for _ in range(4)]
    for p in procs:
        p.start()
    claimed = [run_id for _ in procs for run_id in out.get(timeout=120)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert sorted(claimed) == ids


def test_requeue_puts_a_claimed_run_back(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s, pid=1)
    with S.begin() as s:
        assert run_repo.requeue(s, run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        assert (run.status, run.pid, run.started_at) == ("queued", None, None)
        assert run_repo.claim_next(s).id == run_id


# ---- finish -------------------------------------------------------------------------------------

@pytest.mark.parametrize("final", ["completed", "failed", "cancelled", "interrupted"])
def test_finish_never_overwrites_a_final_status(S, project_id, final):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s)
        assert run_repo.finish(s, run_id, final, metrics={"f1": 0.5}, error="first")
    for later in ("completed", "failed", "cancelled", "interrupted"):
        with S.begin() as s:
            assert not run_repo.finish(s, run_id, later, metrics={"f1": 0.9}, error="second", checkpoint="/x")
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        assert (run.status, run.metrics, run.error, run.checkpoint) == (final, {"f1": 0.5}, "first", None)


def test_finish_refuses_a_status_that_is_not_final(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s, pytest.raises(ValueError, match="got status 'running': expected one of completed"):
        run_repo.finish(s, run_id, "running")


def test_a_cancelled_queued_run_is_never_claimed_or_finished(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        assert run_repo.request_cancel(s, run_id).status == "cancelled"
    with S.begin() as s:
        assert run_repo.claim_next(s) is None
        assert not run_repo.finish(s, run_id, "completed")
    assert status_of(S, run_id) == "cancelled"


# ---- mark_interrupted ---------------------------------------------------------------------------

def test_mark_interrupted_takes_runs_past_the_stale_window_only(S, project_id):
    fresh, stale, done = queue(S, project_id, 3)
    for _ in range(3):
        with S.begin() as s:
            run_repo.claim_next(s)
    age_heartbeat(S, stale, 60)
    age_heartbeat(S, done, 60)
    with S.begin() as s:
        run_repo.finish(s, done, "completed")
    with S.begin() as s:
        assert run_repo.stale_ids(s, timedelta(seconds=30)) == [stale]
        assert run_repo.mark_interrupted(s, stale_after=timedelta(seconds=30)) == 1
    assert [status_of(S, i) for i in (fresh, stale, done)] == ["running", "interrupted", "completed"]
    with S.begin() as s:
        run = run_repo.get_run(s, stale)
        assert "start it again" in run.error and run.finished_at is not None


def test_mark_interrupted_by_explicit_ids_ignores_heartbeats(S, project_id):
    a, b, queued = queue(S, project_id, 3)
    for _ in range(2):
        with S.begin() as s:
            run_repo.claim_next(s)
    with S.begin() as s:
        assert run_repo.mark_interrupted(s, run_ids=[a, queued], reason="the worker (pid 7) died") == 1
    assert [status_of(S, i) for i in (a, b, queued)] == ["interrupted", "running", "queued"]
    with S.begin() as s:
        assert run_repo.get_run(s, a).error == "the worker (pid 7) died"


def test_mark_interrupted_with_both_needs_both(S, project_id):
    a, b = queue(S, project_id, 2)
    for _ in range(2):
        with S.begin() as s:
            run_repo.claim_next(s)
    age_heartbeat(S, b, 60)
    with S.begin() as s:  # `a` beat recently: alive after all
        assert run_repo.mark_interrupted(s, stale_after=timedelta(seconds=30), run_ids=[a, b]) == 1
    assert [status_of(S, i) for i in (a, b)] == ["running", "interrupted"]


def test_mark_interrupted_refuses_to_interrupt_everything(S):
    with S.begin() as s, pytest.raises(ValueError, match="needs stale_after or run_ids"):
        run_repo.mark_interrupted(s)


def test_stale_window_follows_the_environment(monkeypatch):
    monkeypatch.setenv("TAGTUNE_STALE_SECONDS", "2.5")
    assert run_repo.stale_window() == timedelta(seconds=2.5)
    monkeypatch.delenv("TAGTUNE_STALE_SECONDS")
    assert run_repo.stale_window() == timedelta(seconds=run_repo.DEFAULT_STALE_SECONDS)


# ---- heartbeats and cancel ----------------------------------------------------------------------

def test_heartbeat_says_when_the_run_was_ended_by_someone_else(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s)
        assert run_repo.heartbeat(s, run_id, progress=0.5)
        run_repo.mark_interrupted(s, run_ids=[run_id])
    with S.begin() as s:
        assert not run_repo.heartbeat(s, run_id)


def test_heartbeat_many_keeps_only_running_runs_alive(S, project_id):
    a, b = queue(S, project_id, 2)
    for _ in range(2):
        with S.begin() as s:
            run_repo.claim_next(s)
    age_heartbeat(S, a, 60)
    age_heartbeat(S, b, 60)
    with S.begin() as s:
        run_repo.finish(s, b, "failed")
        run_repo.heartbeat_many(s, [a, b])
    with S.begin() as s:
        assert run_repo.stale_ids(s, timedelta(seconds=30)) == []


def test_cancel_of_a_live_running_run_raises_its_flag(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s)
    with S.begin() as s:
        run = run_repo.request_cancel(s, run_id)
        assert (run.status, run.cancel_requested) == ("running", True)


def test_cancel_of_a_running_run_whose_process_is_gone_cancels_it(S, project_id):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s)
    age_heartbeat(S, run_id, 120)
    with S.begin() as s:
        run = run_repo.request_cancel(s, run_id, stale_after=timedelta(seconds=30))
        assert (run.status, run.cancel_requested) == ("cancelled", True)
        assert "its process had stopped" in run.error and run.finished_at is not None


def test_cancel_uses_the_stale_window_by_default(S, project_id, monkeypatch):
    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.claim_next(s)
    age_heartbeat(S, run_id, 5)
    monkeypatch.setenv("TAGTUNE_STALE_SECONDS", "60")
    with S.begin() as s:
        assert run_repo.request_cancel(s, run_id).status == "running"
    monkeypatch.setenv("TAGTUNE_STALE_SECONDS", "2")
    with S.begin() as s:
        assert run_repo.request_cancel(s, run_id).status == "cancelled"


def test_points_filters_by_run_and_name_in_step_order(S, project_id):
    a, b = queue(S, project_id, 2)
    with S.begin() as s:
        run_repo.add_points(s, a, 2, 0.2, {"loss": 1.0, "learning_rate": 0.1})
        run_repo.add_points(s, a, 1, 0.1, {"loss": 2.0})
        run_repo.add_points(s, b, 1, 0.1, {"loss": 3.0})
    with S.begin() as s:
        assert [(p.step, p.value) for p in run_repo.points(s, [a], names=["loss"])] == [(1, 2.0), (2, 1.0)]
        assert len(run_repo.points(s, [a, b])) == 4


# ---- workers ------------------------------------------------------------------------------------

def test_worker_rows_beat_stop_once_and_fall_silent(S):
    with S.begin() as s:
        live = worker_repo.register(s, pid=10, host="h").id
        gone = worker_repo.register(s, pid=11, host="h").id
    with S.begin() as s:
        assert worker_repo.beat(s, live, {"train": [3], "quick": []})
        s.execute(update(Worker).where(Worker.id == gone)
                  .values(beat_at=utcnow() - timedelta(seconds=60)))
    with S.begin() as s:
        assert [w.id for w in worker_repo.silent(s, timedelta(seconds=10))] == [gone]
        assert worker_repo.stop(s, gone, "dead", "no heartbeat", silent_for=timedelta(seconds=10))
        # A worker that beat recently is not declared dead, and the first word on an end stays.
        assert not worker_repo.stop(s, live, "dead", "no heartbeat", silent_for=timedelta(seconds=10))
        assert not worker_repo.stop(s, gone, "stopped", "clean exit")
    with S.begin() as s:
        assert not worker_repo.beat(s, gone, {})
        assert worker_repo.get(s, gone).note == "no heartbeat"
        assert worker_repo.find(s, 10, "h").lanes == {"train": [3], "quick": []}
        assert [w.id for w in worker_repo.running(s)] == [live]


def test_running_ids_are_the_runs_a_worker_claimed(S, project_id):
    a, b, c = queue(S, project_id, 3)
    with S.begin() as s:
        w1 = worker_repo.register(s, pid=1, host="h").id
        w2 = worker_repo.register(s, pid=2, host="h").id
    with S.begin() as s:
        run_repo.claim_next(s, worker_id=w1)
        run_repo.claim_next(s, worker_id=w2)
        run_repo.claim_next(s, worker_id=w1)
    with S.begin() as s:
        run_repo.finish(s, c, "completed")
        assert run_repo.running_ids(s, w1) == [a]
        assert run_repo.running_ids(s, w2) == [b]


def test_metrics_false_leaves_the_cached_evaluations_unparsed_until_read(S, project_id):
    """Pages that need a run's kind or checkpoint skip parsing Run.metrics (cached evaluations:
    megabytes of JSON on a large split); reading it inside the session still gives it."""
    from sqlalchemy import inspect

    (run_id,) = queue(S, project_id, 1)
    with S.begin() as s:
        run_repo.set_metrics(s, run_id, {"f1": 0.5, "eval": {"test": {"n": 3}}})
    with S.begin() as s:
        run = run_repo.get_run(s, run_id, metrics=False)
        assert "metrics" in inspect(run).unloaded and run.kind == "finetune"
        assert run.metrics["eval"]["test"]["n"] == 3  # loaded on first use
        listed = run_repo.list_runs(s, metrics=False)
        assert [r.id for r in listed] == [run_id]
    with S.begin() as s:
        (listed,) = run_repo.list_runs(s, metrics=False)
        assert "metrics" in inspect(listed).unloaded
        assert listed.metrics["f1"] == 0.5
