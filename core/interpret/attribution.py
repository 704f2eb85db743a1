"""Integrated gradients (captum) over the input word embeddings.

The explained output is a probability: the predicted label of one chosen word (its first
subword) for NER, the predicted class for classification. The baseline keeps [CLS]/[SEP] and
replaces every other subword with [PAD], so special tokens get zero attribution and the word
scores alone add up to p(input) - p(baseline), up to captum's reported convergence delta.
"""
from __future__ import annotations

import torch
from captum.attr import LayerIntegratedGradients

from core.base.errors import UserError
from core.inference.predict import LoadedModel, Window, predict_texts
from core.text.tokenize import word_offsets

DEFAULT_STEPS = 64


def explain(
    lm: LoadedModel,
    text: str,
    word_index: int | None = None,
    steps: int = DEFAULT_STEPS,
    tokens: list[tuple[int, int]] | None = None,
) -> dict:
    """Word-level attributions for the prediction on ``text`` (NER: of word ``word_index``).

    ``tokens``: the sample's stored word offsets (imported CoNLL words may differ from a fresh
    tokenisation); by default the text is tokenised with core.tokenize."""
    tokens = [tuple(t) for t in tokens] if tokens is not None else word_offsets(text)
    if not tokens:
        raise UserError("expected some text to explain, found none; type a sentence first")
    (pred,) = predict_texts(lm, [(text, tokens)])
    if lm.task == "ner":
        if word_index is None or not 0 <= word_index < len(tokens):
            raise UserError(f"expected a word index between 0 and {len(tokens) - 1}, found {word_index}; pick a word")
        window = _window_of(pred.windows, word_index)
        position = window.word_ids.index(word_index)  # first subword of the chosen word
        target_label = pred.tags[word_index]
    else:
        window, position = pred.windows[0], None
        target_label = max(pred.scores, key=pred.scores.get)
    target = lm.labels.index(target_label)
    where = lm.torch_device
    input_ids = torch.tensor([window.input_ids], device=where)  # (1, T)
    special = [w is None for w in window.word_ids]
    baseline = torch.tensor([[i if s else lm.tokenizer.pad_token_id for i, s in zip(window.input_ids, special)]],
                            device=where)
    mask = torch.ones_like(input_ids)

    def prob(ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logits = lm.model(input_ids=ids, attention_mask=attention_mask).logits.float()
        if lm.task == "ner":
            logits = logits[:, position, :]  # (B, T, K) -> (B, K)
        return torch.sigmoid(logits) if lm.multilabel else torch.softmax(logits, dim=-1)  # (B, K)

    lig = LayerIntegratedGradients(prob, lm.model.get_input_embeddings())
    attributions, delta = lig.attribute(
        input_ids, baselines=baseline, target=target, additional_forward_args=(mask,),
        n_steps=steps, return_convergence_delta=True,
    )
    per_subword = attributions.sum(dim=-1)[0].detach().float().cpu()  # (1, T, hidden) -> (T,)
    with torch.inference_mode():
        p_input = float(prob(input_ids, mask)[0, target])
        p_baseline = float(prob(baseline, mask)[0, target])
    return {
        "target_label": target_label,
        "word_index": word_index,
        "subwords": window.subwords,
        "subword_scores": per_subword.tolist(),
        "words": _word_scores(text, tokens, window, per_subword),
        "delta": float(delta.reshape(-1)[0]),
        "prediction": p_input,
        "baseline_prediction": p_baseline,
        "steps": steps,
    }


def _window_of(windows: list[Window], word_index: int) -> Window:
    """The window where the word sits furthest from an edge (as predictions are read)."""
    best, best_edge = None, -1
    for w in windows:
        if word_index in w.word_ids:
            pos = w.word_ids.index(word_index)
            edge = min(pos, len(w.word_ids) - 1 - pos)
            if edge > best_edge:
                best, best_edge = w, edge
    if best is None:
        raise UserError(f"word {word_index} has no subword tokens (an unreadable character); pick another word")
    return best


def _word_scores(text: str, tokens, window: Window, per_subword: torch.Tensor) -> list[dict]:
    """Sum subword attributions per word; words outside the window get no score (None)."""
    sums: dict[int, float] = {}
    for wid, score in zip(window.word_ids, per_subword.tolist()):
        if wid is not None:
            sums[wid] = sums.get(wid, 0.0) + score
    return [
        {"index": i, "text": text[s:e], "start": s, "end": e, "score": sums.get(i)}
        for i, (s, e) in enumerate(tokens)
    ]
