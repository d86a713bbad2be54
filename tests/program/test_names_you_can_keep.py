"""Names you can keep (issue 11, item 1): `cluster.name`, `naming` patterns and `extraTags`, through the program.

The seed platforms' names: Sage's cluster `dpe-k8`, roles named after the cluster, a VPC named like the cluster,
subnets tagged `kubernetes.io/cluster/<name>: shared` as terraform-aws-eks tags them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.config.test_settings import KEY, stack_settings
from tests.policies.test_pack_grpc import started_with
from tools.harness import MODES, Plan, run_program

SEED_NAMES: dict[str, Any] = {
    "naming": {
        "role": "{cluster}-{role}",
        "roles": {"cluster": "dpe-k8-eks-cluster"},
        "nodeGroup": "{cluster}-{group}-ng",
        "network": "{cluster}-vpc",
        "kmsAlias": "alias/{cluster}/{purpose}",
    },
    "extraTags": {
        "vpc": {"Description": "Sage DPE platform network - {env}"},
        "subnets": {"kubernetes.io/cluster/{cluster}": "shared"},
        "privateSubnets": {"Tier": "private"},
        "cluster": {"Name": "{cluster}", "Description": "DPE cluster"},
        "nodeGroups": {"Team": "dpe"},
    },
}


def seed_settings(stack: str = "prod") -> dict[str, Any]:
    raw = stack_settings(stack)
    raw["cluster"]["name"] = "dpe-k8"
    raw.update(SEED_NAMES)
    return raw


def seed_plan(mode: str = "update", stack: str = "prod") -> Plan:
    return run_program(stack, mode, config_overrides={KEY: seed_settings(stack)})  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return seed_plan(request.param)


def test_the_cluster_keeps_its_name_everywhere_it_is_used(plan):
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert cluster["name"] == "dpe-k8"
    assert cluster["tags"] == {"Name": "dpe-k8", "Description": "DPE cluster"}
    # EKS's own log group name follows the cluster's name.
    assert plan.one("aws:cloudwatch/logGroup:LogGroup", "eks-control-plane-logs").inputs["name"] == (
        "/aws/eks/dpe-k8/cluster"
    )
    private = [r for r in plan.by_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]
    assert {r.inputs["tags"]["karpenter.sh/discovery"] for r in private} == {"dpe-k8"}


def test_platform_roles_follow_the_pattern_and_the_exact_names(plan):
    names = {r.name: r.inputs["name"] for r in plan.by_type("aws:iam/role:Role")}
    assert names["eks-cluster-role"] == "dpe-k8-eks-cluster"
    assert names["eks-node-role"] == "dpe-k8-node"
    assert names["eks-ebs-csi-role"] == "dpe-k8-ebs-csi"
    assert names["eks-vpc-cni-role"] == "dpe-k8-vpc-cni"
    assert names["network-flow-logs-role"] == "dpe-k8-vpc-flow-logs"
    assert names["node-autoscaler-node-role"] == "dpe-k8-karpenter-node"
    assert names["ci-runner-role"] == "dpe-k8-ci-runner"


def test_node_groups_kms_alias_and_network_names(plan):
    group = plan.one("aws:eks/nodeGroup:NodeGroup", "eks-system").inputs
    assert group["nodeGroupName"] == "dpe-k8-system-ng"
    assert group["tags"] == {"Team": "dpe"}
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-system-lt").inputs
    assert template["name"] == "dpe-k8-system-ng"
    for spec in template["tagSpecifications"]:
        assert spec["tags"]["Team"] == "dpe"
        assert spec["tags"]["Name"] == "dpe-k8-system-ng"
    alias = plan.one("aws:kms/alias:Alias", "eks-secrets-key-alias").inputs["name"]
    assert alias == "alias/dpe-k8/secrets"
    vpc = plan.one("aws:ec2/vpc:Vpc", "network-vpc").inputs["tags"]
    assert vpc == {"Name": "dpe-k8-vpc", "Description": "Sage DPE platform network - prod"}


def test_subnet_tags_by_family(plan):
    subnets = {r.name: r.inputs["tags"] for r in plan.by_type("aws:ec2/subnet:Subnet")}
    assert subnets["network-public-a"]["Name"] == "dpe-k8-vpc-public-a"
    assert all(tags["kubernetes.io/cluster/dpe-k8"] == "shared" for tags in subnets.values())
    assert {tags.get("Tier") for name, tags in subnets.items() if "-private-" in name} == {"private"}
    assert all("Tier" not in tags for name, tags in subnets.items() if "-private-" not in name)
    # The platform's own discovery tags stay.
    assert subnets["network-public-a"]["kubernetes.io/role/elb"] == "1"


def test_the_prod_policy_gate_accepts_the_stack_s_own_names():
    settings = seed_settings()
    plan = seed_plan("update")
    pack = started_with("prod", settings)
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    assert report.violations == []


def test_a_pack_without_the_stack_s_patterns_would_refuse_them():
    # The gate is real: the same plan under prod's own settings fails the prefix rule on the renamed resources.
    plan = seed_plan("update")
    pack = started_with("prod", stack_settings("prod"))
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    failed = {v.urn.rsplit("::", 1)[-1] for v in report.violations if v.policy == "aws-resource-name-prefix"}
    assert {"eks-cluster", "eks-cluster-role", "eks-system", "eks-secrets-key-alias"} <= failed


def test_defaults_are_unchanged():
    plan = run_program("prod", "update")
    assert plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["name"] == "eks-platform-prod"
    assert "tags" not in plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    roles = {r.name: r.inputs["name"] for r in plan.by_type("aws:iam/role:Role")}
    assert roles["eks-cluster-role"] == "eks-platform-prod-cluster"
    assert plan.one("aws:kms/alias:Alias", "eks-secrets-key-alias").inputs["name"] == "alias/eks-platform-prod-secrets"
    assert json.dumps(plan.one("aws:ec2/vpc:Vpc", "network-vpc").inputs["tags"]) == '{"Name": "eks-platform-prod"}'
