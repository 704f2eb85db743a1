"""`icl` command: few-shot prompting of a causal LM on a project's split, as a run of kind 'icl'."""
from __future__ import annotations

from core.base.errors import CommandFailed


def register(sub, common) -> None:
    icl = sub.add_parser("icl", parents=[common], help="in-context learning: few-shot prompt a causal LM on a split")
    icl.add_argument("name", help="project name")
    icl.add_argument("--lm", default="", help="causal LM: HF id, local folder or .gguf (default: packaged SmolLM2-135M-Instruct)")
    icl.add_argument("--shots", type=int, default=None, help="demonstrations per prompt (default 4)")
    icl.add_argument("--select", dest="selection", choices=["random", "knn", "balanced"], default=None,
                     help="how demonstrations are chosen (default knn)")
    icl.add_argument("--split", default=None, help="split to predict and score (default test)")
    icl.add_argument("--limit", type=int, default=None, help="only the first N samples of the split")
    icl.add_argument("--calibrate", action="store_true", default=None, help="contextual calibration (classification)")
    icl.add_argument("--seed", type=int, default=None)
    icl.add_argument("--max-new-tokens", type=int, default=None, help="NER: longest answer generated")
    icl.add_argument("--batch-size", type=int, default=None)
    icl.add_argument("--max-text-chars", type=int, default=None, help="cut each text in the prompt to this length")
    icl.add_argument("--suggest", action="store_true", default=None,
                     help="predict unlabelled samples and store the predictions as 'llm' suggestions")
    icl.add_argument("--background", action="store_true", help="only queue the run for the worker")
    icl.set_defaults(handler=cmd_icl)


OPTIONS = ("lm", "shots", "selection", "split", "limit", "calibrate", "seed", "max_new_tokens", "batch_size",
           "max_text_chars", "suggest")


def cmd_icl(args) -> dict:
    from core.icl.launch import create_icl_run
    from core.base.store import sessions
    from db import runs as run_repo

    given = {k: getattr(args, k) for k in OPTIONS if getattr(args, k, None) not in (None, "")}
    S = sessions()
    status = "queued" if args.background else "running"
    with S.begin() as s:
        run_id = create_icl_run(s, args.name, given, status=status).id
    if args.background:
        return {"run_id": run_id, "status": "queued"}
    from core.runs.worker import run_foreground

    run_foreground(run_id, "icl")
    with S.begin() as s:
        run = run_repo.get_run(s, run_id)
        metrics, status, error, log = dict(run.metrics or {}), run.status, run.error, run.log_path
    out = {"run_id": run_id, "status": status, "metrics": metrics,
           "seconds_per_sample": metrics.get("seconds_per_sample")}
    if "dropped_mentions" in metrics:
        out["dropped"] = metrics["dropped_mentions"]
    if status != "completed":
        raise CommandFailed(f"run {run_id} ended {status}: {error or 'see ' + str(log)}", out)
    return out

