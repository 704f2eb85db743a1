"""Classification by scoring, never by free text.

Each label is verbalised (its name, followed by the end of the assistant turn) and scored by
the log-likelihood the LM gives it after the prompt. The prompt runs once; its key/value cache
is repeated for a batch of label continuations, so the cost is one prompt pass plus a few
tokens per label. Contextual calibration (Zhao et al., 2021) divides the label probabilities
by those the same prompt gives a content-free input ("N/A") and renormalises, which removes
the LM's prior preference for some label words.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

import torch

from core.icl import prompts
from core.icl.lm import LoadedLM

CONTENT_FREE = "N/A"


@dataclass
class LabelScores:
    logprobs: dict[str, float]  # summed log-likelihood of each verbalised answer
    probs: dict[str, float]  # softmax over labels (after calibration when asked)
    predicted: list[str]

    def raw(self) -> str:
        """What Prediction.raw stores for a classification: each label's log-likelihood, as JSON."""
        return json.dumps({l: round(v, 4) for l, v in self.logprobs.items()})


def encode(lm: LoadedLM, text: str) -> list[int]:
    """Prompt ids. A rendered chat template already holds its special tokens; plain text gets BOS."""
    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    bos = getattr(lm.tokenizer, "bos_token_id", None)
    if not lm.chat and bos is not None and (not ids or ids[0] != bos):
        ids = [bos] + ids
    return ids


@torch.no_grad()
def continuation_logprobs(lm: LoadedLM, prompt: str, continuations: list[str], batch_size: int = 8) -> list[float]:
    """Sum of log p(continuation tokens | prompt) for each continuation."""
    prompt_ids = torch.tensor([encode(lm, prompt)], device=lm.model.device)  # (1, P)
    conts = [lm.tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
    empty = [c for c, ids in zip(continuations, conts) if not ids]
    if empty:
        raise ValueError(f"answer {empty[0]!r} encodes to no tokens; give the label a non-empty name")
    # Only the last position's logits are needed: skipping the rest saves the (P, V) output matmul.
    out = lm.model(input_ids=prompt_ids, use_cache=True, logits_to_keep=1)
    first = out.logits[0, -1].float().log_softmax(-1)  # (V,) predicts each continuation's first token
    scores: list[float] = []
    for start in range(0, len(conts), batch_size):
        chunk = conts[start:start + batch_size]
        if all(len(c) == 1 for c in chunk):
            scores += [float(first[c[0]]) for c in chunk]
            continue
        scores += _score_chunk(lm, out.cache, prompt_ids.shape[1], first, chunk)
    return scores


def _score_chunk(lm: LoadedLM, cache, prompt_len: int, first: torch.Tensor, chunk: list[list[int]]) -> list[float]:
    n, width = len(chunk), max(len(c) for c in chunk)
    ids = torch.full((n, width), lm.tokenizer.pad_token_id or 0)  # (n, L), right-padded
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, c in enumerate(chunk):
        ids[i, : len(c)] = torch.tensor(c)
        mask[i, : len(c)] = 1
    ids, mask = ids.to(first.device), mask.to(first.device)
    repeated = copy.deepcopy(cache)
    repeated.batch_repeat_interleave(n)
    attention = torch.cat([torch.ones((n, prompt_len), dtype=torch.long, device=mask.device), mask], dim=1)  # (n, P + L)
    logits = lm.model(input_ids=ids, attention_mask=attention, cache=repeated, use_cache=True).logits
    logp = logits.float().log_softmax(-1)  # (n, L, V): position j predicts token j + 1
    scores = []
    for i, c in enumerate(chunk):
        total = float(first[c[0]])
        total += sum(float(logp[i, j - 1, c[j]]) for j in range(1, len(c)))
        scores.append(total)
    return scores


def softmax(logprobs: dict[str, float]) -> dict[str, float]:
    top = max(logprobs.values())
    exp = {l: math.exp(v - top) for l, v in logprobs.items()}
    total = sum(exp.values())
    return {l: v / total for l, v in exp.items()}


def calibrated(probs: dict[str, float], content_free: dict[str, float]) -> dict[str, float]:
    """p(label | x) / p(label | content-free input), renormalised (contextual calibration)."""
    ratio = {l: p / max(content_free[l], 1e-12) for l, p in probs.items()}
    total = sum(ratio.values())
    return {l: v / total for l, v in ratio.items()}


def decide(probs: dict[str, float], multilabel: bool = False) -> list[str]:
    """Single label: the most probable. Multilabel: every label above uniform (at least the top one)."""
    best = max(probs, key=probs.get)
    if not multilabel:
        return [best]
    floor = 1.0 / len(probs)
    return [l for l, p in probs.items() if p > floor or l == best]


def label_probs(lm: LoadedLM, chat: list[dict], labels: list[str], batch_size: int) -> dict[str, float]:
    """Log-likelihood of each label's verbalised answer after the prompt ``chat``."""
    prompt = prompts.render(lm.tokenizer, chat)
    conts = [prompts.continuation(lm.tokenizer, chat, prompt, label) for label in labels]
    return dict(zip(labels, continuation_logprobs(lm, prompt, conts, batch_size)))


def classify(
    lm: LoadedLM,
    chat: list[dict],
    labels: list[str],
    batch_size: int = 8,
    content_free: dict[str, float] | None = None,
    multilabel: bool = False,
) -> LabelScores:
    """Score ``labels`` after ``chat``; divide by ``content_free`` probabilities when given."""
    logprobs = label_probs(lm, chat, labels, batch_size)
    probs = softmax(logprobs)
    if content_free is not None:
        probs = calibrated(probs, content_free)
    return LabelScores(logprobs, probs, decide(probs, multilabel))


def content_free_probs(lm: LoadedLM, blank_chat: list[dict], labels: list[str], batch_size: int = 8) -> dict[str, float]:
    """Label probabilities for a prompt whose query text is the content-free input (same demonstrations).

    Build ``blank_chat`` with ``prompts.messages(config, labels, demos, CONTENT_FREE)``.
    """
    return softmax(label_probs(lm, blank_chat, labels, batch_size))
