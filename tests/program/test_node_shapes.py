"""The whole program with the node shapes of issue 11: per-zone ARM workers, a Bottlerocket group, a per-zone system
group, webhook ports and the pods' security group enforcing mode; under the whole policy pack, and with both
autoscalers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.limits import NODE_GROUP_LABEL
from tests.config.test_settings import KEY, stack_settings
from tools.harness import MODES, REPO_ROOT, Mode, Plan, run_program
from tools.policy_runner import RunningPack, default_policy_config_path, load_policy_config
from tools.stack_config import load_stack_config

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
RELEASE = "kubernetes:helm.sh/v3:Release"
WEBHOOK_PORTS = [15017, 6443, 8443, 9443]


def shaped(stack: str = "prod", **cluster: Any) -> dict[str, Any]:
    """The stack's settings with an ARM per-zone group, a Bottlerocket group and more (``cluster`` overrides)."""
    raw = copy.deepcopy(stack_settings(stack))
    raw["cluster"]["nodeGroups"] |= {
        "workers": {
            "instanceTypes": ["m7g.large", "c7g.large"],
            "amiType": "AL2023_ARM_64_STANDARD",
            "perZone": True,
            "minSize": 1,
            "maxSize": 5,
        },
        "storage": {"instanceTypes": ["m6i.xlarge"], "amiType": "BOTTLEROCKET_x86_64", "diskSizeGib": 200},
    }
    raw["cluster"]["webhookPorts"] = WEBHOOK_PORTS
    raw["cluster"]["vpcCni"] = {"podSecurityGroups": True, "podSecurityGroupEnforcingMode": "standard"}
    raw["cluster"] |= cluster
    return raw


def program(settings: dict[str, Any], mode: Mode, stack: str = "prod") -> Plan:
    return run_program(stack, mode, config_overrides={KEY: settings})


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return program(shaped(), request.param)


def test_each_zone_gets_its_group_in_its_private_subnet(plan):
    for letter in "abc":
        group = plan.one(NODE_GROUP, f"eks-workers-{letter}")
        subnet = plan.one("aws:ec2/subnet:Subnet", f"network-private-{letter}")
        assert group.inputs["subnetIds"] == [plan.seen(subnet, "id")]
        assert group.inputs["nodeGroupName"] == f"eks-platform-prod-workers-{letter}"
        assert group.inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    assert len(plan.one(NODE_GROUP, "eks-storage").inputs["subnetIds"]) == 3


def test_the_bottlerocket_group_encrypts_its_os_and_data_volumes(plan):
    assert plan.one(NODE_GROUP, "eks-storage").inputs["amiType"] == "BOTTLEROCKET_x86_64"
    mappings = plan.one(LT, "eks-storage-lt").inputs["blockDeviceMappings"]
    assert [(m["deviceName"], m["ebs"]["volumeSize"], m["ebs"]["encrypted"]) for m in mappings] == [
        ("/dev/xvda", 4, "true"),
        ("/dev/xvdb", 200, "true"),
    ]


def test_the_node_security_group_is_in_the_vpc_and_on_every_node(plan):
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    assert group.inputs["vpcId"] == plan.seen(plan.one("aws:ec2/vpc:Vpc", "network-vpc"), "id")
    templates = plan.by_type(LT)
    assert len(templates) == 5  # system, storage, three zones of workers
    assert all(t.inputs["vpcSecurityGroupIds"][1] == plan.seen(group, "id") for t in templates)
    if plan.mode == "update":
        assert plan.outputs["nodeSecurityGroupId"] == plan.seen(group, "id")
        cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
        cluster_sg = plan.seen(cluster, "vpcConfig")["clusterSecurityGroupId"]
        assert all(t.inputs["vpcSecurityGroupIds"][0] == cluster_sg for t in templates)


def test_the_enforcing_mode_reaches_the_cni(plan):
    addon = plan.one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert json.loads(addon.inputs["configurationValues"])["env"] == {
        "ENABLE_POD_ENI": "true",
        "POD_SECURITY_GROUP_ENFORCING_MODE": "standard",
    }


@pytest.mark.parametrize("mode", MODES)
def test_the_whole_pack_passes_these_shapes(mode):
    settings = shaped()
    config, secret_keys = load_stack_config(REPO_ROOT, "prod")
    config[KEY] = json.dumps(settings)
    pack = RunningPack(project="eks-platform", stack="prod", stack_config=config, secret_keys=secret_keys)
    try:
        report = pack.analyze(program(settings, mode), load_policy_config(default_policy_config_path("prod")))
    finally:
        pack.close()
    assert report.violations == []
    assert report.analyzed > 150


@pytest.mark.parametrize("mode", MODES)
def test_a_per_zone_system_group_runs_the_controllers_once_every_zone_has_nodes(mode):
    settings = shaped()
    settings["cluster"]["nodeGroups"]["system"] |= {"perZone": True, "minSize": 1, "maxSize": 2}
    plan = program(settings, mode)
    zone_groups = {plan.one(NODE_GROUP, f"eks-system-{letter}").urn for letter in "abc"}
    assert not [r for r in plan.by_type(NODE_GROUP) if r.name == "eks-system"]
    for name in ("node-autoscaler-release", "argocd-release", "vault-injector"):
        release = plan.one(RELEASE, name)
        assert zone_groups <= set(release.dependencies), name
    karpenter = plan.one(RELEASE, "node-autoscaler-release").inputs["values"]
    assert karpenter["nodeSelector"] == {"kubernetes.io/os": "linux", NODE_GROUP_LABEL: "system"}
    # One node per zone: two controller replicas, as with a group of two nodes or more.
    assert karpenter["replicas"] == 2
    assert all(
        plan.one(NODE_GROUP, f"eks-system-{letter}").inputs["labels"][NODE_GROUP_LABEL] == "system" for letter in "abc"
    )


def test_cluster_autoscaler_discovers_and_balances_every_zones_group():
    settings = shaped()
    settings["nodeAutoscaler"] = {"engine": "cluster-autoscaler"}
    plan = program(settings, "update")
    tags = {r.name: r for r in plan.by_type("aws:autoscaling/tag:Tag")}
    for letter in "abc":
        group = plan.one(NODE_GROUP, f"eks-workers-{letter}")
        asg = plan.seen(group, "resources")[0]["autoscalingGroups"][0]["name"]
        for key in ("enabled", "owner"):
            assert tags[f"node-autoscaler-workers-{letter}-asg-{key}"].inputs["autoscalingGroupName"] == asg
    assert len(tags) == 2 * 5  # system, storage, three zones of workers
    values = plan.one(RELEASE, "node-autoscaler-release").inputs["values"]
    assert values["extraArgs"] == {"balance-similar-node-groups": True}
    # Without per-zone groups the chart keeps its defaults.
    plain = copy.deepcopy(stack_settings("prod"))
    plain["nodeAutoscaler"] = {"engine": "cluster-autoscaler"}
    assert "extraArgs" not in program(plain, "update").one(RELEASE, "node-autoscaler-release").inputs["values"]
