"""Examples -> model features, and model outputs -> spans/categories.

NER alignment follows transformers' ``run_ner.py``: words go to the tokenizer with
``is_split_into_words=True`` (words come from the stored word offsets), ``word_ids()`` maps
subwords back, special tokens get -100, and later subwords of a word get -100 unless
``label_all_tokens`` (then B-X becomes I-X on them). Training truncates at ``max_length``;
prediction (core.inference) covers long texts with overlapping windows instead.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from core.text.spans import spans_to_bio
from core.text.tokenize import join_words
from core.base.types import Example, Span

IGNORE = -100  # label id the loss ignores (PyTorch CrossEntropyLoss default)


@dataclass(frozen=True)
class LabelScheme:
    """The model's output labels: BIO tags for NER, category names for classification."""

    task: str
    labels: tuple[str, ...]
    multilabel: bool = False

    @property
    def tags(self) -> list[str]:
        if self.task == "ner":
            return ["O"] + [f"{p}-{l}" for l in self.labels for p in ("B", "I")]
        return list(self.labels)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.tags))

    @property
    def label2id(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tags)}

    @property
    def problem_type(self) -> str | None:
        if self.task == "ner":
            return None
        return "multi_label_classification" if self.multilabel else "single_label_classification"

    @classmethod
    def from_id2label(cls, task: str, id2label: dict, multilabel: bool = False) -> LabelScheme:
        tags = [id2label[k] for k in sorted(id2label, key=int)]
        if task == "ner":
            names = [t[2:] for t in tags if t.startswith("B-")]
            return cls(task, tuple(names))
        return cls(task, tuple(tags), multilabel)


# ---- encoding ----------------------------------------------------------------------------------

def encode(examples: list[Example], tokenizer, scheme: LabelScheme, max_length: int,
           label_all_tokens: bool = False) -> list[dict]:
    """Features for Trainer: input_ids, attention_mask (token_type_ids) and labels per example."""
    if not examples:
        return []
    if scheme.task == "ner":
        return _encode_ner(examples, tokenizer, scheme, max_length, label_all_tokens)
    return _encode_classification(examples, tokenizer, scheme, max_length)


def _encode_ner(examples, tokenizer, scheme, max_length, label_all_tokens) -> list[dict]:
    label2id = scheme.label2id
    enc = tokenizer([ex.words for ex in examples], is_split_into_words=True, truncation=True,
                    max_length=max_length)
    features = []
    for i, ex in enumerate(examples):
        tags = spans_to_bio(ex.tokens, ex.spans)
        labels, previous = [], None
        for word in enc.word_ids(i):
            if word is None:
                labels.append(IGNORE)
            elif word != previous:
                labels.append(label2id[tags[word]])
            elif label_all_tokens:
                tag = tags[word]
                labels.append(label2id["I-" + tag[2:] if tag.startswith("B-") else tag])
            else:
                labels.append(IGNORE)
            previous = word
        features.append({**{k: enc[k][i] for k in enc.keys()}, "labels": labels})
    return features


def _encode_classification(examples, tokenizer, scheme, max_length) -> list[dict]:
    label2id = scheme.label2id
    enc = tokenizer([ex.text for ex in examples], truncation=True, max_length=max_length)
    features = []
    for i, ex in enumerate(examples):
        if scheme.multilabel:
            target: list[float] | int = [0.0] * len(label2id)
            for c in ex.categories:
                target[label2id[c]] = 1.0
        else:
            target = label2id[ex.categories[0]]
        features.append({**{k: enc[k][i] for k in enc.keys()}, "labels": target})
    return features


# ---- which samples train -----------------------------------------------------------------------

def usable(examples: list[Example], scheme: LabelScheme) -> tuple[list[Example], int]:
    """Examples the model can learn from, and how many were dropped (classification samples
    without a category, or with several in a single-label project)."""
    if scheme.task == "ner":
        return [ex for ex in examples if ex.tokens], sum(1 for ex in examples if not ex.tokens)
    keep = [
        ex for ex in examples
        if ex.categories and (scheme.multilabel or len(ex.categories) == 1)
        and all(c in scheme.labels for c in ex.categories)
    ]
    return keep, len(examples) - len(keep)


def hold_out(train: list[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Split a held-out dev set off train (used when a project has no dev split)."""
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    n_dev = max(1, round(len(train) * share))
    dev_idx = set(order[:n_dev])
    return [ex for i, ex in enumerate(train) if i not in dev_idx], [train[i] for i in sorted(dev_idx)]


def replay_mix(new: list[Example], old: list[Example], share: float, seed: int) -> list[Example]:
    """New samples plus a random ``share`` of the old ones (continue training without forgetting)."""
    k = round(len(old) * share)
    return new + random.Random(seed).sample(old, k) if k else list(new)


# ---- NER mention-swap augmentation -------------------------------------------------------------

def mention_swap(train: list[Example], share: float, seed: int) -> list[Example]:
    """Extra copies of a ``share`` of the samples with every mention replaced by a random mention
    of the same type from the training set (word lists joined with single spaces)."""
    if share <= 0:
        return []
    rng = random.Random(seed)
    pool: dict[str, list[list[str]]] = {}
    for ex in train:
        for span in ex.spans:
            words = [ex.text[s:e] for s, e in ex.tokens if s >= span.start and e <= span.end]
            if words:
                pool.setdefault(span.label, []).append(words)
    extra = []
    for ex in train:
        if ex.spans and rng.random() < share:
            extra.append(_swap(ex, pool, rng))
    return extra


def _swap(ex: Example, pool: dict[str, list[list[str]]], rng: random.Random) -> Example:
    tags = spans_to_bio(ex.tokens, ex.spans)
    words, labels = ex.words, []
    out_words: list[str] = []
    i = 0
    while i < len(words):
        if tags[i].startswith("B-"):
            label = tags[i][2:]
            j = i + 1
            while j < len(words) and tags[j] == f"I-{label}":
                j += 1
            replacement = rng.choice(pool[label])
            labels.append((len(out_words), len(out_words) + len(replacement), label))
            out_words.extend(replacement)
            i = j
        else:
            out_words.append(words[i])
            i += 1
    text, offsets = join_words(out_words)
    spans = tuple(Span(offsets[a][0], offsets[b - 1][1], l) for a, b, l in labels)
    return Example(text=text, tokens=tuple(offsets), spans=spans, split="train", meta={"augmented": True})
