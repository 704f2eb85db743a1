"""A worker's look at its lanes never misses a run a lane is claiming at that moment (a run
claimed in that moment was neither queued nor current, and ``worker --once`` stopped and
interrupted it: seen once in CI, on a busy machine)."""
from __future__ import annotations

import threading

from core.runs import lanes
from core.runs.jobs import LANES
from core.runs.worker import _busy


def test_a_claim_in_flight_counts_as_busy(S, monkeypatch):
    board, stop, draining = lanes.Board(), threading.Event(), threading.Event()
    runner = lanes.LaneRunner(LANES["quick"], 0, None, board, 1, stop, draining, poll=0.01)
    in_claim, release_run = threading.Event(), threading.Event()

    def claim(_S):
        if in_claim.is_set():
            return None
        in_claim.set()
        stop.wait(0.3)  # committed in the database, not yet on the board
        return 7, "evaluate"

    monkeypatch.setattr(runner, "_claim", claim)
    monkeypatch.setattr(lanes, "run_one", lambda *a: release_run.wait(5) and "completed")
    runner.start()
    try:
        assert in_claim.wait(5)
        assert _busy(S, 1, [runner])  # waits for the claim to land, then sees run 7
        assert board.running() == [7]
    finally:
        release_run.set()
        stop.set()
        runner.join(5)
    assert runner.ran == [{"run_id": 7, "status": "completed"}] and not _busy(S, 1, [runner])


def test_a_draining_lane_claims_nothing_more(S, monkeypatch):
    board, stop, draining = lanes.Board(), threading.Event(), threading.Event()
    runner = lanes.LaneRunner(LANES["quick"], 0, None, board, 1, stop, draining, poll=0.01)
    claims = []
    monkeypatch.setattr(runner, "_claim", lambda _S: claims.append(1))
    draining.set()
    runner.start()
    runner.join(5)
    assert not runner.is_alive() and claims == []
