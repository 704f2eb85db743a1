"""The app's supervisor of its worker: starts it, notices within seconds when it died (the
process exited: reaped at once, no zombie) or hung (its heartbeat row went silent), interrupts the
runs it held, starts a new one, and keeps a short history for the Train and Runs pages.

One supervisor per server process and home (``supervisor()``); a thread checks every second,
and every page that shows the worker's status checks too. A worker started by someone else (the
command line, or an earlier server finishing its runs) is left alone while it holds the lock.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.base import settings
from core.base.store import sessions
from core.runs.health import (
    WORKER_PROCESS, interrupt_worker_runs, process_alive, sweep, this_host, worker_stale_window,
)
from db import workers as worker_repo
from db.models import utcnow

log = logging.getLogger("tagtune.supervisor")

ROOT = Path(__file__).resolve().parents[2]
CHECK_SECONDS = 1.0
STARTUP_GRACE_SECONDS = 60.0  # a new worker must beat within this (imports on a busy machine)
CRASH_LIMIT = 5  # deaths within CRASH_WINDOW_SECONDS: stop restarting and say so
CRASH_WINDOW_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Event:
    at: datetime
    text: str


@dataclass(frozen=True)
class SupervisorStatus:
    pid: int | None  # the worker this supervisor started and watches, if any
    external_pid: int | None  # a worker someone else started that holds the lock
    restarts: int
    events: tuple[Event, ...]
    gave_up: str | None


class Supervisor:
    def __init__(self, home: Path):
        self.home = home
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.events: deque[Event] = deque(maxlen=20)
        self.gave_up: str | None = None
        self.wanted = False  # set by ensure(): from then on a worker always serves this home
        self._deaths: deque[float] = deque()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the public face --

    def start(self) -> Supervisor:
        """Start the worker if needed and the checking thread (idempotent)."""
        self.ensure()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="worker-supervisor", daemon=True)
                self._thread.start()
                atexit.register(self.shutdown)
        return self

    def ensure(self) -> dict:
        """A worker serves this home after this call. Returns {"pid", "started", "log"}."""
        from core.runs.worker import worker_pid

        with self._lock:
            self.check()
            self.wanted = True
            if self.proc is not None:
                return {"pid": self.proc.pid, "started": False, "log": str(self.log_path)}
            pid = worker_pid(self.home)
            if pid is not None:
                return {"pid": pid, "started": False, "log": str(self.log_path)}
            if self.gave_up:  # a person asked again (Start training): try once more
                self.gave_up = None
                self._deaths.clear()
            self._spawn("started")
            return {"pid": self.proc.pid, "started": True, "log": str(self.log_path)}

    def check(self) -> None:
        """Reap and replace a dead or hung worker; interrupt what it held; sweep stale runs."""
        from core.runs.worker import worker_pid

        with self._lock:
            S = sessions()
            if self.proc is not None:
                code = self.proc.poll()  # reaps it: no zombie under the server
                if code is not None:
                    self._on_exit(S, code)
                elif self._hung(S):
                    self._kill_group(self.proc.pid)
                    self.proc.wait()
                    self._on_exit(S, -signal.SIGKILL, hung=True)
            if self.wanted and self.proc is None and not self.gave_up and not self._stop.is_set() \
                    and worker_pid(self.home) is None:
                self._spawn("restarted")  # ours died, or the one someone else started ended
            sweep(S)

    def status(self) -> SupervisorStatus:
        from core.runs.worker import worker_pid

        with self._lock:
            mine = self.proc.pid if self.proc is not None and self.proc.poll() is None else None
            external = None if mine else worker_pid(self.home)
            return SupervisorStatus(mine, external, self.restarts, tuple(self.events), self.gave_up)

    def shutdown(self) -> None:
        """The server is stopping: stop the worker (its runs are interrupted) and the checks."""
        self._stop.set()
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.terminate()
            proc.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill_group(proc.pid)
            proc.wait()
        except ProcessLookupError:
            pass

    @property
    def log_path(self) -> Path:
        from core.runs.worker import WORKER_LOG

        return self.home / WORKER_LOG

    # -- inside --

    def _loop(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the checks must outlive a busy database
                log.exception("worker check failed")

    def _spawn(self, verb: str) -> None:
        env = {**os.environ, "TAGTUNE_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, str(ROOT / "cli.py"), "worker", "--parent-pid", str(os.getpid())]
        with self.log_path.open("a") as out:
            # Its own session: a Ctrl-C meant for the server reaches the worker through the
            # server's orderly shutdown (SIGTERM), and the group holds the worker's launcher and runs.
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.started_at = time.monotonic()
        if verb == "restarted":
            self.restarts += 1
            self._event(f"worker restarted (pid {self.proc.pid})")
        log.info("worker %s (pid %s)", verb, self.proc.pid)

    def _hung(self, S) -> bool:
        """Silent and not running: no beat for the worker stale window (after its start-up grace)
        and the process stopped (SIGSTOP, frozen). A worker that is merely waiting for the
        database (a long import holds SQLite's write lock) keeps running and is left alone."""
        if time.monotonic() - self.started_at < STARTUP_GRACE_SECONDS:
            return False
        if process_alive(self.proc.pid, WORKER_PROCESS):
            return False
        with S.begin() as s:
            row = worker_repo.find(s, self.proc.pid, this_host())
            return row is None or (utcnow() - row.beat_at) > worker_stale_window()

    def _on_exit(self, S, code: int, hung: bool = False) -> None:
        pid, self.proc = self.proc.pid, None
        self._kill_group(pid)  # a launcher or run process that outlived it (no parent-death signal)
        how = "stopped answering and was killed" if hung else _describe(code)
        with S.begin() as s:
            row = worker_repo.find(s, pid, this_host())
            handed_over = row is not None and row.status == "stopped"
            interrupted = []
            if row is not None and not handed_over:
                worker_repo.stop(s, row.id, "dead", f"the worker (pid {pid}) {how}")
                interrupted = interrupt_worker_runs(
                    s, row.id, f"the worker (pid {pid}) {how} while this run was running; start the run again")
        if handed_over or (code == 0 and row is None):
            return  # it ended on its own (another worker holds the lock, or --once): not a death
        runs = f"; run{'s' if len(interrupted) > 1 else ''} {', '.join(f'#{i}' for i in interrupted)} interrupted" \
            if interrupted else ""
        self._event(f"the worker (pid {pid}) {how}{runs}")
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and now - self._deaths[0] > CRASH_WINDOW_SECONDS:
            self._deaths.popleft()
        if len(self._deaths) >= CRASH_LIMIT:
            self.gave_up = (f"the worker died {len(self._deaths)} times within {CRASH_WINDOW_SECONDS:.0f} s; "
                            f"not restarting it. See {self.log_path}, then start a run to try again")
            self._event(self.gave_up)

    def _event(self, text: str) -> None:
        log.warning(text)
        self.events.append(Event(datetime.now(), text))

    @staticmethod
    def _kill_group(pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _describe(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


_SUPERVISORS: dict[Path, Supervisor] = {}
_GUARD = threading.Lock()


def supervisor(home: Path | None = None) -> Supervisor:
    """This process's supervisor for ``home`` (default: the configured home)."""
    home = Path(home or settings.home())
    with _GUARD:
        if home not in _SUPERVISORS:
            _SUPERVISORS[home] = Supervisor(home)
        return _SUPERVISORS[home]
