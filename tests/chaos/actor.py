"""A stand-in for the app server process in the kill matrix (tests/chaos/matrix.py).

It does what the server process does, through the same code: at start what ui/bootstrap.py
does (the supervisor starts and watches the worker, in a thread); labelling through
``core.labeling.queue.accept`` (what the Label page calls on Enter); imports through
``core.data.importer.import_path`` (what the Data page and ``cli.py import`` call). It can be
killed -9 at any moment, like the server. The browser-level checks of the same paths are in
tests/e2e (test_worker_status_e2e.py).

Commands on stdin, one JSON object a line; events on stdout, one JSON object a line, written
only after the database transaction they report has committed.

    {"op": "label", "project": P, "n": N}       -> {"event": "accepted", "sample", "version", "spans"}...
                                                  {"event": "labelled", "n"}
    {"op": "import", "project": P, "path": F}   -> {"event": "import_started"}, {"event": "imported", "n"}
"""
from __future__ import annotations

import json
import os
import sys
import threading

_print_lock = threading.Lock()


def emit(**event) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def label(project: str, n: int) -> None:
    from core.base.store import sessions
    from core.labeling.queue import QueueFilter, accept, load_task, next_sample
    from db import projects as project_repo

    S = sessions()
    done, seen = 0, ()
    while done < n:
        with S.begin() as s:
            sample_id = next_sample(s, project_repo.get_project(s, project), QueueFilter(status="unlabeled"), seen)
            if sample_id is None:
                break
            task = load_task(s, sample_id)
        start, end = task.tokens[0]
        spans = [(start, end, "PER")]
        with S.begin() as s:
            outcome = accept(s, sample_id, task.version, spans=spans, annotator="chaos", seconds=0.1)
        if outcome.saved:  # committed: the person saw "saved"
            emit(event="accepted", sample=sample_id, version=outcome.version, spans=[list(x) for x in spans])
            done += 1
        seen = (*seen[-50:], sample_id)
    emit(event="labelled", n=done)


def import_file(project: str, path: str) -> None:
    from core.data.importer import ImportRequest, import_path

    emit(event="import_started")
    report = import_path(ImportRequest(project=project, filename=path, fmt="jsonl"), path)
    emit(event="imported", n=report["imported"], errors=len(report["errors"]))


def main() -> None:
    from core.runs.supervisor import supervisor

    watcher = supervisor().start()
    emit(event="ready", pid=os.getpid(), worker=watcher.status().pid)
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "exit":
            break
        target = {"label": label, "import": import_file}[op]
        threading.Thread(target=target, kwargs=command, daemon=True).start()


if __name__ == "__main__":
    main()
