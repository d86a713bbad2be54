"""`cluster.name`, `naming` and `extraTags` settings: bad values stop in settings with one line naming the field."""

from __future__ import annotations

import pulumi
import pytest

from components.naming import NamingContext
from config import parse_settings
from tests.config.test_settings import KEY, stack_settings


def error(raw: dict, stack: str = "dev") -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_settings(raw, stack_file=f"Pulumi.{stack}.yaml", key=KEY, naming=NamingContext("eks-platform", stack))
    message = str(caught.value)
    assert "\n" not in message
    return message


def with_(path: str, value: object, stack: str = "dev") -> dict:
    raw = stack_settings(stack)
    node = raw
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return raw


@pytest.mark.parametrize(
    ("name", "problem"),
    [("-dpe", "not a valid EKS cluster name"), ("d" * 101, "over the limit of 100"), ("dpe k8", "not a valid")],
)
def test_a_cluster_name_eks_would_refuse(name, problem):
    message = error(with_("cluster.name", name))
    assert message.startswith(f"Pulumi.dev.yaml: {KEY}.cluster.name: ")
    assert problem in message


@pytest.mark.parametrize(
    ("field", "pattern", "problem"),
    [
        ("role", "{cluster}-role", "lacks {role}"),
        ("nodeGroup", "{cluster}", "lacks {group}"),
        ("kmsAlias", "alias/{cluster}-{purpose}-{zone}", "unknown placeholders ['zone']"),
        ("network", "{cluster}-{role}", "unknown placeholders ['role']"),
        ("role", "{cluster-{role}", "unbalanced braces"),
    ],
)
def test_a_pattern_without_its_member_or_with_unknown_placeholders(field, pattern, problem):
    message = error(with_(f"naming.{field}", pattern))
    assert f"{KEY}.naming.{field}: " in message
    assert problem in message


def test_rendered_names_are_checked_against_the_service_limits():
    long_role = error(with_("naming.role", "{cluster}-{prefix}-{prefix}-{role}"))
    assert f"{KEY}.naming.role: the cluster-autoscaler role's name" in long_role
    assert "over the limit of 64" in long_role
    group = error(with_("naming.nodeGroup", "{prefix}.{group}"))
    assert f"{KEY}.naming.nodeGroup: node group 'system' gets the name 'eks-platform-dev.system'" in group
    alias = error(with_("naming.kmsAlias", "alias/aws/{purpose}"))
    assert f"{KEY}.naming.kmsAlias: the secrets key's alias 'alias/aws/secrets'" in alias


def test_two_platform_roles_cannot_share_a_name():
    message = error(with_("naming.roles", {"cluster": "platform", "node": "PLATFORM"}))
    assert f"{KEY}.naming.roles.node: the node role's name 'PLATFORM' is the cluster role's too" in message


def test_an_unknown_platform_role():
    assert "not platform roles: controller" in error(with_("naming.roles", {"controller": "x"}))


def test_an_app_role_may_not_take_a_renamed_platform_role_s_name():
    raw = with_("naming.roles", {"node": "eks-reports-dev"})
    raw["appRoles"] = {"reports": {"namespace": "reports", "serviceAccount": "reports"}}
    message = error(raw)
    assert f"{KEY}.appRoles.reports.roleName: IAM role name 'eks-reports-dev' is already the platform's node role" in (
        message
    )


@pytest.mark.parametrize(
    ("family", "tags", "problem"),
    [
        ("subnets", {"Owner": "x"}, "Owner is set by the platform"),
        ("privateSubnets", {"karpenter.sh/discovery": "x"}, "set by the platform"),
        ("subnets", {"Name": "x"}, "their names come from `naming.network`"),
        ("vpc", {"aws:cloudformation:stack-name": "x"}, "starts with aws:"),
        ("cluster", {"Team": "{team}"}, "unknown placeholders ['team']"),
        ("nodeGroups", {"Team": "a\tb"}, "may not hold"),
        ("vpc", {"k" * 129: "v"}, "over the tag key limit of 128"),
    ],
)
def test_extra_tags_aws_or_the_platform_would_refuse(family, tags, problem):
    message = error(with_(f"extraTags.{family}", tags))
    assert f"{KEY}.extraTags.{family}" in message
    assert problem in message


def test_rendered_tags_are_checked_after_the_placeholders_expand():
    raw = with_("cluster.name", "c" * 100)
    raw["extraTags"] = {"subnets": {"kubernetes.io/cluster/{cluster}": "shared"}}
    assert parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, naming=NamingContext("eks-platform", "dev"))
    raw["extraTags"] = {"subnets": {"kubernetes.io/cluster/{cluster}-{prefix}": "shared"}}  # 139 characters
    message = error(raw)
    assert f"{KEY}.extraTags.subnets: tag kubernetes.io/cluster/{'c' * 100}-eks-platform-dev='shared' is 139" in message
    assert "over the tag key limit of 128" in message


def test_the_program_and_the_pack_read_the_same_names():
    raw = with_("cluster.name", "dpe-k8")
    raw["naming"] = {
        "role": "{cluster}-{role}",
        "nodeGroup": "{cluster}-{group}",
        "kmsAlias": "alias/{cluster}/{purpose}",
    }
    settings = parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY)
    program = settings.naming_context("eks-platform", "dev")
    pack = NamingContext.from_settings("eks-platform", "dev", raw)
    assert program == pack
    assert program.platform_role("node") == "dpe-k8-node"
    assert program.node_group("system") == "dpe-k8-system"
    assert program.kms_alias("secrets") == "alias/dpe-k8/secrets"


def test_a_platform_role_may_not_share_its_name_with_an_access_principal():
    # Sage's role/eks_admin_role is the role people assume for kubectl: naming the cluster role so would take it over.
    raw = with_("naming.roles", {"cluster": "eks_admin_role"})
    raw["cluster"]["access"] = {
        "admins": {"principalArn": "arn:aws:iam::111122223333:role/eks_admin_role", "policies": ["cluster-admin"]}
    }
    message = error(raw)
    assert f"{KEY}.cluster.access.admins.principalArn: arn:aws:iam::111122223333:role/eks_admin_role is the" in message
    # Another account's role of that name is another role.
    raw["cluster"]["access"]["admins"]["principalArn"] = "arn:aws:iam::999988887777:role/eks_admin_role"
    assert parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, naming=NamingContext("eks-platform", "dev"))


def test_the_volumes_may_not_use_a_workload_key():
    raw = with_("cluster.storage", {"kmsKeyAlias": "alias/eks-platform-dev-data"})
    raw["kmsKeys"] = {"data": {"description": "data", "appRoles": ["daft"]}}
    message = error(raw)
    assert f"{KEY}.cluster.storage.kmsKeyAlias: alias/eks-platform-dev-data is the alias of kmsKeys.data" in message


def test_no_smtp_user_without_a_route_to_ses_smtp():
    raw = with_("email", {"domains": ["example.com"]})
    raw["vpc"]["natStrategy"] = "none"
    raw["nodeAutoscaler"] = {"engine": "none"}
    raw["argo"] = {"enabled": False}
    raw["vault"] = {"enabled": False}
    raw["delivery"] = None
    raw["cluster"]["endpoint"] = {"publicAccess": False}
    message = error(raw)
    assert f"{KEY}.email.smtpUser: with vpc.natStrategy none pods cannot reach" in message
    raw["email"]["smtpUser"] = False
    assert parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, naming=NamingContext("eks-platform", "dev"))
