"""Tiny encoders made on the fly for fast training tests (no download, seconds to train)."""
from __future__ import annotations

from pathlib import Path


def make_tiny_model(folder: Path) -> Path:
    """A 2-layer, 32-wide BERT with the packaged MiniLM tokenizer, saved in ``folder``."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from core.base.settings import default_encoder

    folder = Path(folder)
    if (folder / "config.json").exists():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(default_encoder())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


PEOPLE = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank"]
PLACES = ["Paris", "Berlin", "Tokyo", "Lima", "Oslo", "Cairo"]


def ner_texts(n: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Sentences with PER and LOC mentions as (text, [(start, end, label)])."""
    out = []
    for i in range(n):
        person, place = PEOPLE[i % len(PEOPLE)], PLACES[(i * 5) % len(PLACES)]
        filler = " very" * (i % 7)
        text = f"Yesterday {person} flew to {place} and it was{filler} nice ."
        p, q = text.index(person), text.index(place)
        out.append((text, [(p, p + len(person), "PER"), (q, q + len(place), "LOC")]))
    return out


def classification_texts(n: int) -> list[tuple[str, str]]:
    good = ["great drug , worked well", "excellent results and no side effects", "I feel much better now"]
    bad = ["terrible side effects", "it did not help at all", "awful , made me sick"]
    return [(good[i % 3] + " !" * (i % 4), "positive") if i % 2 == 0 else (bad[i % 3] + " ." * (i % 4), "negative")
            for i in range(n)]


def ner_examples(n: int, split: str = "train"):
    from core.text.tokenize import word_offsets
    from core.base.types import Example, Span

    return [Example(text=t, tokens=tuple(word_offsets(t)), spans=tuple(Span(*s) for s in spans), split=split)
            for t, spans in ner_texts(n)]


def classification_examples(n: int, split: str = "train"):
    from core.text.tokenize import word_offsets
    from core.base.types import Example

    return [Example(text=t, tokens=tuple(word_offsets(t)), categories=(c,), split=split)
            for t, c in classification_texts(n)]


def seed_project(S, name: str, task: str = "ner", n_train: int = 24, n_dev: int = 8) -> None:
    """A project with labelled train and dev samples, written through the repositories."""
    from core.text.tokenize import word_offsets
    from db import projects, samples

    with S.begin() as s:
        if task == "ner":
            project = projects.create_project(s, name, "ner", ["PER", "LOC"])
            rows = ner_texts(n_train + n_dev)
            new = [samples.NewSample(t, word_offsets(t), split="train" if i < n_train else "dev", status="labeled",
                                     spans=spans) for i, (t, spans) in enumerate(rows)]
        else:
            project = projects.create_project(s, name, "classification", ["positive", "negative"])
            rows = classification_texts(n_train + n_dev)
            new = [samples.NewSample(t, word_offsets(t), split="train" if i < n_train else "dev", status="labeled",
                                     categories=[c]) for i, (t, c) in enumerate(rows)]
        samples.add_samples(s, project, new)
