"""The one prediction path: per-word labels, probabilities, entities (NER) or category scores,
for every caller (training's dev scores, evaluation, pre-annotation, likely label errors,
inspection, attributions, the learning curve, ICL's comparison, the benches).

- Words come from the sample (``core.text.tokenize`` offsets); the tokenizer splits them into
  subwords with ``is_split_into_words=True`` as training does (run_ner.py alignment), and a word
  takes the prediction of its first subword, so scores are per word whatever the training
  labelled (``label_all_tokens`` included).
- Texts longer than the window are cut into overlapping windows (``stride`` subwords shared); a
  word is read from the window where it sits furthest from an edge, so it sees the most context.
- Windows are sorted by length and batched by tokens (``core.inference.batching``), so batches
  pad little; results come back in the order given. ``torch.inference_mode``; bf16 autocast on
  GPUs that support it, fp32 on the CPU (the same numbers as an fp32 ``pipeline``).
- ``on_progress(done, total)`` is called with the number of texts finished after every batch
  (and ``(0, total)`` first), for "evaluating k/n" displays. It must be cheap and must not raise.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from core.base.errors import UserError
from core.base.types import Example, Span
from core.inference.batching import DEFAULT_MAX_TOKENS, token_batches
from core.inference.model import DEFAULT_MAX_LENGTH, LoadedModel, eager_attention, load, load_run  # noqa: F401
from core.text.spans import tags_to_spans
from core.text.tokenize import word_offsets

STRIDE = 32
TOP_K = 3

Progress = Callable[[int, int], None]


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
    # NER, one entry per word: predicted tag, the full distribution over lm.labels (K,), subwords.
    tags: list[str] = field(default_factory=list)
    probs: list[list[float]] = field(default_factory=list)
    subwords: list[list[str]] = field(default_factory=list)
    # Classification: label -> probability (softmax, or sigmoid when multilabel).
    scores: dict[str, float] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)

    def spans(self) -> list[Span]:
        return tags_to_spans(self.tokens, self.tags).spans if self.tags else []


def windows_of(lm: LoadedModel, items: list[tuple[str, list[tuple[int, int]]]]) -> list[list[Window]]:
    """Overlapping model inputs covering every word of each text (one window for short texts),
    from one batched call to the fast tokenizer."""
    words = [[text[s:e] for s, e in tokens] for text, tokens in items]
    out: list[list[Window]] = [[] for _ in items]
    present = [i for i, w in enumerate(words) if w]
    if not present:
        return out
    enc = lm.tokenizer(
        [words[i] for i in present], is_split_into_words=True, truncation=True, max_length=lm.max_length,
        stride=min(STRIDE, lm.max_length // 4), return_overflowing_tokens=True,
    )
    owners = enc["overflow_to_sample_mapping"]
    for k, ids in enumerate(enc["input_ids"]):
        wids = enc.word_ids(k)
        inside = [w for w in wids if w is not None]
        out[present[owners[k]]].append(Window(
            input_ids=list(ids), word_ids=list(wids), subwords=enc.tokens(k),
            first_word=min(inside) if inside else 0, last_word=max(inside) if inside else -1,
        ))
    return out


def windows(lm: LoadedModel, text: str, tokens: list[tuple[int, int]]) -> list[Window]:
    """The windows of one text (see ``windows_of``)."""
    return windows_of(lm, [(text, tokens)])[0]


def _forward(lm: LoadedModel, batch: list[Window], attentions: bool = False):
    """Logits for a batch of windows: NER (B, T, K), classification (B, K), as fp32 on the CPU;
    with ``attentions``, a tuple per layer of (B, heads, T, T)."""
    enc = lm.tokenizer.pad({"input_ids": [w.input_ids for w in batch]}, return_tensors="pt")
    where = lm.torch_device
    with torch.inference_mode(), torch.autocast(where.type, dtype=torch.bfloat16, enabled=lm.device.inference_bf16):
        out = lm.model(input_ids=enc["input_ids"].to(where), attention_mask=enc["attention_mask"].to(where),
                       output_attentions=attentions)
    logits = out.logits.float().cpu()
    return logits, (tuple(a.float().cpu() for a in out.attentions) if attentions else None)


def predict_texts(
    lm: LoadedModel,
    items: list[tuple[str, list[tuple[int, int]]]],
    batch_size: int | None = None,
    on_progress: Progress | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> list[TextPrediction]:
    """Predictions for ``(text, word offsets)`` pairs, returned in the order given.

    ``max_tokens``: padded subword tokens per batch; ``batch_size``: at most this many windows
    per batch (None: as many as fit). The model is put in eval mode and restored afterwards, so
    training may call this on the model it is training.
    """
    per_text = windows_of(lm, items)
    flat = [(i, j) for i, wins in enumerate(per_text) for j in range(len(wins))]
    texts = [items[i][0] for i, _ in flat]
    lengths = [len(per_text[i][j].input_ids) for i, j in flat]
    left = [len(wins) for wins in per_text]
    done = sum(1 for n in left if n == 0)
    if on_progress:
        on_progress(done, len(items))
    window_logits: list[list[torch.Tensor | None]] = [[None] * n for n in left]
    was_training = lm.model.training
    lm.model.eval()
    try:
        for batch in token_batches(lengths, texts, max_tokens, batch_size):
            logits, _ = _forward(lm, [per_text[flat[k][0]][flat[k][1]] for k in batch])
            if lm.task == "ner":
                logits = torch.softmax(logits, dim=-1)  # (B, T, K): NER keeps distributions per subword
            for row, k in enumerate(batch):
                i, j = flat[k]
                window_logits[i][j] = logits[row, : lengths[k]] if lm.task == "ner" else logits[row]
                left[i] -= 1
                done += left[i] == 0
            if on_progress:
                on_progress(done, len(items))
        preds = [TextPrediction(text, [tuple(t) for t in tokens], wins)
                 for (text, tokens), wins in zip(items, per_text)]
        for pred, outputs in zip(preds, window_logits):
            if lm.task == "ner":
                _fill_ner(lm, pred, outputs)
            else:
                _fill_classification(lm, pred, outputs)
    finally:
        lm.model.train(was_training)
    return preds


def predict_examples(lm: LoadedModel, examples: list[Example], on_progress: Progress | None = None,
                     max_tokens: int = DEFAULT_MAX_TOKENS) -> list[TextPrediction]:
    """``predict_texts`` on examples, with their stored word offsets."""
    return predict_texts(lm, [(ex.text, list(ex.tokens)) for ex in examples], on_progress=on_progress,
                         max_tokens=max_tokens)


def _fill_ner(lm: LoadedModel, pred: TextPrediction, window_probs: list[torch.Tensor]) -> None:
    n = len(pred.tokens)
    edge_of = np.full(n, -1)  # how far the chosen window's subword sits from that window's edge
    rows: list[torch.Tensor | None] = [None] * n
    first_pos: list[tuple[int, int] | None] = [None] * n  # (window, position) of the chosen subword
    for w_index, (w, probs) in enumerate(zip(pred.windows, window_probs)):
        length = len(w.word_ids)
        previous = None
        for pos, wid in enumerate(w.word_ids):
            if wid is None or wid == previous:
                previous = wid
                continue
            previous = wid
            edge = min(pos, length - 1 - pos)
            if edge > edge_of[wid]:
                edge_of[wid], rows[wid], first_pos[wid] = edge, probs[pos], (w_index, pos)
    outside = torch.zeros(len(lm.labels))
    outside[lm.labels.index("O") if "O" in lm.labels else 0] = 1.0
    dist = torch.stack([r if r is not None else outside for r in rows]) if n else torch.zeros(0, len(lm.labels))
    pred.probs = dist.tolist()  # (W, K); a word with no subwords (a lone control character) is outside
    pred.tags = [lm.labels[i] for i in dist.argmax(dim=-1).tolist()] if n else []
    pred.subwords = [_subwords_of(pred.windows, wid, at) for wid, at in enumerate(first_pos)]


def _subwords_of(wins: list[Window], wid: int, at: tuple[int, int] | None) -> list[str]:
    """The subwords of word ``wid`` in the window its prediction was read from."""
    if at is None:
        return []
    w, pos = wins[at[0]], at[1]
    out = []
    while pos < len(w.word_ids) and w.word_ids[pos] == wid:
        out.append(w.subwords[pos])
        pos += 1
    return out


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
    with eager_attention(lm):
        _, att = _forward(lm, [window], attentions=True)
    if not att or att[0] is None:
        raise RuntimeError("the model returned no attention weights; its architecture may not support eager attention")
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
