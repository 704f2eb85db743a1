"""``attribution`` jobs: integrated gradients for one sample under one run, in the worker. The
Inspect page queues one when asked and shows its stored words; the same settings are reused."""
from __future__ import annotations

from core.base.errors import UserError
from core.base.store import sessions
from core.inference import predict
from core.interpret import attribution
from core.runs.context import load_run_context
from core.runs.progress import Cancelled, Progress
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run

KIND = "attribution"
PLAN = {"loading the model": 0.2, "integrating gradients": 0.8}


def queue(session, run_id: int, sample_id: int, word: int | None, steps: int = attribution.DEFAULT_STEPS) -> Run:
    """The running or completed job for these settings, else a new one."""
    model_run = run_repo.get_run(session, run_id)
    if model_run.kind != "finetune" or model_run.status != "completed" or not model_run.checkpoint:
        raise UserError(f"run {run_id} has no model to explain: expected a completed fine-tuning run, found a "
                        f"{model_run.status} {model_run.kind!r} run")
    if sample_repo.get_sample(session, sample_id).project_id != model_run.project_id:
        raise UserError(f"sample {sample_id} is not in the project of run {run_id}: pick one of its samples")
    config = {"run_id": run_id, "sample_id": int(sample_id), "word": word, "steps": int(steps),
              "checkpoint": model_run.checkpoint}
    for job in run_repo.jobs_of(session, run_id, KIND):
        if job.config == config and (job.status in run_repo.ACTIVE or job.status == "completed"):
            return job
    project = project_repo.get_project_by_id(session, model_run.project_id)
    return run_repo.create_run(session, project, KIND, config, parent_run_id=run_id,
                               name=f"attributions of sample {sample_id} under run {run_id}")


def execute(job_id: int) -> None:
    """Worker handler (core.runs.jobs contract): the attributions go to the job's metrics."""
    S = sessions()
    with S.begin() as s:
        config = load_run_context(s, job_id).config
        model_run = run_repo.get_run(s, config["run_id"])
        task = project_repo.get_project_by_id(s, model_run.project_id).task
        sample = sample_repo.get_sample(s, config["sample_id"])
        text, tokens = sample.text, [tuple(t) for t in sample.tokens]
    progress = Progress(S, job_id, PLAN)
    try:
        progress.phase("loading the model")
        lm = predict.load_run(model_run, task)
        progress.phase("integrating gradients")
        out = attribution.explain(lm, text, word_index=config["word"], steps=config["steps"], tokens=tokens)
    except Cancelled:
        with S.begin() as s:
            run_repo.finish(s, job_id, "cancelled")
        return
    progress.done()
    with S.begin() as s:
        run_repo.finish(s, job_id, "completed", metrics={**out, "sample_id": config["sample_id"]})
