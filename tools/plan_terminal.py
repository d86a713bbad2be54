"""The offline plan on a terminal (``--format rich``, the default on a TTY): a tree, tables, colour and progress.

The same facts as the plain lines of `tools.plan` (which stay the format of pipes, CI logs and tests): the resource
tree by parent, coloured by the step each resource takes when there is a base to compare with; the count per type;
the changes against the base with their changed properties and the one total line both formats share
(`tools.plan_diff.summary_line`); policy violations in a table coloured by enforcement level, each with its
policy's remediation; failing linter findings; a spinner on stderr while the policy pack and the linters run.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from tools.cost import SCALES, CostDelta, CostEstimate, usd
from tools.harness import Plan, Registration
from tools.linters import LintReport
from tools.plan_diff import SIGNS, PlanDiff, describe_change, summary_line
from tools.policy_runner import PolicyReport

#: Colour of each step op (creates green, updates yellow, replaces magenta, deletes red, as the CLI colours them).
OP_STYLES: Mapping[str, str] = {
    "create": "green",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "same": "dim",
}
#: Colour of each enforcement level.
LEVEL_STYLES: Mapping[str, str] = {"mandatory": "bold red", "advisory": "yellow", "remediate": "cyan"}
#: Width when the output is not a terminal (``--format rich`` into a pipe or a file).
DEFAULT_WIDTH = 140


def wants_rich(choice: str, stream: object = None) -> bool:
    """``--format``: ``rich``, ``plain``, or ``auto`` (rich when stdout is a terminal and ``NO_COLOR`` is unset)."""
    if choice != "auto":
        return choice == "rich"
    out = stream if stream is not None else sys.stdout
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def make_console(*, stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr), colour forced: the caller chose rich output."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", DEFAULT_WIDTH))
    return Console(file=stream, force_terminal=True, width=width, highlight=False, soft_wrap=False)


def _resource_text(registration: Registration, op: str | None) -> Text:
    text = Text()
    if op is not None and op != "same":
        text.append(f"{SIGNS[op]} ", style=OP_STYLES[op])
    style = "bold" if not registration.custom else OP_STYLES.get(op or "", "")
    text.append(registration.name, style=style)
    text.append(f"  {registration.type}", style="dim")
    return text


def resource_tree(plan: Plan, diff: PlanDiff | None = None) -> Tree:
    """The resources by parent, siblings sorted by type and name; with a diff, each marked with its step's op."""
    ops = {step.urn: step.op for step in diff.steps} if diff is not None else {}
    urns = {r.urn for r in plan.resources}
    children: dict[str, list[Registration]] = {}
    for registration in plan.resources:
        children.setdefault(registration.parent if registration.parent in urns else "", []).append(registration)
    root = Tree(Text(f"{plan.project}/{plan.stack} ({plan.mode}, offline mocks)", style="bold"))

    def grow(branch: Tree, parent: str) -> None:
        for registration in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            grow(branch.add(_resource_text(registration, ops.get(registration.urn))), registration.urn)

    grow(root, "")
    return root


def counts_table(plan: Plan) -> Table:
    """One row per resource type with its count, then the total."""
    table = Table(title="Resources by type", show_footer=True, title_justify="left")
    counts = plan.type_counts()
    table.add_column("Type", footer="total")
    table.add_column("Count", justify="right", footer=str(sum(counts.values())))
    for type_token, count in counts.items():
        table.add_row(type_token, str(count))
    return table


def print_report(console: Console, plan: Plan) -> None:
    """The tree and the counts."""
    console.print(resource_tree(plan))
    console.print(counts_table(plan))


def print_diff(console: Console, diff: PlanDiff) -> None:
    """The changes against the base: one row per changed resource with its properties, then the total line."""
    title = f"Changes against {diff.base_ref} ({diff.commit[:12]})"
    if diff.new_stack:
        title += ": the base commit has no stack file for this stack, everything is created"
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("Op")
    table.add_column("Resource")
    table.add_column("Changed properties")
    for step in diff.changed():
        op = Text(f"{SIGNS[step.op]} {step.op}", style=OP_STYLES[step.op])
        if step.protected:
            op.append("\nBLOCKED: protected", style="bold red reverse")
        elif step.retained:
            op.append("\nretained in AWS", style="cyan")
        changes = Text()
        for change in step.changes:
            changes.append(describe_change(change) + "\n", style="bold magenta" if change.replaces else "")
        for note in step.replace_notes:
            changes.append(f"replaced because {note}\n", style="magenta")
        if step.delete_first:
            changes.append(f"deleted first ({step.delete_first}): a gap until the replacement is up\n", style="red")
        registration = step.registration
        changes.rstrip()
        table.add_row(op, Text(f"{registration.name}\n{registration.type}"), changes if changes.plain else Text("—"))
    if diff.changed():
        console.print(table)
    else:
        console.print(Text(title, style="bold"))
    style = "bold red" if diff.blocked() else "bold"
    console.print(Text(summary_line(diff.count()), style=style))


def _remediation(report: PolicyReport) -> dict[str, str]:
    return {policy.name: policy.remediation for policy in report.policies if policy.remediation}


def print_policy(console: Console, report: PolicyReport) -> None:
    """Violations in a table, mandatory first and in red, each with its policy's remediation; then the summary."""
    console.print(Text(report.headline(), style="bold"))
    levels = {policy.name: policy.level for policy in report.policies}
    remediation = _remediation(report)
    if report.violations:
        table = Table(show_lines=True)
        table.add_column("Level")
        table.add_column("Policy")
        table.add_column("Resource")
        table.add_column("Violation and remediation")
        ordered = sorted(report.violations, key=lambda v: (v.level != "mandatory", v))
        for violation in ordered:
            level = levels.get(violation.policy, violation.level)
            lines = violation.message.splitlines()
            message = Text("\n".join(lines[1:] or lines))
            fix = remediation.get(violation.policy, "")
            if fix and "Remediation" not in violation.message:
                message.append(f"\nRemediation: {fix}", style="green")
            table.add_row(
                Text(level, style=LEVEL_STYLES.get(level, "")),
                violation.policy,
                violation.urn.rsplit("::", 1)[-1] if violation.urn else "(stack)",
                message,
            )
        console.print(table)
    console.print(Text(report.summary_line(), style="bold red" if report.mandatory else "bold green"))


def print_lint(console: Console, report: LintReport) -> None:
    """Failing findings in a table, then the summary line."""
    console.print(Text(report.headline(), style="bold"))
    if report.failing:
        table = Table(show_lines=True)
        for column in ("Linter", "Severity", "Resource", "Finding"):
            table.add_column(column)
        for finding in report.failing:
            where = f"{finding.urn.rsplit('::', 1)[-1] if finding.urn else '(no resource)'} {finding.subject}"
            table.add_row(
                finding.linter,
                Text(finding.severity, style="bold red"),
                where.strip(),
                f"{finding.issue}: {finding.message}",
            )
        console.print(table)
    console.print(Text(report.summary_line(), style="bold red" if report.failing else "bold green"))


def print_cost(console: Console, cost: CostEstimate, delta: CostDelta | None) -> None:
    """The estimate by category at min / desired / max, the delta from the base, what is left out."""
    table = Table(
        title=f"Cost estimate: USD/month, prices as of {cost.prices_as_of.isoformat()}",
        title_justify="left",
        show_footer=True,
    )
    table.add_column("Category", footer="total")
    for scale in SCALES:
        table.add_column(scale, justify="right", footer=usd(cost.total(scale)))
    for category, amount in cost.category_totals().items():
        table.add_row(category, *(usd(amount.at(scale)) for scale in SCALES))
    console.print(table)
    console.print(Text(cost.summary_line(), style="bold"))
    if cost.unpriced:
        names = ", ".join(line.resource for line in cost.unpriced)
        console.print(Text(f"not priced (left out of the totals): {names}", style="yellow"))
    if delta is not None:
        moved = delta.total("desired")
        style = "bold red" if moved > 0 else "bold green" if moved < 0 else "bold"
        console.print(Text(delta.summary_line(), style=style))
    console.print(Text("Not estimated: " + "; ".join(cost.not_estimated), style="dim"))


@contextlib.contextmanager
def progress(console: Console | None, message: str) -> Iterator[None]:
    """A spinner with ``message`` on stderr while the block runs; one line when stderr is no terminal (a CI log).

    Nothing without a rich console (plain output).
    """
    if console is None:
        yield
        return
    if not sys.stderr.isatty():
        sys.stderr.write(f"{message}\n")
        yield
        return
    with make_console(stderr=True).status(message, spinner="dots"):
        yield
