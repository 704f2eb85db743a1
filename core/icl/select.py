"""Choosing the demonstrations shown before each query.

- ``random``: one fixed random set for the whole run (seeded), the classic k-shot prompt;
- ``balanced``: one fixed set that takes labels in turn (per category, or per entity type
  present in a sentence), so rare labels are shown too;
- ``knn``: per query, the k labelled samples nearest to it by sentence embedding (the packaged
  MiniLM, mean pooling + L2 normalisation, cosine similarity), nearest last so it sits right
  before the query (Liu et al., 2022). Embeddings are cached on disk per project and sample id,
  keyed by a hash of the text so an edited sample is embedded again.

A query is never its own demonstration.
"""
from __future__ import annotations

import hashlib
import random
import threading
from pathlib import Path

import numpy as np
import torch

from core.base import settings
from core.icl.config import IclConfig
from core.base.types import Example

_ENCODERS: dict[str, tuple] = {}
_LOCK = threading.Lock()


def _encoder(path: str):
    from transformers import AutoModel, AutoTokenizer

    with _LOCK:
        if path not in _ENCODERS:
            model = AutoModel.from_pretrained(path)
            model.eval()
            _ENCODERS[path] = (AutoTokenizer.from_pretrained(path), model)
        return _ENCODERS[path]


@torch.no_grad()
def embed(texts: list[str], encoder: str | None = None, batch_size: int = 32) -> np.ndarray:
    """(N, D) L2-normalised mean-pooled sentence embeddings."""
    tokenizer, model = _encoder(encoder or settings.default_encoder())
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**batch).last_hidden_state  # (B, T, D)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, D)
        out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    width = model.config.hidden_size
    return np.concatenate(out) if out else np.zeros((0, width), dtype=np.float32)


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
        rng = random.Random(self.config.seed)
        ordered = rng.sample(self.pool, min(len(self.pool), k + 1))
        return [ex for ex in ordered if ex.id is None or ex.id != query.id][:k]

    def _nearest(self, query: Example, k: int) -> list[Example]:
        if query.id is None or query.id not in self._query_vectors:
            self.prepare([query])
        vector = self._query_vectors[query.id]
        sims = self._pool_vectors @ vector  # (pool,) cosine similarities
        order = [i for i in np.argsort(-sims, kind="stable") if self.pool[i].id is None or self.pool[i].id != query.id]
        return [self.pool[i] for i in reversed(order[:k])]

    def _balanced(self, query: Example, k: int) -> list[Example]:
        rng = random.Random(self.config.seed)
        groups = _label_groups([ex for ex in self.pool if ex.id is None or ex.id != query.id], self.config.task)
        queues = {label: rng.sample(items, len(items)) for label, items in sorted(groups.items())}
        chosen: list[Example] = []
        seen: set[int] = set()
        while len(chosen) < k and any(queues.values()):
            for label in list(queues):
                while queues[label] and id(queues[label][0]) in seen:
                    queues[label].pop(0)
                if queues[label] and len(chosen) < k:
                    ex = queues[label].pop(0)
                    seen.add(id(ex))
                    chosen.append(ex)
        rng.shuffle(chosen)
        return chosen
