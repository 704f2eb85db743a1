"""Batches for inference: inputs sorted by length and cut by tokens, so a batch pads little and
its size adapts to its lengths (many short tweets, few long reviews)."""
from __future__ import annotations

# Padded subword tokens per batch: 128 tweets or 16 windows of 256, a few MB of activations per
# MiniLM layer. On the shared 2-core machine 1,024-16,384 measured within the load's noise of
# each other (bench/inference_throughput.py --max-tokens N measures another value).
DEFAULT_MAX_TOKENS = 4096
MAX_BATCH = 256  # windows per batch, whatever their length


def token_batches(lengths: list[int], keys: list[str], max_tokens: int, max_batch: int | None = None) -> list[list[int]]:
    """Indices into ``lengths`` grouped into batches of at most ``max_tokens`` padded tokens
    (batch size x its longest input; one input alone may exceed it) and ``max_batch`` inputs.

    Inputs are sorted by (length, key): ``keys`` (the texts) make the batches independent of
    the order the inputs came in, so the same inputs always meet the same neighbours and give
    the same numbers, whichever caller lists them in whichever order.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens is {max_tokens}: expected 1 or more")
    cap = min(max_batch or MAX_BATCH, MAX_BATCH)
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], keys[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:  # ascending: the newcomer is the longest, so it sets the padded width
        if current and ((len(current) + 1) * lengths[i] > max_tokens or len(current) >= cap):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
