"""The worker status line on the Train and Runs pages: what it says in each state."""
from __future__ import annotations

from datetime import datetime, timedelta

from core.runs.health import WorkerHealth
from core.runs.supervisor import Event, SupervisorStatus
from ui.worker_status import worker_status_text


def health(status="running", lanes=None, age=0.5):
    return WorkerHealth(3, 4242, status, age, lanes or {}, None)


def supervised(pid=4242, restarts=0, events=(), gave_up=None):
    return SupervisorStatus(pid, None, restarts, tuple(events), gave_up)


def test_a_serving_worker_says_what_each_lane_runs():
    assert worker_status_text(health(lanes={"train": [5], "batch": [], "quick": [7, 8]}), supervised()) == \
        ("ok", "Worker running (pid 4242) · running quick #7, #8; train #5")
    assert worker_status_text(health(lanes={"train": []}), supervised()) == ("ok", "Worker running (pid 4242) · idle")


def test_a_recent_death_is_a_warning_and_an_old_one_a_note():
    death = Event(datetime.now(), "the worker (pid 99) was killed by SIGKILL; run #5 interrupted")
    restart = Event(datetime.now(), "worker restarted (pid 4242)")
    level, text = worker_status_text(health(), supervised(restarts=1, events=[death, restart]))
    assert level == "warning"
    assert text.endswith(f"· restarted 1× · last problem at {death.at:%H:%M:%S}: the worker (pid 99) was killed "
                         "by SIGKILL; run #5 interrupted")
    old = Event(datetime.now() - timedelta(hours=1), death.text)
    assert worker_status_text(health(), supervised(restarts=1, events=[old, restart]))[0] == "ok"


def test_no_worker_a_silent_one_and_one_given_up_on():
    assert worker_status_text(health("none"), supervised(pid=None))[0] == "warning"
    level, text = worker_status_text(health("silent", age=14), supervised(pid=None))
    assert (level, text) == ("warning", "Worker not answering (no heartbeat for 14 s)")
    level, text = worker_status_text(health(), supervised(gave_up="the worker died 5 times within 60 s"))
    assert (level, text) == ("error", "Worker down: the worker died 5 times within 60 s.")
    assert worker_status_text(health("stopped"), supervised(pid=77)) == ("ok", "Worker starting (pid 77)")
