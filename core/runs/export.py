"""``export_model`` jobs: a fine-tuned run's exported model folder as one zip file (what the
Runs page offers for download), written in the worker with progress by bytes. A zip of the same
checkpoint that still exists is reused."""
from __future__ import annotations

import zipfile
from pathlib import Path

from core.base import settings
from core.base.errors import UserError
from core.base.store import sessions
from core.runs.context import load_run_context
from core.runs.progress import Cancelled, Progress
from db import projects as project_repo
from db import runs as run_repo
from db.models import Run

KIND = "export_model"


def _stamp(checkpoint: str) -> float | None:
    try:
        return (Path(checkpoint) / "config.json").stat().st_mtime
    except OSError:
        return None


def queue(session, run_id: int) -> Run:
    """The running job, or a completed one whose zip is still there, else a new one."""
    run = run_repo.get_run(session, run_id)
    if run.kind != "finetune" or run.status != "completed" or not run.checkpoint or _stamp(run.checkpoint) is None:
        raise UserError(f"run {run_id} has no exported model to download: expected a completed fine-tuning run "
                        f"with its model folder, found a {run.status} {run.kind!r} run")
    config = {"run_id": run_id, "checkpoint": run.checkpoint, "stamp": _stamp(run.checkpoint)}
    for job in run_repo.jobs_of(session, run_id, KIND):
        if job.config != config:
            continue
        if job.status in run_repo.ACTIVE:
            return job
        if job.status == "completed" and Path((job.metrics or {}).get("path", "")).is_file():
            return job
    project = project_repo.get_project_by_id(session, run.project_id)
    return run_repo.create_run(session, project, KIND, config, parent_run_id=run_id,
                               name=f"zip of run {run_id}'s model")


def execute(job_id: int) -> None:
    """Worker handler (core.runs.jobs contract)."""
    S = sessions()
    with S.begin() as s:
        config = load_run_context(s, job_id).config
    folder = Path(config["checkpoint"])
    target = settings.runs_dir() / str(job_id) / f"tagtune-run-{config['run_id']}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    progress = Progress(S, job_id, {"zipping": 1})
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files) or 1
    done = 0
    try:
        progress.phase("zipping")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, Path(folder.name) / path.relative_to(folder))
                done += path.stat().st_size
                progress(done, total)
    except Cancelled:
        target.unlink(missing_ok=True)
        with S.begin() as s:
            run_repo.finish(s, job_id, "cancelled")
        return
    progress.done()
    with S.begin() as s:
        run_repo.finish(s, job_id, "completed",
                        metrics={"path": str(target), "bytes": target.stat().st_size, "files": len(files)})
