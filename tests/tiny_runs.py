"""Tiny trained models registered as completed runs, for evaluation / inspection tests (seconds on a CPU).

A BERT with hidden size 32 and two layers, the MiniLM tokenizer, id2label/label2id set,
saved as a plain Hugging Face directory and registered as a completed fine-tuning run, which
is exactly what the trainer leaves behind. ``fit`` trains it briefly so it predicts something.
"""
from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import torch

from core.base.settings import default_encoder
from core.text.spans import spans_to_bio
from core.text.tokenize import word_offsets
from core.base.types import Span
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo

NER_TYPES = ("PER", "LOC")
NER_TAGS = ["O"] + [f"{p}-{t}" for t in NER_TYPES for p in ("B", "I")]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank"]
PLACES = ["Paris", "Berlin", "Lagos", "Lima", "Oslo", "New York"]
CATEGORIES = ["pos", "neg"]


def ner_text(i: int) -> tuple[str, list[tuple[int, int, str]]]:
    name, place = NAMES[i % len(NAMES)], PLACES[(i * 5) % len(PLACES)]
    text = f"{name} flew to {place} on Monday ."
    s = text.index(place)
    return text, [(0, len(name), "PER"), (s, s + len(place), "LOC")]


def cls_text(i: int) -> tuple[str, str]:
    good = ["great", "lovely", "excellent"][i % 3]
    bad = ["awful", "terrible", "poor"][i % 3]
    return (f"the film was {good} indeed", "pos") if i % 2 == 0 else (f"the film was {bad} indeed", "neg")


def make_model(path: Path, task: str, labels: list[str], seed: int = 0) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertForTokenClassification

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(default_encoder())
    config = BertConfig(
        vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )
    cls = BertForTokenClassification if task == "ner" else BertForSequenceClassification
    model = cls(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def fit(path: Path, task: str, examples: list, steps: int = 60, lr: float = 3e-3) -> None:
    """A few full-batch AdamW steps (plain torch) so the tiny model learns the toy pattern."""
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    cls = AutoModelForTokenClassification if task == "ner" else AutoModelForSequenceClassification
    model = cls.from_pretrained(path)
    label2id = model.config.label2id
    if task == "ner":
        words = [[t[s:e] for s, e in word_offsets(t)] for t, _ in examples]
        enc = tok(words, is_split_into_words=True, padding=True, return_tensors="pt")
        targets = []
        for i, (text, spans) in enumerate(examples):
            tags = spans_to_bio(word_offsets(text), [Span(*s) for s in spans])
            prev, row = None, []
            for wid in enc.word_ids(i):
                row.append(-100 if wid is None or wid == prev else label2id[tags[wid]])
                prev = wid
            targets.append(row)
        labels = torch.tensor(targets)
    else:
        enc = tok([t for t, _ in examples], padding=True, return_tensors="pt")
        labels = torch.tensor([label2id[c] for _, c in examples])
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = model(**enc, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(path)


def ner_project(S, name: str = "toyner", n: int = 24, unlabeled: int = 6) -> int:
    """A labelled NER project: train/dev/test thirds plus some unlabelled samples. Returns its id."""
    with S.begin() as s:
        project = project_repo.create_project(s, name, "ner", list(NER_TYPES))
        rows = []
        for i in range(n):
            text, spans = ner_text(i)
            split = ("train", "dev", "test")[i % 3]
            rows.append(sample_repo.NewSample(text, word_offsets(text), split=split, status="labeled", spans=spans))
        for i in range(unlabeled):
            text, _ = ner_text(i + 100)
            rows.append(sample_repo.NewSample(text, word_offsets(text)))
        sample_repo.add_samples(s, project, rows)
        return project.id


def cls_project(S, name: str = "toycls", n: int = 18, unlabeled: int = 4) -> int:
    with S.begin() as s:
        project = project_repo.create_project(s, name, "classification", CATEGORIES)
        rows = []
        for i in range(n):
            text, cat = cls_text(i)
            rows.append(
                sample_repo.NewSample(text, word_offsets(text), split=("train", "dev", "test")[i % 3],
                                      status="labeled", categories=[cat])
            )
        for i in range(unlabeled):
            text, _ = cls_text(i)
            rows.append(sample_repo.NewSample(text + " !", word_offsets(text + " !")))
        sample_repo.add_samples(s, project, rows)
        return project.id


def finetune_run(S, project_id: int, checkpoint: Path, config: dict | None = None) -> int:
    """Register ``checkpoint`` as a completed fine-tuning run of the project."""
    with S.begin() as s:
        project = project_repo.get_project_by_id(s, project_id)
        run = run_repo.create_run(s, project, "finetune", config or {"model": str(checkpoint)}, status="running")
        run_repo.finish(s, run.id, "completed", metrics={}, checkpoint=str(checkpoint))
        return run.id


@functools.cache
def _trained(task: str, steps: int) -> Path:
    """Train each (task, steps) model once per test session; tests get their own copy."""
    path = Path(tempfile.mkdtemp(prefix=f"tiny-{task}-{steps}-"))
    if task == "ner":
        make_model(path, "ner", NER_TAGS)
        examples = [ner_text(i) for i in range(12)]
    else:
        make_model(path, "classification", CATEGORIES)
        examples = [cls_text(i) for i in range(12)]
    if steps:
        fit(path, task, examples, steps=steps)
    return path


def trained_model(task: str, steps: int, dest: Path) -> Path:
    shutil.copytree(_trained(task, steps), dest)
    return dest


def trained_ner_run(S, tmp_path: Path, name: str = "toyner", steps: int = 40) -> tuple[int, int]:
    """(project id, run id) of a NER project with a briefly trained tiny model."""
    pid = ner_project(S, name)
    return pid, finetune_run(S, pid, trained_model("ner", steps, tmp_path / f"{name}-model"))


def trained_cls_run(S, tmp_path: Path, name: str = "toycls", steps: int = 40) -> tuple[int, int]:
    pid = cls_project(S, name)
    return pid, finetune_run(S, pid, trained_model("classification", steps, tmp_path / f"{name}-model"))
