"""A new environment's first deploy: the targeted `pulumi up` from a GitHub-hosted runner creates the VPC and the
in-VPC runner, and needs nothing it does not create (the engine refuses a targeted resource whose parent or
dependency is an untargeted create: pulumi/pulumi ``pkg/resource/deploy/step_generator.go``)."""

import pytest

from components.delivery import first_deploy_targets, implicitly_targeted, urn_glob_matches
from tools.harness import MODES, Plan, Registration, run_program


def targeted(plan: Plan, targets: list[str]) -> set[str]:
    return {r.urn for r in plan.resources if any(urn_glob_matches(glob, r.urn) for glob in targets)}


def untargeted_needs(plan: Plan, targets: list[str]) -> list[tuple[str, str]]:
    """(resource, what it needs) pairs where a targeted resource needs an untargeted one."""
    chosen = targeted(plan, targets)
    missing = []
    for resource in plan.resources:
        if resource.urn not in chosen:
            continue
        needs = [resource.parent, *resource.dependencies]
        needs += [urn for urns in resource.property_dependencies.values() for urn in urns]
        if resource.provider:
            needs.append(resource.provider.rsplit("::", 1)[0])
        missing += [
            (resource.urn, need) for need in needs if need and need not in chosen and not implicitly_targeted(need)
        ]
    return missing


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_first_deploy_creates_the_network_and_the_runner_and_needs_nothing_else(stack, mode):
    plan = run_program(stack, mode)
    targets = first_deploy_targets("eks-platform", stack)
    chosen = targeted(plan, targets)
    types = {r.type for r in plan.resources if r.urn in chosen}
    assert {
        "aws:codebuild/project:Project",
        "aws:codebuild/webhook:Webhook",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
        "aws:ec2/subnet:Subnet",
    } <= types
    assert not any(t.startswith(("kubernetes:", "aws:eks/")) for t in types)
    assert untargeted_needs(plan, targets) == []


def test_a_runner_that_needed_the_cluster_would_be_caught():
    plan = run_program("prod", "preview")
    targets = first_deploy_targets("eks-platform", "prod")
    project = plan.one("aws:codebuild/project:Project", "ci-runner-project")
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    broken = Registration(**{**project.__dict__, "dependencies": [*project.dependencies, cluster.urn]})
    plan.resources[plan.resources.index(project)] = broken
    assert untargeted_needs(plan, targets) == [(project.urn, cluster.urn)]


def test_target_globs_follow_the_engine():
    # pkg/resource/deploy/deployment.go getMatcher: `**` -> `.*`, `*` -> `[^:]*`, anchored.
    urn = "urn:pulumi:prod::eks-platform::eksplatform:platform:Vpc$aws:ec2/subnet:Subnet::network-private-a"
    assert urn_glob_matches("urn:pulumi:prod::eks-platform::eksplatform:platform:Vpc**", urn)
    assert not urn_glob_matches("urn:pulumi:prod::eks-platform::eksplatform:platform:Vpc*", urn)
    assert not urn_glob_matches("urn:pulumi:dev::eks-platform::eksplatform:platform:Vpc**", urn)
    assert urn_glob_matches(urn, urn)
    assert not urn_glob_matches(urn[:-1], urn)
    assert implicitly_targeted("urn:pulumi:prod::eks-platform::pulumi:providers:aws::aws")
    assert implicitly_targeted("urn:pulumi:prod::eks-platform::pulumi:pulumi:Stack::eks-platform-prod")
    assert not implicitly_targeted(urn)
