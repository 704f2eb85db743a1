"""Inference throughput: Tagtune's prediction path against transformers.pipeline on the same
exported model and split, and a check that both give the same entities.

- Tagtune: ``core.inference.predict.predict_examples`` (windows sorted by length, batches cut by
  tokens, ``torch.inference_mode``, per-word results restored to dataset order);
- pipeline: ``transformers.pipeline("token-classification", model=PATH, batch_size=32)`` on the
  same texts (its default: no aggregation), what a user of the exported folder would write.

Same process, same threads; each side is warmed up, then timed ``--repeats`` times (median).
Entities: the pipeline's per-subword labels are read with Tagtune's rule (a word takes the label
of its first subword) and turned into spans the same way, so the comparison is of what the two
forward passes predict; the texts whose entities differ are counted.
Target (issue 16): >= 1.5x the pipeline's samples/s, with the same entities.

    .venv/bin/python bench/inference_throughput.py [--model runs/<id>/model] [--split dev] [--repeats 3]

Without ``--model`` a model is trained first with the "quick" preset on WNUT train (minutes).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.train_throughput import LABELS, WNUT, read_conll  # noqa: E402

TARGET = 1.5


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls and the last result."""
    seconds, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def pipeline_spans(examples, outputs):
    """The pipeline's per-subword predictions read as Tagtune reads its own: each word takes the
    label of the subword that starts at the word's first character; words -> BIO -> spans."""
    from core.text.spans import tags_to_spans

    spans = []
    for ex, tokens in zip(examples, outputs):
        at_start = {}
        for t in tokens:
            at_start.setdefault(t["start"], t["entity"])
        tags = [at_start.get(s, "O") for s, _ in ex.tokens]
        spans.append(set(tags_to_spans(ex.tokens, tags).spans))
    return spans


def train_quick_model(out: Path) -> Path:
    from core.train.config import TrainConfig
    from core.train.trainer import train_examples

    train = read_conll(WNUT / "train.conll", "train")
    dev = read_conll(WNUT / "dev.conll", "dev")
    result = train_examples(TrainConfig(preset="quick", log_every=50), train, dev, LABELS, "ner", out)
    print(f"trained a quick-look model: dev F1 {100 * result.metrics['f1']:.2f}, {result.train_seconds:.0f} s",
          flush=True)
    return result.model_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="an exported model folder (runs/<id>/model)")
    parser.add_argument("--split", default="dev", choices=("train", "dev", "test"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="first N sentences (0 = all)")
    parser.add_argument("--max-tokens", type=int, default=None, help="Tagtune's padded tokens per batch")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")

    from transformers import pipeline

    from core.inference.batching import DEFAULT_MAX_TOKENS
    from core.inference.model import load
    from core.inference.predict import predict_examples
    from core.train.device import choose_device

    device = choose_device()  # once: both sides run with the same threads
    model_dir = opts.model or train_quick_model(Path(tempfile.mkdtemp(prefix="tagtune-infer-")))
    examples = read_conll(WNUT / f"{opts.split}.conll", opts.split)
    if opts.limit:
        examples = examples[: opts.limit]
    texts = [ex.text for ex in examples]
    max_tokens = opts.max_tokens or DEFAULT_MAX_TOKENS

    lm = load(model_dir, "ner", device=device)
    tagger = pipeline("token-classification", model=str(model_dir), batch_size=32, device=-1 if device.kind == "cpu" else 0)
    predict_examples(lm, examples[:64], max_tokens=max_tokens)  # warm-up: first calls allocate
    tagger(texts[:64])
    ours_s, preds = timed(lambda: predict_examples(lm, examples, max_tokens=max_tokens), opts.repeats)
    theirs_s, outputs = timed(lambda: tagger(texts), opts.repeats)  # "O" subwords left out, read as O

    ours = [set(p.spans()) for p in preds]
    theirs = pipeline_spans(examples, outputs)
    differ = sum(a != b for a, b in zip(ours, theirs))
    n_entities = sum(len(a) for a in ours)
    ours_rate, theirs_rate = len(examples) / ours_s, len(examples) / theirs_s
    ratio = ours_rate / theirs_rate
    print(f"\nWNUT 2017 {opts.split}: {len(examples)} sentences, model {model_dir}, {device.describe()}, "
          f"median of {opts.repeats}")
    print(f"Tagtune (core.inference, max {max_tokens} tokens a batch): {ours_rate:.1f} samples/s ({ours_s:.2f} s)")
    print(f"pipeline('token-classification', batch_size=32): {theirs_rate:.1f} samples/s ({theirs_s:.2f} s)")
    print(f"entities: {n_entities} from Tagtune; texts whose entities differ: {differ} of {len(examples)}")
    met = ratio >= TARGET and differ == 0
    print(f"\nfigure: {ratio:.2f}x the pipeline's samples/s ({ours_rate:.1f} vs {theirs_rate:.1f}, n = {len(examples)}), "
          f"{differ} texts with different entities")
    print(f"target: >= {TARGET}x with the same entities")
    print(f"verdict: {'MET' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
