"""Every strategy trains the rows a vocabulary extension adds; freeze and BitFit train only those
rows of the embedding (old rows bit-identical, weight decay included)."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from core.text.coverage import WordCounts
from core.train.config import TrainConfig
from core.train.model import load_tokenizer_of
from core.train.strategies import apply_strategy, count
from core.train.trainer import train_examples
from core.train.vocab import extend, plan
from tests.zh_sample import ZH_LABELS, ZH_UNCOVERED, zh_examples

EMBEDDING = "bert.embeddings.word_embeddings.weight"


def _rows(model_dir) -> torch.Tensor:
    return load_file(str(model_dir / "model.safetensors"))[EMBEDDING]


def _initial_rows(tiny_model, seed: int) -> torch.Tensor:
    """The embedding right after extension, before any training (the extension is seeded)."""
    from transformers import AutoModelForTokenClassification

    tokenizer = load_tokenizer_of(str(tiny_model))
    model = AutoModelForTokenClassification.from_pretrained(str(tiny_model), num_labels=7)
    extend(model, tokenizer, plan(tokenizer, WordCounts.of((e.text, e.tokens) for e in zh_examples())), seed)
    return model.get_input_embeddings().weight.detach().clone()


@pytest.mark.parametrize("strategy", ["full", "freeze", "bitfit", "lora"])
def test_every_strategy_trains_the_new_rows(tiny_model, tmp_path, strategy):
    config = TrainConfig(model=str(tiny_model), strategy=strategy, extend_vocabulary=True, max_steps=4, batch_size=4,
                         learning_rate=1e-2, weight_decay=0.1, freeze_layers=1, seed=3, log_every=1)
    result = train_examples(config, zh_examples(3), [], ZH_LABELS, "ner", tmp_path / strategy)
    start = _initial_rows(tiny_model, seed=3)
    trained = _rows(result.model_dir)
    old = start.shape[0] - len(ZH_UNCOVERED)
    assert trained.shape == start.shape == (old + len(ZH_UNCOVERED), 32)
    moved = (trained - start).abs().amax(dim=1)  # (rows,)
    assert (moved[old:] > 1e-4).all(), f"{strategy}: some new rows did not train"
    if strategy == "full":
        assert (moved[:old] > 0).any()  # full fine-tuning moves the rows it sees
    else:  # only the new rows of the embedding move (LoRA never touches the embedding otherwise)
        assert torch.equal(trained[:old], start[:old]), f"{strategy}: existing rows changed"
    assert result.vocabulary["characters"] == len(ZH_UNCOVERED)
    assert any("vocabulary extended by 18 characters" in note for note in result.notes)


def test_new_rows_train_when_the_word_embeddings_are_frozen(tiny_model, tmp_path):
    """--no-train-word-embeddings freezes the matrix, but the rows an extension adds start
    untrained: they must still learn, and only they move."""
    config = TrainConfig(model=str(tiny_model), strategy="full", extend_vocabulary=True, train_word_embeddings=False,
                         max_steps=4, batch_size=4, learning_rate=1e-2, weight_decay=0.1, seed=3, log_every=1)
    result = train_examples(config, zh_examples(3), [], ZH_LABELS, "ner", tmp_path / "frozen-words")
    start, trained = _initial_rows(tiny_model, seed=3), _rows(result.model_dir)
    old = start.shape[0] - len(ZH_UNCOVERED)
    moved = (trained - start).abs().amax(dim=1)  # (rows,)
    assert (moved[old:] > 1e-4).all()
    assert torch.equal(trained[:old], start[:old])


@pytest.mark.parametrize("strategy", ["freeze", "bitfit"])
def test_only_the_new_rows_count_as_trainable(tiny_model, strategy):
    from transformers import AutoModelForTokenClassification

    config = TrainConfig(model=str(tiny_model), strategy=strategy, freeze_layers=1)
    tokenizer = load_tokenizer_of(str(tiny_model))
    base = apply_strategy(AutoModelForTokenClassification.from_pretrained(str(tiny_model), num_labels=7), config, "ner")
    model = AutoModelForTokenClassification.from_pretrained(str(tiny_model), num_labels=7)
    extension = extend(model, tokenizer, plan(tokenizer, WordCounts.of((e.text, e.tokens) for e in zh_examples())))
    model = apply_strategy(model, config, "ner", extension.token_ids)
    assert count(model).trainable == count(base).trainable + len(ZH_UNCOVERED) * 32


def test_embeddings_can_learn_at_their_own_rate(tiny_model, tmp_path):
    """embedding_learning_rate puts the word embeddings in an optimizer group of their own: with the
    body at a negligible rate, only the embedding moves."""
    config = TrainConfig(model=str(tiny_model), extend_vocabulary=True, max_steps=3, batch_size=4, warmup_ratio=0.0,
                         learning_rate=1e-12, embedding_learning_rate=1e-2, weight_decay=0.0, seed=3)
    result = train_examples(config, zh_examples(3), [], ZH_LABELS, "ner", tmp_path / "run")
    trained = load_file(str(result.model_dir / "model.safetensors"))
    base = load_file(str(tiny_model / "model.safetensors"))
    key = "encoder.layer.0.attention.self.query.weight"
    assert torch.allclose(trained["bert." + key], base[key], atol=1e-8)
    start = _initial_rows(tiny_model, seed=3)
    moved = (trained[EMBEDDING] - start).abs().amax(dim=1)
    assert (moved[-len(ZH_UNCOVERED):] > 1e-3).all()
