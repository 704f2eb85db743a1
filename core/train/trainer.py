"""Fine-tuning without the database: ``train_examples`` is the training entry point the run
handler, the learning curve and the benches all call.

Trainer + peft, dynamic padding (the collator pads each batch to its longest sample), batches
of similar length in random order (core.train.sampler), a preset resolved for the data size
(core.train.presets), the new head learning faster than the encoder, dev scores from the one
inference path (core.inference: per word, the same numbers ``cli.py evaluate`` gives), the best
weights kept in memory (core.train.best), LoRA merged into a plain model on export (the adapter
kept too), optional FGM adversarial training.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import Trainer, TrainerCallback, set_seed
from transformers.trainer_utils import speed_metrics

from core.base.types import Example
from core.inference.model import from_trained
from core.inference.scoring import score_examples
from core.train import data as D
from core.train.best import KeepBest
from core.train.config import TrainConfig, training_arguments, uses_bf16
from core.train.device import Device, choose_device, peak_memory_mb, reset_peak_memory
from core.train.model import load_model, load_tokenizer
from core.train.sampler import ShuffledLengthBatches
from core.train.strategies import TRAINABLE_ROWS, apply_strategy, count, head_parameter_names, layers_below_top
from core.train.vocab import extend_for
from core.text.coverage import WordCounts

log = logging.getLogger(__name__)

# The dev metric that picks the best weights: entity F1, and macro F1 for classification
# (accuracy would favour a model that predicts the majority category of skewed labels).
BEST_METRIC = {"ner": "f1", "classification": "macro_f1"}


@dataclass
class TrainResult:
    model_dir: Path | None          # plain HF model folder (loads with transformers.pipeline)
    adapter_dir: Path | None        # LoRA adapter folder (peft), when strategy is lora
    metrics: dict                   # dev scores (core.inference.scoring.score_examples) + "split"
    trainable_params: int
    total_params: int
    peak_memory_mb: float
    train_seconds: float
    train_samples_per_second: float
    device: str
    steps: int
    config: TrainConfig | None = None  # the configuration as trained (preset resolved)
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)
    vocabulary: dict | None = None  # what a vocabulary extension added (core.train.vocab)


class TagtuneTrainer(Trainer):
    """Trainer with
    - batches of similar length in random order (core.train.sampler);
    - the new head at ``head_lr_factor`` times the encoder's learning rate;
    - one loss for every task (``compute_loss``): NER summed over labelled tokens and divided by
      the average optimiser step's count, label smoothing, class weights;
    - dev evaluation through the one inference path (``dev_scorer``), not Trainer's loop;
    - optional FGM (Miyato et al. 2017): after the normal backward pass, nudge the word
      embeddings' output along its gradient (epsilon * g / ||g||) and add the gradient of the
      loss on the perturbed input. Works when the embeddings themselves are frozen.
    """

    fgm_epsilon: float = 0.0
    head_lr_factor: float = 1.0
    embedding_learning_rate: float = 0.0  # 0: the input word embeddings train at the encoder's rate
    layer_lr_decay: float = 1.0  # each encoder layer's rate is this times the rate of the one above
    label_smoothing: float = 0.0
    class_weight: torch.Tensor | None = None  # (K,) single-label weights, or (K,) multilabel pos_weight
    # NER: labelled tokens in an average optimiser step (None: the model's own mean loss).
    tokens_per_step: float | None = None
    # model -> dev scores (keys without the "eval_" prefix); None: Trainer's own evaluation.
    dev_scorer = None
    dev_scores: dict  # global step -> the dev_scorer's full scores at that step

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

    def create_optimizer(self, model=None):
        """AdamW over groups (learning rate) x (weight decay | none). The head's rate is
        ``head_lr_factor`` times the encoder's; the word embeddings' is ``embedding_learning_rate``
        when set (rows a vocabulary extension added start untrained); with ``layer_lr_decay`` < 1
        each encoder layer's is that times the one above's (Howard & Ruder 2018, as in ELECTRA's
        fine-tuning). The scheduler scales every group alike."""
        if self.optimizer is None:
            model = self.model if model is None else model
            decay = set(self.get_decay_parameter_names(model))
            head = head_parameter_names(model)
            embedding = model.get_input_embeddings().weight
            cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
            lr = kwargs["lr"]
            depth = layers_below_top(model) if self.layer_lr_decay != 1.0 else {}
            groups: dict[tuple[float, bool], list] = {}
            for name, p in model.named_parameters():
                if not p.requires_grad:
                    continue
                if name in head:
                    rate = lr * self.head_lr_factor
                elif p is embedding and self.embedding_learning_rate:
                    rate = self.embedding_learning_rate
                else:
                    rate = lr * self.layer_lr_decay ** depth.get(name, 0)
                groups.setdefault((rate, name in decay), []).append(p)
            self.optimizer = cls([
                {"params": params, "lr": rate, "weight_decay": self.args.weight_decay if decays else 0.0}
                for (rate, decays), params in groups.items()], **kwargs)
        return self.optimizer

    def get_decay_parameter_names(self, model) -> list[str]:
        """As transformers decides, minus embeddings of which only new rows train (weight decay
        would shrink their frozen rows; see core.train.strategies.train_rows)."""
        rows_only = {name for name, p in model.named_parameters() if hasattr(p, TRAINABLE_ROWS)}
        return [name for name in super().get_decay_parameter_names(model) if name not in rows_only]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """NER: cross-entropy summed over labelled tokens and divided by a constant (the average
        optimiser step's count), not the batch's own mean. Batches of similar length differ a lot
        in tokens: with a per-batch mean every step weighs the same, so a token in a batch of
        short tweets counted several times more than one in a batch of long posts; random
        batches hide this because their token counts are alike. Classification: the batch mean,
        with class weights and label smoothing. Outside training: the model's own loss."""
        if not model.training or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs["labels"]
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"})
        logits = outputs.logits.float()  # NER (B, T, K); classification (B, K)
        if self.tokens_per_step is not None:
            loss = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), labels.flatten(), ignore_index=D.IGNORE, reduction="sum",
                label_smoothing=self.label_smoothing) / self.tokens_per_step
        elif labels.dtype.is_floating_point:  # multilabel: one yes/no decision per label
            target = labels * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
            weight = self.class_weight.to(logits.device) if self.class_weight is not None else None
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=weight)
        else:
            weight = self.class_weight.to(logits.device) if self.class_weight is not None else None
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight,
                                                     label_smoothing=self.label_smoothing)
        return (loss, outputs) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict:
        """Dev scores of the model as it is now, from ``dev_scorer`` (the inference path), logged
        and handed to the callbacks (KeepBest keeps the best weights, RunCallback writes points)."""
        if self.dev_scorer is None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        start = time.time()
        scores = self.dev_scorer(self.model)
        self.dev_scores[self.state.global_step] = scores
        metrics = {f"{metric_key_prefix}_{k}": float(v) for k, v in scores.items()
                   if isinstance(v, (int, float)) and k != "n"}
        metrics.update(speed_metrics(metric_key_prefix, start, num_samples=int(scores.get("n", 0))))
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

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


def build_trainer(config: TrainConfig, model, tokenizer, task: str, train_features: list[dict], out_dir: Path,
                  device: Device, dev_scorer=None, best_metric: str | None = None,
                  callbacks: list[TrainerCallback] = ()) -> TagtuneTrainer:
    """A TagtuneTrainer set up from a resolved config (what ``train_examples`` trains with)."""
    args = training_arguments(config, out_dir, best_metric if dev_scorer else None, device)
    trainer = TagtuneTrainer(
        model=model, args=args, train_dataset=train_features,
        # Trainer insists on an eval dataset when evaluating; dev_scorer does the scoring.
        eval_dataset=[{}] if dev_scorer else None,
        data_collator=collator(task, tokenizer), processing_class=tokenizer, callbacks=list(callbacks),
    )
    trainer.fgm_epsilon = config.fgm_epsilon
    trainer.head_lr_factor = config.head_lr_factor
    trainer.embedding_learning_rate = config.embedding_learning_rate
    trainer.layer_lr_decay = config.layer_lr_decay
    trainer.label_smoothing = config.label_smoothing
    trainer.dev_scorer = dev_scorer
    trainer.dev_scores = {}
    if task == "ner":
        trainer.weigh_tokens_alike(train_features)
    else:
        # compute_loss returns the micro-batch's mean, so the Trainer must divide it by the
        # accumulation steps (left to itself it assumes a model loss normalised by
        # num_items_in_batch and would not, doubling the gradient at grad_accum=2).
        trainer.loss_is_scaled_for_ga = False
        if config.class_weights == "balanced":
            trainer.class_weight = balanced_weights(train_features, model.config.num_labels)
    return trainer


def balanced_weights(features: list[dict], num_labels: int) -> torch.Tensor:
    """scikit-learn's "balanced" class weights, n / (K x count), for single-label targets (a
    category absent from train weighs 1); for multilabel targets, each label's positive weight
    negatives / positives (BCE's pos_weight)."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = [f["labels"] for f in features]
    if labels and isinstance(labels[0], list):  # multilabel: (n, K) 0/1 targets
        pos = torch.tensor(labels, dtype=torch.float).sum(dim=0)
        return torch.where(pos > 0, (len(labels) - pos) / pos.clamp(min=1), torch.ones_like(pos))
    present = np.unique(labels)
    weights = torch.ones(num_labels)
    weights[torch.as_tensor(present)] = torch.as_tensor(
        compute_class_weight("balanced", classes=present, y=labels) * len(present) / num_labels, dtype=torch.float)
    return weights


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
    vocabulary_words: WordCounts | None = None,
) -> TrainResult:
    """Fine-tune on ``train``, keep the best weights on ``dev`` (if any), export, score dev.

    ``labels``: entity types (NER) or categories (classification), in output order.
    ``callback``: a TrainerCallback (e.g. core.train.callback.RunCallback); a Reporter subclass
    that sets ``cancelled_by_user`` makes the result ``cancelled`` and skips the export.
    ``init_from``: a plain model folder to start from (continue training), same labels.
    Writes ``out_dir/model`` (and ``out_dir/adapter`` for LoRA); nothing else stays behind.
    ``vocabulary_words``: the texts a vocabulary extension draws from (default: train and dev).
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
    config = config.resolved(len(train), sum(len(ex.tokens) for ex in train))

    source = config.replace(model=str(init_from)) if init_from else config
    set_seed(config.seed)
    tokenizer = load_tokenizer(source)
    model = load_model(source, task, scheme.id2label, multilabel)
    new_ids: tuple[int, ...] = ()
    vocabulary = None
    if config.extend_vocabulary:
        extension = extend_for(model, tokenizer, config, vocabulary_words or WordCounts.of(
            (ex.text, ex.tokens) for ex in train + dev))
        new_ids, vocabulary = extension.token_ids, extension.vocabulary.to_json()
        notes.append(extension.note())
    model = apply_strategy(model, config, task, new_ids)
    params = count(model)
    train_features = D.encode(train, tokenizer, scheme, config.max_length, config.label_all_tokens)

    best_metric = BEST_METRIC[task]
    keep_best = KeepBest(best_metric, config.early_stopping_patience)

    on_progress = getattr(callback, "evaluating", None)  # Reporter's hook: "evaluating k/n"

    def dev_scorer(m) -> dict:
        return score_examples(from_trained(m, tokenizer, task, config.max_length, device), dev, on_progress)

    callbacks = [c for c in (callback,) if c is not None] + ([keep_best] if dev else [])
    trainer = build_trainer(config, model, tokenizer, task, train_features, out_dir / "trainer", device,
                            dev_scorer if dev else None, best_metric, callbacks)
    reset_peak_memory(device)
    start = time.perf_counter()
    output = trainer.train()
    cancelled = bool(getattr(callback, "cancelled_by_user", False))
    if dev and not cancelled and keep_best.last_eval_step != trainer.state.global_step:
        trainer.evaluate()  # the last step's weights compete too (the schedule ends there)
    seconds = time.perf_counter() - start
    if keep_best.restore(trainer.model):
        notes.append(f"kept the weights of step {keep_best.best_step} of {trainer.state.global_step} "
                     f"(best dev {best_metric} {keep_best.best:.4f})")

    model_dir = adapter_dir = None
    final = trainer.model
    if not cancelled and export:
        _phase(callback, "exporting")
        model_dir, adapter_dir, final = export_model(final, tokenizer, out_dir, config, scheme)
    metrics: dict = {}
    if dev and not cancelled:
        if final is trainer.model and keep_best.best_step in trainer.dev_scores:
            metrics = dict(trainer.dev_scores[keep_best.best_step])  # scored on exactly these weights
        else:  # LoRA merged into the exported weights: score what was exported
            _phase(callback, "scoring dev")
            metrics = score_examples(from_trained(final, tokenizer, task, config.max_length, device), dev,
                                     getattr(callback, "phase_progress", None))
        metrics["split"] = "dev"
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)
    n_samples = len(train_features) * (trainer.state.epoch or 0.0)
    return TrainResult(
        model_dir=model_dir, adapter_dir=adapter_dir, metrics=metrics,
        trainable_params=params.trainable, total_params=params.total,
        peak_memory_mb=peak_memory_mb(device), train_seconds=seconds,
        train_samples_per_second=n_samples / seconds if seconds else 0.0,
        device=device.describe(uses_bf16(config, device)), steps=output.global_step, config=config, cancelled=cancelled,
        notes=notes, vocabulary=vocabulary,
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
