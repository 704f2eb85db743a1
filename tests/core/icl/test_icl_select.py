"""Demonstration selection: kNN returns the nearest labelled samples (real MiniLM embeddings)."""
from __future__ import annotations

import numpy as np

from core.icl.config import IclConfig
from core.icl.select import EmbeddingCache, Selector
from core.text.tokenize import word_offsets
from core.base.types import Example, Span


def ex(i: int, text: str, cats=(), spans=()) -> Example:
    return Example(text, tuple(word_offsets(text)), tuple(spans), tuple(cats), id=i)


POOL = [
    ex(1, "The soup was cold and the waiter was rude.", ["neg"]),
    ex(2, "My headache went away after two tablets of ibuprofen.", ["pos"]),
    ex(3, "The striker scored twice in the final minutes of the match.", ["pos"]),
    ex(4, "This antidepressant gave me terrible nausea and insomnia.", ["neg"]),
    ex(5, "Stock markets fell sharply after the bank raised interest rates.", ["neg"]),
    ex(6, "The goalkeeper saved a penalty and the team won the cup.", ["pos"]),
]


def test_knn_returns_the_nearest_samples_nearest_last(home):
    config = IclConfig(shots=2, selection="knn")
    selector = Selector(config, POOL, project_id=7)
    query = ex(99, "A late goal from the midfielder won the football game.")
    demos = selector.demos(query)
    assert {d.id for d in demos} == {3, 6}
    drug = selector.demos(ex(98, "These pills upset my stomach and kept me awake all night."))
    assert drug[-1].id == 4  # the nearest sits right before the query
    assert {d.id for d in drug} == {2, 4}


def test_a_query_is_never_its_own_demonstration(home):
    for selection in ("knn", "random", "balanced"):
        selector = Selector(IclConfig(shots=5, selection=selection), POOL, project_id=7)
        assert 4 not in [d.id for d in selector.demos(POOL[3])]


def test_embeddings_are_cached_on_disk_per_sample_and_refreshed_when_text_changes(home):
    cache = EmbeddingCache(project_id=3)
    first = cache.get(POOL[:2])
    assert cache.path.exists()
    again = EmbeddingCache(project_id=3)
    assert set(again.vectors) == {1, 2}
    np.testing.assert_allclose(again.get(POOL[:2]), first, atol=1e-6)
    edited = ex(1, "The striker scored twice in the final minutes of the match.")
    np.testing.assert_allclose(again.get([edited])[0], again.get([POOL[2]])[0], atol=1e-5)
    assert np.linalg.norm(first, axis=1) == __import__("pytest").approx([1.0, 1.0], abs=1e-5)


def test_balanced_takes_labels_in_turn(home):
    spans = lambda label: [Span(0, 3, label)]
    pool = [ex(i, f"Foo number {i}", spans=spans("person" if i < 8 else "product")) for i in range(10)]
    selector = Selector(IclConfig(task="ner", shots=4, selection="balanced"), pool)
    labels = sorted(d.spans[0].label for d in selector.demos(ex(100, "Bar")))
    assert labels == ["person", "person", "product", "product"]
    random_pick = Selector(IclConfig(task="ner", shots=3, selection="random", seed=1), pool)
    assert random_pick.demos(ex(100, "x")) == random_pick.demos(ex(101, "y"))  # one fixed set per run


def test_one_prompt_never_shows_the_same_text_twice(home):
    """Duplicated texts (retweets, re-imports) under different ids: kNN would pick both copies,
    and a copy of the query itself, as its nearest neighbours."""
    query = ex(50, "The goalkeeper saved a penalty and the team won the cup.")
    pool = [*POOL,
            ex(7, "The striker scored twice in the final minutes of the match.", ["pos"]),  # copy of 3
            ex(8, "the  striker scored twice in the final minutes of the match.", ["pos"]),  # case, spaces
            ex(9, "The goalkeeper saved a penalty and the team won the cup.", ["pos"])]  # copy of the query
    for selection in ("knn", "random", "balanced"):
        selector = Selector(IclConfig(shots=4, selection=selection, seed=3), pool, project_id=7)
        demos = selector.demos(query)
        texts = [" ".join(d.text.lower().split()) for d in demos]
        assert len(demos) == 4, selection
        assert len(set(texts)) == 4, (selection, texts)
        assert query.text.lower() not in texts, selection
    knn = Selector(IclConfig(shots=2, selection="knn"), pool, project_id=7).demos(query)
    assert knn[-1].id in (3, 7, 8) and knn[0].id not in (3, 7, 8)  # one copy of the striker, then the next


def test_the_packaged_minilm_loads_through_sentence_transformers_offline(home):
    from core.base.settings import default_encoder
    from core.icl.select import _encoder, embed

    model = _encoder(default_encoder())
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    assert _encoder(default_encoder()) is model  # kept for the process
    vectors = embed(["Going to Paris with Anna", "hello"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
