"""The kill -9 matrix (issue 11): {worker, run child, app server} x {while training, while
evaluating, while labelling, while importing}.

Each cell sets an activity going, waits on database state for the worst moment to kill (the
victim, or the app doing the activity, inside a write transaction: it holds SQLite's WAL write
lock, seen in /proc/locks), sends SIGKILL, then checks:

- runs: none left ``running`` past the stale window (``runs stuck``); a run whose process was
  killed ends ``failed`` / ``interrupted``; one that carried on (its worker outlived the app)
  ends ``completed`` with its metrics; never an exported model with a status other than
  ``completed``;
- annotations: every save the app acknowledged is in the database as acknowledged (``lost``);
- imports: all of the file's samples or none, and all of them when the app said "imported";
- recovery: a killed worker is replaced by the app's supervisor within seconds; a killed run
  process leaves its worker serving; a killed app leaves its worker to finish and leave.

Used by tests/chaos/test_kill_matrix.py (``make test``) and bench/chaos.py (the figures).
The app server is tests/chaos/actor.py (see its docstring for why a stand-in is faithful).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.worker_helpers import (
    PATIENCE, ROOT, exported_model, pid_alive, queue_training, run_state, training, wait_until, worker_env,
)

ROLES = ("worker", "child", "app")
ACTIVITIES = ("training", "evaluating", "labelling", "importing")
STALE_SECONDS = 4.0  # TAGTUNE_STALE_SECONDS for every process of the lab
WORKER_STALE_SECONDS = 3.0
SETTLE_SECONDS = 15.0  # after the stale window: time for the lookers' next pass, on a busy machine
LOCK_WAIT_SECONDS = 20.0  # how long to wait for the victim to be inside a write transaction
IMPORT_LINES = 8_000
LABEL_TARGET = 40  # saves per labelling cell (when the app is not the one killed)
# Labelled test samples the evaluation job scores: enough that the one inference path (token
# batches, inference mode) is still scoring several seconds after its first progress report.
EVAL_POOL = 6000


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class CellResult:
    role: str
    activity: str
    moment: str = ""
    checks: list[Check] = field(default_factory=list)
    annotations_lost: int = 0
    runs_stuck: int = 0
    seconds: float = 0.0

    @property
    def survived(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, bool(ok), detail))

    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]


# ---- the app stand-in ---------------------------------------------------------------------------

class Actor:
    def __init__(self, home: Path):
        self.events: list[dict] = []
        self._cond = threading.Condition(threading.RLock())
        self.log = (home / "actor.log").open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.chaos.actor"], cwd=ROOT, env=lab_env(home),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_since(0, "ready")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()

    def send(self, op: str, **args) -> None:
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()

    def of(self, name: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == name]

    def mark(self) -> int:
        with self._cond:
            return len(self.events)

    def since(self, mark: int, name: str) -> list[dict]:
        with self._cond:  # re-entrant: wait_since holds it
            return [e for e in self.events[mark:] if e.get("event") == name]

    def wait_since(self, mark: int, name: str, timeout: float = PATIENCE) -> dict:
        """The first ``name`` event after ``mark`` (waiting for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.since(mark, name):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"the app did not report {name!r} in {timeout:.0f} s; see {self.log.name}")
                self._cond.wait(min(left, 0.5))
            return self.since(mark, name)[0]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("exit")
                self.proc.wait(30)  # its supervisor stops the worker on the way out
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def lab_env(home: Path) -> dict[str, str]:
    return worker_env(home, TAGTUNE_STALE_SECONDS=str(STALE_SECONDS),
                      TAGTUNE_WORKER_STALE_SECONDS=str(WORKER_STALE_SECONDS))


# ---- the lab: one home with its projects --------------------------------------------------------

class Lab:
    """A home with a training project, an evaluation project with a trained model and a pool,
    a labelling queue, and a project to import into."""

    def __init__(self, home: Path):
        from db.engine import session_factory
        from tests.tiny_models import make_tiny_model, seed_project
        from tests.tiny_runs import trained_ner_run

        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.S = session_factory(f"sqlite:///{home / 'tagtune.db'}")
        seed_project(self.S, "train", "ner", n_train=40, n_dev=4)
        self.model = make_tiny_model(home / "tiny-model")
        _, self.eval_model_run = trained_ner_run(self.S, home, name="evalp")
        self._add_test_split("evalp", EVAL_POOL)
        self._add_project("lab", 4 * LABEL_TARGET + 400)
        self._add_project("imp", 0)
        self.actor: Actor | None = None

    def _add_project(self, name: str, n: int) -> None:
        from db import projects as project_repo

        with self.S.begin() as s:
            project_repo.create_project(s, name, "ner", ["PER", "LOC"])
        self._add_unlabelled(name, n, name)

    def _add_unlabelled(self, project: str, n: int, tag: str) -> None:
        from core.text.tokenize import word_offsets
        from db import projects as project_repo
        from db import samples as sample_repo
        from tests.tiny_models import ner_texts

        texts = [f"{text} ({tag} {i})" for i, (text, _) in enumerate(ner_texts(n))]
        with self.S.begin() as s:
            sample_repo.add_samples(s, project_repo.get_project(s, project),
                                    [sample_repo.NewSample(t, word_offsets(t)) for t in texts])

    def _add_test_split(self, project: str, n: int) -> None:
        from core.text.tokenize import word_offsets
        from db import projects as project_repo
        from db import samples as sample_repo
        from tests.tiny_models import ner_texts

        with self.S.begin() as s:
            sample_repo.add_samples(s, project_repo.get_project(s, project), [
                sample_repo.NewSample(text, word_offsets(text), split="test", status="labeled", spans=spans)
                for text, spans in ner_texts(n)])

    def import_file(self, marker: str) -> Path:
        path = self.home / f"import-{marker}.jsonl"
        with path.open("w") as out:
            for i in range(IMPORT_LINES):
                text = f"{marker} {i} : Carol met Dave in Oslo"
                start = text.index("Carol")
                out.write(json.dumps({"text": text, "spans": [{"start": start, "end": start + 5, "label": "PER"}]}) + "\n")
        return path

    def app(self) -> Actor:
        if self.actor is None or self.actor.proc.poll() is not None:
            self.actor = Actor(self.home)
        return self.actor

    def close(self) -> None:
        if self.actor is not None:
            self.actor.close()

    # -- reading the database --

    def worker_pid(self) -> int | None:
        from db import workers as worker_repo

        with self.S.begin() as s:
            rows = worker_repo.running(s)
            return rows[-1].pid if rows else None

    def runs(self) -> list:
        from db import runs as run_repo

        with self.S.begin() as s:
            return run_repo.list_runs(s)

    def shm_inode(self) -> int | None:
        try:
            return os.stat(self.home / "tagtune.db-shm").st_ino
        except FileNotFoundError:
            return None

    def holds_write_lock(self, pid: int) -> bool:
        """Is ``pid`` inside a write transaction (SQLite's WAL write lock, byte 120 of -shm)?"""
        inode = self.shm_inode()
        with open("/proc/locks") as locks:
            for line in locks:
                parts = line.split()
                # "1: POSIX  ADVISORY  WRITE <pid> <major>:<minor>:<inode> <start> <end>"
                if len(parts) >= 8 and parts[3] == "WRITE" and parts[4] == str(pid) \
                        and parts[5].endswith(f":{inode}") and parts[6] == "120":
                    return True
        return False

    def catch_writing(self, pid: int, timeout: float = LOCK_WAIT_SECONDS) -> bool:
        """Wait (polling /proc/locks) until ``pid`` is inside a write transaction."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.holds_write_lock(pid):
                return True
            if not pid_alive(pid):
                return False
            time.sleep(0.001)
        return False


# ---- one cell ------------------------------------------------------------------------------------

def run_cell(lab: Lab, role: str, activity: str) -> CellResult:
    from core.evaluation.jobs import queue as queue_evaluation

    result = CellResult(role, activity)
    started = time.monotonic()
    app = lab.app()
    marker = f"{role}-{activity}"
    bounded = role == "app"  # the worker outlives its app: give it runs that end
    work: list[int] = []
    if activity in ("training", "labelling", "importing"):
        work.append(queue_training(lab.S, "train", lab.model, max_steps=40 if bounded else 1_000_000))
        wait_until(lambda: training(*run_state(lab.S, work[0])), what=f"{marker}: training running")
    if activity == "evaluating":
        with lab.S.begin() as s:  # the quick lane: what the Evaluate page queues
            work.append(queue_evaluation(s, lab.eval_model_run, "test", refresh=True).id)
        wait_until(lambda: _progressing(lab, work[0]), what=f"{marker}: evaluation running")
    before = app.mark()
    if activity == "labelling":
        app.send("label", project="lab", n=LABEL_TARGET)
        wait_until(lambda: len(app.since(before, "accepted")) >= 5, what=f"{marker}: labelling under way")
    import_path = None
    if activity == "importing":
        import_path = lab.import_file(marker)
        app.send("import", project="imp", path=str(import_path))
        app.wait_since(before, "import_started")

    victim = {"worker": lab.worker_pid, "child": lambda: run_state(lab.S, work[0])[0].pid, "app": lambda: app.pid}[role]()
    # The worst moment: the one doing the activity's writes, or the victim itself, mid-transaction.
    writer = app.pid if activity in ("labelling", "importing") else victim
    caught = lab.catch_writing(writer) if not (role == "app" and activity in ("training", "evaluating")) else False
    result.moment = ("while the app was inside a write transaction" if caught and writer == app.pid else
                     "while it was inside a write transaction" if caught else "mid-activity")
    old_worker = lab.worker_pid()
    try:
        os.kill(victim, signal.SIGKILL)
    except ProcessLookupError:
        result.check("the victim was alive when killed", False, f"pid {victim} was already gone")
    killed_at = time.monotonic()
    if role == "app":  # a person starts the server again at once; its worker starts beside the old one
        app.proc.wait()
        lab.actor = None
        lab.app()

    _check_runs(lab, result, work, role, killed_at)
    if activity == "labelling":
        _check_annotations(lab, result, app, before, role)
    if activity == "importing":
        _check_import(lab, result, app, before, role, marker)
    _check_models(lab, result)
    _check_recovery(lab, result, role, victim, old_worker, work)
    result.seconds = time.monotonic() - started
    return result


def _progressing(lab: Lab, run_id: int) -> bool:
    run = run_state(lab.S, run_id)[0]
    return run.status == "running" and run.pid is not None and (run.progress or 0) > 0


def _check_runs(lab: Lab, result: CellResult, work: list[int], role: str, killed_at: float) -> None:
    from db.runs import FINISHED

    # A run whose process died must be final within the stale window (plus the lookers' next
    # pass); one that carries on (its worker outlived the app) must finish on its own.
    deadline = killed_at + STALE_SECONDS + SETTLE_SECONDS if role != "app" else killed_at + PATIENCE
    while time.monotonic() < deadline and any(run_state(lab.S, r)[0].status not in FINISHED for r in work):
        time.sleep(0.1)
    statuses = {r: run_state(lab.S, r)[0] for r in work}
    stuck = [r for r, run in statuses.items() if run.status not in FINISHED]
    result.runs_stuck = len(stuck)
    result.check("no run stuck running", not stuck,
                 ", ".join(f"run {r} still {statuses[r].status}" for r in stuck))
    for run_id, run in statuses.items():
        if run.status in FINISHED:
            expected = ("completed",) if role == "app" else ("failed", "interrupted")
            result.check(f"run {run_id} ended as expected", run.status in expected,
                         f"{run.status} ({run.error}); expected {' or '.join(expected)}")
            if run.status == "completed":
                result.check(f"run {run_id} completed with its metrics", bool(run.metrics), f"metrics {run.metrics}")


def _check_annotations(lab: Lab, result: CellResult, app: Actor, before: int, role: str) -> None:
    from db import samples as sample_repo

    if role != "app":  # the app lives on: the labelling goes to the end
        app.wait_since(before, "labelled")
    accepted = app.since(before, "accepted")
    lost = []
    with lab.S.begin() as s:
        for saved in accepted:
            row = sample_repo.annotations_of(s, saved["sample"], source="human")
            spans = sorted((int(a), int(b), l) for a, b, l in row.spans)
            if row.version != saved["version"] or spans != [tuple(x) for x in saved["spans"]] or row.status != "labeled":
                lost.append(saved["sample"])
    result.annotations_lost = len(lost)
    result.check("no accepted annotation lost", not lost and accepted,
                 f"{len(lost)} of {len(accepted)} acknowledged saves missing: samples {lost[:10]}")


def _check_import(lab: Lab, result: CellResult, app: Actor, before: int, role: str, marker: str) -> None:
    from sqlalchemy import func, select

    from db.models import Sample

    if role != "app":
        app.wait_since(before, "imported")
    with lab.S.begin() as s:
        n = s.scalar(select(func.count()).select_from(Sample).where(Sample.text.like(f"{marker} %")))
    reported = app.since(before, "imported")
    whole = n in (0, IMPORT_LINES) and (not reported or n == reported[-1]["n"] == IMPORT_LINES)
    result.check("no partial import", whole, f"{n} of {IMPORT_LINES} samples in the database; the app reported "
                 f"{reported[-1]['n'] if reported else 'nothing'}")
    if role != "app":
        result.check("the import completed", n == IMPORT_LINES, f"{n} of {IMPORT_LINES}")


def _check_models(lab: Lab, result: CellResult) -> None:
    bad = [r.id for r in lab.runs() if r.kind == "finetune" and exported_model(lab.home, r.id) and r.status != "completed"]
    result.check("never a finished model with a lost status", not bad, f"runs {bad} exported a model but are not completed")


def _check_recovery(lab: Lab, result: CellResult, role: str, victim: int, old_worker: int | None,
                    work: list[int]) -> None:
    if role == "worker":
        fresh = wait_until(lambda: (lab.worker_pid() or victim) != victim and lab.worker_pid(), 30,
                           "a new worker", every=0.2)
        result.check("the app restarted its worker", fresh and fresh != victim, f"worker pid {fresh}")
        run = run_state(lab.S, work[0])[0]
        result.check("the run says its worker died", "SIGKILL" in (run.error or ""), run.error or "")
    elif role == "child":
        result.check("the worker survived its run's process", pid_alive(old_worker) and lab.worker_pid() == old_worker,
                     f"worker {old_worker} alive: {pid_alive(old_worker)}")
        run = run_state(lab.S, work[0])[0]
        result.check("the run says its process was killed", "SIGKILL" in (run.error or ""), run.error or "")
    else:
        gone = wait_until(lambda: not pid_alive(old_worker), PATIENCE, "the orphaned worker leaving", every=0.2) \
            if old_worker else True
        result.check("the worker finished its runs and left", gone, f"worker {old_worker}")


def run_role(home: Path, role: str, activities=ACTIVITIES) -> list[CellResult]:
    lab = Lab(home)
    try:
        return [run_cell(lab, role, activity) for activity in activities]
    finally:
        lab.close()


def table(results: list[CellResult]) -> str:
    lines = [f"{'kill -9':8} {'while':11} {'moment':45} {'verdict':8} {'lost':>4} {'stuck':>5} {'s':>5}"]
    for r in results:
        lines.append(f"{r.role:8} {r.activity:11} {r.moment:45} {'survived' if r.survived else 'FAILED':8} "
                     f"{r.annotations_lost:4d} {r.runs_stuck:5d} {r.seconds:5.0f}")
        lines += [f"    - {f}" for f in r.failures()]
    return "\n".join(lines)
