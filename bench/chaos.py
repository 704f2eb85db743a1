"""Chaos (issue 11): the kill -9 matrix, then the malformed-input corpus.

First half: kill -9 of {the worker, a run's process, the app server} while {training,
evaluating, labelling, importing} (tests/chaos/matrix.py, the code `make test` runs in
tests/chaos/test_kill_matrix.py), each kill at the worst moment the database shows (the victim,
or the app doing the activity, inside a write transaction) on a real file database with tiny
models. Prints each cell, then: kills tried, survived (target: all), annotations lost
(target 0), runs stuck (target 0), each with its verdict.

Second half: bench/malformed_input.py (crashes, partial writes, messages naming line and fix,
peak memory on a 10 MB all-bad file).

    .venv/bin/python bench/chaos.py [--roles worker,child,app] [--activities training,...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def kill_matrix(roles: list[str], activities: list[str]) -> dict:
    from tests.chaos.matrix import run_role, table

    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for role in roles:
            results += run_role(Path(tmp) / role, role, activities)
    print(table(results))
    tried = len(results)
    survived = sum(r.survived for r in results)
    lost = sum(r.annotations_lost for r in results)
    stuck = sum(r.runs_stuck for r in results)
    rows = [
        ("kills tried", f"{tried} ({len(roles)} victims x {len(activities)} activities, "
                        f"{time.perf_counter() - started:.0f} s)", None),
        ("survived", f"{survived} of {tried}", survived == tried),
        ("annotations lost", f"{lost}", lost == 0),
        ("runs stuck", f"{stuck}", stuck == 0),
    ]
    targets = {"survived": f"{tried} of {tried}", "annotations lost": "0", "runs stuck": "0"}
    for name, figure, ok in rows:
        verdict = "" if ok is None else f"  [target {targets[name]}]  {'MET' if ok else 'NOT MET'}"
        print(f"{name}: {figure}{verdict}")
    return {"kills": tried, "survived": survived, "annotations_lost": lost, "runs_stuck": stuck,
            "met": survived == tried and lost == 0 and stuck == 0}


def malformed_input() -> dict:
    from bench.malformed_input import main as run_malformed

    return run_malformed([])


def main(argv: list[str] | None = None) -> None:
    from tests.chaos.matrix import ACTIVITIES, ROLES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roles", default=",".join(ROLES), help="victims to kill (default: all)")
    parser.add_argument("--activities", default=",".join(ACTIVITIES), help="moments to kill at (default: all)")
    parser.add_argument("--skip-malformed", action="store_true", help="only the kill matrix")
    args = parser.parse_args(argv)
    chaos = kill_matrix(args.roles.split(","), args.activities.split(","))
    malformed = None if args.skip_malformed else malformed_input()
    met = chaos["met"] and (args.skip_malformed or malformed["met"])
    print(f"chaos overall: kill matrix {'MET' if chaos['met'] else 'NOT MET'}"
          + ("" if args.skip_malformed else f", malformed input {'MET' if malformed['met'] else 'NOT MET'}")
          + f"  {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
