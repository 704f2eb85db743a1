"""Which weights train: full, freeze (embeddings + bottom layers), LoRA (peft), BitFit.

``apply_strategy`` changes a freshly loaded model in place (or wraps it, for LoRA);
``count_parameters`` answers "how many weights will train?" before starting, on a model
built on the ``meta`` device (no weights are read, so it takes a moment, not a minute).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from core.train.config import TrainConfig

# Attention projections adapted by LoRA when the config names none (query/value as in the
# LoRA paper); peft's own table covers the rest.
LORA_TARGETS = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "xlm-roberta": ["query", "value"],
    "camembert": ["query", "value"],
    "electra": ["query", "value"],
    "albert": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "deberta": ["in_proj"],
    "deberta-v2": ["query_proj", "value_proj"],
    "mpnet": ["q", "v"],
    "modernbert": ["Wqkv"],
}


# Attribute set on an embedding weight of which only some rows train (see ``train_rows``).
TRAINABLE_ROWS = "tagtune_trainable_rows"


@dataclass(frozen=True)
class ParamCount:
    trainable: int
    total: int

    @property
    def share(self) -> float:
        return self.trainable / self.total if self.total else 0.0


def count(model: nn.Module) -> ParamCount:
    """Trainable and total parameters. For a LoRA model the total counts the base weights once
    plus the adapters (and the trained copy of the head), as peft reports it."""
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        if p.requires_grad:
            rows = getattr(p, TRAINABLE_ROWS, None)  # an embedding of which only new rows train
            trainable += p.numel() if rows is None else len(rows) * p.shape[1]
    return ParamCount(trainable, total)


def apply_strategy(model: nn.Module, config: TrainConfig, task: str, new_token_ids: Sequence[int] = ()) -> nn.Module:
    """The model with only the strategy's weights trainable (wrapped by peft for LoRA). One
    function per strategy in STRATEGY_FUNCTIONS, so a new strategy is one entry there.

    ``new_token_ids``: rows a vocabulary extension added to the input embeddings; they train
    in every strategy (they start untrained, so a strategy that froze them would learn nothing
    about the new tokens)."""
    if not config.train_word_embeddings:
        # The (vocabulary x hidden) matrix: its dense gradient and AdamW update cost a share of
        # every step although a batch touches a few hundred of its rows.
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.strategy == "lora":
        return _lora(model, config, task, new_token_ids)
    model = STRATEGY_FUNCTIONS[config.strategy](model, config, task)
    embedding = model.get_input_embeddings()
    if new_token_ids and not embedding.weight.requires_grad:
        train_rows(embedding, new_token_ids)
    return model


def train_rows(embedding: nn.Embedding, rows: Sequence[int]) -> None:
    """Let only ``rows`` of a frozen embedding train: the weight gets gradients, and a hook zeroes
    them outside ``rows``. Adam then leaves the other rows alone (zero moments give a zero step);
    the parameter is marked so the trainer exempts it from weight decay, which would otherwise
    shrink the frozen rows too, and ``count`` reports only the trainable rows."""
    import torch

    weight = embedding.weight
    mask = torch.zeros((weight.shape[0], 1), dtype=weight.dtype)  # (rows, 1)
    mask[list(rows)] = 1.0
    weight.requires_grad_(True)
    weight.register_hook(lambda grad: grad * mask.to(grad.device, grad.dtype))
    setattr(weight, TRAINABLE_ROWS, tuple(rows))


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The encoder's stack of transformer layers: the first ModuleList as long as the config's
    ``num_hidden_layers`` (works for BERT, RoBERTa, DistilBERT, DeBERTa, ELECTRA, ...)."""
    n = getattr(model.config, "num_hidden_layers", None)
    for module in model.base_model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == n:
            return module
    raise ValueError(
        f"strategy 'freeze' could not find the {n} encoder layers of a {model.config.model_type!r} model; "
        "use strategy 'full', 'lora' or 'bitfit' for this architecture"
    )


def _freeze(model: nn.Module, n_layers: int) -> nn.Module:
    layers = encoder_layers(model)
    if n_layers > len(layers):
        raise ValueError(f"freeze_layers is {n_layers} but the model has {len(layers)} layers; "
                         f"pick at most {len(layers)}")
    embeddings = getattr(model.base_model, "embeddings", None)
    frozen = ([embeddings] if embeddings is not None else []) + list(layers[:n_layers])
    for module in frozen:
        for p in module.parameters():
            p.requires_grad = False
    return model


def head_parameter_names(model: nn.Module) -> set[str]:
    """Names (as ``model.named_parameters`` gives them) of the parameters outside the base
    encoder: the task head (classifier, pre-classifier), also inside a peft wrapper."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    encoder = {id(p) for p in inner.base_model.parameters()}
    return {name for name, p in model.named_parameters() if id(p) not in encoder}


def layers_below_top(model: nn.Module) -> dict[str, int]:
    """How many encoder layers lie above each encoder parameter (for layer-wise learning-rate
    decay): 0 for the top layer, L - 1 for the bottom one, L for the embeddings; the head and
    parameters above the layers (pooler, final norm) are missing, i.e. at the top's rate.
    Found by identity through ``encoder_layers``, so it holds for any naming, also under peft."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    layers = encoder_layers(inner)
    depth = {id(p): len(layers) - 1 - i for i, layer in enumerate(layers) for p in layer.parameters()}
    embeddings = inner.get_input_embeddings()
    below = getattr(inner.base_model, "embeddings", embeddings)
    depth.update({id(p): len(layers) for p in [*below.parameters(), *embeddings.parameters()]})
    return {name: depth[id(p)] for name, p in model.named_parameters() if id(p) in depth}


def _bitfit(model: nn.Module) -> nn.Module:
    head = head_parameter_names(model)
    for name, p in model.named_parameters():
        p.requires_grad = name in head or name.endswith(".bias") or name == "bias"
    return model


def lora_targets(model_type: str, config: TrainConfig) -> list[str]:
    if config.lora_targets:
        return list(config.lora_targets)
    if model_type in LORA_TARGETS:
        return LORA_TARGETS[model_type]
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as PEFT_TARGETS

    if model_type in PEFT_TARGETS:
        return list(PEFT_TARGETS[model_type])
    raise ValueError(f"no default LoRA target modules for model type {model_type!r}: set lora_targets to the "
                     "attention projection names (e.g. query,value)")


def _lora(model: nn.Module, config: TrainConfig, task: str, new_token_ids: Sequence[int] = ()) -> nn.Module:
    from peft import LoraConfig, TaskType, get_peft_model

    head = sorted({name.split(".")[0] for name in head_parameter_names(model)})
    lora = LoraConfig(
        task_type=TaskType.TOKEN_CLS if task == "ner" else TaskType.SEQ_CLS,
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=lora_targets(model.config.model_type, config),
        modules_to_save=head,  # the new head trains in full and is saved with the adapter
        # New vocabulary rows train as peft "trainable tokens" of the input embedding: only those
        # rows get a trainable delta (a full copy in modules_to_save would train and store all
        # 30k rows), and merge_and_unload writes them into the plain exported embedding.
        trainable_token_indices=list(new_token_ids) or None,
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ValueError(f"LoRA could not adapt modules {lora.target_modules}: {exc}; "
                         "set lora_targets to module names that exist in this model") from exc


STRATEGY_FUNCTIONS = {
    "full": lambda model, config, task: model,
    "freeze": lambda model, config, task: _freeze(model, config.freeze_layers),
    "bitfit": lambda model, config, task: _bitfit(model),
    "lora": _lora,
}


def count_parameters(config: TrainConfig, task: str, num_labels: int, multilabel: bool = False) -> ParamCount:
    """Trainable/total parameters the run will have, without loading weights (meta device)."""
    import torch

    from core.train.model import load_config, model_class

    hf_config = load_config(config, task, num_labels, multilabel)
    with torch.device("meta"):
        model = model_class(task).from_config(hf_config)
    return count(apply_strategy(model, config, task))
