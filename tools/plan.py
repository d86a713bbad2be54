"""Offline plan: run the program under mocks and show what it would register.

    python -m tools.plan --stack dev [--mode preview|update] [--json FILE] [--project-dir DIR]

Prints the resource tree (indented by parent), then the count per type and the total. ``--json``
writes `Plan.to_json()` (sorted keys, indent 2). A configuration error prints ``error: <message>``
on stderr and exits 2.

The work after the run is a list of steps (`STEPS`), each ``(plan, args) -> exit code``; a later
step (policy checks) is added there, with its options added in `build_parser`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tools.harness import MODES, REPO_ROOT, ConfigurationError, Plan, Registration, run_program

EXIT_OK = 0
EXIT_CONFIG_ERROR = 2

Step = Callable[[Plan, argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m tools.plan``."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan",
        description="Run the Pulumi program offline under mocks and print what it registers.",
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--mode", choices=MODES, default="preview", help="default: preview")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON here")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=REPO_ROOT,
        help="directory holding Pulumi.yaml and __main__.py (default: the repository root)",
    )
    return parser


def render_tree(plan: Plan) -> list[str]:
    """``Type name`` lines, children indented under their parent, siblings sorted by type, name."""
    children: dict[str, list[Registration]] = {}
    urns = {r.urn for r in plan.resources}
    for resource in plan.resources:
        parent = resource.parent if resource.parent in urns else ""
        children.setdefault(parent, []).append(resource)

    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            lines.append(f"{'  ' * depth}{resource.type} {resource.name}")
            walk(resource.urn, depth + 1)

    walk("", 0)
    return lines


def render_counts(plan: Plan) -> list[str]:
    """One ``count  type`` line per type, then the total."""
    counts = plan.type_counts()
    lines = [f"{count:>5}  {type_token}" for type_token, count in counts.items()]
    lines.append(f"{sum(counts.values()):>5}  total")
    return lines


def print_report(plan: Plan, _args: argparse.Namespace) -> int:
    """Step: the tree and the counts on stdout."""
    header = f"{plan.project}/{plan.stack} ({plan.mode}, offline mocks)"
    lines = [header, *render_tree(plan), "", "Resources by type:", *render_counts(plan)]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def write_json(plan: Plan, args: argparse.Namespace) -> int:
    """Step: ``--json FILE`` gets `Plan.to_json()`, stable across runs."""
    if args.json is not None:
        text = json.dumps(plan.to_json(), indent=2, sort_keys=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return EXIT_OK


#: What runs after the program, in order; the first non-zero exit code stops the run.
STEPS: list[Step] = [print_report, write_json]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plan CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    try:
        plan = run_program(args.stack, args.mode, args.project_dir)
    except ConfigurationError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return EXIT_CONFIG_ERROR
    for step in STEPS:
        code = step(plan, args)
        if code != EXIT_OK:
            return code
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
