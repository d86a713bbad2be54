"""Stack settings: the real stack files parse; each kind of bad input is one line naming file and field."""

import copy
from pathlib import Path

import pulumi
import pytest
import yaml

from components.eks_cluster import TaintEffect
from components.naming import NamingContext
from config import CapacityType, NatStrategy, Settings, parse_settings

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


def test_every_error_is_on_the_one_line():
    raw = with_change("dev", "vpc.cidr", "nope")
    raw["owner"] = ""
    del raw["costCenter"]
    raw["costCentre"] = "CC-1"  # a typo'd key: both the missing and the unknown field are named
    message = error_of(raw)
    assert message.startswith("Pulumi.dev.yaml: ")
    assert message.endswith("(4 errors)")
    for part in (
        f"{KEY}.owner: String should have at least 1 character",
        f"{KEY}.costCenter: Field required",
        f"{KEY}.costCentre: Extra inputs are not permitted",
        f"{KEY}.vpc.cidr: Input is not a valid IPv4 network",
    ):
        assert part in message


@pytest.mark.parametrize("value", ["yes", "no", "on", "false", "true", 1, 0])
def test_booleans_must_be_booleans(value):
    # The CLI reads stack files as YAML 1.2: `production: yes` reaches the program as the string "yes".
    raw = with_change("prod", "production", value)
    assert error_of(raw, "prod") == f"Pulumi.prod.yaml: {KEY}.production: Input should be a valid boolean"


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


SYSTEM = "cluster.nodeGroups.system"
#: (path, a valid value, an invalid value, the start of the error after `<key>.`): one valid and one invalid case
#: per field whose value ends up in an AWS or Kubernetes name, tag, label or CIDR.
FIELD_RULES = [
    ("vpc.cidr", "10.20.0.0/16", "10.0.0.0/15", "vpc.cidr: 10.0.0.0/15 is a /15; a VPC's IPv4 block is a /16 to a /28"),
    ("vpc.cidr", "100.64.0.0/16", "224.0.0.0/16", "vpc.cidr: 224.0.0.0/16 is a multicast range"),
    (
        f"{SYSTEM}.taints",
        [{"key": "example.com/dedicated", "effect": "NO_SCHEDULE"}],
        [{"key": "example..com/dedicated", "effect": "NO_SCHEDULE"}],
        f"{SYSTEM}.taints[0].key: 'example..com/dedicated' has a prefix",
    ),
    ("owner", "platform-team@example.com", "team#1", "owner: becomes a tag value and holds characters"),
    ("costCenter", "CC 1042/eu", "x" * 257, "costCenter: becomes a tag value and is 257 characters long"),
    (f"{SYSTEM}.instanceTypes", ["m6i.large", "u-6tb1.metal"], ["m6i large"], f"{SYSTEM}.instanceTypes: not EC2"),
    (f"{SYSTEM}.labels", {"team.example.com/role": "a_b.c"}, {"role": "-bad"}, f"{SYSTEM}.labels: invalid label value"),
    (f"{SYSTEM}.labels", {"role": "a"}, {"Bad_Prefix/role": "x"}, f"{SYSTEM}.labels: invalid label key"),
    (f"{SYSTEM}.labels", {"team": "a"}, {"role": ""}, f"{SYSTEM}.labels: invalid label value(s) role=''"),
    (f"{SYSTEM}.labels", {"a.io/x": "a"}, {"node.kubernetes.io/x": "a"}, f"{SYSTEM}.labels: invalid label key"),
    (f"{SYSTEM}.labels", {"k" * 63: "a"}, {"example.com/" + "k" * 60: "a"}, f"{SYSTEM}.labels: invalid label key"),
    (f"{SYSTEM}.labels", {"role": "sys"}, {"role": "sys\n"}, f"{SYSTEM}.labels: invalid label value"),
    (f"{SYSTEM}.instanceTypes", ["m7i.large", "g4dn.xlarge"], ["m6g.large"], f"{SYSTEM}.instanceTypes: arm64"),
    (f"{SYSTEM}.instanceTypes", ["t3.large"], ["t3.large\n"], f"{SYSTEM}.instanceTypes: not EC2 instance types"),
    (
        f"{SYSTEM}.taints",
        [{"key": "a", "effect": "NO_SCHEDULE"}, {"key": "a", "effect": "NO_EXECUTE"}],
        [{"key": "a", "effect": "NO_SCHEDULE"}, {"key": "a", "value": "b", "effect": "NO_SCHEDULE"}],
        f"{SYSTEM}.taints: lists a taint key and effect twice",
    ),
    (
        f"{SYSTEM}.taints",
        [{"key": "k" * 63, "effect": "NO_SCHEDULE"}],
        [{"key": "k" * 64, "effect": "NO_SCHEDULE"}],
        f"{SYSTEM}.taints[0].key: String should have at most 63 characters",
    ),
    ("owner", "platform team", "platform\tteam", "owner: becomes a tag value and holds characters"),
    (
        "nodeAutoscaler.clusterAutoscaler.tolerations",
        [{"key": "dedicated", "operator": "Exists"}],
        [{"key": "dedicated", "operator": "Exists", "value": "x"}],
        "nodeAutoscaler.clusterAutoscaler.tolerations[0].value: a toleration with operator Exists takes no value",
    ),
    (
        "nodeAutoscaler.clusterAutoscaler.nodeSelector",
        {"dedicated": "clusterAutoscaler"},
        {"dedicated": "two words"},
        "nodeAutoscaler.clusterAutoscaler.nodeSelector: not label keys and values",
    ),
    (
        "appRoles.reports",
        {"namespace": "r", "serviceAccount": "r", "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]},
        {"namespace": "r", "serviceAccount": "r", "managedPolicyArns": ["ReadOnlyAccess"]},
        "appRoles.reports.managedPolicyArns: not IAM policy ARNs",
    ),
    (
        "argo.teams.eventual-hub.namespaces",
        ["eventual-hub", "eventual-hub-jobs"],
        ["eventual-hub", "eventual-hub"],
        "argo.teams.eventual-hub.namespaces: lists eventual-hub more than once",
    ),
    (
        f"{SYSTEM}.taints",
        [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}],
        [{"key": "dedicated", "value": "two words", "effect": "NO_SCHEDULE"}],
        f"{SYSTEM}.taints[0].value: String should match pattern",
    ),
    (
        "argo.sso",
        {"issuer": "https://login.example.com", "clientId": "argocd", "adminGroups": ["platform-admins"]},
        {"issuer": "https://login.example.com", "clientId": "argocd", "adminGroups": ["admins,ops"]},
        "argo.sso.adminGroups: group names unusable in Argo CD's policy.csv",
    ),
]


@pytest.mark.parametrize(("path", "valid", "invalid", "expected"), FIELD_RULES, ids=lambda v: str(v)[:30])
def test_each_field_that_becomes_a_name_is_checked_against_the_service_rule(path, valid, invalid, expected):
    assert parse(with_change("dev", path, valid))
    assert error_of(with_change("dev", path, invalid)).startswith(f"Pulumi.dev.yaml: {KEY}.{expected}")


def parse_named(raw: dict, stack: str = "dev") -> Settings:
    return parse_settings(raw, stack_file=f"Pulumi.{stack}.yaml", key=KEY, naming=NamingContext("eks-platform", stack))


def named_error(raw: dict, stack: str = "dev") -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_named(raw, stack)
    return str(caught.value)


def test_role_names_are_checked_after_the_pattern_expands():
    ok = with_change("dev", "appRoles.reports", {"namespace": "reports", "serviceAccount": "r", "roleName": "{env}+r"})
    assert parse_named(ok)
    bad = with_change(
        "dev", "appRoles.reports", {"namespace": "reports", "serviceAccount": "r", "roleName": "my {env}"}
    )
    assert named_error(bad) == (
        f"Pulumi.dev.yaml: {KEY}.appRoles.reports.roleName: IAM role name 'my dev' is not a valid IAM role name "
        "(allowed: ^[\\w+=,.@-]+$)"
    )
    # A long expansion is cut with a hash, never left to fail at `pulumi up`.
    long = with_change("dev", "appRoles.reports", {"namespace": "reports", "serviceAccount": "r", "roleName": "x" * 90})
    assert parse_named(long)


def test_an_app_role_key_must_leave_room_for_its_bridge_annotation():
    service = "s" * 50
    assert parse_named(with_change("dev", f"appRoles.{service}", {"namespace": "ns", "serviceAccount": "sa"}))
    longer = "s" * 51
    message = named_error(with_change("dev", f"appRoles.{longer}", {"namespace": "ns", "serviceAccount": "sa"}))
    assert message.startswith(f"Pulumi.dev.yaml: {KEY}.appRoles.{longer}: the key makes the annotation name")


def test_a_stack_name_that_makes_no_cluster_name_is_refused():
    assert parse_named(stack_settings("dev"), "dev_eu")
    message = named_error(stack_settings("dev"), "dev.eu")
    assert message.startswith(f"Pulumi.dev.eu.yaml: {KEY}: the stack name 'dev.eu' makes the cluster name")


@pytest.mark.parametrize(
    "cidrs",
    [["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"]],
    ids=["slash-0", "two-halves", "three-parts"],
)
def test_prod_may_not_open_the_endpoint_to_any_union_that_covers_the_internet(cidrs):
    raw = with_change("prod", "cluster.endpoint", {"publicAccess": True, "publicAccessCidrs": cidrs})
    assert error_of(raw, "prod").startswith(
        f"Pulumi.prod.yaml: {KEY}.cluster.endpoint.publicAccessCidrs: a production stack may not open the API"
    )
    almost = with_change("prod", "cluster.endpoint", {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/1"]})
    assert parse(almost, "prod").cluster.endpoint.public_access


def test_the_region_must_be_a_real_aws_region():
    assert parse(with_change("dev", "region", "eu-central-2")).region == "eu-central-2"
    assert error_of(with_change("dev", "region", "us-wst-2")) == (
        f"Pulumi.dev.yaml: {KEY}.region: 'us-wst-2' is not an AWS Region (components/limits.py AWS_REGIONS)"
    )


def test_cidrs_must_be_text():
    raw = with_change("dev", "cluster.endpoint", {"publicAccess": True, "publicAccessCidrs": [0]})
    assert error_of(raw) == (
        f"Pulumi.dev.yaml: {KEY}.cluster.endpoint.publicAccessCidrs[0]: expected a CIDR as text (e.g. 10.0.0.0/16), "
        "got int 0"
    )


ACCESS = {
    "developers": {
        "principalArn": "arn:aws:iam::111122223333:role/teams/developers",
        "policies": ["admin-view", "edit"],
        "namespaces": ["idp"],
        "kubernetesGroups": ["developers"],
    },
    "admin": {"principalArn": "arn:aws:iam::111122223333:user/admin", "policies": ["cluster-admin"]},
    "auditors": {
        "principalArn": "arn:aws:iam::999999999999:role/auditors",
        "policies": ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"],
    },
}


def with_access(access: dict) -> dict:
    raw = copy.deepcopy(stack_settings("dev"))
    raw["cluster"]["access"] = access
    return raw


def test_access_entries_take_roles_with_paths_users_short_names_and_arns():
    access = parse(with_access(ACCESS)).cluster.access
    assert access["developers"].namespaces == ["idp"]
    assert access["admin"].principal_arn.endswith(":user/admin")
    assert access["auditors"].policies == ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"]


@pytest.mark.parametrize(
    ("entry", "field", "problem"),
    [
        ({"policies": ["superuser"]}, "policies", "not EKS access policies: superuser"),
        (
            {"policies": ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSMadeUpPolicy"]},
            "policies",
            "not EKS access policies",
        ),
        ({"policies": ["edit", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"]}, "policies", "twice"),
        ({"policies": [], "kubernetesGroups": []}, "policies", "at least one access policy or Kubernetes group"),
        ({"policies": [], "kubernetesGroups": ["system:masters"]}, "kubernetesGroups", "'system:masters'"),
        (
            {
                "principalArn": (
                    "arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
                )
            },
            "principalArn",
            "service-linked role",
        ),
        ({"principalArn": "arn:aws:iam::111122223333:group/admins"}, "principalArn", "should match pattern"),
    ],
)
def test_a_bad_access_entry_is_one_line_naming_its_field(entry, field, problem):
    raw = with_access({"x": {"principalArn": "arn:aws:iam::111122223333:role/x", "policies": ["view"]} | entry})
    message = error_of(raw)
    assert f"eks-platform:settings.cluster.access.x.{field}" in message
    assert problem in message


def test_a_principal_has_one_access_entry():
    deploy = stack_settings("dev")["cluster"]["adminRoleArns"][-1]
    message = error_of(with_access({"ci": {"principalArn": deploy, "policies": ["cluster-admin"]}}))
    assert f"cluster.access.ci.principalArn: {deploy} has another access entry already" in message


def test_access_entries_plan_one_entry_per_principal_with_their_policies():
    from tools.harness import run_program

    plan = run_program("dev", "update", config_overrides={KEY: with_access(ACCESS)})
    associations = {
        r.name: (r.inputs["policyArn"].rsplit("/", 1)[-1], r.inputs["accessScope"])
        for r in plan.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.name.startswith("eks-access-")
    }
    assert associations == {
        "eks-access-admin-AmazonEKSClusterAdminPolicy": ("AmazonEKSClusterAdminPolicy", {"type": "cluster"}),
        "eks-access-auditors-AmazonEKSViewPolicy": ("AmazonEKSViewPolicy", {"type": "cluster"}),
        "eks-access-developers-AmazonEKSAdminViewPolicy": (
            "AmazonEKSAdminViewPolicy",
            {"type": "namespace", "namespaces": ["idp"]},
        ),
        "eks-access-developers-AmazonEKSEditPolicy": (
            "AmazonEKSEditPolicy",
            {"type": "namespace", "namespaces": ["idp"]},
        ),
    }
