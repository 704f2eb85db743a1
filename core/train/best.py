"""Keep the best weights in memory: after each dev evaluation that beats the best so far, copy the
trainable parameters; at the end, put the best copy back. Replaces transformers' checkpoint
writes and reloads (a full model to disk per evaluation) with a copy of what can change, and
carries early stopping (patience counted in evaluations without improvement)."""
from __future__ import annotations

import torch
from transformers import TrainerCallback


class KeepBest(TrainerCallback):
    def __init__(self, metric: str, patience: int = 0) -> None:
        self.metric = metric if metric.startswith("eval_") else f"eval_{metric}"
        self.patience = patience
        self.best: float | None = None
        self.best_step: int | None = None
        self.last_eval_step: int | None = None
        self._bad = 0
        self._state: dict[str, torch.Tensor] = {}

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        value = (metrics or {}).get(self.metric)
        self.last_eval_step = state.global_step
        if value is None or model is None:
            return
        if self.best is None or value > self.best:
            self.best, self.best_step, self._bad = float(value), state.global_step, 0
            self._state = {name: p.detach().to("cpu", copy=True)
                           for name, p in model.named_parameters() if p.requires_grad}
        else:
            self._bad += 1
            if self.patience and self._bad >= self.patience:
                control.should_training_stop = True

    def restore(self, model) -> bool:
        """Put the best weights back into ``model``; False when no evaluation ran."""
        if not self._state:
            return False
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name in self._state:
                    p.copy_(self._state[name].to(p.device))
        return True
