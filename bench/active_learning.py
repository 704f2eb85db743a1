"""Active learning on WNUT 2017: does uncertainty sampling need fewer labels than random?

A simulated annotator labels from the WNUT 2017 train split (gold tags = the annotator's
answers). Start from 50 random labels; each round retrains the packaged encoder from scratch
(a fresh pretrained model, so the two strategies stay comparable) on the labels so far through
core.train.trainer.train_examples (the worker's entry point), scores the same dev subset, then
asks for 50 more: the pool samples the model is least sure about (core.labeling.active measures,
aggregated over words by min) or 50 at random. Prints dev entity F1 per round for both, and
how many labels uncertainty sampling needed to reach random's final score (linearly
interpolated between rounds).

Training per round is by epochs: ``--epochs`` passes over the labels, at least ``--min-steps``
optimiser steps (small label sets need enough updates to leave the all-O solution), learning
rate ``--lr`` with a 10% linear warm-up and linear decay, the final model scored (dev is
evaluated once, at the end, so it never picks a checkpoint). A fixed step budget does not work:
80 steps are ~25 epochs at 50 labels but ~4 at 300, and both strategies then collapsed to F1 0.

Bounded for 2 CPU cores: max length 64, a pool and dev subset. Measured with the defaults on 2
shared cores (1115 s), dev F1 at 50..350 labels: random 0.048 0.048 0.000 0.129 0.106 0.092
0.250; uncertainty 0.048 0.108 0.226 0.238 0.295 0.325 0.329 -> uncertainty reaches random's
final 0.250 at ~211 labels (60%). Single seed: small-label F1 varies a lot with the sample (random
350 labels with another seed scored 0.43), and 60 steps under-train the first rounds. Usage:
    python bench/active_learning.py [--rounds 6] [--start 50] [--step 50] [--pool 400] [--dev 200]
        [--epochs 6] [--min-steps 60] [--lr 1e-4] [--measure least_confidence] [--model PATH]
"""
from __future__ import annotations

import argparse
import math
import random
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


class Learner:
    """One simulated annotation campaign: its labelled set and its unlabelled pool."""

    def __init__(self, strategy: str, args, train, seed_set):
        self.strategy, self.args = strategy, args
        self.labelled = list(seed_set)
        seen = {e.id for e in seed_set}
        pool = [ex for ex in train if ex.id not in seen]
        random.Random(args.seed + 1).shuffle(pool)  # same pool, same random order for both
        self.pool = pool[: args.pool]
        self.curve: list[tuple[int, float, float]] = []  # (labels, dev F1, seconds)

    def round(self, rnd: int, config, dev, types, work: Path, last: bool) -> None:
        steps = steps_for(len(self.labelled), self.args.epochs, self.args.min_steps)
        config = config.replace(max_steps=steps, eval_steps=steps)  # dev scored once, on the final model
        t0 = time.perf_counter()
        metrics, model_dir = train_round(config, self.labelled, dev, types, work / f"{self.strategy}-{rnd}")
        f1 = metrics.get("f1", 0.0)
        self.curve.append((len(self.labelled), f1, time.perf_counter() - t0))
        print(f"  {self.strategy:<11} round {rnd}: {len(self.labelled):>4} labels  {steps:>4} steps  "
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


def simulate(args, train, dev, types, seed_set, work: Path) -> dict[str, list[tuple[int, float, float]]]:
    """Both strategies round by round (interleaved, so a partial run still compares them)."""
    from core.train.config import TrainConfig

    config = TrainConfig(
        epochs=1.0, max_steps=args.min_steps, eval_steps=args.min_steps, batch_size=BATCH_SIZE,
        max_length=MAX_LENGTH, learning_rate=args.lr, warmup_ratio=WARMUP_RATIO, scheduler="linear",
        seed=args.seed, **({"model": args.model} if args.model else {}),
    )
    learners = [Learner(s, args, train, seed_set) for s in ("random", "uncertainty")]
    for rnd in range(args.rounds + 1):
        for learner in learners:
            learner.round(rnd, config, dev, types, work, last=rnd == args.rounds)
    return {l.strategy: l.curve for l in learners}


def labels_to_match(curve: list[tuple[int, float, float]], target: float) -> float | None:
    """Labels at which ``curve`` first reaches ``target``, interpolated linearly between rounds."""
    previous = None
    for n, f1, _ in curve:
        if f1 >= target:
            if previous is None or previous[1] >= f1:
                return float(n)
            (n0, f0) = previous
            return n0 + (n - n0) * (target - f0) / (f1 - f0)
        previous = (n, f1)
    return None


def report(curves: dict[str, list[tuple[int, float, float]]]) -> None:
    print("\nlabels   random F1   uncertainty F1")
    for (n, fr, _), (_, fu, _) in zip(curves["random"], curves["uncertainty"]):
        print(f"{n:>6}   {fr:9.4f}   {fu:14.4f}")
    final_n, final = curves["random"][-1][0], curves["random"][-1][1]
    print(f"\nrandom sampling's final dev F1: {final:.4f} with {final_n} labels")
    if final <= 0:
        print("random sampling never scored above 0: train longer (--epochs, --min-steps, --lr) to compare")
        return
    needed = labels_to_match(curves["uncertainty"], final)
    if needed is None:
        print(f"labels uncertainty needs to match random's final score: not reached within "
              f"{curves['uncertainty'][-1][0]} labels")
    else:
        print(f"labels uncertainty needs to match random's final score: {needed:.0f} "
              f"({needed / final_n:.0%} of random's {final_n}; interpolated between rounds)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--start", type=int, default=50)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--pool", type=int, default=400, help="unlabelled pool size (subset of train)")
    parser.add_argument("--dev", type=int, default=200, help="dev samples scored each round (same for both)")
    parser.add_argument("--epochs", type=float, default=6.0, help="passes over the labels per round")
    parser.add_argument("--min-steps", type=int, default=60, help="at least this many optimiser steps per round")
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (10%% warm-up, linear decay)")
    parser.add_argument("--measure", default="least_confidence", choices=("least_confidence", "margin", "entropy"))
    parser.add_argument("--model", default=None, help="encoder (default: packaged all-MiniLM-L6-v2)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    if not (DATA / "train.conll").exists() or not (DATA / "dev.conll").exists():
        print(f"skipped: expected WNUT 2017 train.conll and dev.conll in {DATA}, found none; "
              "see ../shared/data/README.md")
        return 0

    import torch

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    train, dev = load("train"), load("dev")
    random.Random(args.seed).shuffle(dev)
    dev = dev[: args.dev]
    types = sorted({sp.label for ex in train for sp in ex.spans})
    seed_set = random.Random(args.seed).sample(train, args.start)
    print(f"WNUT 2017: {len(train)} train sentences, dev subset {len(dev)} (same for both), types {types}")
    print(f"start {args.start} labels, +{args.step} per round for {args.rounds} rounds, pool {args.pool}; "
          f"each round from the pretrained {args.model or 'all-MiniLM-L6-v2'}: {args.epochs:g} epochs "
          f"(>= {args.min_steps} steps), batch {BATCH_SIZE}, lr {args.lr:g} ({WARMUP_RATIO:.0%} warm-up, linear), "
          f"max length {MAX_LENGTH}, seed {args.seed}, final model; "
          f"measure {args.measure} (min over words)", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tagtune-al-") as tmp:
        curves = simulate(args, train, dev, types, seed_set, Path(tmp))
    report(curves)
    print(f"wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
