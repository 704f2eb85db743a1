"""Tagtune command line. Thin: parse, call commands/ (which call core), print one JSON object. See DESIGN.md."""
from __future__ import annotations

import argparse
import json
import os
import sys

from commands import common_parser
from core.base.errors import CommandFailed, UserError

COMMAND_MODULES = ("data", "training", "evaluation", "icl")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    common = common_parser()
    parser = argparse.ArgumentParser(prog="cli.py", description="Tagtune: label, fine-tune, evaluate.", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"commands.{name}").register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "home", None):
        os.environ["TAGTUNE_HOME"] = args.home
    try:
        result = args.handler(args)
    except CommandFailed as exc:
        print(json.dumps(exc.report, ensure_ascii=False, indent=2))
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (UserError, LookupError, ValueError, FileNotFoundError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    if result is not None:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
