"""Can every CI job that runs Pulumi against a stack reach that stack's Kubernetes API? Checked offline.

A job "runs Pulumi against a stack" when it has a ``pulumi/actions`` step with a ``command``; its stack is the
job's ``env.STACK`` (the step says ``stack-name: ${{ env.STACK }}``). For each such job:

- a first-deploy job (its ``env`` sets `components.delivery.DEPLOY_PHASE_ENV`) touches AWS APIs only: its phase
  must be `NETWORK_PHASE` and the job must run only when the workflow is dispatched with ``first-deploy``;
- any other job needs the API: `components.delivery.reachability_problem` with the stack's settings; on the
  stack's in-VPC runner, the workflow's ``name`` must also be one the runner's webhook takes
  (``delivery.workflows``), or the job waits for a runner that never comes.

Every stack file must have an ``up`` job in the deploy workflow. ``python -m tools.delivery_check`` prints one
line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.delivery import (
    DEPLOY_PHASE_ENV,
    NETWORK_PHASE,
    codebuild_runs_on,
    reachability_problem,
    runner_project_name,
)
from components.naming import NamingContext
from config import RunnerKind, Settings
from tools.harness import REPO_ROOT
from tools.stack_config import project_name, read_yaml

PULUMI_ACTION = "pulumi/actions@"
STACK_NAME_INPUT = "${{ env.STACK }}"
DEPLOY_WORKFLOW = "deploy.yml"


@dataclass(frozen=True)
class StackJob:
    """One job's Pulumi command on one stack."""

    workflow_file: str
    workflow_name: str
    job: str
    stack: str
    runs_on: str
    command: str
    #: `DEPLOY_PHASE_ENV` of the job (None: the whole stack).
    phase: str | None
    #: The job's ``if:``.
    condition: str

    @property
    def where(self) -> str:
        """``<file>:<job>`` for messages."""
        return f"{self.workflow_file}:{self.job}"


def stack_jobs(workflows_dir: Path) -> tuple[list[StackJob], list[str]]:
    """Every Pulumi step of every workflow, and the problems of steps whose stack cannot be told."""
    jobs: list[StackJob] = []
    problems: list[str] = []
    for path in sorted(workflows_dir.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        for name, job in workflow.get("jobs", {}).items():
            for step in job.get("steps", []):
                if not str(step.get("uses", "")).startswith(PULUMI_ACTION) or "command" not in step.get("with", {}):
                    continue
                inputs: Mapping[str, Any] = step["with"]
                env = job.get("env") or {}
                stack = env.get("STACK")
                if inputs.get("stack-name") != STACK_NAME_INPUT or not isinstance(stack, str):
                    problems.append(
                        f"{path.name}:{name}: pulumi/actions needs stack-name {STACK_NAME_INPUT} and env.STACK"
                    )
                    continue
                jobs.append(
                    StackJob(
                        workflow_file=path.name,
                        workflow_name=str(workflow.get("name", "")),
                        job=name,
                        stack=stack,
                        runs_on=str(job.get("runs-on", "")),
                        command=str(inputs["command"]),
                        phase=env.get(DEPLOY_PHASE_ENV),
                        condition=str(job.get("if", "")),
                    )
                )
    return jobs, problems


def load_stacks(project_dir: Path) -> dict[str, Settings]:
    """The validated settings of every ``Pulumi.<stack>.yaml``."""
    project = project_name(project_dir)
    stacks = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        data = read_yaml(path)
        settings = data["config"][f"{project}:settings"] if isinstance(data, dict) else None
        stacks[stack] = Settings.model_validate(settings)
    return stacks


def job_problem(job: StackJob, settings: Settings, project: str) -> str | None:
    """Why ``job`` cannot do its work on its stack, None when it can."""
    if job.phase is not None:
        if job.phase != NETWORK_PHASE:
            return f"{job.where}: {DEPLOY_PHASE_ENV} is {job.phase!r}; the only phase is {NETWORK_PHASE!r}"
        if "inputs.first-deploy" not in job.condition:
            return f"{job.where}: a network-only deploy must run only for first-deploy (its `if:` names no input)"
        return None
    naming = NamingContext(project, job.stack)
    delivery = settings.delivery
    in_vpc = delivery is not None and delivery.runner is RunnerKind.CODEBUILD
    label = codebuild_runs_on(runner_project_name(naming)) if in_vpc else None
    endpoint = settings.cluster.endpoint
    problem = reachability_problem(
        runs_on=job.runs_on,
        in_vpc_label=label,
        public_access=endpoint.public_access,
        public_access_cidrs=[str(cidr) for cidr in endpoint.public_access_cidrs],
        runner_egress_cidrs=[str(cidr) for cidr in delivery.runner_egress_cidrs] if delivery else [],
    )
    if problem:
        return f"{job.where} ({job.stack}): {problem}"
    if delivery is not None and job.runs_on == label and job.workflow_name not in delivery.workflows:
        return (
            f"{job.where} ({job.stack}): workflow {job.workflow_name!r} is not in delivery.workflows "
            f"{delivery.workflows}: the runner's webhook never starts a runner for it"
        )
    return None


def problems(project_dir: Path = REPO_ROOT, workflows_dir: Path | None = None) -> list[str]:
    """Every reason a workflow job could not reach or deploy its stack."""
    project = project_name(project_dir)
    stacks = load_stacks(project_dir)
    jobs, found = stack_jobs(workflows_dir or project_dir / ".github" / "workflows")
    for job in jobs:
        settings = stacks.get(job.stack)
        if settings is None:
            found.append(f"{job.where}: no stack file Pulumi.{job.stack}.yaml")
            continue
        problem = job_problem(job, settings, project)
        if problem:
            found.append(problem)
    deployed = {job.stack for job in jobs if job.workflow_file == DEPLOY_WORKFLOW and job.command == "up"}
    found += [f"{DEPLOY_WORKFLOW}: no `up` job deploys stack {stack}" for stack in sorted(set(stacks) - deployed)]
    return found


def github_path_matches(pattern: str, path: str) -> bool:
    """GitHub's ``on.<push>.paths`` filter: ``**`` matches any characters, ``*`` any but ``/``, ``?`` one.

    GitHub Docs, "Workflow syntax for GitHub Actions", "Filter pattern cheat sheet".
    """
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.fullmatch(regex, path) is not None


def push_paths(workflow_file: Path) -> list[str]:
    """The ``on.push.paths`` filters of a workflow (YAML 1.1 reads the key ``on`` as True)."""
    workflow = yaml.safe_load(workflow_file.read_text())
    triggers = workflow.get("on", workflow.get(True, {}))
    return list(triggers["push"].get("paths", []))


def main() -> int:
    """Print the problems; exit 1 if there is any."""
    found = problems()
    for line in found:
        print(f"error: {line}", file=sys.stderr)  # noqa: T201 - CLI output
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
