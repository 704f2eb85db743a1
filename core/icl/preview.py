"""``icl_preview`` jobs: the exact prompt for one sample (and, when asked, the LM's raw output
and parsed prediction), built in the worker. Loading the LM takes from seconds to minutes (the
first GGUF conversion), so the ICL page never does it in its script thread: it queues a preview,
watches its phases and shows the stored result. A preview with the same settings and sample that
already completed is reused, not recomputed.
"""
from __future__ import annotations

from core.base.errors import UserError
from core.base.store import sessions, to_example
from core.icl.config import IclConfig
from core.icl.infer import IclPredictor
from core.icl.lm import load_lm
from core.icl.runner import _labels_and_descriptions
from core.runs.context import load_run_context
from core.runs.progress import Cancelled, Progress
from db import projects as project_repo
from db import runs as run_repo
from db import samples as sample_repo
from db.models import Run

KIND = "icl_preview"
PLAN = {"loading the language model": 0.7, "choosing demonstrations": 0.15, "predicting": 0.15}


def _config(icl: IclConfig, sample_id: int, predict: bool) -> dict:
    return {"icl": icl.to_json(), "sample_id": int(sample_id), "predict": bool(predict)}


def queue(session, project_name: str, icl: IclConfig, sample_id: int, predict: bool = False) -> Run:
    """The preview job for these settings and sample: a running or completed one when there is
    one (a completed prediction also answers a prompt-only preview), else a new one."""
    project = project_repo.get_project(session, project_name)
    if icl.task != project.task:
        raise UserError(f"the ICL settings are for task {icl.task!r} but project {project_name!r} is "
                        f"{project.task!r}; build them for this project")
    if sample_repo.get_sample(session, sample_id).project_id != project.id:  # NotFound names a wrong id
        raise UserError(f"sample {sample_id} is not in project {project_name!r}: pick one of its samples")
    wanted = _config(icl, sample_id, predict)
    for run in run_repo.list_runs(session, project, kinds=[KIND]):
        same = run.config == wanted or (not predict and run.config == _config(icl, sample_id, True))
        if same and (run.status in run_repo.ACTIVE or run.status == "completed"):
            return run
    what = "prompt and output" if predict else "prompt"
    return run_repo.create_run(session, project, KIND, wanted, name=f"ICL {what} for sample {sample_id}")


def execute(job_id: int) -> None:
    """Worker handler (core.runs.jobs contract): the preview goes to the job's metrics."""
    S = sessions()
    with S.begin() as s:
        ctx = load_run_context(s, job_id)
        icl = IclConfig.from_json(ctx.config["icl"])
        sample_id, predict = int(ctx.config["sample_id"]), bool(ctx.config["predict"])
        project = ctx.project(s)
        labels, icl = _labels_and_descriptions(s, project, icl)
        pool = [to_example(r) for r in sample_repo.iter_labeled(s, project, splits=[icl.pool_split])]
        example = to_example(next(sample_repo.iter_labeled(s, project, statuses=None, sample_ids=[sample_id])))
        project_id, multilabel = project.id, project.multilabel
    progress = Progress(S, job_id, PLAN if predict else {k: v for k, v in PLAN.items() if k != "predicting"})
    try:
        progress.phase("loading the language model")
        lm = load_lm(icl.lm, lambda fraction, message: progress(int(1000 * fraction), 1000))
        predictor = IclPredictor(icl, labels, pool, project_id, multilabel, lm=lm)
        progress.phase("choosing demonstrations")
        predictor.prepare([example])
        parts = predictor.parts(example)
        out = {"sample_id": sample_id, "prompt": parts.prompt, "demo_ids": [d.id for d in parts.demos],
               "lm": lm.name, "load_seconds": round(lm.seconds, 2)}
        if predict:
            progress.phase("predicting")
            (pred,) = predictor.predict([example], should_stop=progress.cancelled)
            progress.check_cancel()
            out.update(output=pred.output, raw=pred.raw, seconds=round(pred.seconds, 3),
                       dropped=[list(d) for d in pred.dropped], unknown=[list(u) for u in pred.unknown])
    except Cancelled:
        with S.begin() as s:
            run_repo.finish(s, job_id, "cancelled")
        return
    progress.done()
    with S.begin() as s:
        run_repo.heartbeat(s, job_id, total_params=lm.params)
        run_repo.finish(s, job_id, "completed", metrics=out)
