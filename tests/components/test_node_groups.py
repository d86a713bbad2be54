"""EksCluster's node groups: one per zone, AMI families and their volumes, the node security group for webhooks."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.context import AwsContext
from components.eks_cluster import (
    EksCluster,
    EksClusterArgs,
    NodeGroupSpec,
    TaintEffect,
    TaintSpec,
    node_block_devices,
    zone_node_group_name,
)
from components.limits import MAX_LENGTH, NODE_GROUP_LABEL, port_list_problem
from components.naming import NamingContext
from components.versions import BOTTLEROCKET_DATA_DEVICE, BOTTLEROCKET_OS_DEVICE, NODE_AMI_TYPES, ROOT_DEVICE
from tests.components.test_eks_cluster import SYSTEM, TAGS
from tests.policies.support import check
from tools.harness import MODES, Mode, Plan, run_callable

NAMING = NamingContext("eks-platform", "test")
ZONES = {"us-west-2a": "subnet-a", "us-west-2b": "subnet-b", "us-west-2c": "subnet-c"}
ARM_WORKERS = NodeGroupSpec(
    instance_types=("m7g.large", "c7g.large"),
    min_size=1,
    max_size=4,
    desired_size=2,
    disk_size_gib=80,
    labels={"role": "workers"},
    ami_type="AL2023_ARM_64_STANDARD",
    per_zone=True,
)
BOTTLEROCKET = NodeGroupSpec(instance_types=("m6i.large",), disk_size_gib=100, ami_type="BOTTLEROCKET_x86_64")
PER_ZONE_SYSTEM = NodeGroupSpec(
    min_size=1,
    max_size=2,
    desired_size=1,
    labels={"dedicated": "system"},
    taints=(TaintSpec("dedicated", "system", TaintEffect.NO_SCHEDULE),),
    per_zone=True,
)
WEBHOOK_PORTS = (15017, 6443, 8443, 9443)
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def nodes_plan(mode: Mode, *, naming: NamingContext = NAMING, **changes: object) -> Plan:
    """The cluster with these args (three zones; system and per-zone ARM workers by default) and a probe.

    The probe (an EC2 tag) takes the system node selector's value, as a Helm release would: its
    dependencies show what placing a workload with the selector waits for.
    """
    args = {
        "naming": naming,
        "kubernetes_version": "1.35",
        "node_subnets": ZONES,
        "control_plane_subnet_ids": ["subnet-ia", "subnet-ib", "subnet-ic"],
        "account": AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags=TAGS),
        "node_groups": {"system": SYSTEM, "workers": ARM_WORKERS},
        "protect": False,
    } | changes

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        cluster = EksCluster("eks", EksClusterArgs(**args), pulumi.ResourceOptions(providers=[provider]))  # type: ignore[arg-type]
        ((label, value),) = cluster.system_node_selector.items()
        aws.ec2.Tag("probe", resource_id="i-0", key=label, value=value, opts=pulumi.ResourceOptions(provider=provider))
        pulumi.export("selectorKey", label)
        pulumi.export("nodeGroupKeys", sorted(cluster.node_groups))
        pulumi.export("nodeSecurityGroupId", cluster.node_security_group_id)

    return run_callable(body, mode=mode)


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return nodes_plan(request.param)


def test_a_per_zone_group_is_one_node_group_per_zone_in_that_zones_subnet(plan):
    assert plan.outputs["nodeGroupKeys"] == ["system", "workers-a", "workers-b", "workers-c"]
    assert not [r for r in plan.by_type(NODE_GROUP) if r.name == "eks-workers"]
    for letter, subnet in zip("abc", ZONES.values(), strict=True):
        group = plan.one(NODE_GROUP, f"eks-workers-{letter}")
        template = plan.one(LT, f"eks-workers-{letter}-lt")
        assert group.inputs["subnetIds"] == [subnet]
        assert group.inputs["nodeGroupName"] == template.inputs["name"] == f"eks-platform-test-workers-{letter}"
        # Sizes are each zone's group's.
        assert group.inputs["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 2}
        assert group.inputs["labels"] == {"role": "workers", NODE_GROUP_LABEL: "workers"}
        assert group.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
        assert group.inputs["instanceTypes"] == ["m7g.large", "c7g.large"]
        assert group.inputs["launchTemplate"]["id"] == plan.seen(template, "id")
        tags = {spec["resourceType"]: spec["tags"] for spec in template.inputs["tagSpecifications"]}
        assert tags["instance"]["Name"] == f"eks-platform-test-workers-{letter}"
    # A group across the zones keeps every subnet, its name and no platform label.
    system = plan.one(NODE_GROUP, "eks-system")
    assert system.inputs["subnetIds"] == list(ZONES.values())
    assert system.inputs["labels"] == {"dedicated": "system"}


def test_every_zone_group_waits_for_the_cni_and_the_platform_add_ons_wait_for_every_zone(plan):
    addons = {r.inputs["addonName"]: r for r in plan.by_type("aws:eks/addon:Addon")}
    for letter in "abc":
        group = plan.one(NODE_GROUP, f"eks-workers-{letter}")
        assert addons["vpc-cni"].urn in group.dependencies
        assert group.urn in addons["coredns"].dependencies
        assert group.ignore_changes == ["scalingConfig.desiredSize"]


def test_a_group_across_the_zones_places_platform_controllers_by_its_name(plan):
    assert plan.outputs["selectorKey"] == "eks.amazonaws.com/nodegroup"
    probe = plan.one("aws:ec2/tag:Tag", "probe")
    assert probe.inputs["value"] == "eks-platform-test-system"
    assert probe.dependencies == [plan.one(NODE_GROUP, "eks-system").urn]


@pytest.mark.parametrize("mode", MODES)
def test_a_per_zone_system_group_places_by_the_platform_label_once_every_zone_is_up(mode):
    plan = nodes_plan(mode, node_groups={"system": PER_ZONE_SYSTEM})
    assert plan.outputs["selectorKey"] == NODE_GROUP_LABEL
    probe = plan.one("aws:ec2/tag:Tag", "probe")
    assert probe.inputs["value"] == "system"  # the label every zone's group sets
    zone_groups = sorted(plan.one(NODE_GROUP, f"eks-system-{letter}").urn for letter in "abc")
    assert probe.dependencies == zone_groups
    for letter in "abc":
        group = plan.one(NODE_GROUP, f"eks-system-{letter}")
        assert group.inputs["labels"] == {"dedicated": "system", NODE_GROUP_LABEL: "system"}
        assert group.inputs["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]
    toleration = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    coredns = next(r for r in plan.by_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "coredns")
    assert json.loads(coredns.inputs["configurationValues"]) == {"tolerations": [toleration]}
    assert all(plan.one(NODE_GROUP, f"eks-system-{letter}").urn in coredns.dependencies for letter in "abc")


def test_a_zone_group_may_not_take_the_key_of_another_group():
    with pytest.raises(ValueError, match="'workers-b', the key of another node group"):
        nodes_plan("preview", node_groups={"system": SYSTEM, "workers": ARM_WORKERS, "workers-b": SYSTEM})


@given(st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=120))
def test_zone_group_names_fit_eks_and_keep_their_zone(stack):
    physical = NamingContext("eks-platform", stack).name("workers", "eks_node_group")
    names = [zone_node_group_name(physical, f"us-east-1{letter}") for letter in "abcdef"]
    assert all(len(name) <= MAX_LENGTH["eks_node_group"] for name in names)
    assert [name[-2:] for name in names] == ["-a", "-b", "-c", "-d", "-e", "-f"]
    assert len(set(names)) == len(names)


def test_long_names_are_cut_before_the_zone_letter():
    plan = nodes_plan("preview", naming=NamingContext("eks-platform", "a-very-long-stack-name-for-the-data-team-x-y"))
    names = [plan.one(NODE_GROUP, f"eks-workers-{letter}").inputs["nodeGroupName"] for letter in "abc"]
    assert all(len(name) == MAX_LENGTH["eks_node_group"] for name in names)
    assert [name[-2:] for name in names] == ["-a", "-b", "-c"]


# --- AMI families and their volumes ----------------------------------------------------------------------


def test_al2023_nodes_have_one_encrypted_gp3_root_volume():
    assert node_block_devices("AL2023_ARM_64_STANDARD", 80) == [
        {
            "device_name": ROOT_DEVICE,
            "ebs": {"volume_size": 80, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
        }
    ]


@pytest.mark.parametrize("ami_type", ["BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"])
def test_bottlerocket_nodes_encrypt_the_os_volume_and_the_data_volume_sized_by_the_disk(ami_type):
    ebs = {"volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"}
    assert node_block_devices(ami_type, 100) == [
        {"device_name": BOTTLEROCKET_OS_DEVICE, "ebs": {"volume_size": 4, **ebs}},
        {"device_name": BOTTLEROCKET_DATA_DEVICE, "ebs": {"volume_size": 100, **ebs}},
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_bottlerocket_group_passes_the_volume_and_imds_policies_which_catch_an_unencrypted_data_volume(mode):
    plan = nodes_plan(mode, node_groups={"system": SYSTEM, "storage": BOTTLEROCKET})
    assert plan.one(NODE_GROUP, "eks-storage").inputs["amiType"] == "BOTTLEROCKET_x86_64"
    template = plan.one(LT, "eks-storage-lt").inputs
    mappings = template["blockDeviceMappings"]
    assert [(m["deviceName"], m["ebs"]["volumeSize"], m["ebs"]["encrypted"]) for m in mappings] == [
        ("/dev/xvda", 4, "true"),
        ("/dev/xvdb", 100, "true"),
    ]
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert check("node-volume-encryption", LT, template) == []
    assert check("node-imdsv2-required", LT, template) == []
    plain_data = {**mappings[1], "ebs": {**mappings[1]["ebs"], "encrypted": "false"}}
    [message] = check("node-volume-encryption", LT, {**template, "blockDeviceMappings": [mappings[0], plain_data]})
    assert message.startswith("blockDeviceMappings[1] (/dev/xvdb) is not encrypted.")


def test_every_ami_family_is_set_on_its_group():
    groups = {
        f"g{i}": NodeGroupSpec(instance_types=("m7g.large" if arch == "arm64" else "m6i.large",), ami_type=ami)
        for i, (ami, arch) in enumerate(NODE_AMI_TYPES.items())
    }
    plan = nodes_plan("preview", node_groups={"system": SYSTEM, **groups})
    assert {plan.one(NODE_GROUP, f"eks-{key}").inputs["amiType"] for key in groups} == set(NODE_AMI_TYPES)


# --- webhook ports: the node security group ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_webhook_ports_open_a_node_security_group_to_the_control_plane(mode):
    plan = nodes_plan(mode, webhook_ports=WEBHOOK_PORTS, vpc_id="vpc-0123456789abcdef0")
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    cluster_sg = plan.seen(cluster, "vpcConfig")["clusterSecurityGroupId"] if mode == "update" else None
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    assert group.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert group.inputs["name"] == "eks-platform-test-node-sg"
    assert "ingress" not in group.inputs  # rules are resources of their own
    rules = {r.name: r.inputs for r in plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert set(rules) == {f"eks-node-sg-webhook-{port}" for port in WEBHOOK_PORTS}
    for port in WEBHOOK_PORTS:
        rule = rules[f"eks-node-sg-webhook-{port}"]
        assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", port, port)
        assert rule["securityGroupId"] == plan.seen(group, "id")
        assert "cidrIpv4" not in rule
        assert str(port) in rule["description"]
        if cluster_sg:
            assert rule["referencedSecurityGroupId"] == cluster_sg
    (egress,) = plan.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert (egress.inputs["ipProtocol"], egress.inputs["cidrIpv4"]) == ("-1", "0.0.0.0/0")
    # Naming any group in a launch template drops EKS's cluster security group: every template lists both.
    for name in ("eks-system-lt", "eks-workers-a-lt", "eks-workers-b-lt", "eks-workers-c-lt"):
        listed = plan.one(LT, name).inputs["vpcSecurityGroupIds"]
        assert listed[1] == plan.seen(group, "id")
        if cluster_sg:
            assert listed == [cluster_sg, plan.seen(group, "id")]
    component = plan.component_outputs[plan.one("eksplatform:platform:EksCluster", "eks").urn]
    if mode == "update":
        assert plan.outputs["nodeSecurityGroupId"] == component["nodeSecurityGroupId"] == plan.seen(group, "id")


def test_without_webhook_ports_nodes_keep_only_the_cluster_security_group(plan):
    assert not plan.by_type("aws:ec2/securityGroup:SecurityGroup")
    assert not plan.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert all("vpcSecurityGroupIds" not in template.inputs for template in plan.by_type(LT))
    assert "nodeSecurityGroupId" not in plan.outputs
    assert "nodeSecurityGroupId" not in plan.component_outputs[plan.one("eksplatform:platform:EksCluster", "eks").urn]


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ((0,), "not TCP ports (1-65535): 0"),
        ((15017, 65536), "not TCP ports (1-65535): 65536"),
        ((443, 15017, 443), "lists 443 more than once"),
    ],
)
def test_webhook_ports_are_tcp_ports_each_once(ports, expected):
    assert port_list_problem(ports) == expected
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        nodes_plan("preview", webhook_ports=ports, vpc_id="vpc-1")


def test_webhook_ports_need_the_vpc():
    assert port_list_problem(WEBHOOK_PORTS) is None
    with pytest.raises(ValueError, match="need the VPC"):
        nodes_plan("preview", webhook_ports=WEBHOOK_PORTS)
