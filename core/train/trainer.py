"""Fine-tuning without the database: ``train_examples`` is the training entry point the run
handler, the learning curve and the active-learning benchmark all call.

Trainer + peft, dynamic padding (the collator pads each batch to its longest sample), batches
of similar length in random order (core.train.sampler), the best checkpoint by the dev headline
metric kept, LoRA merged into a plain model on export (the adapter kept too), optional FGM
adversarial training.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, set_seed

from core.evaluation.metrics import HEADLINE, classification_scores, ner_scores
from core.train import data as D
from core.train.config import TrainConfig, training_arguments
from core.train.device import Device, choose_device, peak_memory_mb, reset_peak_memory
from core.train.model import load_model, load_tokenizer
from core.train.sampler import ShuffledLengthBatches
from core.train.strategies import apply_strategy, count
from core.base.types import Example


@dataclass
class TrainResult:
    model_dir: Path | None          # plain HF model folder (loads with transformers.pipeline)
    adapter_dir: Path | None        # LoRA adapter folder (peft), when strategy is lora
    metrics: dict                   # dev scores (ner_scores / classification_scores) + "split"
    trainable_params: int
    total_params: int
    peak_memory_mb: float
    train_seconds: float
    train_samples_per_second: float
    device: str
    steps: int
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)


class TagtuneTrainer(Trainer):
    """Trainer with optional FGM (Miyato et al. 2017): after the normal backward pass, nudge the
    word embeddings' output along its gradient (epsilon * g / ||g||) and add the gradient of the
    loss on the perturbed input. Works when the embeddings themselves are frozen."""

    fgm_epsilon: float = 0.0
    # NER: labelled tokens in an average optimiser step (None: the model's own mean loss).
    tokens_per_step: float | None = None

    def weigh_tokens_alike(self, features: list[dict]) -> None:
        """Train with ``compute_loss``'s token-weighted NER loss on these training features.

        The loss is then already normalised over the whole accumulated step, so the Trainer must
        not divide it by the accumulation steps again (``loss_is_scaled_for_ga``)."""
        accumulation = self.args.gradient_accumulation_steps
        self.tokens_per_step = labelled_tokens_per_batch(features, self.args.train_batch_size) * accumulation
        self.loss_is_scaled_for_ga = True

    def _get_train_sampler(self, train_dataset=None):
        """Batches of similar length in random order instead of transformers' random sampler
        (see core.train.sampler for why not its group_by_length)."""
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        lengths = [len(feature["input_ids"]) for feature in dataset]
        return ShuffledLengthBatches(lengths, self.args.train_batch_size, self.args.seed)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """NER training loss as a sum over labelled tokens divided by a constant (the average
        optimiser step's count), not the batch's own mean. Batches of similar length differ a lot in
        tokens: with a per-batch mean every step weighs the same, so a token in a batch of short
        tweets counted several times more than one in a batch of long posts; random batches hide
        this because their token counts are alike. Evaluation keeps the model's mean."""
        if self.tokens_per_step is None or not model.training or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs["labels"]
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"})
        logits = outputs.logits  # (batch, T, tags)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(),
                                                 ignore_index=D.IGNORE, reduction="sum") / self.tokens_per_step
        return (loss, outputs) if return_outputs else loss

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.fgm_epsilon <= 0:
            return super().training_step(model, inputs, num_items_in_batch)
        embedding = self.model.get_input_embeddings()
        captured: dict = {}

        def keep_grad(_module, _inp, out):  # out: (batch, T, hidden)
            if not out.requires_grad:
                out = out.detach().requires_grad_(True)
            out.retain_grad()
            captured["out"] = out
            return out

        handle = embedding.register_forward_hook(keep_grad)
        try:
            loss = super().training_step(model, inputs, num_items_in_batch)
        finally:
            handle.remove()
        grad = captured["out"].grad
        if grad is None:
            return loss
        delta = self.fgm_epsilon * grad / (grad.norm() + 1e-12)
        handle = embedding.register_forward_hook(lambda _m, _i, out: out + delta)
        try:
            super().training_step(model, inputs, num_items_in_batch)
        finally:
            handle.remove()
        return loss


def train_examples(
    config: TrainConfig,
    train: list[Example],
    dev: list[Example],
    labels: list[str],
    task: str,
    out_dir: str | Path,
    multilabel: bool = False,
    callback: TrainerCallback | None = None,
    init_from: str | Path | None = None,
    device: Device | None = None,
    export: bool = True,
) -> TrainResult:
    """Fine-tune on ``train``, pick the best checkpoint on ``dev`` (if any), export, score dev.

    ``labels``: entity types (NER) or categories (classification), in output order.
    ``callback``: a TrainerCallback (e.g. core.train.callback.RunCallback); a Reporter subclass
    that sets ``cancelled_by_user`` makes the result ``cancelled`` and skips the export.
    ``init_from``: a plain model folder to start from (continue training), same labels.
    Writes ``out_dir/model`` (and ``out_dir/adapter`` for LoRA); checkpoints are removed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device or choose_device()
    scheme = D.LabelScheme(task, tuple(labels), multilabel)
    notes: list[str] = []
    train, dropped = D.usable(train, scheme)
    dev, dev_dropped = D.usable(dev, scheme)
    if dropped or dev_dropped:
        notes.append(f"skipped {dropped} train and {dev_dropped} dev samples without a usable label")
    if not train:
        raise ValueError("no labelled training samples: expected samples in the train split with status "
                         "labeled; label some or assign splits on the Data page")
    if config.mention_swap and task == "ner":
        extra = D.mention_swap(train, config.mention_swap, config.seed)
        notes.append(f"mention swap added {len(extra)} augmented samples")
        train = train + extra

    source = config.replace(model=str(init_from)) if init_from else config
    set_seed(config.seed)
    tokenizer = load_tokenizer(source)
    model = apply_strategy(load_model(source, task, scheme.id2label, multilabel), config, task)
    params = count(model)
    train_features = D.encode(train, tokenizer, scheme, config.max_length, config.label_all_tokens)
    dev_features = D.encode(dev, tokenizer, scheme, config.max_length, config.label_all_tokens)

    headline = HEADLINE[task] if dev else None
    args = training_arguments(config, out_dir / "checkpoints", headline, device)
    callbacks = [c for c in (callback,) if c is not None]
    if dev and config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = TagtuneTrainer(
        model=model,
        args=args,
        train_dataset=train_features,
        eval_dataset=dev_features or None,
        data_collator=collator(task, tokenizer),
        processing_class=tokenizer,
        compute_metrics=_dev_metrics(scheme) if dev else None,
        preprocess_logits_for_metrics=_argmax if not multilabel else None,
        callbacks=callbacks,
    )
    trainer.fgm_epsilon = config.fgm_epsilon
    if task == "ner":
        trainer.weigh_tokens_alike(train_features)
    reset_peak_memory(device)
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    cancelled = bool(getattr(callback, "cancelled_by_user", False))

    model_dir = adapter_dir = None
    final = trainer.model
    if not cancelled and export:
        _phase(callback, "exporting")
        model_dir, adapter_dir, final = export_model(final, tokenizer, out_dir, config, scheme)
    metrics: dict = {}
    if dev and not cancelled:
        _phase(callback, "scoring dev")
        metrics = score(final, tokenizer, dev, scheme, config.max_length, device,
                        on_progress=getattr(callback, "phase_progress", None))
        metrics["split"] = "dev"
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    n_samples = len(train_features) * (trainer.state.epoch or 0.0)
    return TrainResult(
        model_dir=model_dir, adapter_dir=adapter_dir, metrics=metrics,
        trainable_params=params.trainable, total_params=params.total,
        peak_memory_mb=peak_memory_mb(device), train_seconds=seconds,
        train_samples_per_second=n_samples / seconds if seconds else 0.0,
        device=device.describe(), steps=output.global_step, cancelled=cancelled, notes=notes,
    )


def _phase(callback, name: str) -> None:
    """Tell a Reporter (core.train.callback) which phase training is in after Trainer's loop."""
    if hasattr(callback, "enter"):
        callback.enter(name)


def labelled_tokens_per_batch(features: list[dict], batch_size: int) -> float:
    """Labelled (not -100) tokens in the average batch of ``batch_size`` features."""
    labelled = sum(sum(1 for label in f["labels"] if label != D.IGNORE) for f in features)
    batches = -(-len(features) // batch_size)
    return max(1.0, labelled / max(1, batches))


def collator(task: str, tokenizer):
    """Pads each batch to its own longest sample (dynamic padding); NER labels pad with -100."""
    from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

    if task == "ner":
        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=D.IGNORE)
    return DataCollatorWithPadding(tokenizer)


def _argmax(logits, labels):
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)


def _dev_metrics(scheme: D.LabelScheme):
    """Dev scores during training, from (predictions, label_ids) pairs, so they are right in any
    order, whatever sampler evaluation uses."""
    tags = scheme.tags

    def ner(pred) -> dict:
        preds, gold = np.asarray(pred.predictions), np.asarray(pred.label_ids)
        y_true, y_pred = [], []
        for p_row, g_row in zip(preds, gold):
            keep = g_row != D.IGNORE
            y_true.append([tags[i] for i in g_row[keep]])
            y_pred.append([tags[i] for i in p_row[keep]])
        s = ner_scores(y_true, y_pred)
        return {"f1": s["f1"], "precision": s["precision"], "recall": s["recall"]}

    def classification(pred) -> dict:
        gold_rows, pred_rows = _category_rows(pred.label_ids, pred.predictions, scheme)
        s = classification_scores(gold_rows, pred_rows, list(scheme.labels))
        return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}

    return ner if scheme.task == "ner" else classification


def _category_rows(label_ids, predictions, scheme: D.LabelScheme) -> tuple[list[list[str]], list[list[str]]]:
    names = scheme.tags
    if scheme.multilabel:
        gold = [[names[j] for j in np.flatnonzero(np.asarray(r) > 0.5)] for r in label_ids]
        pred = [[names[j] for j in np.flatnonzero(np.asarray(r) > 0)] for r in predictions]  # logit > 0 = p > 0.5
        return gold, pred
    return [[names[int(i)]] for i in label_ids], [[names[int(i)]] for i in np.asarray(predictions).reshape(-1)]


@torch.inference_mode()
def predict_logits(model, tokenizer, examples: list[Example], scheme: D.LabelScheme, max_length: int,
                   device: Device | None = None, batch_size: int = 64, on_progress=None) -> list[np.ndarray]:
    """Logits per example IN THE GIVEN ORDER: (T, labels) for NER, (labels,) for classification.

    Batches are formed over samples sorted by length (little padding) and put back in order.
    ``on_progress(done, total)`` is called with the number of examples done after each batch.
    """
    device = device or choose_device()
    model.eval()
    target = "cuda" if device.kind == "cuda" else "cpu"
    model.to(target)
    features = D.encode(examples, tokenizer, scheme, max_length)
    pad = collator(scheme.task, tokenizer)
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    out: list[np.ndarray | None] = [None] * len(features)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        batch = pad([{k: v for k, v in features[i].items() if k != "labels"} for i in idx])
        batch = {k: v.to(target) for k, v in batch.items()}
        with torch.autocast(target, dtype=torch.bfloat16, enabled=device.bf16):
            logits = model(**batch).logits.float().cpu().numpy()  # (B, T, L) or (B, L)
        for row, i in enumerate(idx):
            n = len(features[i]["input_ids"])
            out[i] = logits[row, :n] if scheme.task == "ner" else logits[row]
        if on_progress:
            on_progress(min(start + batch_size, len(order)), len(order))
    return out  # type: ignore[return-value]


def predict_labels(model, tokenizer, examples: list[Example], scheme: D.LabelScheme, max_length: int,
                   device: Device | None = None, on_progress=None) -> list[list[str]]:
    """Word-level BIO tags (NER) or predicted categories (classification), in input order."""
    logits = predict_logits(model, tokenizer, examples, scheme, max_length, device, on_progress=on_progress)
    if scheme.task == "ner":
        starts = D.word_starts(tokenizer, examples, max_length)
        return [D.tags_from_logits(l.argmax(-1), s, scheme) for l, s in zip(logits, starts)]
    if scheme.multilabel:
        return [[scheme.tags[j] for j in np.flatnonzero(l > 0)] for l in logits]
    return [[scheme.tags[int(l.argmax())]] for l in logits]


def score(model, tokenizer, examples: list[Example], scheme: D.LabelScheme, max_length: int,
          device: Device | None = None, on_progress=None) -> dict:
    """Entity-level seqeval scores (NER) or classification scores on ``examples``."""
    predicted = predict_labels(model, tokenizer, examples, scheme, max_length, device, on_progress=on_progress)
    if scheme.task == "ner":
        from core.text.spans import spans_to_bio

        return ner_scores([spans_to_bio(ex.tokens, ex.spans) for ex in examples], predicted)
    return classification_scores([list(ex.categories) for ex in examples], predicted, list(scheme.labels))


def export_model(model, tokenizer, out_dir: Path, config: TrainConfig, scheme: D.LabelScheme):
    """Save a plain model folder (LoRA merged in) and, for LoRA, the adapter as well."""
    adapter_dir = None
    if hasattr(model, "merge_and_unload"):  # a peft model
        adapter_dir = out_dir / "adapter"
        model.save_pretrained(adapter_dir)
        tokenizer.save_pretrained(adapter_dir)
        model = model.merge_and_unload()
    model_dir = out_dir / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (model_dir / "tagtune.json").write_text(json.dumps(
        {"task": scheme.task, "labels": list(scheme.labels), "multilabel": scheme.multilabel,
         "config": config.to_json()}, indent=2))
    return model_dir, adapter_dir, model
