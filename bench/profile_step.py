"""Where a training step's time goes: MiniLM full fine-tuning on WNUT 2017 batches (Tagtune's
length-grouped batches, batch 16), the step of TagtuneTrainer (forward, token-weighted loss,
backward, AdamW over the head and encoder groups).

1. torch.profiler over ``--steps`` steps: the share of CPU time in matrix products (aten::mm,
   addmm, bmm, forward and backward), in dropout's forward (aten::dropout: random numbers and
   masking) and in the dense word-embedding gradient (aten::embedding_dense_backward; its AdamW
   update is inside the fused optimiser step and shows in the A/B timing below);
2. the same batches timed per step with the word embeddings frozen (no dense gradient and no
   AdamW update of the 30,522 x 384 matrix), with dropout 0 and under bf16 autocast (CPUs with
   native bf16 only), against the default, interleaved so a load change hits every arm;
3. torch.compile: seconds until the first compiled step returns, then the median step (dynamic
   shapes, since every batch has its own length). ``--skip-compile`` leaves it out.

Run it on an otherwise idle machine:

    .venv/bin/python bench/profile_step.py [--steps 20] [--skip-compile]
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

MATMUL = ("aten::mm", "aten::addmm", "aten::bmm")
# aten::dropout (the functional dropout BERT calls, random numbers and masking; inclusive), or
# aten::native_dropout where a build fuses it; never both, which would count it twice.
DROPOUT = ("aten::dropout", "aten::native_dropout")
EMBEDDING = ("aten::embedding_dense_backward",)
TARGET_MATMUL_SHARE = 0.5


def setup(changes: dict, device, bf16: bool = False):
    """A trainer's model, optimiser and step function on WNUT train batches (``bf16``: under
    bf16 autocast, as TrainingArguments(bf16=True) runs it)."""
    import torch
    from transformers import set_seed

    from core.train import data as D
    from core.train.config import TrainConfig
    from core.train.model import load_model, load_tokenizer
    from core.train.strategies import apply_strategy
    from core.train.trainer import build_trainer

    train = read_conll(WNUT / "train.conll", "train")
    config = TrainConfig(batch_size=16, learning_rate=1e-4, log_every=1000, **changes).resolved(len(train), sum(len(ex.tokens) for ex in train))
    scheme = D.LabelScheme("ner", tuple(LABELS))
    set_seed(config.seed)
    tokenizer = load_tokenizer(config)
    model = apply_strategy(load_model(config, "ner", scheme.id2label), config, "ner")
    features = D.encode(train, tokenizer, scheme, config.max_length)
    trainer = build_trainer(config, model, tokenizer, "ner", features, Path(tempfile.mkdtemp()), device)
    optimizer = trainer.create_optimizer()
    batches = list(trainer.get_train_dataloader())

    def step(model, batch) -> None:
        model.train()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return model, batches, step


def profile_shares(steps: int, device) -> dict[str, float]:
    from torch.profiler import ProfilerActivity, profile

    model, batches, step = setup({}, device)
    for batch in batches[:3]:
        step(model, batch)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for batch in batches[3 : 3 + steps]:
            step(model, batch)
        wall = time.perf_counter() - start
    events = prof.key_averages()
    self_total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL)
    by_key = {e.key: e for e in events}
    dropout = next((by_key[k].cpu_time_total for k in DROPOUT if k in by_key), 0.0)  # inclusive
    embedding = sum(e.cpu_time_total for e in events if e.key in EMBEDDING)
    return {"matmul": matmul / self_total, "dropout": dropout / self_total, "embedding_grad": embedding / self_total,
            "ms_per_step": 1000 * wall / steps}


def ab_timings(steps: int, device) -> dict[str, float]:
    """Median ms per step for the default, frozen word embeddings, dropout 0 and bf16 autocast
    (where the CPU has native bf16), interleaved."""
    import torch

    arms = {"default": {}, "frozen word embeddings": {"train_word_embeddings": False}, "dropout 0": {"dropout": 0.0}}
    built = {name: setup(changes, device) for name, changes in arms.items()}
    if torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported():
        built["bf16 autocast"] = setup({}, device, bf16=True)
    times: dict[str, list[float]] = {name: [] for name in built}
    for i in range(3 + steps):
        for name, (model, batches, step) in built.items():
            start = time.perf_counter()
            step(model, batches[i])
            if i >= 3:  # the first steps allocate
                times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def compile_timing(steps: int, device) -> dict[str, float]:
    import torch

    model, batches, step = setup({}, device)
    compiled = torch.compile(model, dynamic=True)
    start = time.perf_counter()
    step(compiled, batches[0])
    first = time.perf_counter() - start
    eager, fast = [], []
    for batch in batches[1 : 1 + steps]:
        start = time.perf_counter()
        step(model, batch)
        eager.append(time.perf_counter() - start)
        start = time.perf_counter()
        step(compiled, batch)
        fast.append(time.perf_counter() - start)
    return {"first_step_s": first, "eager_ms": 1000 * statistics.median(eager),
            "compiled_ms": 1000 * statistics.median(fast)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip-compile", action="store_true")
    opts = parser.parse_args()
    if not (WNUT / "train.conll").exists():
        sys.exit(f"skipped: {WNUT} is not present (see ../shared/data/README.md)")
    from core.train.device import choose_device

    device = choose_device()
    print(f"MiniLM on WNUT 2017 train batches (batch 16), {device.describe()}, {opts.steps} steps per figure",
          flush=True)
    shares = profile_shares(opts.steps, device)
    print(f"profile: {shares['ms_per_step']:.0f} ms a step; matmul {shares['matmul']:.0%}, dropout "
          f"{shares['dropout']:.0%}, word-embedding gradient {shares['embedding_grad']:.0%} of CPU time", flush=True)
    ab = ab_timings(opts.steps, device)
    for name, ms in ab.items():
        print(f"median step, {name}: {ms:.0f} ms ({ms / ab['default'] - 1:+.1%})", flush=True)
    compiled = None
    if not opts.skip_compile:
        compiled = compile_timing(opts.steps, device)
        print(f"torch.compile (dynamic shapes): first step {compiled['first_step_s']:.0f} s, then "
              f"{compiled['compiled_ms']:.0f} ms a step against {compiled['eager_ms']:.0f} ms eager", flush=True)
    frozen = 1 - ab["frozen word embeddings"] / ab["default"]
    no_dropout = 1 - ab["dropout 0"] / ab["default"]
    figure = (f"matmul {shares['matmul']:.0%} of a step's CPU time, dropout {shares['dropout']:.0%} (dropout 0 saves "
              f"{no_dropout:.0%} of a step), word-embedding gradient {shares['embedding_grad']:.0%} (frozen word "
              f"embeddings save {frozen:.0%} of a step)")
    if "bf16 autocast" in ab:
        figure += f", bf16 autocast {ab['default'] / ab['bf16 autocast']:.2f}x faster a step"
    if compiled:
        figure += (f", torch.compile {compiled['first_step_s']:.0f} s to compile and {compiled['compiled_ms']:.0f} "
                   f"vs {compiled['eager_ms']:.0f} ms a step")
    print(f"\nfigure: {figure} (n = {opts.steps} steps per arm, seed 42, {device.describe()})")
    print(f"target: matmul >= {TARGET_MATMUL_SHARE:.0%} of a step (the step is compute-bound: batching and padding, "
          "not kernels, decide the throughput)")
    print(f"verdict: {'MET' if shares['matmul'] >= TARGET_MATMUL_SHARE else 'NOT MET'}")


if __name__ == "__main__":
    main()
