"""Which weights train under each strategy, counted before training (meta device) and after."""
import pytest

from core.train.config import TrainConfig
from core.train.model import load_model
from core.train.strategies import apply_strategy, count, count_parameters, encoder_layers, lora_targets

TAGS = {0: "O", 1: "B-PER", 2: "I-PER"}


def trained(config, task="ner"):
    model = load_model(config, task, TAGS if task == "ner" else {0: "a", 1: "b"})
    return apply_strategy(model, config, task)


def names(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_full_trains_everything(tiny_model):
    model = trained(TrainConfig(model=str(tiny_model)))
    c = count(model)
    assert c.trainable == c.total > 900_000


def test_freeze_freezes_embeddings_and_bottom_layers(tiny_model):
    model = trained(TrainConfig(model=str(tiny_model), strategy="freeze", freeze_layers=1))
    train = names(model)
    assert not any(n.startswith("bert.embeddings") or ".layer.0." in n for n in train)
    assert any(".layer.1." in n for n in train) and "classifier.weight" in train
    assert len(encoder_layers(model)) == 2
    with pytest.raises(ValueError, match="freeze_layers is 5 but the model has 2 layers; pick at most 2"):
        trained(TrainConfig(model=str(tiny_model), strategy="freeze", freeze_layers=5))


def test_bitfit_trains_biases_and_the_head_only(tiny_model):
    train = names(trained(TrainConfig(model=str(tiny_model), strategy="bitfit")))
    assert "classifier.weight" in train
    assert all(n.endswith("bias") or n.startswith("classifier") for n in train)
    assert any(n.startswith("bert.") for n in train)


def test_lora_adapts_query_value_and_trains_the_head(tiny_model):
    model = trained(TrainConfig(model=str(tiny_model), strategy="lora", lora_rank=4))
    train = names(model)
    assert any("query.lora_A" in n for n in train) and any("value.lora_B" in n for n in train)
    assert not any("key.lora" in n for n in train)
    assert any("classifier" in n for n in train)
    # rank 4 on a 32-wide query and value in 2 layers: 2 layers x 2 modules x (32*4 + 4*32)
    head = 32 * 3 + 3
    assert count(model).trainable == 2 * 2 * (32 * 4 + 4 * 32) + head
    assert lora_targets("distilbert", TrainConfig()) == ["q_lin", "v_lin"]
    with pytest.raises(ValueError, match="no default LoRA target modules for model type 'nonesuch'"):
        lora_targets("nonesuch", TrainConfig())


@pytest.mark.parametrize("strategy", ["full", "freeze", "lora", "bitfit"])
@pytest.mark.parametrize("task", ["ner", "classification"])
def test_count_before_training_matches_the_real_model(tiny_model, strategy, task):
    config = TrainConfig(model=str(tiny_model), strategy=strategy, freeze_layers=1)
    before = count_parameters(config, task, 3 if task == "ner" else 2)
    after = count(trained(config, task))
    assert before == after
