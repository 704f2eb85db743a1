"""One line on the Train and Runs pages saying how the background worker is: serving (and what
each lane runs), restarted after a death, or down and why. Looking also does the app's checks
(core/runs/supervisor.py): a dead worker is restarted and its runs interrupted."""
from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from core.base.store import sessions
from core.runs.health import WorkerHealth, worker_health
from core.runs.supervisor import SupervisorStatus, supervisor

REFRESH_SECONDS = 3.0
RECENT = timedelta(minutes=5)  # a worker death this recent is shown as a warning, older as a note


def worker_status_text(health: WorkerHealth, status: SupervisorStatus) -> tuple[str, str]:
    """(level, text): level is "ok", "warning" or "error"."""
    if status.gave_up:
        return "error", f"Worker down: {status.gave_up}."
    if health.status == "running":
        busy = [f"{lane} #{', #'.join(map(str, ids))}" for lane, ids in sorted(health.lanes.items()) if ids]
        text = f"Worker running (pid {health.pid}) · " + ("running " + "; ".join(busy) if busy else "idle")
    elif status.pid or status.external_pid:
        text = f"Worker starting (pid {status.pid or status.external_pid})"
    elif health.status == "silent":
        text = f"Worker not answering (no heartbeat for {health.beat_age:.0f} s)"
    else:
        return "warning", "No worker is running: queued runs wait until one starts (start a run to start it)."
    level = "warning" if health.status == "silent" else "ok"
    deaths = [e for e in status.events if not e.text.startswith("worker restarted")]
    if status.restarts:
        text += f" · restarted {status.restarts}×"
    if deaths:
        text += f" · last problem at {deaths[-1].at:%H:%M:%S}: {deaths[-1].text}"
        if datetime.now() - deaths[-1].at < RECENT:
            level = "warning"
    return level, text


@st.fragment(run_every=REFRESH_SECONDS)
def worker_status() -> None:
    """Render the worker's status line (a fragment that refreshes itself)."""
    watcher = supervisor()
    watcher.check()
    level, text = worker_status_text(worker_health(sessions()), watcher.status())
    with st.container(key="worker_status"):
        if level == "ok":
            st.caption(text, help="The background worker runs training and other long jobs in lanes; "
                                  "see README, 'The background worker'.")
        elif level == "warning":
            st.warning(text, icon=":material/warning:")
        else:
            st.error(text, icon=":material/error:")
