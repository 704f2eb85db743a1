"""Coverage and vocabulary extension with the packaged MiniLM tokenizer on a small Chinese sample."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.base.settings import default_encoder
from core.text.coverage import WordCounts
from core.text.tokenize import word_offsets
from core.train.coverage import coverage_of
from core.train.model import load_tokenizer_of
from core.train.vocab import NewVocabulary, extend, plan
from tests.zh_sample import ZH, ZH_CHARS, ZH_DISTINCT, ZH_UNCOVERED, ZH_UNCOVERED_CHARS

MINILM_VOCAB = 30522


def _words(texts) -> WordCounts:
    return WordCounts.of((t, word_offsets(t)) for t in texts)


@pytest.fixture
def tokenizer():
    return load_tokenizer_of(default_encoder())  # a fresh copy: extension changes it in place


def test_the_uncovered_characters_are_those_missing_from_minilm_vocab_txt():
    vocab = set((Path(default_encoder()) / "vocab.txt").read_text().splitlines())
    assert {c for t, _ in ZH for c in t if c not in vocab} == ZH_UNCOVERED


def test_coverage_figures_of_the_packaged_minilm_on_the_chinese_sample(tokenizer):
    coverage = coverage_of(tokenizer, _words(t for t, _ in ZH))
    assert coverage.unit == "character"
    assert (coverage.tokens, coverage.unknown) == (ZH_CHARS, ZH_UNCOVERED_CHARS)
    assert (coverage.distinct, coverage.distinct_unknown) == (ZH_DISTINCT, len(ZH_UNCOVERED))
    assert set(coverage.examples) == ZH_UNCOVERED and coverage.examples[0] == "华"  # the most frequent
    assert coverage.describe() == "46.8% of the characters (18 of 37 distinct; 22 of 47 in all)"


def test_extension_adds_exactly_the_uncovered_characters(tokenizer):
    from transformers import AutoModelForTokenClassification

    words = _words(t for t, _ in ZH)
    new = plan(tokenizer, words)
    assert set(new.characters) == ZH_UNCOVERED and len(new.characters) == len(ZH_UNCOVERED) and new.words == ()
    known_ids = {c: tokenizer.convert_tokens_to_ids(c) for c in "王小明北京大学"}
    model = AutoModelForTokenClassification.from_pretrained(default_encoder(), num_labels=3)
    before = model.get_input_embeddings().weight.detach().clone()
    extension = extend(model, tokenizer, new, seed=0)

    assert len(tokenizer) == MINILM_VOCAB + len(ZH_UNCOVERED)
    assert sorted(extension.token_ids) == list(range(MINILM_VOCAB, MINILM_VOCAB + len(ZH_UNCOVERED)))
    assert coverage_of(tokenizer, words).unknown == 0
    ids = tokenizer("王小明在北京大学读书。", add_special_tokens=False)["input_ids"]
    assert ids[:3] == [known_ids[c] for c in "王小明"] and ids[3] == tokenizer.convert_tokens_to_ids("在") >= MINILM_VOCAB
    weight = model.get_input_embeddings().weight.detach()
    assert weight.shape == (MINILM_VOCAB + 18, 384)
    assert torch.equal(weight[:MINILM_VOCAB], before)  # existing rows untouched


def test_new_character_rows_are_distinct_draws_shaped_like_the_existing_rows(tokenizer):
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(default_encoder(), num_labels=3)
    chars = NewVocabulary(tuple("在读书华去工作住浦东张伟是老师们刘看"), ())
    extend(model, tokenizer, chars, seed=0)
    weight = model.get_input_embeddings().weight.detach()
    old, new = weight[:MINILM_VOCAB], weight[MINILM_VOCAB:]
    assert torch.cdist(new, new).fill_diagonal_(1.0).min() > 0.1  # no two new characters alike
    # norms like those of the existing rows (not the much shorter mean vector, not far outliers)
    assert old.norm(dim=1).quantile(0.01) < new.norm(dim=1).mean() < old.norm(dim=1).quantile(0.99)
    assert new.norm(dim=1).mean() > 2 * old.mean(0).norm()


def test_space_delimited_text_gets_its_characters_and_its_frequent_uncovered_words(tokenizer):
    from transformers import AutoModelForTokenClassification

    texts = ["we said ሰላም to them"] * 3 + ["and ሰሰ once"]
    new = plan(tokenizer, _words(texts), min_word_count=3)
    assert set(new.characters) == set("ሰላም") and new.words == ("ሰላም",)  # ሰሰ occurs once: not added
    model = AutoModelForTokenClassification.from_pretrained(default_encoder(), num_labels=3)
    extend(model, tokenizer, new, seed=0)
    assert tokenizer.convert_ids_to_tokens(tokenizer("we said ሰላም", add_special_tokens=False)["input_ids"]) == \
        ["we", "said", "ሰላም"]
    assert tokenizer("ሰሰ", add_special_tokens=False).tokens() == ["ሰ", "ሰ"]  # its characters are known now
    weight = model.get_input_embeddings().weight.detach()
    char_rows = weight[tokenizer.convert_tokens_to_ids(list("ሰላም"))]
    assert torch.allclose(weight[tokenizer.convert_tokens_to_ids("ሰላም")], char_rows.mean(0))


def test_a_covered_project_adds_nothing(tokenizer):
    from transformers import AutoModelForTokenClassification

    new = plan(tokenizer, _words(["the cat sat on the mat ."]))
    assert len(new) == 0
    model = AutoModelForTokenClassification.from_pretrained(default_encoder(), num_labels=3)
    assert extend(model, tokenizer, new).token_ids == ()
    assert model.get_input_embeddings().weight.shape[0] == MINILM_VOCAB
