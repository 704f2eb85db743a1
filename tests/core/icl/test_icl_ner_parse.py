"""Reading messy generated entity lists, and dropping mentions that are not in the text."""
from __future__ import annotations

from core.icl import ner
from core.text.tokenize import word_offsets
from core.base.types import Span

LABELS = ["person", "location", "group", "creative-work", "corporation", "product"]


def pairs(raw: str) -> list[tuple[str, str]]:
    return ner.parse(raw, LABELS).pairs


def test_plain_lines_bullets_numbering_quotes_and_casing():
    raw = (
        "person: Justin Bieber\n"
        "- Location: \"New York\"\n"
        "* PRODUCT : 'iPhone'\n"
        "2. creative work: Star Wars\n"
        "• corporation – Apple\n"
        "none\n"
        "Some chatter without a separator\n"
    )
    assert pairs(raw) == [
        ("person", "Justin Bieber"),
        ("location", "New York"),
        ("product", "iPhone"),
        ("creative-work", "Star Wars"),
        ("corporation", "Apple"),
    ]


def test_synonyms_plurals_and_reversed_order():
    raw = "PER: Obama\nORG: Google\nplaces: Paris\nLondon (LOC)\nMadonna: person\nmovie: Frozen"
    assert pairs(raw) == [
        ("person", "Obama"), ("corporation", "Google"), ("location", "Paris"),
        ("location", "London"), ("person", "Madonna"), ("creative-work", "Frozen"),
    ]


def test_json_object_and_list_of_records():
    assert pairs('```json\n{"person": ["Ann", "Bo"], "location": "Rome"}\n```') == [
        ("person", "Ann"), ("person", "Bo"), ("location", "Rome")
    ]
    assert pairs('[{"type": "group", "text": "Coldplay"}, {"label": "Product", "mention": "Xbox"}]') == [
        ("group", "Coldplay"), ("product", "Xbox")
    ]


def test_unknown_types_are_kept_apart():
    parsed = ner.parse("date: Monday\nperson: Ann", LABELS)
    assert parsed.pairs == [("person", "Ann")]
    assert parsed.unknown == [("date", "Monday")]


def locate(text: str, raw: str) -> ner.Located:
    return ner.locate(text, word_offsets(text), ner.parse(raw, LABELS))


def test_mentions_map_to_token_spans_and_absent_ones_are_dropped_and_counted():
    text = "saw justin bieber in new  york , then Paris"
    found = locate(text, "person: Justin Bieber\nlocation: New York\nlocation: Berlin\nperson: Lady Gaga")
    assert found.spans == [Span(4, 17, "person"), Span(21, 30, "location")]
    assert found.dropped == [("location", "Berlin"), ("person", "Lady Gaga")]


def test_every_occurrence_is_labelled_and_longer_mentions_win_overlaps():
    text = "New York fans love New York Knicks"
    found = locate(text, "location: New York\ngroup: New York Knicks")
    assert found.spans == [Span(0, 8, "location"), Span(19, 34, "group")]


def test_partial_word_matches_snap_to_whole_tokens_and_lists_split():
    text = "Bought two iPhones and a Pixel today"
    found = locate(text, "product: iPhone, Pixel")
    assert found.spans == [Span(11, 18, "product"), Span(25, 30, "product")]
    assert found.dropped == []
