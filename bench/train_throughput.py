"""Training throughput on WNUT 2017 with the packaged MiniLM, one epoch, three ways in one run:

1. Tagtune's trainer (core.train.trainer.train_examples: batches grouped by length, dynamic padding);
2. the seed approach: every sample padded to 128 tokens, random batches;
3. a run_ner.py-style baseline: random batches padded to their longest sample.

Same model, data, batch size, learning rate, seed and threads; only batching/padding differ.
Prints samples/s, wall time and dev entity F1 for each, the ratios (target: >= 2x the
run_ner-style baseline and >= 5x pad-to-128 at dev F1 within one point), and the model FLOP/s
as a share of this machine's measured fp32 matmul peak.

    .venv/bin/python bench/train_throughput.py [--limit N] [--batch-size 16]
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
WNUT = ROOT.parent / "shared" / "data" / "wnut17"
LABELS = ["corporation", "creative-work", "group", "location", "person", "product"]


def read_conll(path: Path, split: str):
    """WNUT CoNLL -> Examples (words joined by spaces, BIO tags -> spans)."""
    from core.spans import tags_to_spans
    from core.tokenize import join_words
    from core.types import Example

    out, words, tags = [], [], []
    for line in path.read_text(encoding="utf-8").split("\n") + [""]:
        if line.strip():
            word, tag = line.split("\t")[0], line.split("\t")[-1].strip()
            words.append(word)
            tags.append(tag)
        elif words:
            text, offsets = join_words(words)
            spans = tags_to_spans(offsets, tags).spans
            out.append(Example(text=text, tokens=tuple(offsets), spans=tuple(spans), split=split))
            words, tags = [], []
    return out


def matmul_peak_gflops(size: int = 2048, seconds: float = 3.0) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.matmul(a, b)
        n += 1
    return 2 * size**3 * n / (time.perf_counter() - start) / 1e9


def model_flops(model, token_lengths: list[int]) -> float:
    """Forward+backward FLOPs on the real (unpadded) tokens: 6 x non-embedding parameters per
    token plus attention (12 x layers x T x hidden per token)."""
    cfg = model.config
    embedding = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    dense = sum(p.numel() for p in model.parameters()) - embedding
    return sum(6 * dense * t + 12 * cfg.num_hidden_layers * t * t * cfg.hidden_size for t in token_lengths)


def baseline(config, train, scheme, out_dir: Path, pad_to: int | None) -> tuple[float, object]:
    """The same Trainer with random batches, padded to the longest sample or to ``pad_to``."""
    from transformers import DataCollatorForTokenClassification, set_seed

    from core.train import data as D
    from core.train.config import training_arguments
    from core.train.device import choose_device
    from core.train.model import load_model, load_tokenizer
    from core.train.trainer import TagtuneTrainer

    device = choose_device()
    set_seed(config.seed)
    tok = load_tokenizer(config)
    model = load_model(config, "ner", scheme.id2label)
    features = D.encode(train, tok, scheme, config.max_length)
    args = training_arguments(config, out_dir, None, device)
    args.train_sampling_strategy = "random"
    pad = (DataCollatorForTokenClassification(tok, padding="max_length", max_length=pad_to, label_pad_token_id=-100)
           if pad_to else DataCollatorForTokenClassification(tok, label_pad_token_id=-100))
    trainer = TagtuneTrainer(model=model, args=args, train_dataset=features, data_collator=pad, processing_class=tok)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    return seconds, trainer.model, tok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="use the first N train sentences (0 = all)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4, help="high enough that one epoch learns something")
    parser.add_argument("--only", default="tagtune,run_ner,pad128", help="which ways to run")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")

    from transformers import AutoTokenizer

    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.device import choose_device
    from core.train.trainer import score, train_examples

    train = read_conll(WNUT / "train.conll", "train")
    dev = read_conll(WNUT / "dev.conll", "dev")
    if opts.limit:
        train = train[: opts.limit]
    scheme = D.LabelScheme("ner", tuple(LABELS))
    config = TrainConfig(epochs=1, batch_size=opts.batch_size, learning_rate=opts.lr, log_every=50)
    device = choose_device()
    tok = AutoTokenizer.from_pretrained(config.model)
    lengths = [len(f["input_ids"]) for f in D.encode(train, tok, scheme, config.max_length)]
    print(f"WNUT 2017: {len(train)} train sentences ({sum(lengths):,} subword tokens, mean {sum(lengths) / len(lengths):.1f}), "
          f"{len(dev)} dev; MiniLM, 1 epoch, batch {opts.batch_size}, lr {config.effective_learning_rate:g}, "
          f"{device.describe()}", flush=True)

    results = {}
    work = Path(tempfile.mkdtemp(prefix="tagtune-bench-"))
    for way in opts.only.split(","):
        print(f"-- {way} ...", flush=True)
        if way == "tagtune":
            r = train_examples(config, train, [], LABELS, "ner", work / way, device=device)
            from transformers import AutoModelForTokenClassification

            seconds, model = r.train_seconds, AutoModelForTokenClassification.from_pretrained(r.model_dir)
        else:
            seconds, model, _ = baseline(config, train, scheme, work / way, 128 if way == "pad128" else None)
        f1 = score(model, tok, dev, scheme, config.max_length, device)["f1"]
        results[way] = {"seconds": seconds, "samples_per_s": len(train) / seconds, "f1": f1, "model": model}
        print(f"   {way:8s} {len(train) / seconds:8.1f} samples/s  {seconds:7.1f} s  dev F1 {100 * f1:5.2f}", flush=True)

    peak = matmul_peak_gflops()
    print(f"\nfp32 matmul peak on this machine: {peak:.1f} GFLOP/s ({device.threads} threads)")
    print(f"{'way':10s} {'samples/s':>10s} {'wall s':>8s} {'dev F1':>7s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for way, r in results.items():
        gflops = model_flops(r["model"], lengths) / r["seconds"] / 1e9
        print(f"{way:10s} {r['samples_per_s']:10.1f} {r['seconds']:8.1f} {100 * r['f1']:7.2f} {gflops:8.1f} "
              f"{gflops / peak:8.1%}")
    if "tagtune" in results:
        t = results["tagtune"]
        for way, target in (("run_ner", 2.0), ("pad128", 5.0)):
            if way in results:
                ratio = t["samples_per_s"] / results[way]["samples_per_s"]
                delta = 100 * (t["f1"] - results[way]["f1"])
                print(f"tagtune vs {way}: {ratio:.2f}x samples/s (target >= {target:g}x), dev F1 {delta:+.2f} points "
                      f"(target within 1)")


if __name__ == "__main__":
    main()
