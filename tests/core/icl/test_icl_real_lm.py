"""The packaged SmolLM2-135M-Instruct: GGUF -> cached safetensors, then one real classification."""
from __future__ import annotations

import pytest

from core.icl import classify, lm as lm_module, prompts
from core.icl.config import IclConfig
from core.icl.prompts import Demo


@pytest.mark.slow
def test_packaged_gguf_is_cached_as_safetensors_and_classifies(home):
    steps = []
    lm = lm_module.load_lm("", lambda fraction, message: steps.append(fraction))
    assert lm.source == "gguf" and lm.chat and 100_000_000 < lm.params < 200_000_000
    assert steps[0] < steps[-1] == 1.0
    folder = lm_module.cache_folder(lm_module.resolve("").gguf)
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()
    lm_module.forget_loaded()
    again = lm_module.load_lm("")
    assert again.source == "cache"

    config = IclConfig(task="classification", shots=2)
    labels = ["positive", "negative"]
    demos = [Demo("Terrible drug, it made me sick for weeks.", "negative"),
             Demo("Works great, my pain is gone.", "positive")]
    chat = prompts.messages(config, labels, demos, "This medicine is wonderful, I feel so much better and happy!")
    scored = classify.classify(again, chat, labels)
    assert scored.predicted == ["positive"], scored.logprobs
    assert sum(scored.probs.values()) == pytest.approx(1.0)
