"""Where a stack's CI jobs run, and how they reach its Kubernetes API. Pure: settings, components and tests use it.

The API endpoint's private side is always on; the public side is optional and limited to ``publicAccessCidrs``.
A deploy job reaches the API either from inside the VPC (the stack's CodeBuild-hosted GitHub Actions runner in
its private subnets, admitted by the cluster security group on 443) or from a runner whose public egress lies
inside ``publicAccessCidrs``. `reachability_problem` is that rule; `tools/delivery_check.py` applies it to the
workflows.

Contracts:
- Runner label: ``codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`` (AWS CodeBuild User Guide,
  "Tutorial: Configure a CodeBuild-hosted GitHub Actions runner" and "About the CodeBuild-hosted GitHub Actions
  runner"); the project's webhook takes ``WORKFLOW_JOB_QUEUED`` events ("GitHub webhook events").
- First deploy: not ``pulumi up --target``. The engine always includes every provider resource
  (pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` ``isImplicitlyTargetedResource``: the type of the URN's
  last segment), and a targeted step whose parent or dependency is a skipped create fails ("untargeted create"):
  the cluster's kubernetes provider, a child of EksCluster that waits for its access entries, would fail any
  target set without the cluster. A phase the program reads (`DEPLOY_PHASE_ENV`) declares the network alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from components.limits import MAX_LENGTH
from components.naming import NamingContext, fit

#: Physical-name role of the runner's CodeBuild project, IAM role, security group and log group.
RUNNER_ROLE = "ci-runner"
#: GitHub Actions workflows (their ``name:``) whose jobs the runner's webhook accepts.
RUNNER_WORKFLOWS = ("deploy", "drift")
#: Workflow names the settings accept (letters, digits, space, ``_.-``).
WORKFLOW_NAME_PATTERN = r"^[A-Za-z0-9 _.-]+$"
#: The Kubernetes API port of the EKS endpoint.
API_PORT = 443
#: A new environment's first deploy runs from a GitHub-hosted runner with ``EKS_PLATFORM_DEPLOY_PHASE=network``: the
#: program then declares only what the in-VPC runner needs to exist and reach GitHub (the VPC with its NAT routes,
#: the runner itself), so that run touches AWS APIs only.
DEPLOY_PHASE_ENV = "EKS_PLATFORM_DEPLOY_PHASE"
NETWORK_PHASE = "network"


def runner_project_name(naming: NamingContext) -> str:
    """The CodeBuild project of a stack's runner: ``{project}-{stack}-ci-runner``."""
    return fit(f"{naming.prefix}-{RUNNER_ROLE}", MAX_LENGTH["codebuild_project"])


def codebuild_runs_on(project_name: str) -> str:
    """The ``runs-on`` label that sends a job to a CodeBuild project's runner (one runner per job attempt)."""
    return f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def runner_workflow_pattern(workflows: Sequence[str] = RUNNER_WORKFLOWS) -> str:
    """The webhook's ``WORKFLOW_NAME`` filter: exactly one of the delivery workflows.

    Names are `WORKFLOW_NAME_PATTERN` words; only ``.`` is a metacharacter among them.
    """
    return "^(" + "|".join(name.replace(".", r"\.") for name in workflows) + ")$"


def deploy_phase(value: str | None) -> str | None:
    """The run's `DEPLOY_PHASE_ENV`: None (everything) or `NETWORK_PHASE`; anything else is refused."""
    if value in (None, ""):
        return None
    if value != NETWORK_PHASE:
        msg = f"{DEPLOY_PHASE_ENV}={value!r}: the only phase is {NETWORK_PHASE!r} (unset: the whole stack)"
        raise ValueError(msg)
    return value


def cidr_within(inner: str, outers: Iterable[str]) -> bool:
    """Whether the CIDR ``inner`` lies wholly inside one of ``outers``."""
    network = ipaddress.ip_network(inner, strict=False)
    for outer in outers:
        candidate = ipaddress.ip_network(outer, strict=False)
        if network.version == candidate.version and network.subnet_of(candidate):  # type: ignore[arg-type]
            return True
    return False


def reachability_problem(
    *,
    runs_on: str,
    in_vpc_label: str | None,
    public_access: bool,
    public_access_cidrs: Sequence[str],
    runner_egress_cidrs: Sequence[str],
) -> str | None:
    """Why a job with ``runs-on: runs_on`` cannot reach the stack's API, None when it can.

    ``in_vpc_label`` is the ``runs-on`` of the stack's in-VPC runner (None if it has none). Any other runner is
    outside the VPC: it reaches the API only through the public endpoint, from egress CIDRs the stack declares
    (``delivery.runnerEgressCidrs``) and the endpoint admits.
    """
    if in_vpc_label is not None and runs_on == in_vpc_label:
        return None
    if not public_access:
        where = f"its in-VPC runner ({in_vpc_label})" if in_vpc_label else "a runner inside the VPC"
        return f"runs on {runs_on!r}, outside the VPC, but the API endpoint is private: run it on {where}"
    if not runner_egress_cidrs:
        return (
            f"runs on {runs_on!r}, outside the VPC, and the stack declares no runner egress CIDRs "
            "(delivery.runnerEgressCidrs) inside cluster.endpoint.publicAccessCidrs"
        )
    outside = [cidr for cidr in runner_egress_cidrs if not cidr_within(cidr, public_access_cidrs)]
    if outside:
        return (
            f"runs on {runs_on!r}, whose egress {', '.join(outside)} is not inside "
            f"cluster.endpoint.publicAccessCidrs ({', '.join(public_access_cidrs)})"
        )
    return None
