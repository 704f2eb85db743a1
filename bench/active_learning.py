"""Active learning on WNUT 2017: does uncertainty sampling need fewer labels than random?

A simulated annotator labels from the WNUT 2017 train split (gold tags = the annotator's
answers). Start from 50 random labels; each round retrains the packaged encoder from scratch
(a fresh pretrained model, so the two strategies stay comparable) on the labels so far through
core.train.trainer.train_examples (the worker's entry point), scores one dev subset (the same
sentences for both strategies and every seed), then asks for 50 more from an unlabelled pool of
2,000 train sentences: those the model is least sure about (core.labeling.active measures,
aggregated over words by min) or 50 at random. Repeated for several seeds (each seed draws its
own start set, pool and training seed); prints dev entity F1 per label count as mean ± sd over
seeds, and how many labels uncertainty sampling needs to reach random sampling's final mean
score (linearly interpolated between rounds).

Target: uncertainty sampling reaches random sampling's final mean dev F1 with fewer labels
than random used (MET / NOT MET on the last line).

Training per round is by epochs: ``--epochs`` passes over the labels, at least ``--min-steps``
optimiser steps (small label sets need enough updates to leave the all-O solution), learning
rate ``--lr`` with a 10% linear warm-up and linear decay, the final model scored (dev is
evaluated once, at the end, so it never picks a checkpoint). A fixed step budget does not work:
80 steps are ~25 epochs at 50 labels but ~4 at 300, and both strategies then collapsed to F1 0.

Bounded for 2 CPU cores: max length 64 and a dev subset. The full figure (README):
    python bench/active_learning.py                      # 3 seeds, pool 2000, 6 rounds: long
A smoke run:
    python bench/active_learning.py --seeds 1,2,3 --rounds 1 --pool 200 --dev 50 --min-steps 10 --epochs 1
Options: [--seeds 1,2,3] [--rounds 6] [--start 50] [--step 50] [--pool 2000] [--dev 300]
    [--epochs 6] [--min-steps 60] [--lr 1e-4] [--measure least_confidence] [--model PATH]
"""
from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "wnut17"
BATCH_SIZE = 16
MAX_LENGTH = 64
WARMUP_RATIO = 0.1


def load(split: str):
    from core.data.formats import parse
    from core.data.formats.base import ParseOptions
    from core.base.types import Example

    path = DATA / f"{split}.conll"
    result = parse(path.read_bytes(), "conll", ParseOptions(task="ner"))
    return [
        Example(r.text, tuple(r.tokens), tuple(r.spans), id=i, split=split)
        for i, r in enumerate(result.records)
        if r.tokens
    ]


def steps_for(n_labels: int, epochs: float, min_steps: int) -> int:
    """Optimiser steps for one round: ``epochs`` passes over the labels, at least ``min_steps``."""
    return max(min_steps, math.ceil(epochs * n_labels / BATCH_SIZE))


def train_round(config, labelled, dev, types, out: Path) -> tuple[dict, Path]:
    from core.train.trainer import train_examples

    result = train_examples(config, labelled, dev, types, "ner", out, export=True)
    return result.metrics, result.model_dir


def most_uncertain(model_dir, pool, k: int, measure: str, aggregate: str = "min"):
    from core.inference import predict
    from core.labeling.active import aggregate_uncertainty, distribution_uncertainty

    lm = predict.load(model_dir, "ner", max_length=MAX_LENGTH)
    preds = predict.predict_texts(lm, [(ex.text, list(ex.tokens)) for ex in pool], batch_size=64)
    scores = [
        aggregate_uncertainty([distribution_uncertainty(d) for d in p.probs])[measure][aggregate] for p in preds
    ]
    order = sorted(range(len(pool)), key=lambda i: -scores[i])
    return [pool[i] for i in order[:k]]


Curve = list[tuple[int, float, float]]  # (labels, dev F1, seconds)
DEV_SEED = 0  # the dev subset is the same for every seed and both strategies


class Learner:
    """One simulated annotation campaign: its labelled set and its unlabelled pool."""

    def __init__(self, strategy: str, args, seed: int, pool: list, seed_set: list):
        self.strategy, self.args, self.seed = strategy, args, seed
        self.labelled = list(seed_set)
        self.pool = list(pool)  # same pool, same random order for both strategies of a seed
        self.curve: Curve = []

    def round(self, rnd: int, config, dev, types, work: Path, last: bool) -> None:
        steps = steps_for(len(self.labelled), self.args.epochs, self.args.min_steps)
        config = config.replace(max_steps=steps, eval_steps=steps)  # dev scored once, on the final model
        t0 = time.perf_counter()
        metrics, model_dir = train_round(config, self.labelled, dev, types, work / f"{self.seed}-{self.strategy}-{rnd}")
        f1 = metrics.get("f1", 0.0)
        self.curve.append((len(self.labelled), f1, time.perf_counter() - t0))
        print(f"  seed {self.seed} {self.strategy:<11} round {rnd}: {len(self.labelled):>4} labels  {steps:>4} steps  "
              f"dev F1 {f1:.4f}  P {metrics.get('precision', 0.0):.3f}  R {metrics.get('recall', 0.0):.3f}  "
              f"({self.curve[-1][2]:.0f} s)", flush=True)
        if last:
            return
        if self.strategy == "uncertainty":
            picked = most_uncertain(model_dir, self.pool, self.args.step, self.args.measure)
        else:
            picked = self.pool[: self.args.step]
        ids = {ex.id for ex in picked}
        self.pool = [ex for ex in self.pool if ex.id not in ids]
        self.labelled += picked
        shutil.rmtree(work / f"{self.seed}-{self.strategy}-{rnd}", ignore_errors=True)  # keep the disk small


def simulate(args, seed: int, train, dev, types, work: Path) -> dict[str, Curve]:
    """Both strategies for one seed, round by round (interleaved, so a partial run still compares them)."""
    from core.train.config import TrainConfig

    seed_set = random.Random(seed).sample(train, args.start)
    seen = {e.id for e in seed_set}
    pool = [ex for ex in train if ex.id not in seen]
    random.Random(seed + 1).shuffle(pool)
    pool = pool[: args.pool]
    config = TrainConfig(
        epochs=1.0, max_steps=args.min_steps, eval_steps=args.min_steps, batch_size=BATCH_SIZE,
        max_length=MAX_LENGTH, learning_rate=args.lr, warmup_ratio=WARMUP_RATIO, scheduler="linear",
        seed=seed, **({"model": args.model} if args.model else {}),
    )
    learners = [Learner(s, args, seed, pool, seed_set) for s in ("random", "uncertainty")]
    for rnd in range(args.rounds + 1):
        for learner in learners:
            learner.round(rnd, config, dev, types, work, last=rnd == args.rounds)
    return {l.strategy: l.curve for l in learners}


def labels_to_match(curve: list[tuple[int, float]], target: float) -> float | None:
    """Labels at which ``curve`` first reaches ``target``, interpolated linearly between rounds."""
    previous = None
    for n, f1 in curve:
        if f1 >= target:
            if previous is None or previous[1] >= f1:
                return float(n)
            (n0, f0) = previous
            return n0 + (n - n0) * (target - f0) / (f1 - f0)
        previous = (n, f1)
    return None


def mean_sd(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, sd


def report(args, runs: dict[int, dict[str, Curve]], dev_n: int, wall: float) -> None:
    seeds = sorted(runs)
    counts = [n for n, _, _ in runs[seeds[0]]["random"]]
    mean = {arm: [mean_sd([runs[s][arm][i][1] for s in seeds])[0] for i in range(len(counts))]
            for arm in ("random", "uncertainty")}
    print(f"\ndev entity F1, mean ± sd over seeds {', '.join(map(str, seeds))} (n = {dev_n} dev sentences):")
    print("labels   random            uncertainty")
    for i, n in enumerate(counts):
        cells = [mean_sd([runs[s][arm][i][1] for s in seeds]) for arm in ("random", "uncertainty")]
        print(f"{n:>6}   " + "   ".join(f"{m:.3f} ± {sd:.3f}  " for m, sd in cells))
    final_n, final = counts[-1], mean["random"][-1]
    needed = labels_to_match(list(zip(counts, mean["uncertainty"])), final) if final > 0 else None
    per_seed = []
    for s in seeds:
        target = runs[s]["random"][-1][1]
        got = labels_to_match([(n, f1) for n, f1, _ in runs[s]["uncertainty"]], target) if target > 0 else None
        per_seed.append(got)
    fewer = sum(1 for g in per_seed if g is not None and g < final_n)
    print("per seed, labels uncertainty needs to reach that seed's final random F1: "
          + ", ".join(f"seed {s}: {'not reached' if g is None else f'{g:.0f}'}" for s, g in zip(seeds, per_seed))
          + " (not reached includes a random arm that scored 0)")
    print(f"wall time {wall:.0f} s; command: python bench/active_learning.py --seeds {','.join(map(str, seeds))} "
          f"--rounds {args.rounds} --start {args.start} --step {args.step} --pool {args.pool} --dev {args.dev} "
          f"--epochs {args.epochs:g} --min-steps {args.min_steps} --lr {args.lr:g} --measure {args.measure}")
    if final <= 0:
        reached = "cannot be compared: random sampling never scored above 0 (train longer: --epochs, --min-steps)"
    elif needed is None:
        reached = f"does not reach it within {counts[-1]} labels"
    else:
        reached = f"reaches it with {needed:.0f} labels ({needed / final_n:.0%})"
    print(f"figure: random sampling's final mean dev F1 {final:.3f} with {final_n} labels; uncertainty sampling "
          f"({args.measure}) {reached}; fewer labels in {fewer} of {len(seeds)} seeds; "
          f"{len(seeds)} seeds, pool {args.pool}, dev n = {dev_n}")
    print(f"target: uncertainty sampling reaches random sampling's final mean dev F1 with fewer than {final_n} labels")
    print("MET" if needed is not None and needed < final_n else "NOT MET")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (at least 3 for the README figure)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--start", type=int, default=50)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--pool", type=int, default=2000, help="unlabelled pool size (subset of train)")
    parser.add_argument("--dev", type=int, default=300, help="dev samples scored each round (the same for all)")
    parser.add_argument("--epochs", type=float, default=6.0, help="passes over the labels per round")
    parser.add_argument("--min-steps", type=int, default=60, help="at least this many optimiser steps per round")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (10%% warm-up, linear decay)")
    parser.add_argument("--measure", default="least_confidence", choices=("least_confidence", "margin", "entropy"))
    parser.add_argument("--model", default=None, help="encoder (default: packaged all-MiniLM-L6-v2)")
    args = parser.parse_args()
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]

    if not (DATA / "train.conll").exists() or not (DATA / "dev.conll").exists():
        print(f"skipped: expected WNUT 2017 train.conll and dev.conll in {DATA}, found none; "
              "see ../shared/data/README.md")
        return 0

    import torch

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    train, dev = load("train"), load("dev")
    random.Random(DEV_SEED).shuffle(dev)
    dev = dev[: args.dev]
    types = sorted({sp.label for ex in train for sp in ex.spans})
    if args.pool + args.start > len(train):
        print(f"expected --start + --pool <= {len(train)} train sentences, found {args.start} + {args.pool}")
        return 2
    print(f"WNUT 2017: {len(train)} train sentences, pool {args.pool}, dev subset {len(dev)} (same for every "
          f"seed and strategy), types {types}")
    print(f"seeds {seeds}; start {args.start} labels, +{args.step} per round for {args.rounds} rounds; each round "
          f"from the pretrained {args.model or 'all-MiniLM-L6-v2'}: {args.epochs:g} epochs (>= {args.min_steps} "
          f"steps), batch {BATCH_SIZE}, lr {args.lr:g} ({WARMUP_RATIO:.0%} warm-up, linear), max length "
          f"{MAX_LENGTH}, final model; measure {args.measure} (min over words)", flush=True)
    started = time.perf_counter()
    runs = {}
    with tempfile.TemporaryDirectory(prefix="tagtune-al-") as tmp:
        for seed in seeds:
            runs[seed] = simulate(args, seed, train, dev, types, Path(tmp))
    report(args, runs, len(dev), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
