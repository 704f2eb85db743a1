"""In-context learning vs fine-tuning on the drug reviews (3-way sentiment), in one run.

The labelled pool is ../shared/data/drugreviews/train.tsv (600 reviews); the test split is
test.tsv (379; ``--limit`` takes the first N so a run fits a laptop CPU). Rows:

- zero-shot, k-shot random, k-shot knn: the packaged SmolLM2-135M-Instruct scoring each label's
  log-likelihood after the prompt (core.icl), with and without contextual calibration. A
  calibrated row reuses its uncalibrated pass and adds the content-free pass, so its seconds
  are the uncalibrated seconds plus the content-free ones (what ``--calibrate`` costs);
- fine-tuned: the packaged MiniLM fine-tuned on the same 600 reviews with core.train's
  ``train_examples`` (the trainer the worker runs), predicted with core.predict.

Every row is scored by core.metrics.classification_scores. Prints one JSON object per row and a table.

    python bench/icl_vs_finetune.py --limit 40 --shots 4
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
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


def finetune_row(train, test, epochs: float, max_length: int) -> dict:
    from core.inference.predict import load as load_classifier
    from core.inference.predict import predict_texts
    from core.train.config import TrainConfig
    from core.train.trainer import train_examples

    config = TrainConfig(epochs=epochs, max_length=max_length, batch_size=16)
    with tempfile.TemporaryDirectory() as out:
        result = train_examples(config, train, [], LABELS, "classification", Path(out))
        model = load_classifier(result.model_dir, "classification")
        start = time.perf_counter()
        preds = predict_texts(model, [(ex.text, list(ex.tokens)) for ex in test])
        each = (time.perf_counter() - start) / len(test)
    return score(f"fine-tuned MiniLM ({config.strategy}, {epochs:g} epochs)", test, [p.categories for p in preds],
                 [each] * len(test), {"labels_used": len(train), "params": result.total_params,
                                      "train_seconds": round(result.train_seconds, 1)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=40, help="first N test reviews (379 in all)")
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--max-text-chars", type=int, default=600)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--skip-finetune", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not (args.data / "train.tsv").exists():
        sys.exit(f"expected {args.data}/train.tsv and test.tsv (see ../shared/data/README.md), found none")
    train = load(args.data / "train.tsv", 1)
    test = load(args.data / "test.tsv", 100_000)[: args.limit]
    from core.train.device import choose_device

    device = choose_device()  # threads for the free cores (oversubscribed OpenMP is ~10x slower)
    start = time.perf_counter()
    lm = load_lm("")
    print(json.dumps({"pool": len(train), "test": len(test), "lm": lm.name, "lm_source": lm.source,
                      "lm_load_seconds": round(time.perf_counter() - start, 2), "shots": args.shots,
                      "max_text_chars": args.max_text_chars, "device": device.describe()}),
          flush=True)
    rows = icl_rows(lm, train, test, 0, "random", args.max_text_chars, True)
    rows += icl_rows(lm, train, test, args.shots, "random", args.max_text_chars, True)
    rows += icl_rows(lm, train, test, args.shots, "knn", args.max_text_chars, True)
    if not args.skip_finetune:
        rows.append(finetune_row(train, test, args.epochs, args.max_length))
    print(f"\n{'setting':<42}{'accuracy':>9}{'macro F1':>9}{'s/sample':>10}{'labels':>8}")
    for r in rows:
        print(f"{r['setting']:<42}{r['accuracy']:>9.3f}{r['macro_f1']:>9.3f}{r['seconds_per_sample']:>10.3f}"
              f"{r['labels_used']:>8}")


if __name__ == "__main__":
    main()
