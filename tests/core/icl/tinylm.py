"""Tiny causal LMs for ICL tests, saved as plain Hugging Face folders in tmp_path (seconds on a CPU).

They use the packaged MiniLM tokenizer (WordPiece, no chat template unless asked for), so nothing
is downloaded. ``biased_gpt2`` is a deterministic construction: its final LayerNorm outputs the
same unit vector at every position and its output matrix reads only that coordinate, so the
next-token distribution ignores the context and puts extra mass on the ``favoured`` words.
"""
from __future__ import annotations

from pathlib import Path

import torch

from core.base.settings import default_encoder

CHAT_TEMPLATE = (
    "{% for m in messages %}[{{ m.role }}] {{ m.content }} [end]\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant] {% endif %}"
)


def _tokenizer(chat: bool):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(default_encoder())
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    return tok


def random_llama(path: Path, chat: bool = False, seed: int = 0) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    tok = _tokenizer(chat)
    config = LlamaConfig(
        vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id, bos_token_id=None, eos_token_id=tok.sep_token_id,
    )
    model = LlamaForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def biased_gpt2(path: Path, favoured: list[str], chat: bool = False, boost: float = 4.0) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = _tokenizer(chat)
    config = GPT2Config(
        vocab_size=tok.vocab_size, n_embd=16, n_layer=1, n_head=2, n_positions=1024,
        tie_word_embeddings=False, pad_token_id=tok.pad_token_id, bos_token_id=None, eos_token_id=tok.sep_token_id,
    )
    model = GPT2LMHeadModel(config)
    ids = sorted({i for word in favoured for i in tok(word, add_special_tokens=False)["input_ids"]})
    with torch.no_grad():
        model.transformer.ln_f.weight.zero_()  # ln_f(x) = bias = e_0 at every position
        model.transformer.ln_f.bias.zero_()
        model.transformer.ln_f.bias[0] = 1.0
        model.lm_head.weight.zero_()  # logits[v] = W[v, 0]
        model.lm_head.weight[ids, 0] = boost
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
