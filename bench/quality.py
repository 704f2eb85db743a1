"""Time to quality on WNUT 2017: `cli.py train` with the default ("standard") preset and the
packaged MiniLM, from the command's start to its exported model, then test entity F1 from
`cli.py evaluate RUN --split test` (seqeval, default mode). Each seed runs in a fresh home:
project created and WNUT train/dev/test imported through the command line first (not timed).

Target (issue 16): test entity F1 >= 45 in <= 4 minutes end to end on this machine (2 CPU
cores, idle), mean over the seeds. Run it on an otherwise idle machine.

    .venv/bin/python bench/quality.py [--seeds 3] [--seed 42] [--train-args "--preset best"]

Tuning goes through ``--dev-only``: WNUT test is then not even imported, and the figure is the
dev F1 of the kept weights (what the README's dev-only tries report):

    .venv/bin/python bench/quality.py --dev-only --seeds 2 --train-args "--label-smoothing 0.1"
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WNUT = ROOT.parent / "shared" / "data" / "wnut17"
TYPES = "person,location,group,creative-work,corporation,product"
TARGET_F1, TARGET_SECONDS = 45.0, 240.0


def cli(home: Path, *args: str) -> dict:
    env = {**os.environ, "TAGTUNE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("TAGTUNE_DB_URL", None)
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"cli.py {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def one_seed(seed: int, extra: list[str], dev_only: bool = False) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"tagtune-quality-{seed}-"))
    cli(home, "project", "create", "wnut", "--task", "ner", "--labels", TYPES)
    for split in ("train", "dev") if dev_only else ("train", "dev", "test"):
        cli(home, "import", "wnut", str(WNUT / f"{split}.conll"), "--format", "conll", "--split", split)
    start = time.perf_counter()
    run = cli(home, "train", "wnut", "--seed", str(seed), *extra)
    wall = time.perf_counter() - start
    row = {"seed": seed, "wall": wall, "dev_f1": 100 * run["metrics"]["f1"], "steps": run["metrics"]["steps"],
           "train_seconds": run["metrics"]["train_seconds"], "device": run["device"], "checkpoint": run["checkpoint"]}
    if dev_only:
        return row
    test = cli(home, "evaluate", str(run["run_id"]), "--split", "test")
    return {**row, "test_f1": 100 * test["f1"], "test_p": 100 * test["precision"], "test_r": 100 * test["recall"],
            "n_test": test["n"]}


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2f} ± {sd:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42, help="first seed")
    parser.add_argument("--train-args", default="", help="extra `cli.py train` flags, e.g. \"--preset best\"")
    parser.add_argument("--dev-only", action="store_true",
                        help="for tuning: import train and dev only and report dev F1 (test is never read)")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")
    extra = shlex.split(opts.train_args)
    rows = []
    for seed in range(opts.seed, opts.seed + opts.seeds):
        r = one_seed(seed, extra, opts.dev_only)
        rows.append(r)
        if opts.dev_only:
            print(f"seed {seed}: {r['wall']:.0f} s end to end ({r['steps']} steps), dev F1 {r['dev_f1']:.2f}",
                  flush=True)
            continue
        print(f"seed {seed}: {r['wall']:.0f} s end to end ({r['train_seconds']:.0f} s training, {r['steps']} steps), "
              f"dev F1 {r['dev_f1']:.2f}, test F1 {r['test_f1']:.2f} (P {r['test_p']:.2f}, R {r['test_r']:.2f}), "
              f"{r['device']}", flush=True)
    wall = [r["wall"] for r in rows]
    flags = " ".join(extra) or "(defaults: preset standard, full fine-tuning)"
    if opts.dev_only:
        n_dev = sum(1 for block in (WNUT / "dev.conll").read_text(encoding="utf-8").split("\n\n") if block.strip())
        print(f"\nfigure: dev entity F1 {mean_sd([r['dev_f1'] for r in rows])} in {mean_sd(wall)} s, WNUT dev "
              f"(n = {n_dev:,}), `cli.py train wnut {flags}`, seeds {opts.seed}-{opts.seed + opts.seeds - 1}")
        print("target: none (tuning; the test target is judged without --dev-only)\nverdict: -")
        return
    f1 = [r["test_f1"] for r in rows]
    print(f"\nWNUT 2017, packaged MiniLM, `cli.py train wnut {flags}`; test n = {rows[0]['n_test']} sentences; "
          f"seeds {opts.seed}-{opts.seed + opts.seeds - 1}")
    print(f"wall time, `cli.py train` to exported model: {mean_sd(wall)} s ({statistics.fmean(wall) / 60:.2f} min)")
    print(f"dev entity F1: {mean_sd([r['dev_f1'] for r in rows])}")
    met = statistics.fmean(f1) >= TARGET_F1 and statistics.fmean(wall) <= TARGET_SECONDS
    print(f"\nfigure: test entity F1 {mean_sd(f1)} in {mean_sd(wall)} s end to end (n = {rows[0]['n_test']}, "
          f"{len(rows)} seeds)")
    print(f"target: test entity F1 >= {TARGET_F1:g} in <= {TARGET_SECONDS / 60:g} min end to end (means)")
    print(f"verdict: {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
