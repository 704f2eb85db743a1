"""The only way training reports: a TrainerCallback that writes MetricPoint rows, keeps
Run.progress / total_steps / heartbeat current and stops training when the run's cancel flag
is set (``control.should_training_stop``)."""
from __future__ import annotations

import time

from transformers import TrainerCallback

from db import runs as run_repo

# Trainer log keys -> MetricPoint names (eval_* keys become dev_*).
LOG_NAMES = {"loss": "loss", "learning_rate": "learning_rate", "grad_norm": "grad_norm"}
HEARTBEAT_SECONDS = 1.0


class Reporter(TrainerCallback):
    """Throughput bookkeeping shared by the database callback and callers without a database.

    Subclasses implement ``write(step, epoch, values)``, ``progress(step, total)``,
    ``evaluating(done, total)`` and ``cancelled()``; ``values`` maps metric names to floats.
    """

    def __init__(self) -> None:
        self.cancelled_by_user = False
        self._last_time = None
        self._last_step = 0
        self._samples_per_step = 1

    # -- hooks for subclasses
    def write(self, step: int, epoch: float | None, values: dict[str, float]) -> None: ...

    def progress(self, step: int, total: int) -> None: ...

    def evaluating(self, done: int, total: int) -> None:
        """A dev evaluation has scored ``done`` of ``total`` samples (called with 0 first and
        ``total`` last): the inference path's ``on_progress``, for an "evaluating k/n" phase."""

    def cancelled(self) -> bool:
        return False

    # -- TrainerCallback
    def on_train_begin(self, args, state, control, **kwargs):
        self._samples_per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
        self._last_time, self._last_step = time.perf_counter(), state.global_step
        self.progress(state.global_step, state.max_steps)

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
    """Collects points in memory (for train_examples callers without a database, and tests)."""

    def __init__(self, stop_after_step: int | None = None) -> None:
        super().__init__()
        self.points: list[tuple[int, float | None, str, float]] = []
        self.stop_after_step = stop_after_step
        self._step = 0

    def write(self, step, epoch, values):
        self.points.extend((step, epoch, k, float(v)) for k, v in values.items())

    def progress(self, step, total):
        self._step = step

    def cancelled(self) -> bool:
        return self.stop_after_step is not None and self._step >= self.stop_after_step
