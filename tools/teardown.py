"""Destroy order for a platform stack, so `pulumi destroy` never strands load balancers, ENIs or nodes.

Resources that controllers create outside Pulumi's state (load balancers of Argo CD applications, nodes
Karpenter launches, their ENIs) keep subnets and security groups busy. Deleting in phases avoids that:

1. ``applications`` — Argo CD Applications: their finalizer deletes the apps and, with them, their load balancers;
2. ``in-cluster`` — everything else in Kubernetes and Vault: charts, NodePools (Karpenter drains its nodes while
   its controller still runs), namespaces, the GitOps bridge; while the AWS Load Balancer Controller still runs
   and deletes the load balancers of the Services and Ingresses going with them;
2b. ``load-balancer-controller`` — the controller's release (``addons.awsLoadBalancerController.install: helm``)
   and the releases it needs (cert-manager), once no load balancer or target group tagged
   ``elbv2.k8s.aws/cluster: <cluster>`` is left (`wait_for_lbs`);
3. ``cluster`` — the EKS cluster, node groups, add-ons, IAM roles and queues of the cluster and its controllers;
4. ``network`` — the VPC, the CI runner (phases 1-3 of a private cluster run on it; this one needs only AWS APIs)
   and the account-level services (GuardDuty) — the rest of the stack, after deleting the
   endpoint and security group GuardDuty's automated agent created in the VPC (`remove_guardduty_endpoint`), and
   after checking that no load balancer of the controller is left, whichever way it was installed, and deleting
   the security groups it created in the VPC (`remove_lb_controller_leftovers`).

``python -m tools.teardown --stack prod --state state.json`` prints a reviewed shell script for the real stack
(``state.json`` from ``pulumi stack export``: real URNs); without ``--state`` it uses the offline plan, to review
the phases. Protected resources (prod) are listed with the ``pulumi state unprotect`` commands they need.

A state file that is not a ``pulumi stack export`` document (not JSON, no ``deployment.resources``), holds no
resources, or holds resources of another stack or project (their URNs ``urn:pulumi:<stack>::<project>::...``)
is refused with one line ``error: <file>: <problem>`` and exit 2: a script built from it would target nothing,
or the wrong stack.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.harness import REPO_ROOT, run_program
from tools.stack_config import StackConfigError, project_name

EXIT_BAD_STATE = 2
PHASES = ("applications", "in-cluster", "load-balancer-controller", "cluster", "network")
ARGO_APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
#: The add-on catalog's component and the LB controller's release in it (components/addons.py: ``<name>-<add-on>``).
ADDONS_COMPONENT = "eksplatform:platform:Addons"
LB_CONTROLLER_RELEASE_SUFFIX = "-aws-load-balancer-controller"
#: What deploys the applications, by GitOps engine: deleting these deletes what they applied (Argo CD's finalizer,
#: Flux's prune) while the controllers still run.
APPLICATION_TYPES = frozenset(
    {
        ARGO_APPLICATION,
        "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
        "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
        "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
    }
)
#: Components whose AWS resources go with the network (phase 4) rather than the cluster (phase 3).
NETWORK_COMPONENTS = ("eksplatform:platform:Vpc", "eksplatform:platform:CiRunner", "eksplatform:platform:GuardDuty")
#: Resources of a network component that belong to the cluster: the GuardDuty agent add-on (``guardDuty.agent:
#: stack``) lives in the cluster and goes with it; its endpoint stays for the network phase.
CLUSTER_TYPES = frozenset({"aws:eks/addon:Addon"})


@dataclass(frozen=True)
class StateResource:
    """What the ordering needs of a resource: identity, tree position, dependencies, protection."""

    urn: str
    type: str
    parent: str = ""
    custom: bool = True
    protect: bool = False
    dependencies: tuple[str, ...] = field(default_factory=tuple)
    #: The physical id (``vpc-...`` for the VPC), empty when unknown.
    id: str = ""


def phase_of(resource: StateResource, by_urn: dict[str, StateResource]) -> str | None:
    """The phase a custom resource is destroyed in; None for providers, components and the stack."""
    if not resource.custom or resource.type.startswith("pulumi:"):
        return None
    if resource.type in APPLICATION_TYPES:
        return "applications"
    if resource.type.startswith(("kubernetes:", "vault:")):
        return "in-cluster"
    if resource.type in CLUSTER_TYPES:
        return "cluster"
    ancestor = by_urn.get(resource.parent)
    while ancestor is not None:
        if ancestor.type in NETWORK_COMPONENTS:
            return "network"
        ancestor = by_urn.get(ancestor.parent)
    return "cluster"


#: What installs the controller when a GitOps engine does (``install: gitops``), by type and component: the
#: ApplicationSet ``<argo>-addon-<name>`` (ArgoBootstrap) or the Flux HelmRelease ``<flux>-addon-<name>``.
GITOPS_ADDON_INSTALLERS = {
    "kubernetes:argoproj.io/v1alpha1:ApplicationSet": "eksplatform:platform:ArgoBootstrap",
    "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease": "eksplatform:platform:FluxBootstrap",
}


def is_lb_controller(resource: StateResource, by_urn: dict[str, StateResource]) -> bool:
    """True for what installs the AWS Load Balancer Controller.

    That is the add-on catalog's Helm release, or the GitOps engine's ApplicationSet or HelmRelease of the add-on.
    """
    parent = by_urn.get(resource.parent)
    if parent is None or not resource.urn.endswith(LB_CONTROLLER_RELEASE_SUFFIX):
        return False
    if resource.type == HELM_RELEASE:
        return parent.type == ADDONS_COMPONENT
    return GITOPS_ADDON_INSTALLERS.get(resource.type) == parent.type and resource.urn.endswith(
        f"-addon{LB_CONTROLLER_RELEASE_SUFFIX}"
    )


def plan_phases(resources: Iterable[StateResource]) -> dict[str, list[StateResource]]:
    """Custom resources grouped by phase, in destroy order, each phase sorted by URN.

    What installs the LB controller (its release, or the GitOps engine's object for it, otherwise one of the
    ``applications``) and every in-cluster resource it depends on move to ``load-balancer-controller``: the controller
    must outlive the Services and Ingresses whose load balancers it deletes.
    """
    listed = list(resources)
    by_urn = {r.urn: r for r in listed}
    phases: dict[str, list[StateResource]] = {name: [] for name in PHASES}
    late: set[str] = set()
    roots = {r.urn for r in listed if is_lb_controller(r, by_urn)}
    pending = sorted(roots)
    while pending:
        urn = pending.pop()
        if urn in late or urn not in by_urn or (urn not in roots and phase_of(by_urn[urn], by_urn) != "in-cluster"):
            continue
        late.add(urn)
        pending.extend(by_urn[urn].dependencies)
    for resource in sorted(listed, key=lambda r: r.urn):
        phase = phase_of(resource, by_urn)
        if phase is not None:
            phases["load-balancer-controller" if resource.urn in late else phase].append(resource)
    return phases


def order_violations(phases: dict[str, list[StateResource]]) -> list[str]:
    """Dependencies a phased destroy would break: a resource destroyed before something that depends on it."""
    index = {r.urn: PHASES.index(name) for name, members in phases.items() for r in members}
    return [
        f"{dependency} ({PHASES[index[dependency]]}) is needed by {r.urn} ({name})"
        for name, members in phases.items()
        for r in members
        for dependency in r.dependencies
        if dependency in index and index[dependency] < index[r.urn]
    ]


#: The tag the AWS Load Balancer Controller puts on every ALB, NLB, target group, listener, rule and security group it
#: creates (kubernetes-sigs/aws-load-balancer-controller v3.5.0 docs/guide/ingress/annotations.md "Resource Tags",
#: docs/guide/service/annotations.md "AWS Resource Tags", docs/deploy/security_groups.md: the backend group).
LB_CLUSTER_TAG = "elbv2.k8s.aws/cluster"
#: Resource Groups Tagging API types of what it creates that outlives a deleted controller (listeners and rules go
#: with their load balancer).
LB_RESOURCE_TYPES = ("elasticloadbalancing:loadbalancer", "elasticloadbalancing:targetgroup")
#: How long the pre-network check waits for the controller's load balancers (polls of 15 s: 15 minutes).
LB_WAIT_POLLS = 60


def lb_query(cluster_name: str) -> str:
    """The ARNs of the load balancers and target groups tagged for the cluster (one shell command)."""
    return (
        f"aws resourcegroupstaggingapi get-resources --resource-type-filters {' '.join(LB_RESOURCE_TYPES)}"
        f" --tag-filters Key={LB_CLUSTER_TAG},Values={shlex.quote(cluster_name)}"
        " --query 'ResourceTagMappingList[].ResourceARN' --output text"
    )


def wait_for_lbs(cluster_name: str) -> str:
    """A shell loop that waits until no load balancer or target group of the cluster's controller is left.

    At most `LB_WAIT_POLLS` polls: what is left then stops the script before the network phase.
    """
    return f'for _ in $(seq {LB_WAIT_POLLS}); do [ -z "$({lb_query(cluster_name)})" ] && break; sleep 15; done'


def remove_lb_controller_leftovers(cluster_name: str, vpc_id: str) -> list[str]:
    """Shell lines run before the VPC goes: stop if the controller left load balancers, delete its security groups.

    With the controller gone nothing deletes a load balancer it created (an Ingress or Service outside the stack,
    or a controller installed through GitOps): its ENIs would keep the subnets. The script waits a bounded time,
    then stops naming them. The frontend and shared backend security groups it created are tagged
    ``elbv2.k8s.aws/cluster`` too and, unused once the load balancers are gone, block the VPC's deletion.
    """
    query = lb_query(cluster_name)
    tagged = f"Name=vpc-id,Values={shlex.quote(vpc_id)} Name=tag:{LB_CLUSTER_TAG},Values={shlex.quote(cluster_name)}"
    groups = f"aws ec2 describe-security-groups --filters {tagged} --query 'SecurityGroups[].GroupId' --output text"
    stop = "error: load balancers of the cluster are left: $left (delete them, then run this script again)"
    return [
        f"# The AWS Load Balancer Controller's load balancers, target groups and security groups ({LB_CLUSTER_TAG}):",
        f'for _ in $(seq {LB_WAIT_POLLS}); do [ -z "$({query})" ] && break; sleep 15; done',
        f'left="$({query})"',
        f'if [ -n "$left" ]; then echo "{stop}" >&2; exit 1; fi',
        f'for group in $({groups}); do aws ec2 delete-security-group --group-id "$group"; done',
    ]


GUARDDUTY_TAG = "GuardDutyManaged"
VPC_TYPE = "aws:ec2/vpc:Vpc"


def remove_guardduty_endpoint(vpc_id: str) -> list[str]:
    """Shell lines deleting what GuardDuty's automated EKS agent created in the VPC, outside Pulumi.

    GuardDuty Runtime Monitoring with automated agent configuration creates a ``guardduty-data`` interface endpoint
    and a security group, both tagged ``GuardDutyManaged: true``, and deletes them only when Runtime Monitoring is
    disabled for the account (GuardDuty User Guide, "Disabling, uninstalling, and cleaning up resources in Runtime
    Monitoring"). Left behind, their ENIs keep the subnets, and so the VPC, from being deleted.
    """
    vpc = shlex.quote(vpc_id)
    tagged = f"Name=vpc-id,Values={vpc} Name=tag:{GUARDDUTY_TAG},Values=true"
    endpoints = (
        f"aws ec2 describe-vpc-endpoints --filters {tagged} --query 'VpcEndpoints[].VpcEndpointId' --output text"
    )
    groups = f"aws ec2 describe-security-groups --filters {tagged} --query 'SecurityGroups[].GroupId' --output text"
    return [
        "# GuardDuty's agent endpoint and security group (tagged GuardDutyManaged=true, created outside Pulumi):",
        ': "${AWS_REGION:?set AWS_REGION to the stack\'s region}"',
        f'for endpoint in $({endpoints}); do aws ec2 delete-vpc-endpoints --vpc-endpoint-ids "$endpoint"; done',
        f'until [ -z "$({endpoints})" ]; do sleep 10; done',
        f'for group in $({groups}); do aws ec2 delete-security-group --group-id "$group"; done',
    ]


def script(stack: str, phases: dict[str, list[StateResource]], cluster_name: str) -> str:
    """A bash script destroying ``stack`` phase by phase."""
    lines = [
        "#!/usr/bin/env bash",
        f"# Phased destroy of stack {stack} (generated by tools/teardown.py).",
        "set -euo pipefail",
    ]
    protected = [r.urn for members in phases.values() for r in members if r.protect]
    if protected:
        lines += ["", "# Protected resources: unprotect deliberately, then run this script."]
        lines += [f"# pulumi state unprotect --stack {shlex.quote(stack)} {shlex.quote(urn)}" for urn in protected]
    for name in PHASES[:-1]:
        if not phases[name]:
            continue
        targets = " ".join(f"--target {shlex.quote(r.urn)}" for r in phases[name])
        lines += ["", f"# {name}", f"pulumi destroy --stack {shlex.quote(stack)} --yes --target-dependents {targets}"]
        if name == "applications":
            lines += ["# Wait until the load balancers the applications owned are gone:", wait_for_lbs(cluster_name)]
        if name == "in-cluster" and phases["load-balancer-controller"]:
            lines += [
                "# Wait until the controller deleted the load balancers of what went:",
                wait_for_lbs(cluster_name),
            ]
    vpcs = [r.id for r in phases["network"] if r.type == VPC_TYPE and r.id]
    for vpc_id in vpcs:
        lines += ["", *remove_guardduty_endpoint(vpc_id)]
        lines += ["", *remove_lb_controller_leftovers(cluster_name, vpc_id)]
    lines += [
        "",
        "# network and account services: everything left",
        f"pulumi destroy --stack {shlex.quote(stack)} --yes",
        "",
    ]
    return "\n".join(lines)


class StateError(Exception):
    """A state file the script cannot be built from (the message is one line)."""


def from_export(document: dict[str, object]) -> list[StateResource]:
    """Resources of a ``pulumi stack export`` document.

    Raises:
        StateError: the document has no ``deployment.resources`` list, or an entry without a string ``urn``/``type``.
    """
    deployment = document.get("deployment") if isinstance(document, dict) else None
    raw = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(raw, list):
        msg = "not a `pulumi stack export` document: no deployment.resources list"
        raise StateError(msg)
    resources = []
    for index, r in enumerate(raw):
        if not isinstance(r, dict) or not isinstance(r.get("urn"), str) or not isinstance(r.get("type"), str):
            msg = f"deployment.resources[{index}]: a resource needs a string urn and type"
            raise StateError(msg)
        resources.append(
            StateResource(
                urn=r["urn"],
                type=r["type"],
                parent=str(r.get("parent") or ""),
                custom=r.get("custom", False) is True,
                protect=r.get("protect", False) is True,
                dependencies=tuple(str(d) for d in r.get("dependencies") or ()),
                id=str(r.get("id", "")),
            )
        )
    return resources


def urn_stack_and_project(urn: str) -> tuple[str, str] | None:
    """(stack, project) of ``urn:pulumi:<stack>::<project>::<type>::<name>``; None for anything else."""
    if not urn.startswith("urn:pulumi:"):
        return None
    parts = urn.removeprefix("urn:pulumi:").split("::", 3)
    return (parts[0], parts[1]) if len(parts) == 4 and parts[0] and parts[1] else None  # noqa: PLR2004 - 4 parts


def read_state(path: Path, stack: str, project: str) -> list[StateResource]:
    """The resources of the export ``path`` of ``stack`` of ``project``, checked (see the module doc).

    Raises:
        StateError: one line naming what is wrong.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot be read: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
        raise StateError(msg) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): expected `pulumi stack export` output"
        raise StateError(msg) from exc
    resources = from_export(document)
    if not resources:
        msg = f"no resources: stack {stack} has nothing to destroy, or this is not its export"
        raise StateError(msg)
    for resource in resources:
        owner = urn_stack_and_project(resource.urn)
        if owner is None:
            msg = f"{resource.urn}: not a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)"
            raise StateError(msg)
        if owner != (stack, project):
            msg = (
                f"{resource.urn}: belongs to stack {owner[0]} of project {owner[1]}, not to stack {stack} of "
                f"{project}: export the stack you mean to destroy"
            )
            raise StateError(msg)
    return resources


def from_offline_plan(stack: str) -> list[StateResource]:
    """Resources of the offline plan of ``stack`` (mock URNs: for review, not for a real destroy)."""
    return [
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id)
        for r in run_program(stack, "update").resources
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the phased destroy script of a stack."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.teardown", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--stack", required=True)
    parser.add_argument("--state", type=Path, help="`pulumi stack export` output (real URNs)")
    parser.add_argument("--cluster-name", help="default: eks-platform-<stack>")
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT, help="holds Pulumi.yaml (the project name)")
    args = parser.parse_args(argv)
    if args.state:
        try:
            resources = read_state(args.state, args.stack, project_name(args.project_dir))
        except (StateError, StackConfigError) as exc:
            sys.stderr.write(f"error: {args.state}: {exc}\n")
            return EXIT_BAD_STATE
    else:
        resources = from_offline_plan(args.stack)
    phases = plan_phases(resources)
    violations = order_violations(phases)
    if violations:
        sys.stderr.write("error: the phases would break dependencies:\n  " + "\n  ".join(violations) + "\n")
        return 1
    sys.stdout.write(script(args.stack, phases, args.cluster_name or f"eks-platform-{args.stack}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
