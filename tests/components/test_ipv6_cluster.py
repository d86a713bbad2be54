"""An IPv6 cluster: the create-only ip family on the control plane and the VPC CNI's IPv6 permissions."""

import json
from typing import Any

import pytest

from components import iam_documents as iam
from components.versions import EKS_ADDON_VERSIONS
from tests.components.test_eks_cluster import cluster_plan
from tools.harness import MODES, Plan, Registration

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INLINE = "aws:iam/rolePolicy:RolePolicy"

#: The EKS User Guide's AmazonEKS_CNI_IPv6_Policy, verbatim (awsdocs/amazon-eks-user-guide
#: latest/ug/iam_policies/AmazonEKS_CNI_IPv6_Policy.json @ 2ef9e386c918fb0273527207d6af9d3d19ef4621).
GUIDE_IPV6_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ec2:AssignIpv6Addresses",
                "ec2:DescribeInstances",
                "ec2:DescribeTags",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeInstanceTypes",
            ],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": ["arn:aws:ec2:*:*:network-interface/*"]},
    ],
}
#: What the plugin's own IPv6-mode policy adds (aws/amazon-vpc-cni-k8s docs/iam-policy.md, commit 00fe9f4).
PLUGIN_IPV6_ADDITIONS = {"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"}


def cni_policies(plan: Plan) -> tuple[list[Registration], list[Registration]]:
    role = plan.one("aws:iam/role:Role", "eks-vpc-cni-role")
    attached = [r for r in plan.by_type(ATTACHMENT) if role.urn in r.property_dependencies.get("role", [])]
    inline = [r for r in plan.by_type(INLINE) if role.urn in r.property_dependencies.get("role", [])]
    return attached, inline


@pytest.fixture(scope="module", params=MODES)
def ipv6(request: pytest.FixtureRequest) -> Plan:
    return cluster_plan(request.param, ip_family="ipv6")


def test_the_cluster_asks_for_the_ipv6_family(ipv6):
    cluster = ipv6.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert cluster.inputs["kubernetesNetworkConfig"] == {"ipFamily": "ipv6"}


@pytest.mark.parametrize("mode", MODES)
def test_an_ipv4_cluster_leaves_the_network_config_at_the_eks_default(mode):
    # Unset, not "ipv4": existing clusters plan no change (and the field is create-only).
    cluster = cluster_plan(mode).one("aws:eks/cluster:Cluster", "eks-cluster")
    assert "kubernetesNetworkConfig" not in cluster.inputs


def test_the_ipv6_cnis_role_has_the_guides_ipv6_policy_instead_of_the_ipv4_managed_one(ipv6):
    attached, inline = cni_policies(ipv6)
    assert attached == []  # AmazonEKS_CNI_Policy grants IPv4 address management only
    [policy] = inline
    assert policy.name == "eks-vpc-cni-ipv6"
    document = json.loads(policy.inputs["policy"])
    assert document == iam.vpc_cni_ipv6_policy("aws")


def test_the_ipv6_policy_is_the_guides_plus_the_plugins_discovery_actions():
    ours = iam.vpc_cni_ipv6_policy("aws")
    guide_grant, guide_tags = GUIDE_IPV6_POLICY["Statement"]
    grant, tags = ours["Statement"]
    assert set(grant["Action"]) == set(guide_grant["Action"]) | PLUGIN_IPV6_ADDITIONS
    assert grant["Resource"] == guide_grant["Resource"]
    assert (tags["Action"], tags["Resource"]) == (guide_tags["Action"], guide_tags["Resource"])
    assert iam.vpc_cni_ipv6_policy("aws-cn")["Statement"][1]["Resource"] == ["arn:aws-cn:ec2:*:*:network-interface/*"]


@pytest.mark.parametrize("mode", MODES)
def test_an_ipv4_cnis_role_keeps_the_managed_policy(mode):
    attached, inline = cni_policies(cluster_plan(mode))
    assert [r.inputs["policyArn"] for r in attached] == ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    assert inline == []


def test_the_add_on_keeps_eks_defaults_which_turn_on_ipv6_and_prefix_delegation(ipv6):
    # EKS User Guide: with the IPv6 family the add-on (1.10.1 or later) defaults to IPv6 with prefix delegation.
    addon = ipv6.one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert "configurationValues" not in addon.inputs


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.removeprefix("v").split("-")[0].split("."))


def test_every_pinned_vpc_cni_supports_ipv6_and_security_groups_for_pods_on_ipv6():
    # IPv6 needs 1.10.1 or later; security groups for pods in an IPv6 cluster with EC2 nodes need 1.16.0 or later
    # (EKS User Guide, "Learn about IPv6 addresses..." and "Security groups for Pods").
    assert all(_version(v["vpc-cni"]) >= (1, 16, 0) for v in EKS_ADDON_VERSIONS.values())


def test_nodes_never_use_the_imds_ipv6_endpoint(ipv6):
    # EKS User Guide: the Instance Metadata Service IPv6 endpoint is not supported with EKS.
    for template in ipv6.by_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert template.inputs["metadataOptions"].get("httpProtocolIpv6", "disabled") == "disabled"
