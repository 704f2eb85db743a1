"""KeepBest: the weights of the best dev evaluation come back at the end; patience stops early."""
import torch
from transformers import TrainerControl, TrainerState

from core.train.best import KeepBest


def evaluate(keeper: KeepBest, model, step: int, f1: float) -> TrainerControl:
    state, control = TrainerState(), TrainerControl()
    state.global_step = step
    keeper.on_evaluate(None, state, control, metrics={"eval_f1": f1}, model=model)
    return control


def test_the_best_evaluations_weights_are_restored_and_frozen_ones_untouched():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 2))
    model[1].weight.requires_grad_(False)
    keeper = KeepBest("f1")
    assert not keeper.restore(model)  # nothing evaluated yet
    evaluate(keeper, model, 10, 0.2)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    best = model[0].weight.detach().clone()
    evaluate(keeper, model, 20, 0.5)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    evaluate(keeper, model, 30, 0.4)
    assert keeper.restore(model) and keeper.best_step == 20 and keeper.best == 0.5
    assert torch.equal(model[0].weight, best)
    assert set(keeper._state) == {"0.weight", "0.bias", "1.bias"}  # frozen weights are not copied


def test_patience_counts_evaluations_without_improvement():
    model = torch.nn.Linear(2, 2)
    keeper = KeepBest("eval_f1", patience=2)
    assert not evaluate(keeper, model, 1, 0.5).should_training_stop
    assert not evaluate(keeper, model, 2, 0.4).should_training_stop
    assert not evaluate(keeper, model, 3, 0.6).should_training_stop  # improvement resets the count
    assert not evaluate(keeper, model, 4, 0.6).should_training_stop  # equal is no improvement
    assert evaluate(keeper, model, 5, 0.1).should_training_stop
