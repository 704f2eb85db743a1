"""`train`, `worker`, `runs` and `cancel` commands. Training flags come from TrainConfig's fields."""
from __future__ import annotations

import argparse

from core.base.errors import UserError
from core.train.config import TrainConfig, form_fields

# Short spellings the DESIGN's command line promises, next to the generated --field-name flags.
ALIASES = {"learning_rate": ["--lr"]}


def register(sub, common) -> None:
    train = sub.add_parser("train", parents=[common], help="fine-tune on the project's labelled train split")
    train.add_argument("name", help="project name")
    train.add_argument("--background", action="store_true", help="only queue the run for the worker")
    train.add_argument("--run-name", default="", help="a name for the run")
    for f in form_fields():
        flags = ["--" + f["name"].replace("_", "-")] + ALIASES.get(f["name"], [])
        help_text = f["help"].replace("%", "%%")
        if f["kind"] == "bool":
            train.add_argument(*flags, dest=f["name"], action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        elif f["kind"] == "tuple":
            train.add_argument(*flags, dest=f["name"], default=None, help=help_text + " (comma separated)")
        else:
            kind = {"int": int, "float": float}.get(f["kind"], str)
            train.add_argument(*flags, dest=f["name"], type=kind, default=None, choices=f.get("choices"),
                               help=help_text)
    train.set_defaults(handler=cmd_train)

    worker = sub.add_parser("worker", parents=[common], help="run queued runs (the app starts one for you)")
    worker.add_argument("--once", action="store_true", help="run the queued runs, then exit")
    worker.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    worker.set_defaults(handler=cmd_worker)

    runs = sub.add_parser("runs", parents=[common], help="list a project's runs with status and headline metric")
    runs.add_argument("name", help="project name")
    runs.add_argument("--compare", default=None, metavar="ID,ID",
                      help="compare these runs on --split; flags scores that cover different samples")
    runs.add_argument("--split", default="test", choices=("train", "dev", "test"), help="split to compare on")
    runs.add_argument("--same-samples", action="store_true",
                      help="with --compare: first score the runs on the same samples (the ICL runs' samples, "
                           "else the whole split), in the foreground")
    runs.set_defaults(handler=cmd_runs)

    cancel = sub.add_parser("cancel", parents=[common], help="cancel a queued or running run")
    cancel.add_argument("run_id", type=int)
    cancel.set_defaults(handler=cmd_cancel)


def config_from_args(args) -> TrainConfig:
    given = {f["name"]: getattr(args, f["name"]) for f in form_fields() if getattr(args, f["name"], None) is not None}
    try:
        return TrainConfig(**given)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def cmd_train(args) -> dict:
    from core.base.store import sessions
    from core.train.launch import create_finetune_run
    from core.runs.worker import run_foreground, worker_pid
    from db import runs as run_repo

    config = config_from_args(args)
    S = sessions()
    status = "queued" if args.background else "running"
    with S.begin() as s:
        run_id = create_finetune_run(s, args.name, config, name=args.run_name, status=status).id
    if args.background:
        out = {"run_id": run_id, "status": "queued"}
        if worker_pid() is None:
            out["hint"] = "no worker is running for this home: start one with `python cli.py worker`"
        return out
    run_foreground(run_id)
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        out = {"run_id": run_id, "status": run.status, "metrics": _brief(run.metrics), "checkpoint": run.checkpoint,
               "log": run.log_path, "trainable_params": run.trainable_params, "total_params": run.total_params,
               "device": run.device, "error": run.error}
    if out["status"] != "completed":
        from core.base.errors import CommandFailed

        raise CommandFailed(f"run {run_id} ended {out['status']}: {out['error'] or 'see ' + str(out['log'])}", out)
    return out


def _brief(metrics: dict | None) -> dict:
    """Top-level scores and notes; per-label tables stay in the database (`cli.py evaluate`)."""
    metrics = metrics or {}
    keep = {k: v for k, v in metrics.items() if not isinstance(v, dict) and k not in ("confusion",)}
    if "per_label" in metrics:
        keep["per_label_f1"] = {k: round(v["f1-score"], 4) for k, v in metrics["per_label"].items()}
    return keep


def cmd_worker(args) -> dict:
    from core.runs.worker import serve

    return serve(once=args.once, parent_pid=args.parent_pid)


def cmd_runs(args) -> dict:
    from core.base.store import sessions
    from core.runs.summary import project_runs

    if args.compare is not None:
        return _compare(args)
    if args.same_samples:
        raise UserError("--same-samples needs runs to compare: add --compare ID,ID")
    with sessions().begin() as s:
        rows = project_runs(s, args.name)
    keys = ("id", "kind", "name", "status", "strategy", "model", "metric", "value", "split", "n",
            "sample_fingerprint", "test_value", "test_n", "trainable_params", "labels_used", "wall_seconds",
            "peak_memory_mb", "checkpoint", "error")
    return {"project": args.name, "runs": [{k: r[k] for k in keys} for r in rows]}


def _compare(args) -> dict:
    from dataclasses import asdict

    from core.base.store import sessions
    from core.runs import compare
    from core.runs.worker import run_foreground
    from db import projects as project_repo
    from db import runs as run_repo

    try:
        run_ids = [int(x) for x in args.compare.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--compare expects run ids separated by commas (e.g. 3,5), found {args.compare!r}") from None
    S = sessions()
    with S.begin() as s:
        project = project_repo.get_project(s, args.name)
        foreign = [i for i in run_ids if run_repo.get_run(s, i).project_id != project.id]
        if foreign:
            raise UserError(f"runs {foreign} are not runs of project {args.name!r}: list its runs with "
                            f"`cli.py runs {args.name}`")
    out: dict = {"project": args.name}
    if args.same_samples:
        with S.begin() as s:
            plan, jobs = compare.queue_same_samples(s, run_ids, args.split, status="running")
        failed = []
        for job_id in jobs:
            if run_foreground(job_id, "evaluate") != "completed":
                with S.begin() as s:
                    failed.append(f"job {job_id}: {run_repo.get_run(s, job_id).error}")
        if failed:
            raise UserError("scoring on the same samples failed: " + "; ".join(failed))
        out["scored"] = {"samples": plan.note, "jobs": jobs}
    with S.begin() as s:
        result = compare.compare(s, run_ids, args.split)
    out.update(asdict(result))
    return out


def cmd_cancel(args) -> dict:
    from core.base.store import sessions
    from db import runs as run_repo

    with sessions().begin() as s:
        run = run_repo.request_cancel(s, args.run_id)
        return {"run_id": run.id, "status": run.status, "cancel_requested": run.cancel_requested}
