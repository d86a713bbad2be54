"""What the stack CLIs beside ``tools.plan`` share: the ``--stack`` / ``--mode`` options and the plan they name."""

from __future__ import annotations

import argparse
import sys

from tools.harness import MODES, ConfigurationError, Plan, run_program

#: A stack file or its settings refused (one line on stderr), as ``tools.plan`` exits.
EXIT_CONFIG_ERROR = 2


def add_stack_arguments(parser: argparse.ArgumentParser, *, default_stack: str | None = None) -> None:
    """``--stack NAME`` (required without a default) and ``--mode preview|update`` (default preview)."""
    if default_stack is None:
        parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    else:
        parser.add_argument(
            "--stack", default=default_stack, help=f"stack name: reads Pulumi.<stack>.yaml (default: {default_stack})"
        )
    parser.add_argument("--mode", choices=MODES, default="preview", help="plan mode (default: preview)")


def plan_or_error(args: argparse.Namespace) -> Plan | None:
    """The offline plan of ``args.stack`` in ``args.mode``; None after one ``error:`` line on stderr."""
    try:
        return run_program(args.stack, args.mode)
    except ConfigurationError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return None
