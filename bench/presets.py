"""Every preset from a fresh project, on WNUT 2017 (NER) and the drug reviews (3 skewed
sentiment classes): wall time of `cli.py train NAME --preset P`, the run's dev metric, the
majority baseline on the same dev samples, and a verdict.

- WNUT: train and dev imported as they are; metric: entity F1 (seqeval); majority baseline:
  every word outside (O), which finds no entity.
- Drug reviews: train.tsv as train, test.tsv as the dev split (379 reviews; the shipped data has
  no dev file, and 10% of 600 held out would be too few to judge a macro F1); metric: macro F1,
  since predicting the majority class ("positive") already gives a high accuracy; majority
  baseline: the most frequent training class predicted for every dev review.

Target (issue 16): every preset beats the majority baseline on both data sets.

    .venv/bin/python bench/presets.py [--presets quick,standard,best] [--data wnut,drugs] [--seed 42]
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.quality import TYPES, WNUT, cli  # noqa: E402

DRUGS = ROOT.parent / "shared" / "data" / "drugreviews"
CATEGORIES = ["positive", "neutral", "negative"]


def wnut_project(home: Path) -> float:
    """Create and import; returns the majority (all-O) baseline's dev entity F1."""
    from bench.train_throughput import read_conll
    from core.evaluation.metrics import ner_scores
    from core.text.spans import spans_to_bio

    cli(home, "project", "create", "wnut", "--task", "ner", "--labels", TYPES)
    for split in ("train", "dev"):
        cli(home, "import", "wnut", str(WNUT / f"{split}.conll"), "--format", "conll", "--split", split)
    gold = [spans_to_bio(ex.tokens, ex.spans) for ex in read_conll(WNUT / "dev.conll", "dev")]
    return ner_scores(gold, [["O"] * len(tags) for tags in gold])["f1"]


def drugs_project(home: Path) -> float:
    """Create and import; returns the majority class's dev macro F1."""
    from core.evaluation.metrics import classification_scores

    cli(home, "project", "create", "drugs", "--task", "classification", "--labels", ",".join(CATEGORIES))
    for file, split in (("train.tsv", "train"), ("test.tsv", "dev")):
        cli(home, "import", "drugs", str(DRUGS / file), "--format", "tsv", "--split", split, "--text-column", "review",
            "--label-column", "rating")
    train, dev = (_ratings(DRUGS / f) for f in ("train.tsv", "test.tsv"))
    majority = Counter(train).most_common(1)[0][0]
    return classification_scores([[g] for g in dev], [[majority]] * len(dev), CATEGORIES)["macro_f1"]


def _ratings(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [row["rating"] for row in csv.DictReader(f, delimiter="\t")]


DATASETS = {"wnut": ("wnut", wnut_project, "f1", "entity F1"),
            "drugs": ("drugs", drugs_project, "macro_f1", "macro F1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="quick,standard,best")
    parser.add_argument("--data", default="wnut,drugs")
    parser.add_argument("--seed", type=int, default=42)
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists() or not (DRUGS / "train.tsv").exists():
        sys.exit("skipped: ../shared/data/wnut17 or drugreviews is not present (see ../shared/data/README.md)")
    rows = []
    for data in opts.data.split(","):
        project, make, metric, metric_name = DATASETS[data]
        for preset in opts.presets.split(","):
            home = Path(tempfile.mkdtemp(prefix=f"tagtune-presets-{data}-{preset}-"))
            baseline = make(home)
            start = time.perf_counter()
            run = cli(home, "train", project, "--preset", preset, "--seed", str(opts.seed))
            wall = time.perf_counter() - start
            value = run["metrics"][metric]
            rows.append((data, preset, wall, metric_name, value, baseline, run["metrics"]["dev_samples"]))
            print(f"{data:6s} {preset:9s} {wall:7.0f} s  dev {metric_name} {100 * value:6.2f}  majority baseline "
                  f"{100 * baseline:6.2f}  ({run['metrics']['steps']} steps, n = {run['metrics']['dev_samples']})",
                  flush=True)
    beaten = [r for r in rows if r[4] > r[5]]
    print(f"\n{'data':6s} {'preset':9s} {'wall s':>7s} {'dev metric':>16s} {'majority':>9s} verdict")
    for data, preset, wall, name, value, baseline, _ in rows:
        print(f"{data:6s} {preset:9s} {wall:7.0f} {name:>9s} {100 * value:6.2f} {100 * baseline:9.2f} "
              f"{'beats' if value > baseline else 'DOES NOT beat'}")
    worst = min(rows, key=lambda r: r[4] - r[5])
    print(f"\nfigure: {len(beaten)} of {len(rows)} preset runs beat the majority baseline on dev (smallest margin "
          f"{100 * (worst[4] - worst[5]):+.2f} points: {worst[0]} {worst[1]}; seed {opts.seed})")
    print("target: every preset beats the majority baseline on WNUT (entity F1) and the drug reviews (macro F1)")
    print(f"verdict: {'MET' if len(beaten) == len(rows) else 'NOT MET'}")


if __name__ == "__main__":
    main()
