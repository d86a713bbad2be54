"""Offline plan: run the program under mocks, show what it would register, and gate it like a PR check.

    python -m tools.plan --stack dev [--mode preview|update] [--base REF] [--json FILE] [--markdown FILE]
                         [--project-dir DIR] [--policy-pack DIR] [--policy-config FILE]
                         [--no-policy] [--no-lint] [--format auto|rich|plain]

Prints the resource tree (indented by parent), then the count per type and the total. The policy pack
(``--policy-pack DIR``, default ``<project-dir>/policies``) runs over the captured graph exactly as ``pulumi
preview --policy-pack`` would drive it (`tools.policy_runner`; the pack process starts before the program
so that its start-up overlaps the run), and the IAM documents and Kubernetes manifests are linted
(`tools.linters`). The checks fail closed: a pack directory that does not exist or has no
``PulumiPolicy.yaml`` (the default one included) exits 4 before the program runs; only ``--no-policy``
plans without policies. Violations are printed grouped by policy with level and resource; any mandatory violation
or failing linter finding exits 3, as the CLI fails the preview. The stack's policy config is
``policies/stack-config/<stack>.json`` when it exists (``--policy-config`` overrides it).

``--base REF`` also plans the stack at the commit REF names (its tree from ``git archive``, its stack file) and
reports, by URN, what a ``pulumi preview`` over a stack deployed from REF would create, update, replace and delete,
with the changed properties (secrets masked), the replacing ones flagged, and protected resources a change would
delete or replace (the engine refuses those: exit 3). The base is planned as ``update`` (computed values known, as
in a deployed stack's state) and the head previewed over it; `tools.plan_diff` says how each step is decided.

``--json`` writes `Plan.to_json()` plus ``"policy"`` (pack, policies, violations) and ``"lint"`` sections and
``"steps"`` / ``"changeSummary"`` shaped like ``pulumi preview --json`` (every resource a ``create`` without
``--base``) (sorted keys, indent 2); ``--markdown`` writes a PR-comment summary (the changes against the base,
the cost estimate and its delta, a Mermaid diagram of the components, resource counts by component, violations,
linter findings). Both are stable across runs, and neither holds a
secret's value: secret inputs are ``[secret]``, and so is any text of the policy and lint sections quoting one
(`Plan.redact`). An output path
that cannot be written (missing directory, a directory, no permission) is refused before the plan runs.

A configuration error (a bad stack file or bad settings, an unwritable output path) prints one line
``error: <file or option>: <field>: <message>`` on stderr and exits 2; a pack that cannot run exits 4.
SIGINT (Ctrl-C) and SIGTERM stop the plan with one line and exit 130 / 143, after stopping the policy pack
(which runs in its own process group and dies with the plan, `tools.policy_runner`).

The work after the run is a list of steps (`STEPS`), each ``(plan, args) -> exit code``; the first non-zero
code stops the run, so the checks record their results and the last step (`gate`) decides.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from tools import plan_terminal
from tools.cost import CostDelta, CostEstimate, cost_delta, estimate
from tools.diagram import markdown_block
from tools.harness import MODES, REPO_ROOT, STACK_TYPE, ConfigurationError, Plan, Registration, run_program
from tools.linters import LintReport, render_lint, start_linters
from tools.plan_diff import (
    BaseRefError,
    PlanDiff,
    change_summary,
    creation_steps,
    diff_against,
    plan_of_commit,
    preview_steps,
    resolve_commit,
)
from tools.plan_diff import render_markdown as render_diff_markdown
from tools.plan_diff import render_text as render_diff_text
from tools.policy_runner import (
    PolicyReport,
    PolicyRunError,
    RunningPack,
    default_policy_config_path,
    load_policy_config,
    render_report,
)
from tools.stack_config import StackConfigError, load_stack_config, project_name

EXIT_OK = 0
EXIT_CONFIG_ERROR = 2
#: Mandatory policy violations, failing linter findings, or (with --base) a change deleting or replacing a protected
#: resource (``pulumi preview`` fails on the first and the last too).
EXIT_CHECKS_FAILED = 3
#: The policy pack or a linter could not run.
EXIT_POLICY_ERROR = 4
#: Stopped by a signal: 128 + its number, as a shell reports it (130 for SIGINT, 143 for SIGTERM).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLICY_PACK_DIR = "policies"
#: GitHub refuses a comment body over 65,536 characters: the Markdown cuts its table of every change to fit under this.
MAX_COMMENT_CHARS = 60_000
#: ``--format`` choices.
FORMATS = ("auto", "rich", "plain")

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
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write a PR-comment summary (Markdown) here")
    parser.add_argument(
        "--policy-pack",
        type=Path,
        metavar="DIR",
        help=f"policy pack to run (default: <project-dir>/{POLICY_PACK_DIR}); a missing pack exits 4 (see --no-policy)",
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="policy config JSON (default: <policy-pack>/stack-config/<stack>.json when it exists)",
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="also plan the commit REF names (e.g. origin/main) and report the changes from it to this checkout",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day the cost estimate prices EKS support for (default: today, UTC)",
    )
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack and the linters")
    parser.add_argument("--no-lint", action="store_true", help="skip parliament and kubernetes-validate")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="terminal output: rich (tree, tables, colour, progress), plain (lines), auto: rich on a terminal",
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


def print_report(plan: Plan, args: argparse.Namespace) -> int:
    """Step: the tree and the counts on stdout."""
    if args.console is not None:
        plan_terminal.print_report(args.console, plan)
        return EXIT_OK
    header = f"{plan.project}/{plan.stack} ({plan.mode}, offline mocks)"
    lines = [header, *render_tree(plan), "", "Resources by type:", *render_counts(plan)]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def run_checks(plan: Plan, args: argparse.Namespace) -> int:
    """Step: the policy pack over the plan (and the linters alongside); print what they found."""
    pack: RunningPack | None = args.pack
    if pack is None:
        return EXIT_OK
    pending = None
    try:
        pending = None if args.no_lint else start_linters(plan, project_dir=Path(args.project_dir))
        config_path = args.policy_config or default_policy_config_path(plan.stack, pack.pack_dir / "stack-config")
        running = f"policy pack {pack.pack_dir.name}" + ("" if pending is None else " and linters")
        with plan_terminal.progress(args.console, f"{running} on {len(plan.resources)} resources ..."):
            args.policy_report = pack.analyze(plan, load_policy_config(config_path))
            args.lint_report = pending.finish() if pending is not None else None
    except (PolicyRunError, FileNotFoundError) as exc:
        if pending is not None:
            pending.cancel()
        sys.stderr.write(f"error: policy checks could not run: {plan.redact(str(exc))}\n")
        return EXIT_POLICY_ERROR
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if args.console is not None:
        plan_terminal.print_policy(args.console, redacted_policy(plan, args.policy_report))
        if args.lint_report is not None:
            plan_terminal.print_lint(args.console, redacted_lint(plan, args.lint_report))
        return EXIT_OK
    lines = ["", *render_report(args.policy_report)]
    if args.lint_report is not None:
        lines += ["", *render_lint(args.lint_report)]
    sys.stdout.write("\n".join(plan.redact(lines)) + "\n")
    return EXIT_OK


def compare_base(plan: Plan, args: argparse.Namespace) -> int:
    """Step: with ``--base REF``, plan REF's commit (as deployed: ``update``) and print the changes from it."""
    if args.base is None:
        return EXIT_OK
    project_dir = Path(args.project_dir)

    def preview_head(existing: frozenset[str], updated: frozenset[str]) -> Plan:
        return run_program(plan.stack, "preview", project_dir, existing=existing, updated=updated)

    try:
        with plan_terminal.progress(args.console, f"planning {args.base} and previewing this checkout over it ..."):
            commit, args.base_plan = plan_of_commit(args.base_commit, plan.stack, "update", project_dir)
            args.diff = diff_against(args.base_plan, preview_head, base_ref=args.base, commit=commit)
    except BaseRefError as exc:
        sys.stderr.write(f"error: --base {args.base}: {exc}\n")
        return EXIT_CONFIG_ERROR
    if args.console is not None:
        plan_terminal.print_diff(args.console, args.diff)
    else:
        sys.stdout.write("\n" + "\n".join(render_diff_text(args.diff)) + "\n")
    return EXIT_OK


def estimate_cost(plan: Plan, args: argparse.Namespace) -> int:
    """Step: the monthly estimate of the plan (and, with ``--base``, its delta from the base plan's)."""
    today = args.today or dt.datetime.now(dt.UTC).date()
    args.cost = estimate(plan, today=today)
    if args.base_plan is not None:
        args.cost_delta = cost_delta(estimate(args.base_plan, today=today), args.cost)
    if args.console is not None:
        plan_terminal.print_cost(args.console, args.cost, args.cost_delta)
        return EXIT_OK
    lines = ["", *args.cost.render_text(), args.cost.summary_line()]
    if args.cost_delta is not None:
        lines.append(args.cost_delta.summary_line())
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def redacted_policy(plan: Plan, report: PolicyReport) -> PolicyReport:
    """``report`` with every violation message quoting a secret of ``plan`` redacted (as the plain lines are)."""
    violations = [dataclasses.replace(v, message=plan.redact(v.message)) for v in report.violations]
    return dataclasses.replace(report, violations=violations)


def redacted_lint(plan: Plan, report: LintReport) -> LintReport:
    """``report`` with every finding's message and subject redacted."""
    findings = [
        dataclasses.replace(f, message=plan.redact(f.message), subject=plan.redact(f.subject)) for f in report.findings
    ]
    return dataclasses.replace(report, findings=findings)


def write_json(plan: Plan, args: argparse.Namespace) -> int:
    """Step: ``--json FILE`` gets `Plan.to_json()` plus the policy and lint sections, stable across runs."""
    if args.json is not None:
        data = plan.to_json()
        if args.policy_report is not None:
            data["policy"] = plan.redact(args.policy_report.to_json())
        if args.lint_report is not None:
            data["lint"] = plan.redact(args.lint_report.to_json())
        diff: PlanDiff | None = args.diff
        steps = list(diff.steps) if diff is not None else creation_steps(plan)
        data["steps"] = plan.redact(preview_steps(steps))
        data["changeSummary"] = change_summary(steps)
        if diff is not None:
            data["base"] = {"ref": diff.base_ref, "commit": diff.commit, "newStack": diff.new_stack}
        if args.cost is not None:
            data["cost"] = args.cost.to_json()
        if args.cost_delta is not None:
            data["costDelta"] = {scale: args.cost_delta.total(scale) for scale in ("min", "desired", "max")}
        text = json.dumps(data, indent=2, sort_keys=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return EXIT_OK


def component_counts(plan: Plan) -> list[tuple[str, int]]:
    """Custom resources per top-level component (``type name``), nested components included; sorted."""
    by_urn = {r.urn: r for r in plan.resources}
    stack_urns = {r.urn for r in plan.resources if r.type == STACK_TYPE}

    def top(reg: Registration) -> str:
        current = reg
        while current.parent in by_urn and current.parent not in stack_urns:
            current = by_urn[current.parent]
        return "(stack)" if current is reg and reg.custom else f"{current.type} {current.name}"

    counts: dict[str, int] = {}
    for reg in plan.resources:
        if reg.custom:
            key = top(reg)
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _resource_label(plan: Plan, urn: str) -> str:
    reg = next((r for r in plan.resources if r.urn == urn), None)
    return f"`{reg.type}` {reg.name}" if reg is not None else (f"`{urn}`" if urn else "(stack)")


def render_markdown(
    plan: Plan,
    policy: PolicyReport | None,
    lint: LintReport | None,
    diff: PlanDiff | None = None,
    cost: tuple[CostEstimate, CostDelta | None] | None = None,
    *,
    max_diff_rows: int | None = None,
) -> Iterator[str]:
    """A PR-comment summary: changes, counts by component and type, violations, linter findings; no timestamps."""
    total = sum(1 for r in plan.resources if r.custom)
    yield f"### `{plan.project}/{plan.stack}`: offline plan ({plan.mode})"
    yield ""
    summary = [f"**{total} resources**"]
    if policy is not None:
        mandatory = len(policy.mandatory)
        summary.append(
            f"policy pack `{policy.pack}@{policy.version}`: **{mandatory} mandatory**, "
            f"{len(policy.violations) - mandatory} advisory violations"
        )
    if lint is not None:
        summary.append(f"linters: **{len(lint.failing)} failing** findings")
    yield " · ".join(summary)
    if cost is not None:
        delta = cost[1]
        yield ""
        yield f"**{cost[0].summary_line()}**" + (f" · {delta.summary_line()}" if delta is not None else "")
    if diff is not None:
        yield ""
        yield from render_diff_markdown(diff, max_diff_rows)
    if cost is not None:
        if cost[1] is not None and cost[1].changed():
            yield ""
            yield from cost[1].render_markdown()
        yield ""
        yield f"<details><summary>{cost[0].summary_line()}: every line, what is estimated and what is not</summary>"
        yield ""
        yield from cost[0].render_markdown()
        yield ""
        yield "</details>"
    yield ""
    yield "<details><summary>What the stack builds (components and their main edges)</summary>"
    yield ""
    yield from markdown_block(plan)
    yield ""
    yield "</details>"
    yield ""
    yield "| Component | Resources |"
    yield "| --- | ---: |"
    for component, count in component_counts(plan):
        yield f"| {_cell(component)} | {count} |"
    yield ""
    yield f"<details><summary>Resources by type ({len(plan.type_counts())} types)</summary>"
    yield ""
    yield "| Type | Count |"
    yield "| --- | ---: |"
    for type_token, count in plan.type_counts().items():
        yield f"| `{type_token}` | {count} |"
    yield ""
    yield "</details>"
    if policy is not None:
        yield from _markdown_policy(plan, policy)
    if lint is not None:
        yield from _markdown_lint(plan, lint)


def _markdown_policy(plan: Plan, policy: PolicyReport) -> Iterator[str]:
    yield ""
    yield "#### Policy violations"
    yield ""
    if not policy.violations:
        yield f"None: {len(policy.policies)} policies passed."
        return
    yield "| Level | Policy | Resource | Message |"
    yield "| --- | --- | --- | --- |"
    for v in sorted(policy.violations, key=lambda v: (v.level != "mandatory", v)):
        message = "\n".join(v.message.splitlines()[1:]) or v.message
        yield f"| {v.level} | `{v.policy}` | {_cell(_resource_label(plan, v.urn))} | {_cell(message)} |"


def _markdown_lint(plan: Plan, lint: LintReport) -> Iterator[str]:
    yield ""
    yield "#### Linter findings (MEDIUM and above)"
    yield ""
    if not lint.failing:
        yield f"None failing ({lint.iam_documents} IAM documents, {lint.manifests} manifests)."
    else:
        yield "| Linter | Severity | Resource | Finding |"
        yield "| --- | --- | --- | --- |"
        for f in lint.failing:
            where = f"{_resource_label(plan, f.urn)} {f.subject}".strip()
            yield f"| {f.linter} | {f.severity} | {_cell(where)} | {_cell(f.issue + ': ' + f.message)} |"
    allowed: dict[tuple[str, str], int] = {}
    for f in lint.findings:
        if f.allowed:
            allowed[(f.issue, f.allowed)] = allowed.get((f.issue, f.allowed), 0) + 1
    if allowed:
        yield ""
        yield f"<details><summary>Allow-listed parliament findings ({sum(allowed.values())})</summary>"
        yield ""
        yield "| Issue | Why it is allowed | Count |"
        yield "| --- | --- | ---: |"
        for (issue, reason), count in sorted(allowed.items()):
            yield f"| {issue} | {_cell(reason)} | {count} |"
        yield ""
        yield "</details>"


def _cost(args: argparse.Namespace) -> tuple[CostEstimate, CostDelta | None] | None:
    return (args.cost, args.cost_delta) if args.cost is not None else None


def write_markdown(plan: Plan, args: argparse.Namespace) -> int:
    """Step: ``--markdown FILE`` gets the PR-comment summary, cut to fit one GitHub comment (`MAX_COMMENT_CHARS`)."""
    if args.markdown is None:
        return EXIT_OK

    def render(rows: int | None) -> str:
        lines = render_markdown(plan, args.policy_report, args.lint_report, args.diff, _cost(args), max_diff_rows=rows)
        return "\n".join(plan.redact(list(lines))) + "\n"

    text = render(None)
    rows = len(args.diff.changed()) if args.diff is not None else 0
    while len(text) > MAX_COMMENT_CHARS and rows > 0:  # halve the table of every change until the comment fits
        rows //= 2
        text = render(rows)
    Path(args.markdown).write_text(text, encoding="utf-8")
    return EXIT_OK


def gate(_plan: Plan, args: argparse.Namespace) -> int:
    """Step: fail on mandatory policy violations, failing linter findings or a change the engine would refuse."""
    policy: PolicyReport | None = args.policy_report
    lint: LintReport | None = args.lint_report
    diff: PlanDiff | None = args.diff
    failed = (
        (policy is not None and policy.mandatory)
        or (lint is not None and lint.failing)
        or (diff is not None and diff.blocked())
    )
    return EXIT_CHECKS_FAILED if failed else EXIT_OK


#: What runs after the program, in order; the first non-zero exit code stops the run.
STEPS: list[Step] = [print_report, run_checks, compare_base, estimate_cost, write_json, write_markdown, gate]


def start_pack(args: argparse.Namespace) -> RunningPack | None:
    """Start the policy pack (before the program runs); None with --no-policy or when the stack file is unusable.

    Fails closed: a pack directory (``--policy-pack``, or the project's ``policies/`` by default) that does not
    exist or is not a pack raises, so a missing pack can never pass as a clean run.

    Raises:
        PolicyRunError: one line saying which directory and why.
    """
    if args.no_policy:
        return None
    given = args.policy_pack is not None
    pack_dir = Path(args.policy_pack) if given else Path(args.project_dir) / POLICY_PACK_DIR
    option = f"--policy-pack {pack_dir}" if given else f"{pack_dir} (the default policy pack)"
    hint = "pass --no-policy to plan without policies"
    if not pack_dir.is_dir():
        problem = "not a directory" if pack_dir.exists() else "no such directory"
        msg = f"{option}: {problem}; {hint}"
        raise PolicyRunError(msg)
    if not (pack_dir / "PulumiPolicy.yaml").is_file():
        msg = f"{option}: no PulumiPolicy.yaml, so not a policy pack; {hint}"
        raise PolicyRunError(msg)
    try:
        project = project_name(Path(args.project_dir))
        config, secret_keys = load_stack_config(Path(args.project_dir), args.stack)
    except StackConfigError:
        return None  # the program run reports it (exit 2)
    return RunningPack(
        project=project,
        stack=args.stack,
        stack_config=config,
        secret_keys=secret_keys,
        dry_run=args.mode == "preview",
        pack_dir=Path(pack_dir),
    )


def output_path_problem(option: str, path: Path) -> str | None:
    """Why ``path`` (the file of ``--json`` or ``--markdown``) cannot be written, or None; nothing is created."""
    where = f"{option} {path}"
    if path.is_dir():
        return f"{where}: is a directory"
    parent = path.parent
    if not parent.exists():
        return f"{where}: directory {parent} does not exist"
    if not parent.is_dir():
        return f"{where}: {parent} is not a directory"
    if path.exists():
        if not os.access(path, os.W_OK):
            return f"{where}: permission denied (the file is not writable)"
    elif not os.access(parent, os.W_OK | os.X_OK):
        return f"{where}: permission denied (cannot create a file in {parent})"
    return None


def output_problems(args: argparse.Namespace) -> list[str]:
    """`output_path_problem` of each output option given."""
    given = [("--json", args.json), ("--markdown", args.markdown)]
    found = [output_path_problem(option, Path(path)) for option, path in given if path is not None]
    return [problem for problem in found if problem is not None]


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived; raised in the main thread so that every cleanup runs on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number."""
        return 128 + self.signum


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Stopped` while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def offline_secrets_note(stack: str, keys: Sequence[str]) -> str:
    """What the plan stood in for, and what the real path needs first."""
    return (
        f"note: Pulumi.{stack}.yaml sets none of the secrets {', '.join(keys)}: offline stand-ins were used. A real "
        "`pulumi up` stops before registering anything until the ones its settings need are set "
        "(`pulumi config set --secret <key> <value>`)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plan CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    args.policy_report, args.lint_report, args.diff = None, None, None
    args.base_commit, args.base_plan, args.cost, args.cost_delta = None, None, None, None
    args.console = plan_terminal.make_console() if plan_terminal.wants_rich(args.format) else None
    try:
        with stop_on_signals():
            return _run(args)
    except (Stopped, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        sys.stdout.flush()
        sys.stderr.write(f"error: stopped by {signal.Signals(signum).name}; the policy pack was stopped too\n")
        return 128 + signum


def _run(args: argparse.Namespace) -> int:
    problems = output_problems(args)
    if problems:
        sys.stderr.write(f"error: {problems[0]}\n")
        return EXIT_CONFIG_ERROR
    if args.base is not None:
        try:  # before anything runs: a base that names no commit is a usage error
            args.base_commit = resolve_commit(args.base, Path(args.project_dir))
        except BaseRefError as exc:
            sys.stderr.write(f"error: --base {args.base}: {exc}\n")
            return EXIT_CONFIG_ERROR
    with contextlib.ExitStack() as cleanup:
        try:
            args.pack = start_pack(args)
        except PolicyRunError as exc:
            sys.stderr.write(f"error: policy checks could not run: {exc}\n")
            return EXIT_POLICY_ERROR
        if args.pack is not None:
            cleanup.enter_context(args.pack)
        try:
            plan = run_program(args.stack, args.mode, args.project_dir)
        except ConfigurationError as exc:
            sys.stderr.write(f"error: {exc.message}\n")
            return EXIT_CONFIG_ERROR
        if plan.offline_secrets:
            sys.stderr.write(offline_secrets_note(args.stack, plan.offline_secrets) + "\n")
        for step in STEPS:
            code = step(plan, args)
            if code != EXIT_OK:
                return code
    return EXIT_OK


if __name__ == "__main__":
    exit_code = main()
    if exit_code in {
        128 + signum for signum in STOP_SIGNALS
    }:  # stopped by a signal: the program's threads may still run; do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    raise SystemExit(exit_code)
