"""ShuffledLengthBatches: similar lengths per batch, batches in random order, every sample once."""
import random

import pytest
from torch.utils.data import DataLoader

from core.train.sampler import ShuffledLengthBatches

_rng = random.Random(3)
LENGTHS = [_rng.randint(3, 80) for _ in range(203)]


def padded_tokens(batches, lengths):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_every_sample_once_per_epoch_and_a_new_order_each_epoch():
    sampler = ShuffledLengthBatches(LENGTHS, 16, seed=1)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(len(LENGTHS)))
    assert first != second
    assert list(ShuffledLengthBatches(LENGTHS, 16, seed=1)) == first  # same seed, same epochs


def test_batches_pad_little_compared_with_random_batches():
    sampler = ShuffledLengthBatches(LENGTHS, 16, seed=1)
    order = list(range(len(LENGTHS)))
    random.Random(0).shuffle(order)
    shuffled = [order[i:i + 16] for i in range(0, len(order), 16)]
    assert padded_tokens(sampler.batches(), LENGTHS) < 1.2 * sum(LENGTHS)
    assert padded_tokens(shuffled, LENGTHS) > 1.4 * sum(LENGTHS)


def test_batch_order_is_not_a_length_curriculum():
    # transformers' group_by_length walks long -> short batches; here batch order is random
    batches = ShuffledLengthBatches(LENGTHS, 8, seed=2).batches()
    means = [sum(LENGTHS[i] for i in b) / len(b) for b in batches[1:-1]]
    falls = sum(a > b for a, b in zip(means, means[1:]))
    assert 0.3 < falls / (len(means) - 1) < 0.7


def test_longest_sample_first_and_short_batch_last_so_dataloader_cuts_match():
    sampler = ShuffledLengthBatches(LENGTHS, 16, seed=4)
    batches = sampler.batches()
    assert LENGTHS.index(max(LENGTHS)) in batches[0]
    assert [len(b) for b in batches] == [16] * (len(LENGTHS) // 16) + [len(LENGTHS) % 16]
    sampler = ShuffledLengthBatches(LENGTHS, 16, seed=4)
    loaded = [b.tolist() for b in DataLoader(range(len(LENGTHS)), batch_size=16, sampler=sampler)]
    assert loaded == ShuffledLengthBatches(LENGTHS, 16, seed=4).batches()


def test_bad_settings_name_the_value():
    with pytest.raises(ValueError, match="batch_size is 0: expected 1 or more"):
        ShuffledLengthBatches([3, 4], 0, seed=1)
    with pytest.raises(ValueError, match="noise is 1.5"):
        ShuffledLengthBatches([3, 4], 2, seed=1, noise=1.5)
    assert list(ShuffledLengthBatches([], 4, seed=1)) == []
