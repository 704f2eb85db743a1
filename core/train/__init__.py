"""Fine-tuning. Public entry points:

- ``core.train.trainer.train_examples(config, train, dev, labels, task, out_dir, ...) -> TrainResult``
  (no database; the run handler, the learning curve and the benches call it);
- ``core.train.runner.execute(run_id)`` (the worker's handler for ``finetune`` runs);
- ``core.train.launch.create_finetune_run(session, project_name, config)`` (queue a run; the
  stored config has its preset resolved for the project's train split);
- ``core.train.config.TrainConfig`` (one frozen dataclass; ``resolved(n_train, n_words)`` fills
  what the preset decides, ``core.train.presets``) and ``core.train.strategies.count_parameters``.

Dev scores come from ``core.inference`` (the one prediction path); the best weights are kept in
memory (``core.train.best``). Model loading (``core.train.model``) and strategies
(``core.train.strategies.STRATEGY_FUNCTIONS``) are the places to extend for new model sources
and ways of training.
"""
