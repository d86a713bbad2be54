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
- First deploy: ``pulumi up --target <glob>`` (pulumi/pulumi ``pkg/resource/deploy/deployment.go``
  ``UrnTargets.getMatcher``: ``**`` matches anything, ``*`` anything but ``:``). A targeted resource whose
  parent, dependency or property dependency is an untargeted create fails the update ("untargeted create",
  ``step_generator.go``); providers and the root stack are always included (``isImplicitlyTargetedResource``).
"""

from __future__ import annotations

import ipaddress
import re
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
#: Components a new environment's first, targeted `pulumi up` creates from a GitHub-hosted runner: everything
#: the in-VPC runner needs to exist and reach GitHub (the VPC with its NAT routes, the runner itself).
FIRST_DEPLOY_COMPONENTS = ("eksplatform:platform:Vpc", "eksplatform:platform:CiRunner")
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
STACK_TYPE = "pulumi:pulumi:Stack"


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


def first_deploy_targets(project: str, stack: str) -> list[str]:
    """``--target`` globs of a new environment's first up: each first-deploy component and all it parents."""
    return [f"urn:pulumi:{stack}::{project}::{component}**" for component in FIRST_DEPLOY_COMPONENTS]


def urn_glob_matches(glob: str, urn: str) -> bool:
    """Whether the engine's ``--target`` glob matches ``urn`` (``**``: anything; ``*``: anything but ``:``)."""
    if "*" not in glob:
        return glob == urn
    pattern = ".*".join("[^:]*".join(re.escape(part) for part in piece.split("*")) for piece in glob.split("**"))
    return re.fullmatch(pattern, urn) is not None


def implicitly_targeted(urn: str) -> bool:
    """Providers and the root stack are part of every targeted update."""
    qualified = urn.split("::", 3)[2] if urn.count("::") >= 3 else ""  # noqa: PLR2004 - urn:pulumi:s::p::type::name
    return qualified.startswith(PROVIDER_TYPE_PREFIX) or qualified == STACK_TYPE


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
