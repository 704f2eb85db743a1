"""The only way training reports: a TrainerCallback that writes MetricPoint rows, keeps
Run.progress / total_steps / heartbeat current, reports the phase the run is in with its own
progress (training, evaluating k/n, saving; train_examples adds exporting and scoring dev), and
stops training when the run's cancel flag is set (``control.should_training_stop``)."""
from __future__ import annotations

import math
import time

from transformers import TrainerCallback

from core.runs.progress import Progress
from db import runs as run_repo

# Trainer log keys -> MetricPoint names (eval_* keys become dev_*).
LOG_NAMES = {"loss": "loss", "learning_rate": "learning_rate", "grad_norm": "grad_norm"}
HEARTBEAT_SECONDS = 1.0


class Reporter(TrainerCallback):
    """Throughput bookkeeping shared by the database callback and callers without a database.

    Subclasses implement ``write(step, epoch, values)``, ``progress(step, total)`` and
    ``cancelled()``; ``values`` maps metric names to floats.
    """

    def __init__(self) -> None:
        self.cancelled_by_user = False
        self._last_time = None
        self._last_step = 0
        self._samples_per_step = 1

    # -- hooks for subclasses
    def write(self, step: int, epoch: float | None, values: dict[str, float]) -> None: ...

    def progress(self, step: int, total: int) -> None: ...

    def cancelled(self) -> bool:
        return False

    def phase(self, name: str) -> None:
        """The run entered a phase: "training", "evaluating 2/3", "saving", "exporting", "scoring dev"."""

    def phase_progress(self, done: int, total: int) -> None:
        """How far the current phase is (an ``on_progress(done, total)`` hook)."""

    def evaluating(self, done: int, total: int) -> None:
        """A dev evaluation has scored ``done`` of ``total`` (0 first): the inference path's
        ``on_progress``. Each evaluation is its own phase, "evaluating k/n", with its own bar."""
        if done == 0 or not (getattr(self, "_phase", None) or "").startswith("evaluating"):
            self._evaluations = getattr(self, "_evaluations", 0) + 1
            planned = getattr(self, "_planned", 0)
            self.enter(f"evaluating {self._evaluations}" + (f"/{max(planned, self._evaluations)}" if planned else ""))
        self.phase_progress(done, total)

    # -- phases seen from the Trainer
    def enter(self, name: str) -> None:
        """Report phase ``name`` once (repeated calls while in it write nothing)."""
        if name != getattr(self, "_phase", None):
            self._phase = name
            self.phase(name)

    def _planned_evaluations(self, args, state) -> int:
        strategy = str(getattr(args.eval_strategy, "value", args.eval_strategy))
        if strategy == "steps" and args.eval_steps:
            every = args.eval_steps if args.eval_steps >= 1 else max(1, int(args.eval_steps * state.max_steps))
            return int(state.max_steps // every)
        if strategy == "epoch":
            return int(math.ceil(state.num_train_epochs or args.num_train_epochs))
        return 0

    # -- TrainerCallback
    def on_train_begin(self, args, state, control, **kwargs):
        self._samples_per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
        self._last_time, self._last_step = time.perf_counter(), state.global_step
        self._evaluations, self._planned = 0, self._planned_evaluations(args, state)
        self.enter("training")
        self.progress(state.global_step, state.max_steps)

    def on_step_begin(self, args, state, control, **kwargs):
        self.enter("training")

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        """Trainer's own evaluation loop: one batch done (counted in batches)."""
        total = len(eval_dataloader) if eval_dataloader is not None else 0
        if not (getattr(self, "_phase", None) or "").startswith("evaluating"):
            self._eval_batches = 0
            self.evaluating(0, total)
        self._eval_batches += 1
        self.evaluating(self._eval_batches, max(total, self._eval_batches))

    def on_evaluate(self, args, state, control, **kwargs):
        self.enter("saving" if control.should_save else "training")

    def on_save(self, args, state, control, **kwargs):
        self.enter("training")

    def on_step_end(self, args, state, control, **kwargs):
        self.progress(state.global_step, state.max_steps)
        if self.cancelled():
            self.cancelled_by_user = True
            control.should_training_stop = True
            control.should_save = False
            control.should_evaluate = False

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.cancelled_by_user:  # no end-of-epoch evaluation for a run being cancelled
            control.should_evaluate = False
            control.should_save = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        values = {LOG_NAMES[k]: v for k, v in logs.items() if k in LOG_NAMES}
        for k, v in logs.items():
            if k.startswith("eval_") and isinstance(v, (int, float)) and not k.endswith(("runtime", "per_second")):
                values["dev_" + k[5:]] = v
        if "loss" in logs:
            now = time.perf_counter()
            steps = state.global_step - self._last_step
            if steps > 0 and now > self._last_time:
                values["samples_per_second"] = steps * self._samples_per_step / (now - self._last_time)
            self._last_time, self._last_step = now, state.global_step
        if values:
            self.write(state.global_step, state.epoch, values)


class RunCallback(Reporter):
    """Reports to the database rows of one run (used by the worker's training process)."""

    def __init__(self, sessions, run_id: int) -> None:
        super().__init__()
        self.S, self.run_id = sessions, run_id
        self._last_beat = 0.0
        # Phase columns only: the overall fraction stays the share of training steps done, and a
        # cancel stops training through control.should_training_stop, never by raising.
        self._phases = Progress(sessions, run_id, stop_on_cancel=False)

    def phase(self, name):
        self._phases.phase(name)

    def phase_progress(self, done, total):
        self._phases(done, total)

    def write(self, step, epoch, values):
        with self.S.begin() as s:
            run_repo.add_points(s, self.run_id, step, epoch, values)

    def progress(self, step, total):
        now = time.monotonic()
        if now - self._last_beat < HEARTBEAT_SECONDS and step < total:
            return
        self._last_beat = now
        with self.S.begin() as s:
            run_repo.heartbeat(s, self.run_id, progress=step / total if total else 0.0, total_steps=total)

    def cancelled(self) -> bool:
        # One indexed primary-key read per step: cheap next to a forward/backward pass.
        with self.S.begin() as s:
            return run_repo.cancel_requested(s, self.run_id)


class MemoryReporter(Reporter):
    """Collects points and phases in memory (for train_examples callers without a database, and tests)."""

    def __init__(self, stop_after_step: int | None = None) -> None:
        super().__init__()
        self.points: list[tuple[int, float | None, str, float]] = []
        self.phases: list[str] = []
        self.phase_steps: dict[str, list[tuple[int, int]]] = {}
        self.stop_after_step = stop_after_step
        self._step = 0

    def write(self, step, epoch, values):
        self.points.extend((step, epoch, k, float(v)) for k, v in values.items())

    def progress(self, step, total):
        self._step = step

    def phase(self, name):
        self.phases.append(name)

    def phase_progress(self, done, total):
        self.phase_steps.setdefault(self.phases[-1], []).append((done, total))

    def cancelled(self) -> bool:
        return self.stop_after_step is not None and self._step >= self.stop_after_step
