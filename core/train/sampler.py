"""Length-bucketed batches in random order: little padding without a length curriculum.

Why not transformers' ``train_sampling_strategy="group_by_length"``: its sampler cuts a random
permutation into megabatches of 50 batches, sorts each megabatch by length and emits its
batches longest first. The model then walks long -> short sentences every 50 steps, and
consecutive steps see near-identical lengths. On one epoch of WNUT 2017 that cost 4-8 points of
dev F1 against random batches (bench/train_throughput.py). Here, as in AllenNLP's bucket
iterator, samples are sorted by a noisy length (so which samples share a batch changes each
epoch), cut into batches, and the batches are shuffled over the whole epoch. Padding stays
almost as low; the order of steps is as random as plain shuffling.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

# Each length is scaled by a factor drawn from [1 - NOISE, 1 + NOISE] before sorting: samples
# whose lengths differ by less than ~10% may trade batches between epochs. On WNUT 2017 (batch 16)
# padded tokens per real token: 1.005 at noise 0, 1.05 at 0.05, 1.09 at 0.1, 1.70 for random batches.
LENGTH_NOISE = 0.05


class ShuffledLengthBatches(Sampler[int]):
    """Indices such that every run of ``batch_size`` consecutive indices is one batch of
    similar lengths; batches come in random order, the one holding the longest sample first
    (an out-of-memory error shows at step 1, not at the end of the epoch), a short last batch
    last (so the DataLoader's cuts stay aligned with the batches)."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, noise: float = LENGTH_NOISE):
        if batch_size < 1:
            raise ValueError(f"batch_size is {batch_size}: expected 1 or more")
        if not 0 <= noise < 1:
            raise ValueError(f"noise is {noise}: expected a share from 0 up to (not including) 1")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.float64)
        self.batch_size = batch_size
        self.noise = noise
        # Own generator: a fresh order every epoch, the same orders for the same seed.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.lengths)

    def batches(self) -> list[list[int]]:
        """One epoch's batches, in the order they are trained on."""
        n = len(self.lengths)
        if n == 0:
            return []
        jitter = 1 + self.noise * (2 * torch.rand(n, generator=self.generator, dtype=torch.float64) - 1)
        # Stable sort after a random permutation: ties (equal noisy lengths) fall in random order.
        perm = torch.randperm(n, generator=self.generator)
        order = perm[torch.sort((self.lengths * jitter)[perm], stable=True).indices].tolist()
        # The short last batch takes the shortest samples, so it is also the cheapest step.
        cut = n % self.batch_size
        rest, order = order[:cut], order[cut:]
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches = [batches[i] for i in torch.randperm(len(batches), generator=self.generator).tolist()]
        longest = int(torch.argmax(self.lengths))
        first = next((b for b, batch in enumerate(batches) if longest in batch), None)
        if first is not None:
            batches[0], batches[first] = batches[first], batches[0]
        return batches + ([rest] if rest else [])

    def __iter__(self) -> Iterator[int]:
        return iter([i for batch in self.batches() for i in batch])
