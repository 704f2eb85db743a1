"""How a job reports where it is: a phase name, how far that phase is, the run's overall fraction,
and whether the user asked it to stop.

A job announces its phases in order (``phase("loading the model")``, ``phase("predicting")``) and
passes ``progress`` itself as the ``on_progress(done, total)`` hook of the work inside a phase.
Each phase has a share of the whole run (``plan``), so the overall fraction keeps moving through
every phase and the ETA (core.runs.summary.eta_seconds) holds. Writes are throttled; a cancel
request raises ``Cancelled`` out of the hook, so the work stops at its next batch.
"""
from __future__ import annotations

import time

from db import runs as run_repo
from db.models import utcnow

WRITE_SECONDS = 0.5  # at most two progress writes a second (the page refreshes every second or so)


class Cancelled(Exception):
    """The run's cancel flag was set; the job ends as ``cancelled``."""


class Progress:
    """Phase and progress reporter of one run.

    ``plan``: phase name -> share of the whole run (shares are normalised); a phase not in the
    plan takes no share (the overall fraction waits while it runs, its own bar still moves).
    """

    def __init__(self, sessions, run_id: int, plan: dict[str, float] | None = None,
                 stop_on_cancel: bool = True) -> None:
        """Without a ``plan`` only the phase columns are written (training keeps its overall
        fraction by steps); ``stop_on_cancel=False`` for callers that stop on their own (Trainer)."""
        self.S, self.run_id = sessions, run_id
        total = sum((plan or {}).values()) or 1.0
        self.plan = {name: share / total for name, share in (plan or {}).items()}
        self.stop_on_cancel = stop_on_cancel
        self.name: str | None = None
        self._base = 0.0  # overall fraction reached before the current phase
        self._share = 0.0
        self._last_write = 0.0

    def phase(self, name: str, label: str | None = None) -> None:
        """Start phase ``name`` (shown as ``label`` when given, e.g. "evaluating 2/3")."""
        if self.name is not None:
            self._base += self._share
        self.name = name
        self._share = self.plan.get(name, 0.0)
        self._write(phase=label or name, phase_progress=0.0, phase_started_at=utcnow(),
                    progress=min(self._base, 1.0))
        self.check_cancel()

    def __call__(self, done: int, total: int) -> None:
        """``on_progress(done, total)`` inside the current phase."""
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < WRITE_SECONDS:
            return
        self._write(phase_progress=fraction, progress=min(self._base + self._share * fraction, 1.0))
        self.check_cancel()

    def done(self) -> None:
        self._write(phase=None, phase_progress=None, phase_started_at=None, progress=1.0)
        self.name = None

    def cancelled(self) -> bool:
        with self.S.begin() as s:
            return run_repo.cancel_requested(s, self.run_id)

    def check_cancel(self) -> None:
        if self.stop_on_cancel and self.cancelled():
            raise Cancelled(f"run {self.run_id} was cancelled during {self.name or 'its start'}")

    def _write(self, **values) -> None:
        self._last_write = time.monotonic()
        if not self.plan:
            values.pop("progress", None)
        with self.S.begin() as s:
            run_repo.heartbeat(s, self.run_id, **values)
