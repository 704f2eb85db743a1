"""Masked-language-model training on a project's texts (the body of a ``pretrain`` run; its
configuration is ``core.train.pretrain.PretrainConfig``).

Masking is per token (BERT's 15%, 80/10/10), which for Chinese after vocabulary extension is per
character: each character is one token. Whole-word masking for Chinese would need a word
segmenter; transformers' whole-word collator finds words by touching character offsets, which
in unspaced Chinese would mask whole clauses, so it is not used.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer

from core.text.coverage import WordCounts
from core.train.pretrain import CHECKPOINT_FILE, EVAL_MAX_TEXTS, PretrainConfig, pretraining_arguments
from core.train.sampler import ShuffledLengthBatches


# ---- masking and loss ---------------------------------------------------------------------------

class MaskingCollator:
    """Pads a batch and masks it (transformers' DataCollatorForLanguageModeling, per token).
    Features that already carry ``labels`` (the fixed held-out masks) are only padded.

    Masks come from torch's global generator, which ``set_seed`` seeds: the collator's own
    ``seed`` refuses to run outside a DataLoader worker when the process is not the main one,
    and every run executes in a child of the worker."""

    def __init__(self, tokenizer, probability: float) -> None:
        from transformers import DataCollatorForLanguageModeling, DataCollatorForTokenClassification

        self.mask = DataCollatorForLanguageModeling(tokenizer, mlm_probability=probability)
        self.pad = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=-100)

    def __call__(self, features: list[dict]) -> dict:
        if "labels" in features[0]:
            return self.pad(features)
        return self.mask(features)


class PretrainTrainer(Trainer):
    """A Trainer whose loss runs the masked-LM head on the masked positions only.

    The head's decoder maps each position to the whole vocabulary (33k x 384 after extending
    MiniLM: more work per position than a transformer layer); only the ~15% masked positions
    have a target, so the other 85% of that work is skipped. Models whose head is not a ``cls``
    (BERT) or ``lm_head`` (RoBERTa, XLM-R) module use their own loss."""

    def _get_train_sampler(self, train_dataset=None):
        """Batches of similar length in random order, as fine-tuning uses (core.train.sampler):
        padding each batch to its longest text then wastes little."""
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        return ShuffledLengthBatches([len(f["input_ids"]) for f in dataset], self.args.train_batch_size,
                                     self.args.seed)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        head = getattr(model, "cls", None) or getattr(model, "lm_head", None)
        if head is None or return_outputs or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs["labels"]
        hidden = model.base_model(**{k: v for k, v in inputs.items() if k != "labels"}).last_hidden_state  # (B, T, H)
        keep = labels != -100
        logits = head(hidden[keep])  # (masked positions, vocab)
        return torch.nn.functional.cross_entropy(logits.float(), labels[keep])


@dataclass
class PretrainResult:
    model_dir: Path | None
    metrics: dict
    notes: list[str]
    seconds: float
    steps: int
    texts: int
    total_params: int
    cancelled: bool = False
    vocabulary: dict | None = None


def pretrain_texts(config: PretrainConfig, items: list[tuple[str, Any]], out_dir: str | Path,
                   callback=None, device=None) -> PretrainResult:
    """Masked-LM training on ``items`` ((text, word offsets) pairs); exports ``out_dir/model``."""
    from transformers import AutoModelForMaskedLM, set_seed

    from core.train.device import choose_device
    from core.train.model import load_tokenizer_of, model_source
    from core.train.strategies import count
    from core.train.vocab import extend_for

    out_dir, device = Path(out_dir), device or choose_device()
    items = [(t, tok) for t, tok in items if tok]
    if not items:
        raise ValueError("no texts to pretrain on: expected samples in the train, dev or unassigned split; "
                         "import texts (labelled or not) first")
    rng = random.Random(config.seed)
    if config.max_texts and len(items) > config.max_texts:
        items = rng.sample(items, config.max_texts)
    set_seed(config.seed)
    notes: list[str] = []
    tokenizer = load_tokenizer_of(config.model)
    model, info = AutoModelForMaskedLM.from_pretrained(model_source(config.model), output_loading_info=True)
    if any(k.startswith(("cls.", "lm_head.")) for k in info.get("missing_keys", ())):
        # all-MiniLM-L6-v2 is a sentence-transformers BertModel: it ships no masked-LM head. The
        # head's transform and bias start fresh; its decoder is tied to the word embeddings.
        notes.append("the model had no masked-LM head (e.g. a sentence-transformers encoder): a new one was "
                     "initialised, its output layer tied to the word embeddings")
    vocabulary = None
    if config.extend_vocabulary:
        extension = extend_for(model, tokenizer, config, WordCounts.of(items))
        vocabulary = extension.vocabulary.to_json()
        notes.append(extension.note())
    model.tie_weights()
    train_items, eval_items = _hold_out(items, config.eval_share, rng)
    encode = lambda batch: _encode(tokenizer, batch, config.max_length)  # noqa: E731
    eval_features = _fixed_masks(MaskingCollator(tokenizer, config.mlm_probability), encode(eval_items),
                                 config.seed) if eval_items else None
    trainer = PretrainTrainer(
        model=model,
        args=pretraining_arguments(config, out_dir / "checkpoints", bool(eval_items), device),
        train_dataset=encode(train_items),
        eval_dataset=eval_features,
        data_collator=MaskingCollator(tokenizer, config.mlm_probability),
        processing_class=tokenizer,
        callbacks=[callback] if callback is not None else [],
    )
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    cancelled = bool(getattr(callback, "cancelled_by_user", False))
    metrics: dict = {"train_loss": output.training_loss}
    if eval_items and not cancelled:
        last = [h for h in trainer.state.log_history if "eval_loss" in h]
        at_end = last and last[-1].get("step") == output.global_step
        loss = last[-1]["eval_loss"] if at_end else trainer.evaluate()["eval_loss"]
        metrics.update({"dev_loss": loss, "perplexity": math.exp(min(loss, 50.0)), "dev_texts": len(eval_items)})
    model_dir = None if cancelled else _export(trainer.model, tokenizer, out_dir, config, vocabulary)
    return PretrainResult(model_dir, metrics, notes, seconds, output.global_step, len(train_items),
                          count(model).total, cancelled, vocabulary)


def _hold_out(items: list, share: float, rng: random.Random) -> tuple[list, list]:
    if share <= 0 or len(items) < 20:
        return list(items), []
    order = list(range(len(items)))
    rng.shuffle(order)
    n = min(EVAL_MAX_TEXTS, max(1, round(len(items) * share)))
    held = set(order[:n])
    return [x for i, x in enumerate(items) if i not in held], [items[i] for i in sorted(held)]


def _encode(tokenizer, items: list[tuple[str, Any]], max_length: int) -> list[dict]:
    """Token ids per text, from its word tokens (``is_split_into_words``, as fine-tuning does)."""
    if not items:
        return []
    enc = tokenizer([[t[s:e] for s, e in tokens] for t, tokens in items], is_split_into_words=True,
                    truncation=True, max_length=max_length, return_special_tokens_mask=True)
    return [{k: enc[k][i] for k in enc.keys()} for i in range(len(items))]


def _fixed_masks(collator: MaskingCollator, features: list[dict], seed: int) -> list[dict]:
    """The held-out texts masked once, so every evaluation scores the same masked positions;
    drawn from a forked generator so training's masks do not depend on the held-out share."""
    with torch.random.fork_rng():
        torch.manual_seed(seed + 1)
        return _rows(collator.mask(features))


def _rows(batch: dict) -> list[dict]:
    """A collated (padded, masked) batch back into per-text features without the padding."""
    out = []
    for i in range(batch["input_ids"].shape[0]):
        n = int(batch["attention_mask"][i].sum())
        out.append({k: v[i, :n].tolist() for k, v in batch.items() if k != "special_tokens_mask"})
    return out


def _export(model, tokenizer, out_dir: Path, config: PretrainConfig, vocabulary: dict | None) -> Path:
    model_dir = out_dir / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (model_dir / CHECKPOINT_FILE).write_text(json.dumps(
        {"kind": "pretrain", "config": config.to_json(), "vocabulary": vocabulary}, indent=2))
    return model_dir
