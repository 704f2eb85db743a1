"""Training throughput on WNUT 2017 with the packaged MiniLM, one epoch, three ways in one run:

1. Tagtune's trainer (core.train.trainer.train_examples: batches of similar length in random
   order, core.train.sampler; dynamic padding), with its default full fine-tuning and with the
   freeze strategy (embeddings and the bottom 2 layers frozen);
2. the seed approach: every sample padded to 128 tokens, random batches;
3. a run_ner.py-style baseline: transformers' Trainer, random batches padded to their longest sample.

Same model, data, batch size, learning rate, seeds and threads; only batching/padding differ.
One epoch's dev F1 moves by several points from seed to seed (dropout masks alone change with
the padded shape), so each way runs ``--seeds`` seeds and the comparison is on the means.
Prints samples/s, wall time and dev entity F1 for each, the ratios (target: >= 2x the
run_ner-style baseline and >= 5x pad-to-128 at dev F1 within one point), and the model FLOP/s
as a share of this machine's measured fp32 matmul peak. Run it on an otherwise idle machine.

    .venv/bin/python bench/train_throughput.py [--seeds 3] [--only tagtune,run_ner] [--limit N]
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
WNUT = ROOT.parent / "shared" / "data" / "wnut17"
LABELS = ["corporation", "creative-work", "group", "location", "person", "product"]


def read_conll(path: Path, split: str):
    """WNUT CoNLL -> Examples (words joined by spaces, BIO tags -> spans)."""
    from core.text.spans import tags_to_spans
    from core.text.tokenize import join_words
    from core.base.types import Example

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


def matmul_peak_gflops(seconds: float = 1.5) -> float:
    """The best fp32 matmul rate over square and MiniLM-shaped products (the max, because one
    shape alone can sit off the BLAS library's sweet spot and understate the machine)."""
    import torch

    best = 0.0
    for m, k, n in ((4096, 4096, 4096), (2048, 2048, 2048), (1024, 1024, 1024), (512, 512, 512),
                    (512, 384, 1536), (512, 1536, 384)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.matmul(a, b)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            torch.matmul(a, b)
            count += 1
        best = max(best, 2 * m * k * n * count / (time.perf_counter() - start) / 1e9)
    return best


def model_flops(model, token_lengths: list[int]) -> float:
    """Forward+backward FLOPs on the real (unpadded) tokens: 6 x non-embedding parameters per
    token plus attention (12 x layers x T x hidden per token)."""
    cfg = model.config
    embedding = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    dense = sum(p.numel() for p in model.parameters()) - embedding
    return sum(6 * dense * t + 12 * cfg.num_hidden_layers * t * t * cfg.hidden_size for t in token_lengths)


def baseline(config, train, scheme, out_dir: Path, pad_to: int | None, device) -> tuple[float, object]:
    """transformers' own Trainer as run_ner.py uses it: random batches (its default sampler),
    padded to the longest sample in the batch or, the seed approach, to ``pad_to``."""
    from transformers import DataCollatorForTokenClassification, Trainer, set_seed

    from core.train import data as D
    from core.train.config import training_arguments
    from core.train.model import load_model, load_tokenizer

    set_seed(config.seed)
    tok = load_tokenizer(config)
    model = load_model(config, "ner", scheme.id2label)
    features = D.encode(train, tok, scheme, config.max_length)
    args = training_arguments(config.resolved(len(train), sum(len(ex.tokens) for ex in train)), out_dir, None, device)
    assert args.train_sampling_strategy == "random"
    pad = (DataCollatorForTokenClassification(tok, padding="max_length", max_length=pad_to, label_pad_token_id=-100)
           if pad_to else DataCollatorForTokenClassification(tok, label_pad_token_id=-100))
    trainer = Trainer(model=model, args=args, train_dataset=features, data_collator=pad, processing_class=tok)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start, trainer.model


# Tagtune arms: its default (full fine-tuning), and the freeze strategy with the embeddings and
# the bottom two of MiniLM's six layers frozen (no weight or input gradients below layer 3).
TAGTUNE_WAYS = {"tagtune": {}, "tagtune_freeze2": {"strategy": "freeze", "freeze_layers": 2}}


def run_way(way: str, config, train, dev, scheme, tok, work: Path, device) -> dict:
    if way in TAGTUNE_WAYS:
        config = config.replace(**TAGTUNE_WAYS[way])
        from transformers import AutoModelForTokenClassification

        from core.train.trainer import train_examples

        r = train_examples(config, train, [], list(scheme.labels), "ner", work, device=device)
        seconds, model = r.train_seconds, AutoModelForTokenClassification.from_pretrained(r.model_dir)
    else:
        seconds, model = baseline(config, train, scheme, work, 128 if way == "pad128" else None, device)
    from core.inference.model import from_trained
    from core.inference.scoring import score_examples

    f1 = score_examples(from_trained(model, tok, "ner", config.max_length, device), dev)["f1"]
    return {"seconds": seconds, "samples_per_s": len(train) / seconds, "f1": f1, "model": model}


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="use the first N train sentences (0 = all)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4, help="high enough that one epoch learns something")
    parser.add_argument("--only", default="tagtune,tagtune_freeze2,run_ner,pad128", help="which ways to run")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds per way: one-epoch dev F1 moves by several points from seed to seed")
    parser.add_argument("--seed", type=int, default=42, help="first seed")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")

    from transformers import AutoTokenizer

    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.device import choose_device

    train = read_conll(WNUT / "train.conll", "train")
    dev = read_conll(WNUT / "dev.conll", "dev")
    if opts.limit:
        train = train[: opts.limit]
    scheme = D.LabelScheme("ner", tuple(LABELS))
    # The recipe of the earlier throughput issue: one epoch at one rate for every way (no preset,
    # the head at the encoder's rate), so only batching and padding differ.
    config = TrainConfig(epochs=1, batch_size=opts.batch_size, learning_rate=opts.lr, log_every=50,
                         head_lr_factor=1.0, warmup_ratio=0.1, eval_steps=0)
    device = choose_device()  # once: every way and seed trains with the same threads
    tok = AutoTokenizer.from_pretrained(config.model)
    lengths = [len(f["input_ids"]) for f in D.encode(train, tok, scheme, config.max_length)]
    print(f"WNUT 2017: {len(train)} train sentences ({sum(lengths):,} subword tokens, mean {sum(lengths) / len(lengths):.1f}), "
          f"{len(dev)} dev; MiniLM, 1 epoch, batch {opts.batch_size}, lr {config.effective_learning_rate:g}, "
          f"{device.describe()}", flush=True)

    peak = matmul_peak_gflops()
    print(f"fp32 matmul peak on this machine: {peak:.1f} GFLOP/s ({device.threads} threads)", flush=True)
    ways = opts.only.split(",")
    runs: dict[str, list[dict]] = {way: [] for way in ways}
    work = Path(tempfile.mkdtemp(prefix="tagtune-bench-"))
    # Seeds outermost: a load spike on the machine then hits every way, not one.
    for seed in range(opts.seed, opts.seed + opts.seeds):
        for way in ways:
            r = run_way(way, config.replace(seed=seed), train, dev, scheme, tok, work / f"{way}-{seed}", device)
            runs[way].append(r)
            gflops = model_flops(r["model"], lengths) / r["seconds"] / 1e9
            print(f"   seed {seed} {way:8s} {r['samples_per_s']:7.1f} samples/s {r['seconds']:7.1f} s "
                  f"dev F1 {100 * r['f1']:5.2f}  {gflops:5.1f} GFLOP/s", flush=True)

    print(f"\nmean +- sd over {opts.seeds} seed(s); model FLOP/s counts full fine-tuning on real tokens only "
          f"(a freeze arm does less work, so its figure is a full-fine-tuning equivalent), as a share of the "
          f"{peak:.1f} GFLOP/s matmul peak")
    print(f"{'way':10s} {'samples/s':>14s} {'wall s':>8s} {'dev F1':>14s} {'GFLOP/s':>8s} {'of peak':>8s}")
    summary = {}
    for way, rs in runs.items():
        sps, sps_sd = mean_sd([r["samples_per_s"] for r in rs])
        f1, f1_sd = mean_sd([100 * r["f1"] for r in rs])
        seconds = statistics.fmean(r["seconds"] for r in rs)
        gflops = model_flops(rs[0]["model"], lengths) / seconds / 1e9
        summary[way] = (sps, f1)
        print(f"{way:10s} {sps:7.1f} +- {sps_sd:4.1f} {seconds:8.1f} {f1:6.2f} +- {f1_sd:4.2f} {gflops:8.1f} "
              f"{gflops / peak:8.1%}")
    met = True
    figures = []
    for ours in (w for w in TAGTUNE_WAYS if w in summary):
        sps, f1 = summary[ours]
        for way, target in (("run_ner", 2.0), ("pad128", 5.0)):
            if way in summary:
                ratio, delta = sps / summary[way][0], f1 - summary[way][1]
                met = met and ratio >= target and abs(delta) <= 1.0
                figures.append(f"{ours} vs {way} {ratio:.2f}x at dev F1 {delta:+.2f}")
                print(f"{ours} vs {way}: {ratio:.2f}x samples/s (target >= {target:g}x), "
                      f"mean dev F1 {delta:+.2f} points (target within 1)")
    print(f"\nfigure: {'; '.join(figures) or 'no comparison run'} (n = {len(train)} sentences, {opts.seeds} seed(s) "
          f"from {opts.seed})")
    print("target: >= 2x run_ner-style and >= 5x pad-to-128 samples/s at dev F1 within 1 point "
          "(retired by issue 16 for time to quality: bench/quality.py)")
    print(f"verdict: {'MET' if met and figures else 'NOT MET'}")


if __name__ == "__main__":
    main()
