"""Token batches: every input once, within the token budget, the same whatever the input order."""
import random

import pytest

from core.inference.batching import MAX_BATCH, token_batches


def test_every_input_once_and_within_the_token_budget():
    rng = random.Random(0)
    lengths = [rng.randint(3, 120) for _ in range(500)]
    batches = token_batches(lengths, [str(i) for i in range(500)], max_tokens=1000)
    assert sorted(i for b in batches for i in b) == list(range(500))
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 1000 or len(b) == 1
        assert len(b) <= MAX_BATCH
    # Sorted by length: a batch pads little (max - min within a batch is small next to random batches).
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert padded <= 1.1 * sum(lengths)


def test_an_input_longer_than_the_budget_goes_alone_and_short_inputs_fill_big_batches():
    batches = token_batches([5000, 4, 4, 4], ["a", "b", "c", "d"], max_tokens=100)
    assert batches == [[1, 2, 3], [0]]
    assert len(token_batches([2] * 1000, ["x"] * 1000, max_tokens=10**6)[0]) == MAX_BATCH
    assert token_batches([2] * 10, ["x"] * 10, max_tokens=10**6, max_batch=4)[0] == [0, 1, 2, 3]


def test_the_same_inputs_meet_the_same_neighbours_in_any_order():
    texts = [f"text {i}" for i in range(60)]
    lengths = [10 + i % 7 for i in range(60)]
    order = list(range(60))
    random.Random(1).shuffle(order)
    straight = [[texts[i] for i in b] for b in token_batches(lengths, texts, 80)]
    shuffled = [[texts[order[i]] for i in b]
                for b in token_batches([lengths[j] for j in order], [texts[j] for j in order], 80)]
    assert straight == shuffled


def test_a_zero_budget_is_refused():
    with pytest.raises(ValueError, match="max_tokens is 0: expected 1 or more"):
        token_batches([3], ["a"], 0)
