"""A new environment's first deploy: with ``EKS_PLATFORM_DEPLOY_PHASE=network`` the program declares the VPC and
the in-VPC runner only (AWS APIs only, so a GitHub-hosted runner can apply it), exactly as the full program declares
them, so the next, full deploy on the new runner finds them unchanged.

Why not ``pulumi up --target``: the engine includes every provider resource in a targeted update
(pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` ``isImplicitlyTargetedResource``, on the type of the URN's
last segment), and a targeted step whose parent or dependency is a skipped create fails the update ("untargeted
create"). The cluster's kubernetes provider, a child of EksCluster waiting for its access entries, is such a step.
"""

import pytest

from components.delivery import DEPLOY_PHASE_ENV, NETWORK_PHASE
from tools.harness import MODES, ConfigurationError, run_program

#: What the network phase declares: the VPC (with its NAT routes) and the in-VPC runner.
FIRST_DEPLOY_COMPONENTS = ("eksplatform:platform:Vpc", "eksplatform:platform:CiRunner")
PROVIDERS_AND_STACK = ("pulumi:providers:aws", "pulumi:pulumi:Stack")


def component_of(urn: str) -> str:
    """The top-level component type of a URN's type chain (``Vpc$aws:ec2/subnet:Subnet`` -> ``Vpc``)."""
    return urn.split("::")[2].split("$", maxsplit=1)[0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_network_phase_declares_the_vpc_and_the_runner_as_the_full_program_does(stack, mode, monkeypatch):
    full = {r.urn: r for r in run_program(stack, mode).resources}
    monkeypatch.setenv(DEPLOY_PHASE_ENV, NETWORK_PHASE)
    network = run_program(stack, mode)
    assert {component_of(r.urn) for r in network.resources} == {*FIRST_DEPLOY_COMPONENTS, *PROVIDERS_AND_STACK}
    types = {r.type for r in network.resources}
    assert {
        "aws:codebuild/project:Project",
        "aws:codebuild/webhook:Webhook",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
        "aws:ec2/subnet:Subnet",
    } <= types
    assert not any(t.startswith(("kubernetes:", "aws:eks/", "vault:", "pulumi:providers:kubernetes")) for t in types)
    # Everything it declares, the full program declares with the same inputs and the same dependencies.
    for resource in network.resources:
        twin = full[resource.urn]
        if resource.type == "pulumi:pulumi:Stack":
            continue
        assert (resource.inputs, resource.parent, resource.dependencies) == (
            twin.inputs,
            twin.parent,
            twin.dependencies,
        ), resource.urn
    # Every VPC and runner resource of the full program is there (the runner can reach GitHub through the NAT).
    wanted = {urn for urn in full if component_of(urn) in FIRST_DEPLOY_COMPONENTS}
    assert wanted <= {r.urn for r in network.resources}
    assert network.outputs["ciRunnerProject"] == f"eks-platform-{stack}-ci-runner" or mode == "preview"


def test_an_unknown_phase_is_one_line_before_anything_registers(monkeypatch):
    monkeypatch.setenv(DEPLOY_PHASE_ENV, "cluster")
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev")
    assert str(caught.value) == f"{DEPLOY_PHASE_ENV}='cluster': the only phase is 'network' (unset: the whole stack)"
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}
