"""Generated entity lists for Chinese text: full-width colons, Chinese label names, 无 for none,
mentions located character by character."""
from __future__ import annotations

from core.base.types import Span
from core.icl import ner
from core.text.tokenize import word_offsets


def test_full_width_colons_and_chinese_label_names_are_read():
    assert ner.parse("人名：王小明\n地名: 北京\n机构名：北京大学", ["人名", "地名", "机构名"]).pairs == [
        ("人名", "王小明"), ("地名", "北京"), ("机构名", "北京大学")]
    assert ner.parse("PER：王小明\nLOC：北京", ["PER", "LOC", "ORG"]).pairs == [("PER", "王小明"), ("LOC", "北京")]
    assert ner.parse("无", ["PER"]).pairs == [] and ner.parse("无", ["PER"]).unknown == []


def test_chinese_mentions_are_located_on_character_tokens_and_hallucinations_dropped():
    text = "王小明在北京大学读书。"
    parsed = ner.parse("PER: 王小明\nORG: 北京大学\nLOC: 上海", ["PER", "LOC", "ORG"])
    located = ner.locate(text, word_offsets(text), parsed)
    assert located.spans == [Span(0, 3, "PER"), Span(4, 8, "ORG")]
    assert located.dropped == [("LOC", "上海")]


def test_generated_chinese_split_over_byte_tokens_decodes_whole():
    """A byte-level BPE (as SmolLM2's) spells an unseen Chinese character with three tokens; the
    per-token texts must join to the real text, not to replacement characters."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(["PER: Alice\nLOC: Paris"] * 20, trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe)
    answer = "PER: 王小明\nLOC: 北京"
    ids = tokenizer(answer)["input_ids"]
    assert len(ids) > len(answer)  # several tokens per Chinese character
    pieces = ner._piece_texts(tokenizer, ids)
    assert len(pieces) == len(ids) and "".join(pieces) == answer and "\ufffd" not in "".join(pieces)
    assert ner.parse("".join(pieces), ["PER", "LOC"]).pairs == [("PER", "王小明"), ("LOC", "北京")]
