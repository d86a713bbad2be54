"""Wall time of the offline plan with its policy checks, each run in a fresh Python process.

    python -m tools.bench --stack prod --runs 5 [--lint] [--no-policy]

Runs ``python -m tools.plan --stack <stack> --json /dev/null --no-lint`` ``--runs`` times (the program plus
the policy pack over real gRPC; ``--lint`` adds parliament and kubernetes-validate, ``--no-policy`` times the
program alone) and prints each run's wall time, then the median, min and max. A figure, not a test: it never
fails on slowness, and a run whose checks found violations (exit 3) still counts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.harness import MODES, REPO_ROOT
from tools.plan import EXIT_CHECKS_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m tools.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Time `python -m tools.plan` in fresh processes.",
    )
    parser.add_argument("--stack", default="prod", help="default: prod")
    parser.add_argument("--runs", type=int, default=5, help="default: 5")
    parser.add_argument("--mode", choices=MODES, default="preview", help="default: preview")
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT)
    parser.add_argument("--lint", action="store_true", help="include the linters (default: plan + policies)")
    parser.add_argument("--no-policy", action="store_true", help="time the program alone")
    return parser


def plan_command(stack: str, mode: str, project_dir: Path, *, lint: bool = False, policy: bool = True) -> list[str]:
    """The plan CLI invocation that one benchmark run times."""
    flags = ([] if lint else ["--no-lint"]) + ([] if policy else ["--no-policy"])
    return [
        sys.executable,
        "-m",
        "tools.plan",
        "--stack",
        stack,
        "--mode",
        mode,
        "--json",
        os.devnull,
        "--project-dir",
        str(project_dir),
        *flags,
    ]


def time_once(command: Sequence[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time of one fresh-process run of ``command`` (started from the repository root)."""
    start = time.perf_counter()
    # The command is our own interpreter running our own module: no untrusted input.
    completed = subprocess.run(  # noqa: S603
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - start, completed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the failing run's exit code, else 0."""
    args = build_parser().parse_args(argv)
    if args.runs < 1:
        build_parser().error("--runs must be at least 1")
    command = plan_command(args.stack, args.mode, args.project_dir.resolve(), lint=args.lint, policy=not args.no_policy)
    _say(f"$ {' '.join(command)}")
    times: list[float] = []
    for run in range(1, args.runs + 1):
        seconds, completed = time_once(command)
        if completed.returncode not in (0, EXIT_CHECKS_FAILED):
            sys.stderr.write(f"run {run}: failed with exit code {completed.returncode}\n")
            sys.stderr.write(completed.stderr)
            return completed.returncode
        times.append(seconds)
        _say(f"run {run}: {seconds:.3f} s")
    median, fastest, slowest = statistics.median(times), min(times), max(times)
    _say(f"median {median:.3f} s, min {fastest:.3f} s, max {slowest:.3f} s ({len(times)} runs)")
    return 0


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
