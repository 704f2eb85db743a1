"""Which function executes a run of each kind (the worker's dispatch table).

Contract for a handler ``execute(run_id: int) -> None``:
- it runs in the worker's child process, with the run already ``running`` in the database;
- it opens the database with ``core.store.sessions()`` (short ``with S.begin()`` blocks);
- it reports progress only through rows (MetricPoint via ``db.runs.add_points``, ``Run.progress``
  via ``db.runs.heartbeat``) and checks ``db.runs.cancel_requested`` regularly;
- it ends the run with ``db.runs.finish(...)`` as completed / cancelled, or raises: the worker
  marks a raised or killed run ``failed`` with the error text.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

HANDLERS: dict[str, str] = {
    "finetune": "core.train.runner:execute",
    "icl": "core.icl.runner:execute",
    "preannotate": "core.labeling.preannotate:execute",
    "learning_curve": "core.train.learning_curve:execute",
    "pretrain": "core.train.pretrain_run:execute",
}


def handler_for(kind: str) -> Callable[[int], None]:
    if kind not in HANDLERS:
        raise ValueError(f"unknown run kind {kind!r}: expected one of {sorted(HANDLERS)}")
    module, _, fn = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), fn)
