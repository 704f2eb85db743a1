"""A small Chinese NER sample, written here (no download), for coverage, vocabulary extension and
pretraining tests. Spans are character offsets; word tokens are one per character."""
from __future__ import annotations

ZH_LABELS = ["PER", "LOC", "ORG"]
ZH = [
    ("王小明在北京大学读书。", [(0, 3, "PER"), (4, 8, "ORG")]),
    ("李华去上海工作，住在浦东。", [(0, 2, "PER"), (3, 5, "LOC"), (10, 12, "LOC")]),
    ("张伟是清华大学的老师。", [(0, 2, "PER"), (3, 7, "ORG")]),
    ("我们明天去广州看刘德华。", [(5, 7, "LOC"), (8, 11, "PER")]),
]
# The packaged MiniLM (English uncased WordPiece) has 王 小 明 北 京 大 学 李 上 海 ... as vocabulary
# entries but not these 18 characters of the sample (the tests check this against its vocab.txt):
ZH_UNCOVERED = set("东书们伟住作刘华去在工师张是浦看老读")
ZH_CHARS = 47            # characters in the four sentences, punctuation included
ZH_UNCOVERED_CHARS = 22  # of them uncovered: 18 distinct, 在 and 去 twice, 华 three times
ZH_DISTINCT = 37


def zh_examples(repeat: int = 1, split: str = "train"):
    from core.base.types import Example, Span
    from core.text.tokenize import word_offsets

    return [Example(text=t, tokens=tuple(word_offsets(t)), spans=tuple(Span(*s) for s in spans), split=split)
            for _ in range(repeat) for t, spans in ZH]


def seed_zh_project(S, name: str = "zh", repeat: int = 6, dev: int = 1, test: int = 0) -> None:
    """A Chinese NER project: ``repeat`` copies of the sample in train, ``dev``/``test`` in those splits."""
    from core.text.tokenize import word_offsets
    from db import projects, samples

    with S.begin() as s:
        project = projects.create_project(s, name, "ner", ZH_LABELS, language="zh")
        rows = []
        for split, n in (("train", repeat), ("dev", dev), ("test", test)):
            rows += [samples.NewSample(t, word_offsets(t), split=split, status="labeled", spans=spans)
                     for _ in range(n) for t, spans in ZH]
        samples.add_samples(s, project, rows)
