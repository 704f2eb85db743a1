"""CLI: evaluate, predict, preannotate, label-errors (see DESIGN.md, command line contract)."""
from __future__ import annotations

import argparse

from core.base.errors import UserError


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("evaluate", parents=[common], help="score a run on a split (seqeval for NER)")
    p.add_argument("run_id", type=int)
    p.add_argument("--split", default="test", choices=("train", "dev", "test"))
    p.add_argument("--strict", action="store_true", help="seqeval strict IOB2 mode (NER)")
    p.add_argument("--refresh", action="store_true", help="ignore the cached evaluation")
    p.add_argument("--errors", action="store_true", help="list every error with its offsets (NER)")
    p.set_defaults(handler=evaluate_cmd)

    p = sub.add_parser("predict", parents=[common], help="per-token predictions of a fine-tuned run")
    p.add_argument("run_id", type=int)
    p.add_argument("--text", required=True)
    p.add_argument("--attention", action="store_true", help="add attention as [layers][heads][T][T]")
    p.add_argument("--window", type=int, default=0, help="which window of a long text to return attention for")
    p.set_defaults(handler=predict_cmd)

    p = sub.add_parser("preannotate", parents=[common], help="suggest labels for unlabelled samples with a run's model")
    p.add_argument("run_id", type=int)
    p.add_argument("--limit", type=int, default=None, help="at most N unlabelled samples")
    p.add_argument("--order", default="least_confidence", help="queue order to apply afterwards")
    p.add_argument("--aggregate", default="min", choices=("min", "mean"))
    p.add_argument("--min-confidence", type=float, default=None,
                   help="NER: suggest only spans whose least sure word has at least this probability "
                        "(default: the threshold measured on WNUT 2017 dev; 0 suggests all)")
    p.set_defaults(handler=preannotate_cmd)

    p = sub.add_parser("label-errors", parents=[common], help="labelled samples the model confidently disagrees with")
    p.add_argument("run_id", type=int)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--split", default=None, choices=("train", "dev", "test"))
    p.set_defaults(handler=label_errors_cmd)


def evaluate_cmd(args) -> dict:
    from core.evaluation.report import evaluate, result
    from core.base.store import sessions

    ev = evaluate(sessions(), args.run_id, args.split, refresh=args.refresh)
    res = result(ev, strict=args.strict)
    out = {"run_id": ev["run_id"], "split": ev["split"], "task": ev["task"], "n": ev["n"],
           "sample_fingerprint": ev["sample_fingerprint"]}
    if ev["task"] == "ner":
        rep = res["report"]
        errors = {k: v for k, v in res["errors"].items() if k != "items" or args.errors}
        out.update(
            mode=rep["mode"], precision=rep["precision"], recall=rep["recall"], f1=rep["f1"],
            per_label=rep["per_label"], **{k: v for k, v in rep["averages"].items()},
            errors=errors, confusion=res["confusion"],
        )
    else:
        rep = res["report"]
        out.update(
            accuracy=rep["accuracy"], macro_f1=rep["macro_f1"], micro_f1=rep["micro_f1"],
            per_label=rep["per_label"], labels=rep["labels"], confusion=rep["confusion"],
            mistakes=res["mistakes"], mistake_count=res["mistake_count"],
        )
    return out


def predict_cmd(args) -> dict:
    from core.inference import predict
    from core.base.store import sessions
    from db import projects as project_repo
    from db import runs as run_repo

    with sessions().begin() as s:
        run = run_repo.get_run(s, args.run_id)
        task = project_repo.get_project_by_id(s, run.project_id).task
        lm = predict.load_run(run, task)
    if not args.text.strip():
        raise UserError("expected some text to predict on, found an empty --text; pass --text \"...\"")
    return predict.predict_text(lm, args.text, with_attention=args.attention, window_index=args.window)


def preannotate_cmd(args) -> dict:
    from core.labeling.preannotate import DEFAULT_MIN_CONFIDENCE, run_foreground

    threshold = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    return run_foreground(args.run_id, limit=args.limit, order=args.order, aggregate=args.aggregate,
                          min_confidence=threshold)


def label_errors_cmd(args) -> dict:
    from core.labeling.label_errors import rank
    from core.base.store import sessions

    return {"run_id": args.run_id, "candidates": rank(sessions(), args.run_id, limit=args.limit, split=args.split)}
