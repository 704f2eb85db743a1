"""What runs inside one run's process (forked by core/runs/launcher.py): fresh database
connections, a heartbeat, the lane's GPU share, the handler, and a final status whatever happens."""
from __future__ import annotations

import logging
import os
import sys
import threading
import traceback

from core.base.store import sessions
from core.runs.jobs import handler_for
from db import runs as run_repo

log = logging.getLogger("tagtune.run")

# Set by the worker for guest lanes (core/runs/jobs.py): the share of each GPU's memory this
# process may take, so a training run keeps the rest.
GPU_FRACTION_ENV = "TAGTUNE_GPU_MEMORY_FRACTION"
EXIT_ABANDONED = 3  # the run was ended by someone else (interrupted, cancelled): stop at once
CHILD_NICENESS = 10  # run processes' scheduling niceness (0 = the app's; 19 = lowest)


def heartbeat_seconds() -> float:
    """Several beats per stale window, at most one every 3 s."""
    return min(3.0, run_repo.stale_window().total_seconds() / 5)


def run_child(run_id: int, kind: str, parent_pid: int) -> int:
    """Run ``run_id`` in this process; returns the process's exit code."""
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s", stream=sys.stdout, force=True)
    # Background work yields the CPU to the app: a labeller save or a page must not wait behind
    # training threads that take every core (issue 14: the UI stays fast while a run trains).
    niceness = os.nice(CHILD_NICENESS)
    from db.engine import reset

    reset()  # connections of our own, opened after the process started (none are inherited)
    S = sessions()
    with S.begin() as s:
        alive = run_repo.heartbeat(s, run_id, pid=os.getpid())
    if not alive:
        log.warning("run %s is no longer running; nothing to do", run_id)
        return EXIT_ABANDONED
    apply_gpu_share()
    done = threading.Event()
    threading.Thread(target=_beat, args=(S, run_id, parent_pid, done), name="heartbeat", daemon=True).start()
    log.info("run %s (%s) in process %s at niceness %s", run_id, kind, os.getpid(), niceness)
    try:
        handler_for(kind)(run_id)
    except BaseException as exc:  # noqa: BLE001 - every failure must end the run
        traceback.print_exc()
        done.set()
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        with S.begin() as s:
            run_repo.finish(s, run_id, "failed", error=message)
        return 1
    done.set()
    return 0


def apply_gpu_share() -> None:
    fraction = os.environ.get(GPU_FRACTION_ENV)
    if not fraction:
        return
    import torch

    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            torch.cuda.set_per_process_memory_fraction(float(fraction), index)
        log.info("this run may use %.0f%% of each GPU's memory (a training run owns the rest)", 100 * float(fraction))


def _beat(S, run_id: int, parent_pid: int, done: threading.Event) -> None:
    """Keep heartbeat_at fresh while the process lives (model loading, long evaluations); stop the
    process when its launcher is gone or someone else ended the run."""
    while not done.wait(heartbeat_seconds()):
        if os.getppid() != parent_pid:  # where the parent-death signal is not available
            log.error("the run's launcher is gone; stopping")
            os._exit(EXIT_ABANDONED)
        try:
            with S.begin() as s:
                alive = run_repo.heartbeat(s, run_id)
                status = None if alive else run_repo.get_run(s, run_id).status
        except Exception as exc:  # noqa: BLE001 - a busy database must not kill the run
            log.warning("heartbeat failed: %s", exc)
            continue
        if status is not None and not done.wait(1.0):  # not the handler's own final write
            log.error("run %s was marked %s by someone else; stopping", run_id, status)
            sys.stdout.flush()
            os._exit(EXIT_ABANDONED)
