"""Stack settings: the real stack files parse; each kind of bad input is one line naming file and field."""

import copy
from pathlib import Path

import pulumi
import pytest
import yaml

from config import CapacityType, NatStrategy, Settings, TaintEffect, parse_settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "eks-platform:settings"


def stack_settings(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"][KEY]


def parse(raw: dict, stack: str = "dev") -> Settings:
    return parse_settings(raw, stack_file=f"Pulumi.{stack}.yaml", key=KEY)


def error_of(raw: dict, stack: str = "dev") -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse(raw, stack)
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_dev_stack_is_cheap():
    settings = parse(stack_settings("dev"))
    assert not settings.production
    assert settings.vpc.nat_strategy is NatStrategy.SINGLE
    assert settings.cluster.node_groups["system"].capacity_type is CapacityType.SPOT
    assert settings.cluster.endpoint.public_access
    assert [str(c) for c in settings.cluster.endpoint.public_access_cidrs] == ["203.0.113.0/24"]
    assert settings.app_roles["daft"].role_name == "{cluster}_DaftRole"


def test_prod_stack_is_resilient_private_and_protected():
    settings = parse(stack_settings("prod"), "prod")
    assert settings.production
    assert settings.protect
    assert settings.vpc.nat_strategy is NatStrategy.ONE_PER_AZ
    assert not settings.cluster.endpoint.public_access
    system = settings.cluster.node_groups["system"]
    assert system.capacity_type is CapacityType.ON_DEMAND
    assert [(t.key, t.value, t.effect) for t in system.taints] == [("dedicated", "system", TaintEffect.NO_SCHEDULE)]


def test_defaults_are_secure():
    settings = parse({"region": "eu-west-1", "owner": "o", "costCenter": "c"})
    assert settings.production
    assert not settings.cluster.endpoint.public_access
    assert not settings.cluster.cluster_creator_admin
    assert {t.value for t in settings.cluster.log_types} == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert settings.vpc.nat_strategy is NatStrategy.ONE_PER_AZ
    assert settings.cluster.node_groups["system"].metadata_hop_limit == 1
    assert settings.guard_duty.runtime_monitoring


def with_change(stack: str, path: str, value: object) -> dict:
    raw = copy.deepcopy(stack_settings(stack))
    *parents, leaf = path.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return raw


@pytest.mark.parametrize(
    ("stack", "path", "value", "expected"),
    [
        (
            "dev",
            "vpc.cidr",
            "10.0.0.0/33",
            "Pulumi.dev.yaml: eks-platform:settings.vpc.cidr: Input is not a valid IPv4 network",
        ),
        ("dev", "vpc.cidr", "10.0.0.0/26", "Pulumi.dev.yaml: eks-platform:settings.vpc.cidr: 10.0.0.0/26 cannot hold"),
        (
            "dev",
            "vpc.subnets",
            {
                "public": ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"],
                "private": ["10.20.0.128/25", "10.20.16.0/20", "10.20.32.0/20"],
                "intra": ["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24"],
            },
            "Pulumi.dev.yaml: eks-platform:settings.vpc.subnets: 10.20.0.0/24 overlaps 10.20.0.128/25",
        ),
        (
            "dev",
            "vpc.subnets",
            {"public": ["10.20.0.0/24"], "private": ["10.20.16.0/20"], "intra": []},
            "Pulumi.dev.yaml: eks-platform:settings.vpc.subnets.public: has 1 CIDRs but azCount is 3",
        ),
        (
            "dev",
            "cluster.nodeGroups",
            {"system": {"minSize": 4, "maxSize": 2}},
            "Pulumi.dev.yaml: eks-platform:settings.cluster.nodeGroups.system: minSize (4) is greater than maxSize (2)",
        ),
        (
            "dev",
            "vpc.colour",
            "blue",
            "Pulumi.dev.yaml: eks-platform:settings.vpc.colour: Extra inputs are not permitted",
        ),
        (
            "dev",
            "cluster.kubernetesVersion",
            "1.27",
            "Pulumi.dev.yaml: eks-platform:settings.cluster.kubernetesVersion: unsupported Kubernetes version '1.27'",
        ),
        (
            "prod",
            "cluster.endpoint",
            {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
            "Pulumi.prod.yaml: eks-platform:settings.cluster.endpoint.publicAccessCidrs: a production stack may not",
        ),
        (
            "dev",
            "cluster.endpoint",
            {"publicAccess": True, "publicAccessCidrs": []},
            "Pulumi.dev.yaml: eks-platform:settings.cluster.endpoint.publicAccessCidrs: publicAccess is true",
        ),
        (
            "dev",
            "cluster.logTypes",
            ["api"],
            "Pulumi.dev.yaml: eks-platform:settings.cluster.logTypes: api, audit and authenticator logs are required",
        ),
        (
            "dev",
            "vpc.flowLogRetentionDays",
            45,
            "Pulumi.dev.yaml: eks-platform:settings.vpc.flowLogRetentionDays: 45 is not",
        ),
        (
            "dev",
            "cluster.adminRoleArns",
            ["arn:aws:iam::111122223333:user/alice"],
            "Pulumi.dev.yaml: eks-platform:settings.cluster.adminRoleArns: not IAM role ARNs",
        ),
        (
            "dev",
            "serviceRoleNamePattern",
            "{cluster}-{team}",
            "Pulumi.dev.yaml: eks-platform:settings.serviceRoleNamePattern: unknown placeholder(s) team",
        ),
        (
            "dev",
            "cluster.nodeGroups",
            {"system": {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}},
            "Pulumi.dev.yaml: eks-platform:settings.cluster.nodeGroups.system.taints[0].effect: Input should be",
        ),
        ("dev", "owner", "", "Pulumi.dev.yaml: eks-platform:settings.owner: String should have at least 1 character"),
    ],
)
def test_bad_input_is_one_line_naming_file_and_field(stack, path, value, expected):
    assert error_of(with_change(stack, path, value), stack).startswith(expected)


def test_the_seed_dedicated_system_pool_is_expressible():
    raw = with_change(
        "prod",
        "cluster.nodeGroups",
        {
            "system": {
                "capacityType": "ON_DEMAND",
                "labels": {"dedicated": "clusterAutoscaler"},
                "taints": [{"key": "dedicated", "value": "clusterAutoscaler", "effect": "NO_SCHEDULE"}],
            }
        },
    )
    group = parse(raw, "prod").cluster.node_groups["system"]
    assert group.labels == {"dedicated": "clusterAutoscaler"}
    assert group.taints[0].value == "clusterAutoscaler"


def test_several_errors_are_counted_on_the_one_line():
    raw = with_change("dev", "vpc.cidr", "nope")
    raw["owner"] = ""
    message = error_of(raw)
    assert message.endswith("(and 1 more error)")


def test_settings_that_are_not_a_mapping_are_refused():
    with pytest.raises(pulumi.RunError, match=r"^Pulumi.dev.yaml: eks-platform:settings: expected a mapping"):
        parse_settings(["nope"], stack_file="Pulumi.dev.yaml", key=KEY)


def test_settings_are_frozen():
    settings = parse(stack_settings("dev"))
    with pytest.raises(Exception, match="frozen"):
        settings.owner = "someone-else"  # type: ignore[misc]


def test_a_karpenter_category_without_amd64_types_of_the_minimum_generation_is_refused():
    # The old dev NodePool: category t with generation >= 5 on amd64 matches no instance type (t3 is the newest).
    raw = copy.deepcopy(stack_settings("dev"))
    raw["nodeAutoscaler"]["karpenter"]["instanceCategories"] = ["c", "m", "t"]
    assert error_of(raw) == (
        "Pulumi.dev.yaml: eks-platform:settings.nodeAutoscaler.karpenter.instanceCategories: category 't' has no "
        "amd64 instance type of generation 5 or newer (its amd64 generations: 1, 2, 3)"
    )
    raw["nodeAutoscaler"]["karpenter"]["instanceGenerationMin"] = 3
    assert parse(raw).node_autoscaler.karpenter.instance_categories == ["c", "m", "t"]
    raw["nodeAutoscaler"]["karpenter"]["instanceCategories"] = ["a"]  # a1 is arm64 only
    assert "'a' is not an EC2 instance category with amd64 types" in error_of(raw)
