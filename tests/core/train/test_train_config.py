"""TrainConfig: defaults, validation messages (pinned), JSON round trip, TrainingArguments."""
import pytest

from core.base.settings import default_encoder
from core.train.config import TrainConfig, form_fields, training_arguments
from core.train.device import Device

CPU = Device("cpu", "cpu", False, 2)


def test_defaults_use_the_packaged_encoder_and_validate():
    config = TrainConfig()
    assert config.model == default_encoder()
    assert config.strategy == "full" and config.effective_learning_rate == 5e-5
    assert TrainConfig(strategy="lora").effective_learning_rate == 5e-4
    assert TrainConfig(strategy="lora", learning_rate=1e-4).effective_learning_rate == 1e-4


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"strategy": "prune"}, "strategy is 'prune': expected one of full, freeze, lora, bitfit"),
        ({"learning_rate": 3.0}, "learning_rate is 3.0: expected a value from 0 to 1; typical values are 1e-5 to 1e-3"),
        ({"batch_size": 0}, "batch_size is 0: expected a value from 1 to 4096"),
        ({"batch_size": 2.5}, "batch_size is 2.5: expected a whole number; use 2"),
        ({"epochs": "three"}, "epochs is 'three': expected a number"),
        ({"label_all_tokens": "yes"}, "label_all_tokens is 'yes': expected true or false"),
        ({"scheduler": "step"}, "scheduler is 'step': expected one of linear, cosine"),
        ({"warmup_ratio": 5.0}, "warmup_ratio is 5.0: expected a value from 0 to 0.99; it is a share of the steps"),
        ({"model": "  "}, "model is empty: expected a Hugging Face model id or a local model folder"),
        ({"replay_share": 0.2}, "replay_share is 0.2 but continue_from is not set"),
        ({"fgm_epsilon": -1.0}, "fgm_epsilon is -1.0: expected a value from 0 to 100"),
    ],
)
def test_bad_values_are_named_with_the_fix(changes, message):
    with pytest.raises(ValueError) as err:
        TrainConfig(**changes)
    assert message in str(err.value)


def test_json_round_trip_and_unknown_keys():
    config = TrainConfig(strategy="lora", lora_targets="query, key", epochs=2, continue_from=3, replay_share=0.5)
    assert config.lora_targets == ("query", "key")
    data = config.to_json()
    assert data["lora_targets"] == ["query", "key"]
    assert TrainConfig.from_json(data) == config
    with pytest.raises(ValueError, match="unknown training setting 'epoch': expected one of"):
        TrainConfig.from_json({"epoch": 3})


def test_form_fields_carry_help_and_bounds():
    by_name = {f["name"]: f for f in form_fields()}
    assert by_name["strategy"]["choices"] == ("full", "freeze", "lora", "bitfit")
    assert by_name["lora_rank"]["only_for"] == "lora"
    assert by_name["batch_size"]["kind"] == "int" and by_name["batch_size"]["min"] == 1
    assert all(f["help"] for f in form_fields())


def test_training_arguments_from_config(tmp_path):
    config = TrainConfig(strategy="bitfit", epochs=2, max_steps=7, batch_size=4, grad_accum=2, warmup_ratio=0.2,
                         scheduler="cosine", seed=5, eval_steps=3)
    args = training_arguments(config, tmp_path, "f1", CPU)
    assert args.learning_rate == 1e-3 and args.max_steps == 7 and args.per_device_train_batch_size == 4
    assert args.gradient_accumulation_steps == 2 and args.seed == 5 and args.warmup_steps == 0.2
    assert args.train_sampling_strategy == "random"  # evaluation in order; TagtuneTrainer groups train batches
    assert args.metric_for_best_model == "eval_f1" and args.load_best_model_at_end
    assert args.eval_strategy == "steps" and args.eval_steps == 3 and args.use_cpu
    no_dev = training_arguments(TrainConfig(), tmp_path, None, CPU)
    assert no_dev.eval_strategy == "no" and not no_dev.load_best_model_at_end and no_dev.max_steps == -1
