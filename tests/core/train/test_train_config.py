"""TrainConfig: defaults, validation messages (pinned), JSON round trip, TrainingArguments."""
import pytest

from core.base.settings import default_encoder
from core.train.config import TrainConfig, form_fields, training_arguments
from core.train.device import Device
from core.train.presets import PRESETS

CPU = Device("cpu", "cpu", False, 2)


def test_defaults_use_the_packaged_encoder_and_the_standard_preset():
    config = TrainConfig()
    assert config.model == default_encoder() and config.preset == "standard"
    assert config.strategy == "full" and config.effective_learning_rate == PRESETS["standard"].learning_rate["full"]
    assert TrainConfig(strategy="lora").effective_learning_rate == PRESETS["standard"].learning_rate["lora"]
    assert TrainConfig(strategy="lora", learning_rate=1e-4).effective_learning_rate == 1e-4


def test_old_runs_with_learning_rate_0_read_as_the_presets_rate():
    assert TrainConfig.from_json({"learning_rate": 0.0}).learning_rate is None


def test_training_arguments_refuse_a_config_whose_preset_is_not_resolved(tmp_path):
    with pytest.raises(ValueError, match="learning_rate, epochs, warmup_ratio, head_lr_factor, eval_steps left to "
                                         "the preset: call config.resolved"):
        training_arguments(TrainConfig(), tmp_path, "f1", CPU)


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
        ({"preset": "fast"}, "preset is 'fast': expected one of quick, standard, best"),
        ({"class_weights": "inverse"}, "class_weights is 'inverse': expected one of none, balanced"),
        ({"label_smoothing": 0.9}, "label_smoothing is 0.9: expected a value from 0 to 0.5"),
        ({"head_lr_factor": 0.0}, "head_lr_factor is 0.0: expected a value from 0.1 to 1000"),
        ({"warmup_ratio": 5.0}, "warmup_ratio is 5.0: expected a value from 0 to 0.99; it is a share of the steps"),
        ({"model": "  "}, "model is empty: expected a Hugging Face model id or a local model folder"),
        ({"replay_share": 0.2}, "replay_share is 0.2 but continue_from is not set"),
        ({"fgm_epsilon": -1.0}, "fgm_epsilon is -1.0: expected a value from 0 to 100"),
        ({"layer_lr_decay": 1.5}, "layer_lr_decay is 1.5: expected a value from 0.1 to 1; e.g. 0.8"),
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
    assert by_name["learning_rate"]["kind"] == "float" and by_name["learning_rate"]["default"] is None
    assert by_name["eval_steps"]["kind"] == "int" and by_name["eval_steps"]["preset"]
    assert [f["name"] for f in form_fields()][:2] == ["model", "preset"]
    assert all(f["help"] for f in form_fields())


def test_training_arguments_from_config(tmp_path):
    config = TrainConfig(strategy="bitfit", epochs=2, max_steps=7, batch_size=4, grad_accum=2, warmup_ratio=0.2,
                         scheduler="cosine", seed=5, eval_steps=3, learning_rate=1e-3).resolved(100, 10 * 100)
    args = training_arguments(config, tmp_path, "f1", CPU)
    assert args.learning_rate == 1e-3 and args.max_steps == 7 and args.per_device_train_batch_size == 4
    assert args.gradient_accumulation_steps == 2 and args.seed == 5 and args.warmup_steps == 0.2
    assert args.train_sampling_strategy == "random"  # TagtuneTrainer groups train batches by length
    # The best weights are kept in memory (core.train.best), so nothing is written while training.
    assert args.metric_for_best_model == "eval_f1" and args.save_strategy == "no" and not args.load_best_model_at_end
    assert args.eval_strategy == "steps" and args.eval_steps == 3 and args.use_cpu
    no_dev = training_arguments(TrainConfig().resolved(100, 10 * 100), tmp_path, None, CPU)
    assert no_dev.eval_strategy == "no" and no_dev.max_steps == -1


def test_precision_auto_trains_in_bf16_only_where_the_hardware_has_it(tmp_path):
    from core.train.config import uses_bf16

    native, emulated = Device("cpu", "cpu", True, 2), Device("cpu", "cpu", False, 2)
    assert uses_bf16(TrainConfig(), native) and not uses_bf16(TrainConfig(), emulated)
    assert not uses_bf16(TrainConfig(precision="fp32"), native) and uses_bf16(TrainConfig(precision="bf16"), emulated)
    assert training_arguments(TrainConfig().resolved(10, 10 * 10), tmp_path, None, native).bf16
    assert not training_arguments(TrainConfig(precision="fp32").resolved(10, 10 * 10), tmp_path, None, native).bf16
