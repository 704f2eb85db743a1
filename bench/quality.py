"""Quality and wall time on WNUT 2017: train the packaged MiniLM on the full train split (best
checkpoint by dev F1), then score entity F1 on the test split with seqeval.
Target: under 4 minutes of wall time on this machine (2 CPU cores), end to end.

    .venv/bin/python bench/quality.py [--epochs 1] [--lr 2e-4] [--batch-size 16]
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
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.train_throughput import LABELS, WNUT, read_conll  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--strategy", default="full")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")
    start = time.perf_counter()
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.trainer import score, train_examples

    train = read_conll(WNUT / "train.conll", "train")
    dev = read_conll(WNUT / "dev.conll", "dev")
    test = read_conll(WNUT / "test.conll", "test")
    config = TrainConfig(epochs=opts.epochs, learning_rate=opts.lr, batch_size=opts.batch_size,
                         strategy=opts.strategy, log_every=50)
    out = Path(tempfile.mkdtemp(prefix="tagtune-quality-"))
    result = train_examples(config, train, dev, LABELS, "ner", out)
    model = AutoModelForTokenClassification.from_pretrained(result.model_dir)
    tok = AutoTokenizer.from_pretrained(result.model_dir)
    scores = score(model, tok, test, D.LabelScheme("ner", tuple(LABELS)), config.max_length)
    wall = time.perf_counter() - start
    print(f"\nWNUT 2017, MiniLM ({config.strategy}), {opts.epochs:g} epochs, lr {config.effective_learning_rate:g}, "
          f"batch {config.batch_size}, {result.device}")
    print(f"train {len(train)} / dev {len(dev)} / test {len(test)} sentences")
    print(f"dev entity F1 (best checkpoint): {100 * result.metrics['f1']:.2f}")
    print(f"test entity F1: {100 * scores['f1']:.2f} (P {100 * scores['precision']:.2f}, R {100 * scores['recall']:.2f})")
    for label, s in sorted(scores["per_label"].items()):
        print(f"  {label:14s} F1 {100 * s['f1-score']:5.2f}  support {int(s['support'])}")
    print(f"training {result.train_seconds:.0f} s ({result.train_samples_per_second:.1f} samples/s, incl. dev "
          f"evaluations); wall time end to end {wall:.0f} s ({wall / 60:.2f} min; target < 4 min); "
          f"peak memory {result.peak_memory_mb:.0f} MB")


if __name__ == "__main__":
    main()
