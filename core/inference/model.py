"""A model ready to predict: loaded from a run's exported folder, or wrapped around the model
that training holds in memory (dev scoring), placed on the device it runs on.

Models are loaded with transformers' default attention kernels (sdpa), as training does, so a
dev score computed during training and one computed later from the exported folder run the
same arithmetic. Attention weights are asked for with ``eager_attention`` (sdpa returns none).
Loaded models are cached per process (a worker or a Streamlit server loads a checkpoint once).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch

from core.base.errors import UserError
from core.train.device import Device, choose_device

DEFAULT_MAX_LENGTH = 256
CACHE_SIZE = 2


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    task: str  # "ner" | "classification"
    labels: list[str]  # id -> label name
    multilabel: bool
    max_length: int  # subword tokens per window, special tokens included
    path: str  # the model folder, or "" for a model held in memory
    device: Device

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def torch_device(self) -> torch.device:
        return next(self.model.parameters()).device


_cache: OrderedDict[tuple, LoadedModel] = OrderedDict()
_lock = threading.RLock()


def window_length(tokenizer, model_config, max_length: int | None) -> int:
    """Subwords per window: the run's ``max_length``, never more than the model takes."""
    limit = min(int(getattr(tokenizer, "model_max_length", 512) or 512), int(model_config.max_position_embeddings))
    return min(max_length or DEFAULT_MAX_LENGTH, limit)


def labels_of(model) -> list[str]:
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    return [id2label[i] for i in range(len(id2label))]


def from_trained(model, tokenizer, task: str, max_length: int | None, device: Device | None = None) -> LoadedModel:
    """Wrap a model held in memory (training's, on whatever device training put it)."""
    device = device or Device("cpu", "cpu", False, torch.get_num_threads())
    return LoadedModel(
        model=model, tokenizer=tokenizer, task=task, labels=labels_of(model),
        multilabel=model.config.problem_type == "multi_label_classification",
        max_length=window_length(tokenizer, model.config, max_length), path="", device=device,
    )


def load(checkpoint: str | os.PathLike, task: str, max_length: int | None = None,
         device: Device | None = None) -> LoadedModel:
    """The model of a checkpoint folder on the best device here, cached per process (keyed by
    path and the mtime of its config.json)."""
    path = Path(checkpoint)
    if not (path / "config.json").exists():
        raise UserError(
            f"expected a model directory with config.json at {path}, found none; "
            "the run has no usable checkpoint: train it again"
        )
    key = (str(path.resolve()), (path / "config.json").stat().st_mtime, task, max_length)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        loaded = _load_uncached(path, task, max_length, device or choose_device())
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return loaded


def _load_uncached(path: Path, task: str, max_length: int | None, device: Device) -> LoadedModel:
    from transformers import AutoTokenizer

    from core.train.model import model_class

    model = model_class(task).from_pretrained(str(path))
    model.eval()
    model.to("cuda" if device.kind == "cuda" else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    return LoadedModel(
        model=model, tokenizer=tokenizer, task=task, labels=labels_of(model),
        multilabel=model.config.problem_type == "multi_label_classification",
        max_length=window_length(tokenizer, model.config, max_length), path=str(path), device=device,
    )


def load_run(run, task: str) -> LoadedModel:
    """The model of a completed fine-tuned run (``run`` is a db Run row)."""
    if run.kind != "finetune" or not run.checkpoint:
        raise UserError(
            f"run {run.id} is a {run.kind!r} run with no model checkpoint (status {run.status}); "
            "pick a completed fine-tuning run"
        )
    return load(run.checkpoint, task, (run.config or {}).get("max_length"))


@contextlib.contextmanager
def eager_attention(lm: LoadedModel):
    """Run the model with eager attention for the duration (sdpa returns no attention weights).
    Held under the cache lock: a server thread predicting meanwhile waits rather than switch mid-way."""
    with _lock:
        before = lm.model.config._attn_implementation
        lm.model.set_attn_implementation("eager")
        try:
            yield lm.model
        finally:
            lm.model.set_attn_implementation(before)
