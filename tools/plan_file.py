"""What a saved update plan (``pulumi preview --save-plan``) will do, as Markdown for the approver's job summary.

The plan file is ``apitype.DeploymentPlanV1`` (pulumi/pulumi ``sdk/go/common/apitype/plan.go``, written by
``pkg/cmd/pulumi/plan/plan.go`` ``Write``): ``resourcePlans`` maps each URN to ``{goal, steps, state}``, where
``steps`` are the engine's step ops (``pkg/resource/deploy/step.go``: ``same``, ``create``, ``update``, ``delete``,
``replace``, ``create-replacement``, ``delete-replaced``, ``read``, ``import``, ...) and ``goal.protect`` the
resource's protect flag. ``pulumi up --plan <file>`` refuses any operation the plan does not hold.

``python -m tools.plan_file plan.json`` prints the summary; ``--only-creates`` exits 1 unless every step is a
create or a same (a new environment's first deploy, which applies without ``--plan``). A file that is not such
a plan exits 2 with one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

EXIT_NOT_ONLY_CREATES = 1
EXIT_BAD_PLAN = 2
#: Ops that change nothing that exists.
HARMLESS = frozenset({"same", "create", "read"})
#: Ops that destroy an existing resource.
DESTRUCTIVE = frozenset({"delete", "replace", "create-replacement", "delete-replaced", "discard"})


class PlanFileError(Exception):
    """The file is not a saved update plan."""


def resource_steps(plan: Mapping[str, Any]) -> dict[str, tuple[list[str], bool]]:
    """URN -> (step ops, protected) of every resource the plan holds."""
    plans = plan.get("resourcePlans")
    if not isinstance(plans, dict):
        msg = "no resourcePlans: not a `pulumi preview --save-plan` file"
        raise PlanFileError(msg)
    steps: dict[str, tuple[list[str], bool]] = {}
    for urn, entry in plans.items():
        if not isinstance(entry, dict):
            msg = f"{urn}: a resource plan is an object"
            raise PlanFileError(msg)
        goal = entry.get("goal") or {}
        ops = [str(op) for op in entry.get("steps") or []] or ["same"]
        steps[urn] = (ops, bool(goal.get("protect", False)))
    return steps


def summary(plan: Mapping[str, Any]) -> str:
    """Markdown: counts per op, then every resource that is changed, replaced or deleted (protected ones flagged)."""
    steps = resource_steps(plan)
    counts = Counter(op for ops, _ in steps.values() for op in ops)
    lines = ["### Update plan", "", "| operation | resources |", "|---|---:|"]
    lines += [f"| {op} | {count} |" for op, count in sorted(counts.items())]
    changed = sorted((urn, ops, protect) for urn, (ops, protect) in steps.items() if set(ops) - {"same"})
    destructive = [(urn, ops, protect) for urn, ops, protect in changed if set(ops) & DESTRUCTIVE]
    lines += ["", f"{len(changed)} resources change, {len(destructive)} of them destructively."]
    if destructive:
        lines += ["", "**Destroyed or replaced** (protected ones cannot be, and stop the update):", ""]
        lines += [
            f"- `{urn}`: {', '.join(ops)}{' **(protected)**' if protect else ''}" for urn, ops, protect in destructive
        ]
    updated = [(urn, ops) for urn, ops, _ in changed if not set(ops) & DESTRUCTIVE and set(ops) - HARMLESS]
    if updated:
        lines += ["", "**Updated in place:**", ""]
        lines += [f"- `{urn}`: {', '.join(ops)}" for urn, ops in updated]
    return "\n".join(lines) + "\n"


def not_creates(plan: Mapping[str, Any]) -> list[str]:
    """``urn: ops`` of every resource whose steps are more than creates and sames."""
    return [f"{urn}: {', '.join(ops)}" for urn, (ops, _) in sorted(resource_steps(plan).items()) if set(ops) - HARMLESS]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tools.plan_file", description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", type=Path, help="the file `pulumi preview --save-plan` wrote")
    parser.add_argument("--only-creates", action="store_true", help="exit 1 unless the plan only creates")
    args = parser.parse_args(argv)
    try:
        plan = json.loads(args.plan.read_text())
        if not isinstance(plan, dict):
            raise PlanFileError("not a JSON object")  # noqa: TRY301 - one error path for every malformed file
        if args.only_creates:
            others = not_creates(plan)
            for line in others:
                print(f"error: {args.plan}: not a create: {line}", file=sys.stderr)  # noqa: T201 - CLI output
            return EXIT_NOT_ONLY_CREATES if others else 0
        print(summary(plan), end="")  # noqa: T201 - CLI output
    except (OSError, ValueError, PlanFileError) as err:
        print(f"error: {args.plan}: {err}", file=sys.stderr)  # noqa: T201 - CLI output
        return EXIT_BAD_PLAN
    return 0


if __name__ == "__main__":
    sys.exit(main())
