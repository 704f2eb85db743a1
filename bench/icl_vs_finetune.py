"""In-context learning vs fine-tuning on the drug reviews (3-way sentiment, skewed towards
"positive"), on the same test samples for every arm.

The labelled pool is ../shared/data/drugreviews/train.tsv (600 reviews); the test samples are
``--n`` reviews of test.tsv (379) drawn with ``--sample-seed``, the same for every arm. Arms:

- zero-shot, k-shot random, k-shot knn: the packaged SmolLM2-135M-Instruct scoring each label's
  log-likelihood after the prompt (core.icl), with and without contextual calibration. A
  calibrated arm reuses its uncalibrated pass and adds the content-free pass, so its seconds
  are the uncalibrated seconds plus the content-free ones (what ``--calibrate`` costs);
- fine-tuned: the packaged MiniLM with core.train's ``train_examples`` (the trainer the worker
  runs), tuned on dev: 20% of the pool is held out, a small grid of learning rates and epochs
  (balanced class weights for the skewed labels) is scored on it by dev macro F1, and the best
  setting is trained again on the whole pool and predicted with core.inference;
- the majority class of the pool, predicted for every test sample.

Every arm is scored by core.evaluation.metrics.classification_scores. Prints one JSON object per
arm, a table, and figure / target / verdict last.

    python bench/icl_vs_finetune.py [--n 200] [--shots 4] [--lrs 5e-5,1e-4,2e-4] [--epochs-grid 3,6]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.icl import classify, prompts  # noqa: E402
from core.icl.config import IclConfig  # noqa: E402
from core.icl.infer import IclPredictor  # noqa: E402
from core.icl.lm import load_lm  # noqa: E402
from core.evaluation.metrics import classification_scores  # noqa: E402
from core.text.tokenize import word_offsets  # noqa: E402
from core.base.types import Example  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "drugreviews"
LABELS = ["positive", "neutral", "negative"]


def load(path: Path, first_id: int) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Example(r["review"], tuple(word_offsets(r["review"])), categories=(r["rating"],), id=first_id + i,
                    split=path.stem) for i, r in enumerate(rows)]


def score(name: str, test: list[Example], predicted: list[list[str]], seconds: list[float], extra: dict) -> dict:
    metrics = classification_scores([list(ex.categories) for ex in test], predicted, LABELS)
    row = {"setting": name, "accuracy": round(metrics["accuracy"], 4), "macro_f1": round(metrics["macro_f1"], 4),
           "seconds_per_sample": round(sum(seconds) / len(seconds), 4), "n": len(test), **extra}
    print(json.dumps(row), flush=True)
    return row


def icl_rows(lm, train, test, shots: int, selection: str, max_chars: int, calibrated_too: bool) -> list[dict]:
    name = "zero-shot" if shots == 0 else f"{shots}-shot {selection}"
    config = IclConfig(task="classification", shots=shots, selection=selection, max_text_chars=max_chars)
    predictor = IclPredictor(config, LABELS, train, project_id="bench-drugreviews", lm=lm)
    predictor.prepare(test)
    preds = predictor.predict(test)
    extra = {"labels_used": len(train) if shots else 0, "params": lm.params}
    rows = [score(name, test, [p.output["categories"] for p in preds], [p.seconds for p in preds], extra)]
    if calibrated_too:
        predicted, seconds, cache = [], [], {}
        for ex, pred in zip(test, preds):
            start = time.perf_counter()
            key = tuple(d.id for d in pred.demos)
            if key not in cache:  # one content-free pass per distinct demonstration set
                shown = [prompts.demo_of(d, config) for d in pred.demos]
                blank = prompts.messages(config, LABELS, shown, classify.CONTENT_FREE)
                cache[key] = classify.content_free_probs(lm, blank, LABELS, config.batch_size)
            probs = classify.calibrated(classify.softmax(json.loads(pred.raw)), cache[key])
            predicted.append(classify.decide(probs))
            seconds.append(pred.seconds + time.perf_counter() - start)
        rows.append(score(name + " + calibration", test, predicted, seconds, extra))
    return rows


DEV_SHARE = 0.2


def tune_on_dev(pool: list[Example], lrs: list[float], epochs_grid: list[float], max_length: int, seed: int) -> dict:
    """The grid's best (learning rate, epochs) by dev macro F1, with every grid point's score."""
    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.trainer import train_examples

    train, dev = D.hold_out(pool, DEV_SHARE, seed)
    grid = []
    for lr in lrs:
        for epochs in epochs_grid:
            config = TrainConfig(learning_rate=lr, epochs=epochs, max_length=max_length, class_weights="balanced",
                                 eval_steps=10_000_000, seed=seed, log_every=1000)  # one dev evaluation, at the end
            with tempfile.TemporaryDirectory() as out:
                result = train_examples(config, train, dev, LABELS, "classification", Path(out), export=False)
            grid.append({"lr": lr, "epochs": epochs, "dev_macro_f1": round(result.metrics["macro_f1"], 4),
                         "dev_accuracy": round(result.metrics["accuracy"], 4)})
            print(json.dumps({"grid": grid[-1], "train": len(train), "dev": len(dev)}), flush=True)
    return {"best": max(grid, key=lambda g: g["dev_macro_f1"]), "grid": grid, "dev": len(dev)}


def finetune_row(pool, test, tuned: dict, max_length: int, seed: int) -> dict:
    from core.inference.model import load
    from core.inference.predict import predict_examples
    from core.train.config import TrainConfig
    from core.train.trainer import train_examples

    best = tuned["best"]
    config = TrainConfig(learning_rate=best["lr"], epochs=best["epochs"], max_length=max_length,
                         class_weights="balanced", seed=seed, log_every=1000)
    with tempfile.TemporaryDirectory() as out:
        result = train_examples(config, pool, [], LABELS, "classification", Path(out))
        model = load(result.model_dir, "classification", max_length)
        start = time.perf_counter()
        preds = predict_examples(model, test)
        each = (time.perf_counter() - start) / len(test)
    name = f"fine-tuned MiniLM (lr {best['lr']:g}, {best['epochs']:g} epochs, balanced)"
    return score(name, test, [p.categories for p in preds], [each] * len(test),
                 {"labels_used": len(pool), "params": result.total_params, "train_seconds": round(result.train_seconds, 1),
                  "tuned_on": f"{tuned['dev']} held-out pool reviews", "grid": tuned["grid"]})


def majority_row(pool, test) -> dict:
    majority = Counter(ex.categories[0] for ex in pool).most_common(1)[0][0]
    return score(f"majority class ({majority})", test, [[majority]] * len(test), [0.0] * len(test),
                 {"labels_used": len(pool), "params": 0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="test reviews, drawn once (379 in all)")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--max-text-chars", type=int, default=600)
    parser.add_argument("--lrs", default="5e-5,1e-4,2e-4", help="fine-tuning learning rates tried on dev")
    parser.add_argument("--epochs-grid", default="3,6", help="fine-tuning epochs tried on dev")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42, help="fine-tuning seed (hold-out, head, shuffling)")
    parser.add_argument("--pool", type=int, default=0, help="first N pool reviews only (0 = all 600; smoke runs)")
    parser.add_argument("--skip-icl", action="store_true")
    parser.add_argument("--skip-finetune", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not (args.data / "train.tsv").exists():
        sys.exit(f"expected {args.data}/train.tsv and test.tsv (see ../shared/data/README.md), found none")
    pool = load(args.data / "train.tsv", 1)
    pool = pool[: args.pool] if args.pool else pool
    every_test = load(args.data / "test.tsv", 100_000)
    test = sorted(random.Random(args.sample_seed).sample(every_test, min(args.n, len(every_test))), key=lambda e: e.id)
    from core.train.device import choose_device

    device = choose_device()  # threads for the free cores (oversubscribed OpenMP is ~10x slower)
    print(json.dumps({"pool": len(pool), "test": len(test), "test_ids": [ex.id - 100_000 for ex in test][:10],
                      "shots": args.shots, "max_text_chars": args.max_text_chars, "device": device.describe()}),
          flush=True)
    rows = [majority_row(pool, test)]
    if not args.skip_icl:
        start = time.perf_counter()
        lm = load_lm("")
        print(json.dumps({"lm": lm.name, "lm_source": lm.source, "lm_load_seconds": round(time.perf_counter() - start, 2)}),
              flush=True)
        rows += icl_rows(lm, pool, test, 0, "random", args.max_text_chars, True)
        rows += icl_rows(lm, pool, test, args.shots, "random", args.max_text_chars, True)
        rows += icl_rows(lm, pool, test, args.shots, "knn", args.max_text_chars, True)
    if not args.skip_finetune:
        tuned = tune_on_dev(pool, [float(x) for x in args.lrs.split(",")],
                            [float(x) for x in args.epochs_grid.split(",")], args.max_length, args.seed)
        rows.append(finetune_row(pool, test, tuned, args.max_length, args.seed))
    print(f"\n{'setting':<58}{'accuracy':>9}{'macro F1':>9}{'s/sample':>10}{'labels':>8}")
    for r in rows:
        print(f"{r['setting']:<58}{r['accuracy']:>9.3f}{r['macro_f1']:>9.3f}{r['seconds_per_sample']:>10.3f}"
              f"{r['labels_used']:>8}")
    majority = rows[0]
    icl = [r for r in rows[1:] if not r["setting"].startswith("fine-tuned")]
    tuned_rows = [r for r in rows if r["setting"].startswith("fine-tuned")]
    best_icl = max(icl, key=lambda r: r["macro_f1"]) if icl else None
    parts = []
    if best_icl:
        parts.append(f"best ICL ({best_icl['setting']}) macro F1 {best_icl['macro_f1']:.3f}")
    if tuned_rows:
        parts.append(f"tuned fine-tuning macro F1 {tuned_rows[0]['macro_f1']:.3f}")
    parts.append(f"majority {majority['macro_f1']:.3f}")
    met = len(test) >= 200 and all(r["n"] == len(test) for r in rows) and bool(tuned_rows) and \
        tuned_rows[0]["macro_f1"] > majority["macro_f1"]
    print(f"\nfigure: {', '.join(parts)} on the same n = {len(test)} test reviews (sample seed {args.sample_seed}, "
          f"fine-tuning seed {args.seed})")
    print("target: >= 200 test samples, the same for every arm, and the fine-tuned arm (tuned on dev) above the "
          "majority baseline's macro F1")
    print(f"verdict: {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
