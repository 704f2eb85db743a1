"""The worker's handler for ``icl`` runs (contract in core/jobs.py), and ICL as a pre-annotator.

An ICL run predicts every labelled sample of ``config.split`` (or the first ``limit``) with
demonstrations drawn from the labelled ``config.pool_split``, stores one Prediction per sample
(output, raw text or label scores, seconds), then scores those stored predictions with
core.evaluation.metrics, the code that scores fine-tuned runs. With ``config.suggest`` it runs on
unlabelled samples instead and stores suggestions with source 'llm' for the labeller.
"""
from __future__ import annotations

from dataclasses import replace

from core.icl.config import IclConfig
from core.icl.infer import IclPredictor, IclPrediction
from core.evaluation.coverage import coverage
from core.runs.progress import Cancelled, Progress
from core.evaluation.metrics import bio_pairs, classification_scores, ner_scores
from core.base.store import sessions, to_example
from core.train.device import choose_device
from core.base.types import Example, Span
from core.runs.context import load_run_context
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo


# Share of an ICL run's time per phase (core.runs.progress): the prompts dominate.
PLAN = {"loading the language model": 0.1, "choosing demonstrations": 0.05, "predicting": 0.85}


def execute(run_id: int) -> None:
    S = sessions()
    # Threads for the cores that are free now: oversubscribed OpenMP threads made a prompt pass
    # ten times slower on a busy 2-core machine (see core.train.device.training_threads).
    device = choose_device()
    with S.begin() as s:
        ctx = load_run_context(s, run_id)
        project = ctx.project(s)
        task, multilabel, project_name = ctx.task, ctx.multilabel, ctx.project_name
        config = IclConfig.from_json(ctx.config)
        labels, config = _labels_and_descriptions(s, project, config)
        pool = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[config.pool_split])]
        targets = _targets(s, project, config)
        # Labels the run can draw on: the whole pool for k-shot, none for zero-shot.
        run_repo.heartbeat(s, run_id, labels_used=len(pool) if config.shots else 0, total_steps=len(targets))
    if config.task != task:
        raise ValueError(f"the run's config is for task {config.task!r} but project {project_name!r} is {task!r}; "
                         "create the run from the project")
    if not targets:
        where = "unlabelled samples" if config.suggest else f"labelled samples in the {config.split!r} split"
        raise ValueError(f"project {project_name!r} has no {where}: expected at least one; "
                         "import or label samples, or pick another split")
    if config.shots and not pool:
        raise ValueError(f"project {project_name!r} has no labelled samples in {config.pool_split!r} to draw "
                         f"{config.shots} demonstrations from; label some, or run zero-shot with --shots 0")

    progress = Progress(S, run_id, PLAN)

    def loading(fraction: float, message: str) -> None:
        print(f"[tagtune] {message}", flush=True)
        progress(int(1000 * fraction), 1000)

    try:
        progress.phase("loading the language model")
        predictor = IclPredictor(config, labels, pool, project_id=ctx.project_id, multilabel=multilabel,
                                 progress=loading)
        progress.phase("choosing demonstrations")
        predictor.prepare(targets)
        with S.begin() as s:
            run_repo.heartbeat(s, run_id, total_params=predictor.lm.params, device=device.describe())
        progress.phase("predicting")
        status = _predict_all(S, run_id, predictor, targets, config, progress)
    except Cancelled:
        with S.begin() as s:
            run_repo.finish(s, run_id, "cancelled")
        return
    with S.begin() as s:
        stored = run_repo.predictions(s, run_id)
        metrics = summarise(task, labels, targets, stored, config, suggest=config.suggest)
        metrics["load_seconds"] = round(predictor.lm.seconds, 2)
        if status == "completed":
            run_repo.heartbeat(s, run_id, progress=1.0, phase=None, phase_progress=None, phase_started_at=None)
        run_repo.finish(s, run_id, status, metrics=metrics)


def _labels_and_descriptions(s, project, config: IclConfig) -> tuple[list[str], IclConfig]:
    rows = project_repo.labels_of(s, project)
    described = {l.name: l.description for l in rows if l.description}
    merged = {**described, **config.label_descriptions}
    return [l.name for l in rows], replace(config, label_descriptions=merged)


def _targets(s, project, config: IclConfig) -> list[Example]:
    if config.suggest:
        rows = sample_repo.iter_labeled(s, project, statuses=("unlabeled",))
    else:
        rows = sample_repo.iter_labeled(s, project, splits=[config.split])
    out = []
    for row in rows:
        out.append(to_example(row))
        if config.limit and len(out) >= config.limit:
            break
    return out


def _predict_all(S, run_id: int, predictor: IclPredictor, targets: list[Example], config: IclConfig,
                 progress: Progress | None = None) -> str:
    """Predict and store chunk by chunk; 'cancelled' when asked to stop.

    Classification stores every sample (a prompt pass can take seconds on a CPU); NER stores each
    generated batch, and a cancel also ends a batch's generation early (it is then discarded),
    so the worker never has to kill a run that was asked to stop.
    """
    def cancelled() -> bool:
        with S.begin() as s:
            return run_repo.cancel_requested(s, run_id)

    step = 1 if config.task == "classification" else config.batch_size
    done, seconds, dropped, correct = 0, 0.0, 0, 0
    for start in range(0, len(targets), step):
        if cancelled():
            return "cancelled"
        chunk = targets[start:start + step]
        predictions = predictor.predict(chunk, should_stop=cancelled)
        if cancelled():
            return "cancelled"
        with S.begin() as s:
            for example, pred in zip(chunk, predictions):
                run_repo.save_prediction(s, run_id, example.id, pred.output, raw=pred.raw, seconds=pred.seconds)
                if config.suggest:
                    store_suggestion(s, example, pred, run_id)
            done += len(chunk)
            seconds += sum(p.seconds for p in predictions)
            dropped += sum(len(p.dropped) for p in predictions)
            correct += sum(_exact(ex, p) for ex, p in zip(chunk, predictions))
            point = {"seconds_per_sample": seconds / done}
            if config.task == "ner":
                point["dropped_mentions"] = dropped
            if not config.suggest:
                point["exact_match"] = correct / done
            run_repo.add_points(s, run_id, step=done, epoch=None, values=point)
        if progress is not None:
            try:
                progress(done, len(targets))
            except Cancelled:
                return "cancelled"
    return "completed"


def _exact(example: Example, pred: IclPrediction) -> bool:
    """Running score for the live chart: the whole sample right (all spans, or the category set)."""
    if "categories" in pred.output:
        return set(pred.output["categories"]) == set(example.categories)
    return {tuple(s) for s in pred.output["spans"]} == {(s.start, s.end, s.label) for s in example.spans}


def store_suggestion(s, example: Example, pred: IclPrediction, run_id: int | None = None) -> None:
    """Suggestions with source 'llm' and a confidence per span / category, like model suggestions."""
    if "spans" in pred.output:
        spans = [(a, b, l, c) for (a, b, l), c in zip(pred.output["spans"], pred.confidences)]
        sample_repo.replace_suggestions(s, example.id, "llm", spans=spans, run_id=run_id)
    else:
        cats = [(l, float(pred.output["scores"][l])) for l in pred.output["categories"]]
        sample_repo.replace_suggestions(s, example.id, "llm", categories=cats, run_id=run_id)


def summarise(task: str, labels: list[str], targets: list[Example], stored, config: IclConfig, suggest: bool = False) -> dict:
    """Run.metrics from the stored predictions: core.evaluation.metrics scores plus ICL extras."""
    by_id = {p.sample_id: p for p in stored}
    gold = [ex for ex in targets if ex.id in by_id]
    outputs = [by_id[ex.id].output for ex in gold]
    metrics: dict = {}
    if not suggest and gold:
        if task == "ner":
            predicted = [[Span(int(a), int(b), str(l)) for a, b, l in o.get("spans", [])] for o in outputs]
            metrics = ner_scores(*bio_pairs(gold, predicted))
        else:
            metrics = classification_scores([list(ex.categories) for ex in gold], [o.get("categories", []) for o in outputs], labels)
    seconds = [by_id[ex.id].seconds for ex in gold]
    metrics.update({
        "split": "unlabeled" if suggest else config.split,
        **coverage(ex.id for ex in gold),  # n and the fingerprint of the samples scored
        "seconds_per_sample": round(sum(seconds) / len(seconds), 4) if seconds else None,
        "shots": config.shots,
        "selection": config.selection,
        "calibrate": config.calibrate,
    })
    if suggest:
        metrics["suggested"] = len(gold)
    if task == "ner":
        metrics["dropped_mentions"] = sum(_count_dropped(by_id[ex.id].raw, labels, ex) for ex in gold)
    return metrics


def _count_dropped(raw: str | None, labels: list[str], example: Example) -> int:
    # Recomputed from the stored raw text, so the count always matches what the page shows.
    from core.icl import ner

    return len(ner.locate(example.text, example.tokens, ner.parse(raw or "", labels)).dropped)

