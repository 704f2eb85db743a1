"""Loading the encoder with a fresh head sized for the label scheme."""
from __future__ import annotations

from pathlib import Path

from core.train.config import TrainConfig

RUN_PREFIX = "run:"  # a model field naming an earlier run's exported model: run:12

# Config attributes that carry dropout in the common encoder families.
DROPOUT_ATTRIBUTES = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
                      "dropout", "attention_dropout", "seq_classif_dropout")


def model_class(task: str):
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    return AutoModelForTokenClassification if task == "ner" else AutoModelForSequenceClassification


def model_source(model: str) -> str:
    """What ``from_pretrained`` loads for a model field: a local folder, a hub id, or ``run:N``
    (the model an earlier run exported, e.g. a domain-adaptive pretraining run)."""
    model = model.strip()
    if model.startswith(RUN_PREFIX):
        from core.train.models import run_model_folder

        return run_model_folder(model)
    path = Path(model).expanduser()
    if path.exists() and not (path / "config.json").exists():
        raise ValueError(f"model folder {path} has no config.json: expected a Hugging Face model folder "
                         "(config.json, weights, tokenizer files); pick another folder or a model id")
    return str(path) if path.exists() else model


def _source(config: TrainConfig) -> str:
    return model_source(config.model)


def load_config(config: TrainConfig, task: str, num_labels: int, multilabel: bool = False, id2label=None):
    from transformers import AutoConfig

    try:
        hf = AutoConfig.from_pretrained(_source(config))
    except OSError as exc:
        raise ValueError(f"cannot load model {config.model!r}: {str(exc).splitlines()[0]}; give a local folder "
                         "or a model id already in the Hugging Face cache (Tagtune runs offline)") from exc
    hf.num_labels = num_labels
    if id2label is not None:
        hf.id2label = {int(k): v for k, v in id2label.items()}
        hf.label2id = {v: int(k) for k, v in id2label.items()}
    if task != "ner":
        hf.problem_type = "multi_label_classification" if multilabel else "single_label_classification"
    for attr in DROPOUT_ATTRIBUTES:
        if isinstance(getattr(hf, attr, None), float) or getattr(hf, attr, 0) is None and attr == "classifier_dropout":
            setattr(hf, attr, config.dropout)
    return hf


def load_tokenizer(config: TrainConfig):
    return load_tokenizer_of(config.model)


def load_tokenizer_of(model: str):
    """The fast tokenizer of a model field (id, folder or ``run:N``)."""
    from transformers import AutoTokenizer

    config = TrainConfig(model=model)
    try:
        tok = AutoTokenizer.from_pretrained(_source(config))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load a tokenizer for {config.model!r}: {str(exc).splitlines()[0]}; the model "
                         "folder needs its tokenizer files") from exc
    if not getattr(tok, "is_fast", False):
        raise ValueError(f"the tokenizer of {config.model!r} is not a fast tokenizer: word alignment needs "
                         "word_ids(); use a model with tokenizer.json")
    return tok


def load_model(config: TrainConfig, task: str, id2label: dict[int, str], multilabel: bool = False):
    """Pretrained encoder + new head (or the earlier run's head when continuing)."""
    hf = load_config(config, task, len(id2label), multilabel, id2label)
    return model_class(task).from_pretrained(_source(config), config=hf, ignore_mismatched_sizes=True)
