"""Plan + policies for large rosters: 100 and 1000 app roles and Vault users, kept in roster files.

    python -m tools.bench_rosters [--sizes 100 1000] [--stack dev] [--runs 1]

For each size, a copy of the project gets ``rosters/app-roles.yaml`` (that many app roles, each with its own
namespace and ServiceAccount) and ``rosters/vault-users.yaml`` (that many Vault users), referenced from the
stack's settings (``appRolesFiles``, ``vault.usersFiles``), and ``python -m tools.plan`` runs with the policy
pack in a fresh process. Prints the resource count, the size of the stack config the pack receives, and the wall
time per size, then the ratio of time per resource between the largest and the smallest size (linear growth: a
ratio near 1). A figure, not a test: it never fails on slowness.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from tools.harness import REPO_ROOT, copy_project
from tools.stack_config import load_stack_config

ARN = "arn:aws:iam::941892620273:role/eventual-vault-access"


def roster_project(base: Path, size: int, stack: str) -> Path:
    """A copy of the project whose ``stack`` has ``size`` app roles and Vault users in roster files."""
    project = copy_project(base / f"project-{size}")
    rosters = project / "rosters"
    rosters.mkdir()
    roles = {f"svc-{i:04d}": {"namespace": f"svc-{i:04d}", "serviceAccount": "app"} for i in range(size)}
    (rosters / "app-roles.yaml").write_text(yaml.safe_dump(roles), encoding="utf-8")
    users = {f"user-{i:04d}@example.com": [ARN] for i in range(size)}
    (rosters / "vault-users.yaml").write_text(yaml.safe_dump(users), encoding="utf-8")
    stack_file = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    settings = document["config"]["eks-platform:settings"]
    settings["appRolesFiles"] = ["rosters/app-roles.yaml"]
    settings.setdefault("vault", {})["usersFiles"] = ["rosters/vault-users.yaml"]
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return project


def run_plan(project: Path, stack: str) -> tuple[float, int, int]:
    """(wall seconds, exit code, resource count) of one plan with policies, in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            "-m",
            "tools.plan",
            "--stack",
            stack,
            "--project-dir",
            str(project),
            "--no-lint",
            "--json",
            out.name,
        ]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        elapsed = time.perf_counter() - start
        try:
            resources = len(json.loads(Path(out.name).read_text(encoding="utf-8"))["resources"])
        except (ValueError, KeyError):
            sys.stderr.write(done.stderr)
            resources = 0
    return elapsed, done.returncode, resources


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures per roster size."""
    parser = argparse.ArgumentParser(prog="python -m tools.bench_rosters", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=1, help="runs per size; the fastest counts (default: 1)")
    args = parser.parse_args(argv)
    per_resource: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            project = roster_project(Path(tmp), size, args.stack)
            config, _ = load_stack_config(project, args.stack)
            env_bytes = len(json.dumps(config, sort_keys=True).encode())
            runs = [run_plan(project, args.stack) for _ in range(args.runs)]
            elapsed, code, resources = min(runs)
            per_resource[size] = elapsed / max(resources, 1)
            sys.stdout.write(
                f"{size:>5} roles + {size} users: {resources} resources, PULUMI_CONFIG {env_bytes / 1024:.1f} KiB, "
                f"plan + policies {elapsed:.2f} s (exit {code}), {per_resource[size] * 1000:.2f} ms per resource\n"
            )
    smallest, largest = min(args.sizes), max(args.sizes)
    if smallest != largest:
        ratio = per_resource[largest] / per_resource[smallest]
        sys.stdout.write(f"time per resource, {largest} vs {smallest}: x{ratio:.2f} (1.0 = linear)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
