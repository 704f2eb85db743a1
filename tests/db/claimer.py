"""A process that claims runs until the queue is empty (tests/db/test_runs.py); a module of its
own so that a spawned interpreter imports only the database layer."""
from __future__ import annotations

import os


def claim_until_empty(url: str, out, start) -> None:
    from db import runs as run_repo
    from db.engine import session_factory

    S = session_factory(url)
    start.wait()
    got = []
    while True:
        with S.begin() as s:
            run = run_repo.claim_next(s, pid=os.getpid())
            if run is None:
                break
            got.append(run.id)
    out.put(got)
