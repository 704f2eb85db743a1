"""The one prediction path. Public entry points:

- ``core.inference.model.load(folder, task)`` / ``load_run(run, task)``: a run's exported model
  on the best device here (CUDA with bf16 where supported, else the CPU with training's thread
  choice), cached per process; ``from_trained(model, tokenizer, task, max_length)`` wraps the
  model training holds in memory;
- ``core.inference.predict.predict_texts(lm, [(text, word offsets)], on_progress=...)`` and
  ``predict_examples(lm, examples)``: per-word tags and distributions (NER) or category scores,
  in the order given, batched by tokens over length-sorted windows;
- ``core.inference.scoring.score_examples(lm, examples)``: seqeval / classification scores and a
  dev loss, the numbers training stores and ``cli.py evaluate`` reports.

``on_progress(done, total)`` counts texts finished; see ``core.inference.predict``.
"""
