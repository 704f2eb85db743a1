"""Coverage counting without a model: word-token counts, the unit, the figures and the sentence."""
from collections import Counter

from core.text.coverage import Coverage, WordCounts, characters_of, measure
from core.text.tokenize import word_offsets
from tests.zh_sample import ZH, ZH_CHARS, ZH_DISTINCT


def _counts(texts):
    return WordCounts.of((t, word_offsets(t)) for t in texts)


def test_chinese_text_counts_characters_and_english_text_counts_words():
    zh = _counts([t for t, _ in ZH])
    assert zh.total == ZH_CHARS and len(zh.counts) == ZH_DISTINCT
    assert zh.counts["华"] == 3
    en = _counts(["the cat saw the dog ."])
    assert en.counts == Counter({"the": 2, "cat": 1, "saw": 1, "dog": 1, ".": 1})
    assert measure(zh, lambda ws: [False] * len(ws)).unit == "character"
    assert measure(en, lambda ws: [False] * len(ws)).unit == "word"


def test_measure_weighs_each_word_type_by_its_occurrences():
    words = _counts(["the zyx saw the zyx zyx ."])  # the x2, zyx x3, saw, .
    coverage = measure(words, lambda ws: [w == "zyx" for w in ws])
    assert (coverage.tokens, coverage.unknown, coverage.distinct, coverage.distinct_unknown) == (7, 3, 4, 1)
    assert coverage.share == 3 / 7 and coverage.examples == ("zyx",)
    assert coverage.describe() == "42.9% of the words (1 of 4 distinct; 3 of 7 in all)"


def test_the_checker_is_asked_once_with_every_distinct_word():
    calls = []
    measure(_counts(["a b a b c"]), lambda ws: calls.append(list(ws)) or [False] * len(ws))
    assert calls == [["a", "b", "c"]]


def test_coverage_round_trips_through_json_and_empty_text_is_fully_covered():
    c = Coverage("character", 10, 4, 5, 2, ("在", "读"), "<unk>")
    assert Coverage.from_json(c.to_json()) == c
    empty = measure(WordCounts(Counter()), lambda ws: [])
    assert empty.share == 0.0 and empty.tokens == 0


def test_characters_of_keeps_first_seen_order_and_skips_spaces():
    assert characters_of(["北京", "京 都", "a"]) == ["北", "京", "都", "a"]
