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
