"""Label alignment as in run_ner.py, prediction decoding, augmentation and splits."""
import pytest
from transformers import AutoTokenizer

from core.base.settings import default_encoder
from core.text.tokenize import word_offsets
from core.train import data as D
from core.base.types import Example, Span


@pytest.fixture(scope="module")
def tok():
    return AutoTokenizer.from_pretrained(default_encoder())


def example(text, spans=(), categories=()):
    return Example(text=text, tokens=tuple(word_offsets(text)), spans=tuple(Span(*s) for s in spans),
                   categories=tuple(categories))


NER = D.LabelScheme("ner", ("PER", "LOC"))


def test_scheme_tags_and_ids():
    assert NER.tags == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert NER.label2id["I-LOC"] == 4 and NER.id2label[1] == "B-PER"
    assert D.LabelScheme.from_id2label("ner", {"0": "O", "1": "B-X", "2": "I-X"}).labels == ("X",)


def test_first_subword_gets_the_tag_the_rest_and_special_tokens_get_ignore(tok):
    text = "Zoltanovich visited Reykjavik"
    ex = example(text, [(0, 11, "PER"), (20, 29, "LOC")])
    feats = D.encode([ex], tok, NER, 64)[0]
    enc = tok(ex.words, is_split_into_words=True)
    word_ids = enc.word_ids()
    assert word_ids.count(0) > 1, "the test needs a word split into several subwords"
    labels = feats["labels"]
    assert labels[0] == D.IGNORE and labels[-1] == D.IGNORE  # [CLS], [SEP]
    firsts = [i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)]
    assert [labels[i] for i in firsts] == [NER.label2id[t] for t in ("B-PER", "O", "B-LOC")]
    later = [i for i, w in enumerate(word_ids) if w is not None and i not in firsts]
    assert later and all(labels[i] == D.IGNORE for i in later)


def test_label_all_tokens_gives_later_subwords_the_inside_tag(tok):
    ex = example("Zoltanovich slept", [(0, 11, "PER")])
    labels = D.encode([ex], tok, NER, 64, label_all_tokens=True)[0]["labels"]
    n_sub = tok(["Zoltanovich"], is_split_into_words=True).word_ids().count(0)
    assert labels[1:1 + n_sub] == [NER.label2id["B-PER"]] + [NER.label2id["I-PER"]] * (n_sub - 1)


def test_chinese_is_labelled_per_character(tok):
    ex = example("我住在北京市", [(3, 5, "LOC")])
    assert ex.words == list("我住在北京市")
    feats = D.encode([ex], tok, NER, 64)[0]
    tags = [NER.tags[i] for i in feats["labels"] if i != D.IGNORE]
    assert tags == ["O", "O", "O", "B-LOC", "I-LOC", "O"]


def test_classification_targets_single_and_multilabel(tok):
    single = D.LabelScheme("classification", ("pos", "neg"))
    multi = D.LabelScheme("classification", ("a", "b", "c"), multilabel=True)
    assert D.encode([example("good", categories=["neg"])], tok, single, 32)[0]["labels"] == 1
    assert D.encode([example("x", categories=["a", "c"])], tok, multi, 32)[0]["labels"] == [1.0, 0.0, 1.0]
    assert multi.problem_type == "multi_label_classification"
    kept, dropped = D.usable([example("x", categories=["pos", "neg"]), example("y", categories=["pos"]),
                              example("z")], single)
    assert [e.text for e in kept] == ["y"] and dropped == 2


def test_mention_swap_replaces_mentions_with_same_type_mentions():
    train = [example("Ann met Bob Lee in Oslo", [(0, 3, "PER"), (8, 15, "PER"), (19, 23, "LOC")]),
             example("Cairo is hot", [(0, 5, "LOC")])]
    extra = D.mention_swap(train, 1.0, seed=1)
    assert len(extra) == 2
    pers = {"Ann", "Bob Lee"}
    for ex in extra:
        assert ex.meta == {"augmented": True}
        for span in ex.spans:
            mention = ex.text[span.start:span.end]
            assert mention in (pers if span.label == "PER" else {"Oslo", "Cairo"})
        assert [s.label for s in ex.spans] in (["PER", "PER", "LOC"], ["LOC"])
    assert D.mention_swap(train, 0.0, seed=1) == []


def test_hold_out_and_replay_are_deterministic():
    items = [example(f"s{i}") for i in range(20)]
    train, dev = D.hold_out(items, 0.1, seed=3)
    assert len(dev) == 2 and len(train) == 18 and not set(e.text for e in dev) & set(e.text for e in train)
    assert D.hold_out(items, 0.1, seed=3) == (train, dev)
    mixed = D.replay_mix(items[:2], items[2:], 0.5, seed=1)
    assert mixed[:2] == items[:2] and len(mixed) == 11
