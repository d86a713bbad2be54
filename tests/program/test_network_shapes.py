"""The whole program in each network shape: what reaches the resources, and the policy pack's verdict on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.network_plan import PRIVATE_CLUSTER_ENDPOINTS
from tests.config.test_network_settings import PRIVATE, variant
from tools import plan as plan_cli
from tools.harness import MODES, Mode, Plan, copy_project, run_program
from tools.linters import FAILING

KEY = "eks-platform:settings"
#: Each shape: (stack whose file it starts from, sections merged in), as in the README's examples.
SHAPES: dict[str, tuple[str, dict[str, dict | None]]] = {
    "dual-stack-ipv6-cluster": (
        "prod",
        {"vpc": {"ipv6": True}, "cluster": {"ipFamily": "ipv6"}, "argo": {"highAvailability": False}},
    ),
    "nat-subnets": ("prod", {"vpc": {"natSubnets": True}}),
    "private-cluster": ("dev", {**PRIVATE, "vpc": {"natStrategy": "none", "interfaceEndpoints": ["secretsmanager"]}}),
}


def shape_plan(shape: str, mode: Mode = "update") -> Plan:
    stack, sections = SHAPES[shape]
    return run_program(stack, mode, config_overrides={KEY: variant(stack, **sections)})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_export_their_nat_public_ips(stack):
    plan = run_program(stack, "update")
    eips = sorted(plan.by_type("aws:ec2/eip:Eip"), key=lambda r: r.name)
    assert plan.outputs["natPublicIps"] == [eip.outputs["publicIp"] for eip in eips]
    assert len(eips) == (1 if stack == "dev" else 3)


@pytest.mark.parametrize("mode", MODES)
def test_an_ipv6_cluster_runs_on_dual_stack_subnets(mode):
    plan = shape_plan("dual-stack-ipv6-cluster", mode)
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert cluster.inputs["kubernetesNetworkConfig"] == {"ipFamily": "ipv6"}
    subnets = {r.urn: r for r in plan.by_type("aws:ec2/subnet:Subnet")}
    control_plane = cluster.property_dependencies["vpcConfig"]
    assert control_plane
    assert all("ipv6CidrBlock" in subnets[urn].inputs for urn in control_plane if urn in subnets)
    (group,) = plan.by_type("aws:eks/nodeGroup:NodeGroup")
    node_subnets = [subnets[urn] for urn in group.property_dependencies["subnetIds"]]
    assert {s.name for s in node_subnets} == {"network-private-a", "network-private-b", "network-private-c"}
    assert all(s.inputs["assignIpv6AddressOnCreation"] is True for s in node_subnets)
    assert plan.one("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway", "network-egress-only-igw")


def test_nat_subnets_hold_the_stacks_nat_gateways():
    plan = shape_plan("nat-subnets")
    subnets = {r.urn: r.name for r in plan.by_type("aws:ec2/subnet:Subnet")}
    homes = sorted(
        subnets[nat.property_dependencies["subnetId"][0]] for nat in plan.by_type("aws:ec2/natGateway:NatGateway")
    )
    assert homes == ["network-nat-subnet-a", "network-nat-subnet-b", "network-nat-subnet-c"]


def test_a_private_cluster_has_no_nat_no_autoscaler_and_its_endpoints():
    plan = shape_plan("private-cluster")
    assert plan.by_type("aws:ec2/natGateway:NatGateway") == []
    assert plan.by_type("aws:ec2/eip:Eip") == []
    assert plan.outputs["natPublicIps"] == []
    assert plan.by_type("eksplatform:platform:NodeAutoscaler") == []
    assert "nodeAutoscalerRoleArn" not in plan.outputs
    assert plan.by_type("kubernetes:helm.sh/v3:Release") == []  # no chart whose images live on the internet
    services = {r.inputs["serviceName"] for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    expected = {f"com.amazonaws.us-west-2.{s}" for s in [*PRIVATE_CLUSTER_ENDPOINTS, "secretsmanager", "s3"]}
    assert services == expected
    # The nodes still reach the control plane: the private endpoint is always on.
    assert plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]["endpointPrivateAccess"] is True


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_passes_the_policy_pack_and_the_linters(shape, tmp_path, capsys):
    stack, sections = SHAPES[shape]
    project = copy_project(tmp_path / "project")
    stack_file = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"][KEY] = variant(stack, **sections)
    stack_file.write_text(yaml.safe_dump(document))
    report = tmp_path / "plan.json"
    code = plan_cli.main(["--stack", stack, "--project-dir", str(project), "--json", str(report)])
    capsys.readouterr()
    data = json.loads(Path(report).read_text())
    assert data["policy"]["violations"] == []
    failing = [f for f in data["lint"]["findings"] if f["severity"] in FAILING and not f["allowed"]]
    assert failing == []
    assert code == 0
