"""Active learning on WNUT 2017: does uncertainty sampling need fewer labels than random?

A simulated annotator labels from the WNUT 2017 train split (gold tags = the annotator's
answers). Start from 50 random labels; each round retrains the encoder from scratch on the
labels so far (core.train.trainer.train_examples, the worker's entry point), scores dev, then
asks for 50 more: the pool samples the model is least sure about (core.active measures,
aggregated over words by min) or 50 at random. Prints dev F1 per round for both, and how many
labels uncertainty sampling needed to reach random's final score.

Bounded for 2 CPU cores: short max length, a fixed number of optimiser steps per round, a pool
and dev subset. Measured on 2 shared cores with the defaults (28 min): both strategies 0.27 at 50
labels; uncertainty ahead at 100-250 labels (0.27/0.21/0.29/0.26 vs 0.14/0.14/0.16/0.04), then
both collapse to ~0 at 300-350 labels because 80 steps are only ~4 epochs there and the model
still predicts all O. Use ``--epochs 8`` (steps grow with the labels) for a fair final comparison.
Usage:
    python bench/active_learning.py [--rounds 6] [--step 50] [--pool 400] [--dev 200]
        [--steps 80] [--epochs 0] [--measure least_confidence] [--model PATH]
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


def load(split: str):
    from core.formats import parse
    from core.formats.base import ParseOptions
    from core.types import Example

    path = DATA / f"{split}.conll"
    if not path.exists():
        sys.exit(f"expected WNUT 2017 at {path}, found nothing; see ../shared/data/README.md")
    result = parse(path.read_bytes(), "conll", ParseOptions(task="ner"))
    return [
        Example(r.text, tuple(r.tokens), tuple(r.spans), id=i, split=split)
        for i, r in enumerate(result.records)
        if r.tokens
    ]


def train_round(config, labelled, dev, types, out: Path):
    from core.train.trainer import train_examples

    result = train_examples(config, labelled, dev, types, "ner", out, export=True)
    return result.metrics.get("f1", 0.0), result.model_dir


def most_uncertain(model_dir, pool, k: int, measure: str, aggregate: str = "min"):
    from core import predict
    from core.active import aggregate_uncertainty, distribution_uncertainty

    lm = predict.load(model_dir, "ner", max_length=64)
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
        self.curve: list[tuple[int, float, float]] = []

    def round(self, rnd: int, config, dev, types, work: Path, last: bool) -> None:
        if self.args.epochs:  # steps grow with the labels so every round sees them as often
            steps = max(self.args.steps, math.ceil(self.args.epochs * len(self.labelled) / config.batch_size))
            config = config.replace(max_steps=steps, eval_steps=steps)
        t0 = time.perf_counter()
        f1, model_dir = train_round(config, self.labelled, dev, types, work / f"{self.strategy}-{rnd}")
        self.curve.append((len(self.labelled), f1, time.perf_counter() - t0))
        print(f"  {self.strategy:<11} round {rnd}: {len(self.labelled):>4} labels  dev F1 {f1:.4f}  "
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
        epochs=1.0, max_steps=args.steps, eval_steps=args.steps, batch_size=16, max_length=64,
        learning_rate=args.lr, seed=args.seed, **({"model": args.model} if args.model else {}),
    )
    learners = [Learner(s, args, train, seed_set) for s in ("random", "uncertainty")]
    for rnd in range(args.rounds + 1):
        for learner in learners:
            learner.round(rnd, config, dev, types, work, last=rnd == args.rounds)
    return {l.strategy: l.curve for l in learners}


def labels_to_match(curve, target: float) -> int | None:
    return next((n for n, f1, _ in curve if f1 >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--start", type=int, default=50)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--pool", type=int, default=400, help="unlabelled pool size (subset of train)")
    parser.add_argument("--dev", type=int, default=200, help="dev samples scored each round")
    parser.add_argument("--steps", type=int, default=80, help="optimiser steps per round")
    parser.add_argument("--epochs", type=float, default=0.0,
                        help="if > 0: at least this many passes over the labels per round (steps grow with them); "
                             "with a fixed step budget larger label sets are under-trained")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--measure", default="least_confidence", choices=("least_confidence", "margin", "entropy"))
    parser.add_argument("--model", default=None, help="encoder (default: packaged all-MiniLM-L6-v2)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    train, dev = load("train"), load("dev")
    random.Random(args.seed).shuffle(dev)
    dev = dev[: args.dev]
    types = sorted({sp.label for ex in train for sp in ex.spans})
    seed_set = random.Random(args.seed).sample(train, args.start)
    print(f"WNUT 2017: {len(train)} train sentences, dev subset {len(dev)}, types {types}")
    print(f"start {args.start} labels, +{args.step} per round for {args.rounds} rounds; "
          f"{args.steps} steps/round, max length 64, pool {args.pool}, measure {args.measure} (min over words)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tagtune-al-") as tmp:
        curves = simulate(args, train, dev, types, seed_set, Path(tmp))
    print("\nlabels   random F1   uncertainty F1")
    for (n, fr, _), (_, fu, _) in zip(curves["random"], curves["uncertainty"]):
        print(f"{n:>6}   {fr:9.4f}   {fu:14.4f}")
    final = curves["random"][-1][1]
    needed = labels_to_match(curves["uncertainty"], final)
    print(f"\nrandom sampling's final dev F1: {final:.4f} with {curves['random'][-1][0]} labels")
    if final <= 0:
        print("random sampling never scored above 0: train longer (--steps, --lr) to compare label needs")
    elif needed is None:
        print("uncertainty sampling did not reach it within the rounds run")
    else:
        print(f"uncertainty sampling reached it with {needed} labels "
              f"({needed / curves['random'][-1][0]:.0%} of random's)")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
