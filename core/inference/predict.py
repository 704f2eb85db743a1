"""Inference with a fine-tuned run's model: per-word labels, probabilities, entities, attention.

Words come from the sample (``core.text.tokenize`` offsets); the tokenizer splits them into subwords
with ``is_split_into_words=True`` as training does (run_ner.py alignment), and a word takes the
prediction of its first subword. Texts longer than the model's window are cut into overlapping
windows (``stride`` subwords shared); a word is read from the window where it sits furthest from
an edge, so it sees the most context.

Models are cached per process (a worker or a Streamlit server loads a checkpoint once) and loaded
with eager attention: the default sdpa kernels silently return no attention weights.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.base.errors import UserError
from core.text.spans import tags_to_spans
from core.text.tokenize import word_offsets
from core.base.types import Span

DEFAULT_MAX_LENGTH = 256
STRIDE = 32
BATCH_SIZE = 16
CACHE_SIZE = 2
TOP_K = 3


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    task: str  # "ner" | "classification"
    labels: list[str]  # id -> label name
    multilabel: bool
    max_length: int
    path: str

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)


@dataclass
class Window:
    """One model input: subwords of a run of words. ``word_ids[i]`` is None for special tokens."""

    input_ids: list[int]
    word_ids: list[int | None]
    subwords: list[str]
    first_word: int
    last_word: int  # inclusive


@dataclass
class TextPrediction:
    """Predictions for one text. NER fills the per-word lists; classification fills ``scores``."""

    text: str
    tokens: list[tuple[int, int]]
    windows: list[Window]
    # NER, one entry per word: predicted tag, its probability, the full distribution (K,).
    tags: list[str] = field(default_factory=list)
    probs: list[list[float]] = field(default_factory=list)
    subwords: list[list[str]] = field(default_factory=list)
    # Classification: label -> probability (softmax, or sigmoid when multilabel).
    scores: dict[str, float] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)

    def spans(self) -> list[Span]:
        return tags_to_spans(self.tokens, self.tags).spans if self.tags else []


_cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
_lock = threading.Lock()


def load(checkpoint: str | os.PathLike, task: str, max_length: int | None = None) -> LoadedModel:
    """The model of a checkpoint directory, cached per process (keyed by path and mtime)."""
    path = Path(checkpoint)
    if not (path / "config.json").exists():
        raise UserError(
            f"expected a model directory with config.json at {path}, found none; "
            "the run has no usable checkpoint: train it again"
        )
    key = (str(path.resolve()), (path / "config.json").stat().st_mtime, task, max_length)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        loaded = _load_uncached(path, task, max_length)
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return loaded


def _load_uncached(path: Path, task: str, max_length: int | None) -> LoadedModel:
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

    cls = AutoModelForTokenClassification if task == "ner" else AutoModelForSequenceClassification
    model = cls.from_pretrained(str(path), attn_implementation="eager")
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    labels = [id2label[i] for i in range(len(id2label))]
    limit = min(int(getattr(tokenizer, "model_max_length", 512) or 512), int(model.config.max_position_embeddings))
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        task=task,
        labels=labels,
        multilabel=model.config.problem_type == "multi_label_classification",
        max_length=min(max_length or DEFAULT_MAX_LENGTH, limit),
        path=str(path),
    )


def load_run(run, task: str) -> LoadedModel:
    """The model of a completed fine-tuned run (``run`` is a db Run row)."""
    if run.kind != "finetune" or not run.checkpoint:
        raise UserError(
            f"run {run.id} is a {run.kind!r} run with no model checkpoint (status {run.status}); "
            "pick a completed fine-tuning run"
        )
    return load(run.checkpoint, task, (run.config or {}).get("max_length"))


def windows(lm: LoadedModel, text: str, tokens: list[tuple[int, int]]) -> list[Window]:
    """Overlapping model inputs covering every word (one window for short texts)."""
    words = [text[s:e] for s, e in tokens]
    if not words:
        return []
    enc = lm.tokenizer(
        words,
        is_split_into_words=True,
        truncation=True,
        max_length=lm.max_length,
        stride=min(STRIDE, lm.max_length // 4),
        return_overflowing_tokens=True,
    )
    out = []
    for i, ids in enumerate(enc["input_ids"]):
        wids = enc.word_ids(i)
        present = [w for w in wids if w is not None]
        out.append(
            Window(
                input_ids=list(ids),
                word_ids=list(wids),
                subwords=lm.tokenizer.convert_ids_to_tokens(ids),
                first_word=min(present) if present else 0,
                last_word=max(present) if present else -1,
            )
        )
    return out


def _forward(lm: LoadedModel, batch: list[Window], attentions: bool = False):
    """Logits for a batch of windows: NER (B, T, K), classification (B, K); attentions per layer (B, H, T, T)."""
    enc = lm.tokenizer.pad({"input_ids": [w.input_ids for w in batch]}, return_tensors="pt")
    with torch.no_grad():
        out = lm.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_attentions=attentions)
    return out.logits, (out.attentions if attentions else None)


def predict_texts(
    lm: LoadedModel, items: list[tuple[str, list[tuple[int, int]]]], batch_size: int = BATCH_SIZE,
    on_progress=None,
) -> list[TextPrediction]:
    """Predictions for ``(text, word offsets)`` pairs, returned in the order given.

    Windows are batched in a fixed order (no sampler, no length grouping), so result i is
    always input i — unlike Trainer.predict with length-grouped sampling.
    ``on_progress(done, total)`` is called with the number of texts whose windows are all done.
    """
    preds = [TextPrediction(text, [tuple(t) for t in tokens], windows(lm, text, tokens)) for text, tokens in items]
    flat = [(i, j) for i, p in enumerate(preds) for j in range(len(p.windows))]
    logits_of: dict[tuple[int, int], torch.Tensor] = {}
    if on_progress:
        on_progress(0, len(items))
    for start in range(0, len(flat), batch_size):
        keys = flat[start : start + batch_size]
        logits, _ = _forward(lm, [preds[i].windows[j] for i, j in keys])
        for row, key in enumerate(keys):
            logits_of[key] = logits[row]
        if on_progress:
            last = keys[-1][0]
            done = last + 1 if keys[-1][1] == len(preds[last].windows) - 1 else last
            on_progress(done, len(items))
    for i, pred in enumerate(preds):
        window_logits = [logits_of[(i, j)] for j in range(len(pred.windows))]
        if lm.task == "ner":
            _fill_ner(lm, pred, window_logits)
        else:
            _fill_classification(lm, pred, window_logits)
    return preds


def _fill_ner(lm: LoadedModel, pred: TextPrediction, window_logits: list[torch.Tensor]) -> None:
    n = len(pred.tokens)
    best: list[tuple[int, torch.Tensor] | None] = [None] * n  # (distance to window edge, probs (K,))
    pred.subwords = [[] for _ in range(n)]
    for w, logits in zip(pred.windows, window_logits):
        probs = torch.softmax(logits.float(), dim=-1)  # (T_padded, K)
        seen: set[int] = set()
        length = len(w.word_ids)
        for pos, wid in enumerate(w.word_ids):
            if wid is None or wid in seen:
                continue
            seen.add(wid)
            edge = min(pos, length - 1 - pos)
            if best[wid] is None or edge > best[wid][0]:
                best[wid] = (edge, probs[pos])
                pred.subwords[wid] = [w.subwords[p] for p, x in enumerate(w.word_ids) if x == wid]
    o_index = lm.labels.index("O") if "O" in lm.labels else 0
    for wid in range(n):
        if best[wid] is None:  # a word with no subwords (e.g. a lone control character): outside
            dist = [0.0] * len(lm.labels)
            dist[o_index] = 1.0
        else:
            dist = best[wid][1].tolist()
        pred.probs.append(dist)
        pred.tags.append(lm.labels[max(range(len(dist)), key=dist.__getitem__)])


def _fill_classification(lm: LoadedModel, pred: TextPrediction, window_logits: list[torch.Tensor]) -> None:
    if not window_logits:  # empty text: no windows; score an empty input so every text gets a class
        enc = lm.tokenizer("", truncation=True, max_length=lm.max_length)
        window_logits = [_forward(lm, [Window(enc["input_ids"], [None] * len(enc["input_ids"]), [], 0, -1)])[0][0]]
    logits = torch.stack(window_logits).float().mean(dim=0)  # (K,): long texts average their windows
    if lm.multilabel:
        probs = torch.sigmoid(logits).tolist()
        cats = [l for l, p in zip(lm.labels, probs) if p >= 0.5]
    else:
        probs = torch.softmax(logits, dim=-1).tolist()
        cats = [lm.labels[max(range(len(probs)), key=probs.__getitem__)]]
    pred.scores = dict(zip(lm.labels, probs))
    pred.categories = cats


def top_k(labels: list[str], dist: list[float], k: int = TOP_K) -> list[list]:
    order = sorted(range(len(dist)), key=lambda i: -dist[i])[:k]
    return [[labels[i], float(dist[i])] for i in order]


def attention(lm: LoadedModel, window: Window) -> torch.Tensor:
    """Attention weights of one window: (layers, heads, T, T), each row a distribution over T."""
    _, att = _forward(lm, [window], attentions=True)
    if not att or att[0] is None:
        raise RuntimeError("the model returned no attention weights; it must be loaded with attn_implementation='eager'")
    return torch.stack([a[0] for a in att])  # layers x (heads, T, T) -> (layers, heads, T, T)


def word_attention(att: torch.Tensor, window: Window) -> tuple[torch.Tensor, list[int | None]]:
    """Merge subwords into words (Clark et al. 2019): attention *to* a word sums over its
    subwords, attention *from* a word averages over them, so rows still sum to one.

    att: (layers, heads, T, T) -> (layers, heads, W, W) where W counts words in the window plus
    each special token on its own; the returned list names each unit's word id (None = special).
    """
    units: list[int | None] = []
    unit_of: list[int] = []
    for wid in window.word_ids:
        if wid is None or wid not in units:
            units.append(wid)
        unit_of.append(len(units) - 1 if wid is None else units.index(wid))
    t = len(window.word_ids)
    m = torch.zeros(t, len(units))  # (T, W) membership
    m[torch.arange(t), torch.tensor(unit_of)] = 1.0
    summed = att[..., :t, :t] @ m  # (layers, heads, T, W): sum over subwords receiving attention
    mean_rows = (m / m.sum(dim=0, keepdim=True)).T  # (W, T): average over subwords giving attention
    return mean_rows @ summed, units  # (layers, heads, W, W)


def predict_text(lm: LoadedModel, text: str, with_attention: bool = False, window_index: int = 0) -> dict:
    """The JSON answer of ``cli.py predict``: tokens with label/prob/top-3, entities, attention."""
    tokens = word_offsets(text)
    (pred,) = predict_texts(lm, [(text, tokens)])
    out: dict = {"task": lm.task, "labels": lm.labels}
    if lm.task == "ner":
        out["tokens"] = [
            {
                "text": text[s:e], "start": s, "end": e, "label": tag, "prob": float(max(dist)),
                "top": top_k(lm.labels, dist), "probs": dict(zip(lm.labels, map(float, dist))), "subwords": subs,
            }
            for (s, e), tag, dist, subs in zip(pred.tokens, pred.tags, pred.probs, pred.subwords)
        ]
        out["entities"] = entities(pred)
    else:
        out["tokens"] = [{"text": text[s:e], "start": s, "end": e} for s, e in pred.tokens]
        out["categories"] = pred.categories
        out["scores"] = pred.scores
    out["windows"] = [{"first_word": w.first_word, "last_word": w.last_word, "subwords": w.subwords} for w in pred.windows]
    if with_attention and pred.windows:
        if not 0 <= window_index < len(pred.windows):
            raise UserError(f"window {window_index} does not exist: this text has {len(pred.windows)} window(s)")
        window = pred.windows[window_index]
        out["window"] = window_index
        out["subwords"] = window.subwords
        out["attention"] = attention(lm, window).tolist()  # [layers][heads][T][T]
    return out


def entities(pred: TextPrediction) -> list[dict]:
    """Predicted spans with their text and a score: the lowest word probability inside the span."""
    out = []
    for span in pred.spans():
        inside = [max(p) for (s, e), p in zip(pred.tokens, pred.probs) if s >= span.start and e <= span.end]
        out.append(
            {"start": span.start, "end": span.end, "label": span.label, "text": pred.text[span.start : span.end],
             "score": float(min(inside)) if inside else 0.0}
        )
    return out
