"""Command-line handlers, one module per area. Each module has ``register(subparsers, common)``
which adds its sub-commands with ``set_defaults(handler=fn)``; a handler takes the parsed
args and returns a JSON-able object (printed by cli.py) or None.

Handlers raise core.base.errors.UserError for anything the user can fix."""
import argparse


def common_parser() -> argparse.ArgumentParser:
    """Options every command takes (DESIGN.md: every command takes --home)."""
    parent = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: sub-commands share this parent, and a sub-parser's default (None) would
    # otherwise overwrite `cli.py --home X <command>` given before the command.
    parent.add_argument("--home", default=argparse.SUPPRESS,
                        help="Tagtune home folder (default: $TAGTUNE_HOME or ./workspace)")
    return parent
