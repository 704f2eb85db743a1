"""Each run's process is forked from a launcher that has imported torch, transformers and the
run handlers once but has never opened the database.

Why not fork the worker itself: the worker holds database connections, and a forked child shares
them and (SQLite) the library's per-process lock bookkeeping; when the worker was SIGKILLed, the
child's writes vanished (issue 11). Why not spawn a fresh interpreter per run: importing the
training stack takes 5-10 s on a busy machine, too long for a quick job. The launcher gives
both: a run's process starts in milliseconds and opens its own connections after it starts.

Process tree and who dies with whom (Linux ``PR_SET_PDEATHSIG``; the launcher also exits when
its command pipe closes)::

    app server ── worker ── launcher ── run process (one per run)

- the launcher dies with the worker (its parent) and each run process with the launcher, so a
  SIGKILLed worker takes its runs with it instead of leaving them to write into the void;
- the worker learns each run process's pid and exit status from the launcher (a pipe of JSON
  lines), kills a run process by pid, and restarts a launcher that died.

``Launcher.start`` must be called from a thread that lives as long as the launcher should (the
worker's main thread): the parent-death signal follows the thread that forked the launcher.
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("tagtune.launcher")

ROOT = Path(__file__).resolve().parents[2]
PR_SET_PDEATHSIG = 1  # linux/prctl.h
EXIT_ORPHANED = 70  # the parent was already gone when the process started
READY_TIMEOUT_SECONDS = 600.0  # importing the training stack on a very busy machine
LAUNCH_TIMEOUT_SECONDS = 60.0


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies (Linux), and leave at
    once if the parent is already gone (it may have died before the request was made)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(err)}")
    if os.getppid() != parent_pid:
        os._exit(EXIT_ORPHANED)


# ---- the worker's side -------------------------------------------------------------------------

@dataclass
class Child:
    """One run's process as the worker sees it."""

    pid: int
    run_id: int
    exited: threading.Event = field(default_factory=threading.Event)
    code: int | None = None  # like Popen.returncode: negative for a signal

    def wait(self, timeout: float | None = None) -> int | None:
        self.exited.wait(timeout)
        return self.code if self.exited.is_set() else None

    def alive(self) -> bool:
        return not self.exited.is_set()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if not self.exited.is_set():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass


class LauncherGone(RuntimeError):
    pass


class Launcher:
    """The worker's handle on its launcher process. Thread-safe: lanes launch runs concurrently."""

    def __init__(self, preload: list[str], stderr_path: Path | None = None):
        self.preload = list(preload)
        self.stderr_path = stderr_path
        self.proc: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.preload_errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._token = 0
        self._started: dict[int, tuple[threading.Event, list]] = {}
        self._children: dict[int, Child] = {}
        self._gone = threading.Event()

    def start(self) -> None:
        """Start the launcher process (call from a long-lived thread; see the module docstring)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTORCH_NVML_BASED_CUDA_CHECK": "1"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        stderr = self.stderr_path.open("a") if self.stderr_path else None
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "core.runs.launcher", str(os.getpid()), *self.preload],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            )
        finally:
            if stderr:
                stderr.close()
        threading.Thread(target=self._read, name="launcher-events", daemon=True).start()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self._gone.is_set()

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        self.ready.wait(timeout)
        return self.ready.is_set() and self.alive()

    def launch(self, run_id: int, kind: str, log_path: str, env: dict[str, str] | None = None) -> Child:
        """Fork a process that runs ``run_id`` with the handler of ``kind``; output to ``log_path``."""
        if not self.wait_ready():
            raise LauncherGone("the run launcher is not running")
        done = threading.Event()
        box: list = []
        with self._lock:
            self._token += 1
            token = self._token
            self._started[token] = (done, box)
            request = {"op": "run", "token": token, "run_id": run_id, "kind": kind, "log": log_path, "env": env or {}}
            try:
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise LauncherGone(f"the run launcher is gone: {exc}") from exc
        if not done.wait(LAUNCH_TIMEOUT_SECONDS) or not box:
            raise LauncherGone("the run launcher did not start the run's process")
        return box[0]

    def close(self, timeout: float = 5.0) -> None:
        """Stop the launcher; its run processes die with it."""
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._handle(event)
        self.proc.wait()  # reap the launcher
        self._gone.set()
        self.ready.set()  # wake anyone waiting for a launcher that will never be ready
        with self._lock:
            waiting, self._started = list(self._started.values()), {}
            children = list(self._children.values())
        for done, _ in waiting:
            done.set()
        for child in children:  # they died with the launcher (parent-death signal)
            if not child.exited.is_set():
                child.code = -signal.SIGKILL
                child.exited.set()

    def _handle(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "ready":
            self.preload_errors = event.get("preload_errors", {})
            self.ready.set()
        elif kind == "started":
            child = Child(pid=event["pid"], run_id=event["run_id"])
            with self._lock:
                self._children[child.pid] = child
                done, box = self._started.pop(event["token"], (None, None))
            if done is not None:
                box.append(child)
                done.set()
        elif kind == "exit":
            with self._lock:
                child = self._children.pop(event["pid"], None)
            if child is not None:
                child.code = event["code"]
                child.exited.set()


# ---- the launcher process ----------------------------------------------------------------------

def _launcher_main(parent_pid: int, preload: list[str]) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's (or the CLI's) to handle
    events = os.dup(1)
    os.dup2(2, 1)  # stray prints from imported libraries must not corrupt the event pipe
    errors = {}
    for module in preload:
        try:
            __import__(module)
        except Exception as exc:  # noqa: BLE001 - the run of that kind reports it when it starts
            errors[module] = f"{type(exc).__name__}: {exc}"
    _emit(events, {"event": "ready", "pid": os.getpid(), "preload_errors": errors})
    buffer = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.2)
        if readable:
            data = os.read(0, 65536)
            if not data:
                break  # the worker closed the pipe or died
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    _serve(events, json.loads(line))
        _reap(events)
    _reap(events)


def _serve(events: int, request: dict) -> None:
    launcher_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(events, request, launcher_pid)  # never returns
    _emit(events, {"event": "started", "token": request["token"], "run_id": request["run_id"], "pid": pid})


def _reap(events: int) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _emit(events, {"event": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _emit(fd: int, event: dict) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def _child(events: int, request: dict, launcher_pid: int) -> None:
    code = 1
    try:
        die_with_parent(launcher_pid)
        os.close(events)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.update(request.get("env") or {})
        from core.runs.child import run_child

        code = run_child(int(request["run_id"]), request["kind"], launcher_pid)
    except BaseException:  # noqa: BLE001 - the process must end with a code, whatever happened
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # never run the launcher's loop or atexit handlers in the child


if __name__ == "__main__":
    _launcher_main(int(sys.argv[1]), sys.argv[2:])
