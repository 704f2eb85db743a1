"""A few real training steps per strategy on a tiny model; exports load in transformers.pipeline."""
import json

import pytest
import torch
from transformers import AutoModelForTokenClassification, TrainerCallback, pipeline

from core.inference import model as inference_model
from core.inference.predict import predict_examples
from core.inference.scoring import score_examples
from core.train import data as D
from core.train.callback import MemoryReporter
from core.train.config import TrainConfig
from core.train.trainer import train_examples
from tests.tiny_models import classification_examples, ner_examples


def quick(tiny_model, **changes):
    base = dict(model=str(tiny_model), max_steps=4, batch_size=8, log_every=1, eval_steps=2, learning_rate=1e-3)
    return TrainConfig(**{**base, **changes})


@pytest.mark.parametrize("strategy", ["full", "freeze", "lora", "bitfit"])
def test_ner_strategy_trains_exports_and_tags(tiny_model, tmp_path, strategy):
    reporter = MemoryReporter()
    result = train_examples(quick(tiny_model, strategy=strategy, freeze_layers=1), ner_examples(24),
                            ner_examples(8, "dev"), ["PER", "LOC"], "ner", tmp_path, callback=reporter)
    assert result.steps == 4 and not result.cancelled
    assert 0 < result.trainable_params <= result.total_params
    assert {"f1", "precision", "recall", "per_label", "split"} <= set(result.metrics)
    assert result.metrics["split"] == "dev"
    names = {name for _, _, name, _ in reporter.points}
    assert {"loss", "learning_rate", "samples_per_second", "dev_f1", "dev_loss"} <= names
    assert (result.adapter_dir is not None) == (strategy == "lora")
    assert not (tmp_path / "checkpoints").exists()
    config = json.loads((result.model_dir / "config.json").read_text())
    assert config["id2label"]["1"] == "B-PER" and config["label2id"]["I-LOC"] == 4
    tagger = pipeline("token-classification", model=str(result.model_dir))
    out = tagger("Alice flew to Paris")
    assert all(o["entity"] in D.LabelScheme("ner", ("PER", "LOC")).tags for o in out)


def test_lora_export_is_a_plain_model_with_the_adapter_kept(tiny_model, tmp_path):
    result = train_examples(quick(tiny_model, strategy="lora"), ner_examples(16), ner_examples(4, "dev"),
                            ["PER", "LOC"], "ner", tmp_path)
    assert (result.adapter_dir / "adapter_config.json").exists()
    plain = AutoModelForTokenClassification.from_pretrained(result.model_dir)
    assert not any("lora" in n for n, _ in plain.named_parameters())


@pytest.mark.parametrize("label_all_tokens", [False, True])
def test_the_run_keeps_its_best_dev_weights_and_scores_them_per_word(tiny_model, tmp_path, label_all_tokens):
    reporter = MemoryReporter()
    dev = ner_examples(12, "dev")
    result = train_examples(quick(tiny_model, max_steps=6, label_all_tokens=label_all_tokens, eval_steps=2),
                            ner_examples(24), dev, ["PER", "LOC"], "ner", tmp_path, callback=reporter)
    curve = [(step, value) for step, _, name, value in reporter.points if name == "dev_f1"]
    assert [step for step, _ in curve] == [2, 4, 6]
    # The exported weights are the best evaluation's: the run's score is the top of its curve.
    assert result.metrics["f1"] == max(value for _, value in curve)
    # ...and it is the inference path's per-word score of the exported model, to the last bit.
    lm = inference_model.load(result.model_dir, "ner", 256)
    assert score_examples(lm, dev)["f1"] == result.metrics["f1"]
    assert [len(p.tags) for p in predict_examples(lm, dev)] == [len(ex.tokens) for ex in dev]


@pytest.mark.parametrize("multilabel", [False, True])
def test_classification_trains_and_loads_in_text_classification(tiny_model, tmp_path, multilabel):
    train = classification_examples(24)
    result = train_examples(quick(tiny_model, strategy="full"), train, classification_examples(8, "dev"),
                            ["positive", "negative"], "classification", tmp_path, multilabel=multilabel)
    assert {"accuracy", "macro_f1", "confusion", "split"} <= set(result.metrics)
    config = json.loads((result.model_dir / "config.json").read_text())
    expected = "multi_label_classification" if multilabel else "single_label_classification"
    assert config["problem_type"] == expected
    out = pipeline("text-classification", model=str(result.model_dir))("great drug , worked well")
    assert out[0]["label"] in ("positive", "negative")


def test_fgm_and_mention_swap_train(tiny_model, tmp_path):
    result = train_examples(quick(tiny_model, strategy="freeze", freeze_layers=2, fgm_epsilon=1.0, mention_swap=0.5),
                            ner_examples(16), ner_examples(4, "dev"), ["PER", "LOC"], "ner", tmp_path)
    assert result.steps == 4 and any("mention swap added" in n for n in result.notes)


def test_a_cancelled_run_stops_early_and_exports_nothing(tiny_model, tmp_path):
    reporter = MemoryReporter(stop_after_step=2)
    result = train_examples(quick(tiny_model, max_steps=50), ner_examples(24), ner_examples(4, "dev"),
                            ["PER", "LOC"], "ner", tmp_path, callback=reporter)
    assert result.cancelled and result.steps == 2 and result.model_dir is None and result.metrics == {}


def test_no_training_samples_is_a_clear_error(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="no labelled training samples"):
        train_examples(quick(tiny_model), [], [], ["PER"], "ner", tmp_path)


def test_training_batches_hold_samples_of_similar_length(tiny_model, tmp_path):
    from core.train.config import training_arguments
    from core.train.device import Device
    from core.train.model import load_model, load_tokenizer
    from core.train.trainer import TagtuneTrainer, collator

    config = quick(tiny_model, batch_size=4).resolved(40, 10 * 40)
    scheme = D.LabelScheme("ner", ("PER", "LOC"))
    tokenizer = load_tokenizer(config)
    features = D.encode(ner_examples(40), tokenizer, scheme, config.max_length)
    args = training_arguments(config, tmp_path, None, Device("cpu", "cpu", False, 1))
    trainer = TagtuneTrainer(model=load_model(config, "ner", scheme.id2label), args=args, train_dataset=features,
                             data_collator=collator("ner", tokenizer), processing_class=tokenizer)
    batches = list(trainer.get_train_dataloader())
    padded = sum(b["input_ids"].numel() for b in batches)
    real = sum(int(b["attention_mask"].sum()) for b in batches)
    assert sum(len(b["input_ids"]) for b in batches) == len(features)
    assert padded <= 1.06 * real  # random batches of these 10-16 token samples pad ~20%


def test_ner_training_loss_weighs_every_labelled_token_alike(tiny_model, tmp_path):
    import torch

    from core.train.config import training_arguments
    from core.train.device import Device
    from core.train.model import load_model, load_tokenizer
    from core.train.trainer import TagtuneTrainer, collator, labelled_tokens_per_batch

    config = quick(tiny_model, batch_size=4).resolved(10, 10 * 10)
    scheme = D.LabelScheme("ner", ("PER", "LOC"))
    tokenizer = load_tokenizer(config)
    features = D.encode(ner_examples(10), tokenizer, scheme, config.max_length)
    labelled = sum(sum(1 for x in f["labels"] if x != D.IGNORE) for f in features)
    assert labelled_tokens_per_batch(features, 4) == pytest.approx(labelled / 3)  # 10 samples = 3 batches
    model = load_model(config, "ner", scheme.id2label)
    trainer = TagtuneTrainer(model=model, args=training_arguments(config, tmp_path, None, Device("cpu", "cpu", False, 1)),
                             train_dataset=features, data_collator=collator("ner", tokenizer))
    trainer.weigh_tokens_alike(features)
    assert trainer.tokens_per_step == pytest.approx(labelled / 3)
    accumulating = TagtuneTrainer(model=model, args=training_arguments(config.replace(grad_accum=2), tmp_path, None,
                                                                       Device("cpu", "cpu", False, 1)),
                                  train_dataset=features, data_collator=collator("ner", tokenizer))
    accumulating.weigh_tokens_alike(features)  # the loss is normalised over both batches of a step
    assert accumulating.tokens_per_step == pytest.approx(2 * labelled / 3)
    trainer.tokens_per_step = 50.0
    short, long = features[0:2], features[5:7]
    model.eval()  # no dropout, so the loss is a function of the weights only
    for pair in (short, long):
        batch = collator("ner", tokenizer)(pair)
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
        ce = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), reduction="sum")
        model.train()
        for m in model.modules():  # training mode without dropout, to compare like with like
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
        assert trainer.compute_loss(model, dict(batch)).item() == pytest.approx(ce.item() / 50.0, rel=1e-4)
        model.eval()
        assert trainer.compute_loss(model, dict(batch)).item() == pytest.approx(
            ce.item() / int((batch["labels"] != D.IGNORE).sum()), rel=1e-4)  # evaluation: the model's mean


class GradientsBeforeTheStep(TrainerCallback):
    """The gradient the optimiser is about to apply, per parameter name."""

    def __init__(self):
        self.grads = {}

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def first_step_gradient(tiny_model, tmp_path, task, examples, labels, batch_size, grad_accum):
    from transformers import set_seed

    from core.train.device import Device
    from core.train.model import load_model, load_tokenizer
    from core.train.trainer import build_trainer

    config = quick(tiny_model, max_steps=1, batch_size=batch_size, grad_accum=grad_accum, dropout=0.0,
                   warmup_ratio=0.0).resolved(len(examples), sum(len(ex.tokens) for ex in examples))
    scheme = D.LabelScheme(task, tuple(labels))
    tokenizer = load_tokenizer(config)
    features = D.encode(examples, tokenizer, scheme, config.max_length)
    set_seed(0)  # the same fresh head in both runs
    model = load_model(config, task, scheme.id2label)
    capture = GradientsBeforeTheStep()
    trainer = build_trainer(config, model, tokenizer, task, features, tmp_path / f"ga{grad_accum}",
                            Device("cpu", "cpu", False, 1), callbacks=[capture])
    trainer.args.max_grad_norm = 1e9  # clipping would bring both to the same norm and hide a wrong scale
    trainer.train()
    return capture.grads


@pytest.mark.parametrize("task", ["ner", "classification"])
def test_two_micro_batches_with_grad_accum_2_give_the_gradient_of_one_step_on_their_union(tiny_model, tmp_path,
                                                                                            task):
    examples, labels = (ner_examples(8), ["PER", "LOC"]) if task == "ner" else \
        (classification_examples(8), ["positive", "negative"])
    accumulated = first_step_gradient(tiny_model, tmp_path, task, examples, labels, batch_size=4, grad_accum=2)
    union = first_step_gradient(tiny_model, tmp_path, task, examples, labels, batch_size=8, grad_accum=1)
    assert accumulated.keys() == union.keys() and len(union) > 10
    for name, grad in union.items():
        assert grad.abs().sum() > 0 or accumulated[name].abs().sum() == 0
        torch.testing.assert_close(accumulated[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_balanced_class_weights_are_inverse_frequencies():
    from core.train.trainer import balanced_weights

    # 6 of class 0, 2 of class 1, none of class 2: n / (K x count), and 1 for an absent class.
    weights = balanced_weights([{"labels": 0}] * 6 + [{"labels": 1}] * 2, 3)
    torch.testing.assert_close(weights, torch.tensor([8 / 18, 8 / 6, 1.0]))
    multi = balanced_weights([{"labels": [1.0, 0.0]}, {"labels": [1.0, 1.0]}, {"labels": [0.0, 0.0]}], 2)
    torch.testing.assert_close(multi, torch.tensor([0.5, 2.0]))  # negatives / positives per label


def tiny_ner_optimizer(tiny_model, tmp_path, **changes):
    """(model, optimizer) of a tiny NER trainer with ``changes`` to the quick config."""
    from core.train.device import Device
    from core.train.model import load_model, load_tokenizer
    from core.train.trainer import build_trainer

    config = quick(tiny_model, **changes).resolved(8, 80)
    scheme = D.LabelScheme("ner", ("PER", "LOC"))
    tokenizer = load_tokenizer(config)
    model = load_model(config, "ner", scheme.id2label)
    features = D.encode(ner_examples(8), tokenizer, scheme, config.max_length)
    optimizer = build_trainer(config, model, tokenizer, "ner", features, tmp_path, Device("cpu", "cpu", False, 1)
                              ).create_optimizer()
    return model, optimizer


def test_the_head_learns_head_lr_factor_times_faster_than_the_encoder(tiny_model, tmp_path):
    model, optimizer = tiny_ner_optimizer(tiny_model, tmp_path, learning_rate=1e-4, head_lr_factor=10.0)
    rate = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    decay = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert rate[id(named["classifier.weight"])] == pytest.approx(1e-3)
    assert rate[id(named["bert.encoder.layer.0.attention.self.query.weight"])] == pytest.approx(1e-4)
    assert decay[id(named["classifier.bias"])] == 0.0 and decay[id(named["classifier.weight"])] == 0.01
    assert len(rate) == sum(1 for p in model.parameters() if p.requires_grad)


def test_layer_lr_decay_gives_each_layer_decay_times_the_rate_of_the_one_above(tiny_model, tmp_path):
    model, optimizer = tiny_ner_optimizer(tiny_model, tmp_path, learning_rate=1e-4, head_lr_factor=10.0,
                                          layer_lr_decay=0.5)
    by_id = {id(g_p): g["lr"] for g in optimizer.param_groups for g_p in g["params"]}
    rate = {name: by_id[id(p)] for name, p in model.named_parameters() if id(p) in by_id}
    top = model.config.num_hidden_layers - 1
    assert rate["classifier.weight"] == pytest.approx(1e-3)  # the head is not decayed
    assert rate[f"bert.encoder.layer.{top}.output.dense.weight"] == pytest.approx(1e-4)
    for layer in range(top):
        assert rate[f"bert.encoder.layer.{layer}.attention.self.query.weight"] == pytest.approx(1e-4 * 0.5 ** (top - layer))
    embeddings = 1e-4 * 0.5 ** (top + 1)
    assert rate["bert.embeddings.word_embeddings.weight"] == pytest.approx(embeddings)
    assert rate["bert.embeddings.LayerNorm.weight"] == pytest.approx(embeddings)
    assert len(rate) == sum(1 for p in model.parameters() if p.requires_grad)
