"""Choosing the demonstrations shown before each query.

- ``random``: one fixed random set for the whole run (seeded), the classic k-shot prompt;
- ``balanced``: one fixed set that takes labels in turn (per category, or per entity type
  present in a sentence), so rare labels are shown too;
- ``knn``: per query, the k labelled samples nearest to it by sentence embedding
  (sentence-transformers over the packaged MiniLM: its own mean pooling and L2 normalisation,
  cosine similarity), nearest last so it sits right before the query (Liu et al., 2022).
  Embeddings are cached on disk per project and sample id, keyed by a hash of the text so an
  edited sample is embedded again; the encoder is loaded once per process.

One prompt never shows the same text twice: a query is never its own demonstration, and
neither is another sample with the same text (duplicates are common in scraped data, e.g.
retweets), nor two demonstrations with one text. "The same" ignores case and runs of spaces.
"""
from __future__ import annotations

import hashlib
import random
import threading
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from core.base import settings
from core.icl.config import IclConfig
from core.base.types import Example

_ENCODERS: dict[str, SentenceTransformer] = {}
_LOCK = threading.Lock()


def _encoder(path: str) -> SentenceTransformer:
    """One SentenceTransformer per encoder and process. The packaged MiniLM folder carries its
    sentence-transformers modules (mean pooling, normalisation); a plain Hugging Face encoder
    gets mean pooling."""
    with _LOCK:
        if path not in _ENCODERS:
            _ENCODERS[path] = SentenceTransformer(path, device="cpu")
        return _ENCODERS[path]


def embed(texts: list[str], encoder: str | None = None, batch_size: int = 32) -> np.ndarray:
    """(N, D) L2-normalised sentence embeddings."""
    model = _encoder(encoder or settings.default_encoder())
    if not texts:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)


def same_text_key(text: str) -> str:
    """What "the same text" means for demonstrations: case and runs of whitespace ignored."""
    return " ".join(text.split()).casefold()


def distinct(examples: list[Example], query: Example, k: int) -> list[Example]:
    """The first ``k`` of ``examples`` that are not the query, share no text with it and no text
    with an earlier pick."""
    seen = {same_text_key(query.text)}
    out: list[Example] = []
    for ex in examples:
        key = same_text_key(ex.text)
        if (query.id is not None and ex.id == query.id) or key in seen:
            continue
        seen.add(key)
        out.append(ex)
        if len(out) == k:
            break
    return out


class EmbeddingCache:
    """Embeddings of a project's samples on disk: ``cache/embeddings/<encoder>/project-<id>.npz``.

    ``project_id`` is a project id, or a name for data kept outside the database (the bench).
    """

    def __init__(self, project_id: int | str, encoder: str | None = None):
        self.encoder = encoder or settings.default_encoder()
        key = hashlib.sha1(str(Path(self.encoder).resolve() if Path(self.encoder).exists() else self.encoder).encode())
        folder = settings.cache_dir() / "embeddings" / key.hexdigest()[:12]
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"project-{project_id}.npz"
        self.vectors: dict[int, tuple[str, np.ndarray]] = {}
        if self.path.exists():
            data = np.load(self.path)
            self.vectors = {int(i): (str(d), v) for i, d, v in zip(data["ids"], data["digests"], data["vectors"])}

    def get(self, examples: list[Example]) -> np.ndarray:
        """(N, D) embeddings of ``examples`` (ids required), computing and saving the missing ones."""
        digests = [hashlib.sha1(ex.text.encode()).hexdigest() for ex in examples]
        missing = [i for i, (ex, d) in enumerate(zip(examples, digests)) if self.vectors.get(ex.id, ("",))[0] != d]
        if missing:
            fresh = embed([examples[i].text for i in missing], self.encoder)
            for i, vec in zip(missing, fresh):
                self.vectors[examples[i].id] = (digests[i], vec)
            self._save()
        return np.stack([self.vectors[ex.id][1] for ex in examples]) if examples else np.zeros((0, 1))

    def _save(self) -> None:
        ids = sorted(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, ids=np.array(ids), digests=np.array([self.vectors[i][0] for i in ids]),
                 vectors=np.stack([self.vectors[i][1] for i in ids]))
        tmp.replace(self.path)


def _label_groups(pool: list[Example], task: str) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = {}
    for ex in pool:
        keys = ex.categories if task == "classification" else sorted({s.label for s in ex.spans}) or ["(none)"]
        for key in keys:
            groups.setdefault(key, []).append(ex)
    return groups


class Selector:
    """Demonstrations for each query, by the configured strategy."""

    def __init__(self, config: IclConfig, pool: list[Example], project_id: int | str | None = None):
        self.config = config
        self.pool = pool
        self.project_id = project_id
        self._cache: EmbeddingCache | None = None
        self._pool_vectors: np.ndarray | None = None
        self._query_vectors: dict[int | None, np.ndarray] = {}
        self._random_order: list[Example] | None = None

    def prepare(self, queries: list[Example]) -> None:
        """Embed the pool and the queries in one go (knn only), so per-query selection is a dot product."""
        if self.config.selection != "knn" or self.config.shots == 0 or not self.pool:
            return
        if self._pool_vectors is None:
            self._pool_vectors = self._embed(self.pool)
        todo = [q for q in queries if q.id not in self._query_vectors or q.id is None]
        if todo:
            for q, vec in zip(todo, self._embed(todo)):
                self._query_vectors[q.id] = vec

    def _embed(self, examples: list[Example]) -> np.ndarray:
        if self.project_id is not None and all(ex.id is not None for ex in examples):
            if self._cache is None:
                self._cache = EmbeddingCache(self.project_id)
            return self._cache.get(examples)
        return embed([ex.text for ex in examples])

    def demos(self, query: Example) -> list[Example]:
        k = self.config.shots
        if k == 0 or not self.pool:
            return []
        if self.config.selection == "knn":
            return self._nearest(query, k)
        if self.config.selection == "balanced":
            return self._balanced(query, k)
        # One fixed order for the run; the first k that differ from the query (and each other).
        if self._random_order is None:
            self._random_order = random.Random(self.config.seed).sample(self.pool, len(self.pool))
        return distinct(self._random_order, query, k)

    def _nearest(self, query: Example, k: int) -> list[Example]:
        if query.id is None or query.id not in self._query_vectors:
            self.prepare([query])
        vector = self._query_vectors[query.id]
        sims = self._pool_vectors @ vector  # (pool,) cosine similarities
        nearest = distinct([self.pool[i] for i in np.argsort(-sims, kind="stable")], query, k)
        return nearest[::-1]

    def _balanced(self, query: Example, k: int) -> list[Example]:
        rng = random.Random(self.config.seed)
        groups = _label_groups(self.pool, self.config.task)
        queues = {label: rng.sample(items, len(items)) for label, items in sorted(groups.items())}
        chosen: list[Example] = []
        seen = {same_text_key(query.text)}  # texts already in the prompt
        while len(chosen) < k and any(queues.values()):
            for label in list(queues):
                while queues[label] and (same_text_key(queues[label][0].text) in seen
                                         or (query.id is not None and queues[label][0].id == query.id)):
                    queues[label].pop(0)
                if queues[label] and len(chosen) < k:
                    ex = queues[label].pop(0)
                    seen.add(same_text_key(ex.text))
                    chosen.append(ex)
        rng.shuffle(chosen)
        return chosen
