"""Label scoring: the batched, cache-sharing scorer equals a plain forward pass, picks the label
the model gives the higher likelihood, and contextual calibration removes a context-free bias."""
from __future__ import annotations

import pytest
import torch

from core.icl import classify, prompts
from core.icl.config import IclConfig
from core.icl.lm import load_lm
from core.icl.prompts import Demo
from tests.core.icl import tinylm


def naive_logprob(lm, prompt: str, continuation: str) -> float:
    """Reference: one forward pass over prompt + continuation, no cache, no batching."""
    p = classify.encode(lm, prompt)
    c = lm.tokenizer(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = lm.model(input_ids=torch.tensor([p + c])).logits[0].log_softmax(-1)  # (T, V)
    return sum(float(logp[len(p) + j - 1, tok]) for j, tok in enumerate(c))


@pytest.mark.parametrize("chat", [False, True])
def test_batched_scores_equal_a_plain_forward_pass(home, tmp_path, chat):
    lm = load_lm(str(tinylm.random_llama(tmp_path / "llama", chat=chat)))
    config = IclConfig(task="classification", shots=1, selection="random")
    labels = ["very good", "not bad at all", "awful"]
    chat_msgs = prompts.messages(config, labels, [Demo("the plot was fun", "very good")], "a dull film")
    prompt = prompts.render(lm.tokenizer, chat_msgs)
    conts = [prompts.continuation(lm.tokenizer, chat_msgs, prompt, l) for l in labels]
    if chat:
        assert prompt.endswith("[assistant] ") and conts[0] == "very good [end]"
    got = classify.continuation_logprobs(lm, prompt, conts, batch_size=2)  # two batches: 2 + 1
    want = [naive_logprob(lm, prompt, c) for c in conts]
    assert got == pytest.approx(want, abs=1e-4)


def test_scorer_picks_the_label_the_model_favours(home, tmp_path):
    lm = load_lm(str(tinylm.biased_gpt2(tmp_path / "gpt2", favoured=["positive", "very good"])))
    config = IclConfig(task="classification", shots=0)
    chat = prompts.messages(config, ["negative", "positive"], [], "I hated every minute")
    scored = classify.classify(lm, chat, ["negative", "positive"])
    assert scored.predicted == ["positive"]
    assert scored.probs["positive"] > 0.9
    multi = classify.classify(lm, chat, ["not bad", "very good", "meh"])
    assert multi.predicted == ["very good"]
    assert multi.logprobs["very good"] > multi.logprobs["not bad"]


def test_calibration_removes_a_context_free_preference(home, tmp_path):
    lm = load_lm(str(tinylm.biased_gpt2(tmp_path / "gpt2", favoured=["positive"])))
    config = IclConfig(task="classification", shots=0, calibrate=True)
    labels = ["negative", "positive"]
    chat = prompts.messages(config, labels, [], "I hated every minute")
    blank = prompts.messages(config, labels, [], classify.CONTENT_FREE)
    content_free = classify.content_free_probs(lm, blank, labels)
    assert content_free["positive"] > 0.9
    scored = classify.classify(lm, chat, labels, content_free=content_free)
    # The model prefers "positive" whatever the input, so after calibration nothing is left.
    assert scored.probs == pytest.approx({"negative": 0.5, "positive": 0.5}, abs=1e-6)


def test_multilabel_keeps_labels_above_uniform():
    assert classify.decide({"a": 0.5, "b": 0.4, "c": 0.1}, multilabel=True) == ["a", "b"]
    assert classify.decide({"a": 0.5, "b": 0.4, "c": 0.1}) == ["a"]
