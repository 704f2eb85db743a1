"""Fine-tuning. Public entry points:

- ``core.train.trainer.train_examples(config, train, dev, labels, task, out_dir, ...) -> TrainResult``
  (no database; the learning curve and active-learning benchmark call it),
- ``core.train.runner.execute(run_id)`` (the worker's handler for ``finetune`` runs),
- ``core.train.launch.create_finetune_run(session, project_name, config)`` (queue a run),
- ``core.train.config.TrainConfig`` and ``core.train.strategies.count_parameters``.
"""
