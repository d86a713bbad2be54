"""Contracts with IAM, EKS and Kubernetes over the whole graph: physical names are unique, built-in namespaces
are never declared.

IAM refuses a second role or policy of the same name (EntityAlreadyExists), EKS a second access entry for one
principal (ResourceInUseException), Kubernetes a second object of one kind, namespace and name (AlreadyExists),
and a Namespace the cluster created itself (``default``, ``kube-system``, ...) fails to create and would be
deleted with the stack. Each rule is checked over every stack's graph and over generated settings variants:
either the settings are refused before anything registers, or the graph keeps every rule.
"""

import copy
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.limits import PATTERNS as NAME_RULES
from components.limits import name_problem
from components.naming import BUILT_IN_NAMESPACES, PLATFORM_ROLES, NamingContext
from tests.config.test_settings import stack_settings
from tools.harness import ConfigurationError, Plan, Registration, run_program

KEY = "eks-platform:settings"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the wire sentinel of an unknown value

#: Per type: the inputs that together form the physical identity the service keeps unique.
PHYSICAL_IDENTITY: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("name",),
    "aws:iam/policy:Policy": ("path", "name"),
    "aws:iam/instanceProfile:InstanceProfile": ("name",),
    "aws:iam/rolePolicy:RolePolicy": ("role", "name"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:sqs/queue:Queue": ("name",),
    "aws:cloudwatch/eventRule:EventRule": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "aws:kms/alias:Alias": ("name",),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name",),
    "aws:eks/cluster:Cluster": ("name",),
    "aws:eks/nodeGroup:NodeGroup": ("clusterName", "nodeGroupName"),
    "aws:eks/addon:Addon": ("clusterName", "addonName"),
    "aws:eks/accessEntry:AccessEntry": ("clusterName", "principalArn"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("clusterName", "principalArn", "policyArn"),
    "kubernetes:helm.sh/v3:Release": ("namespace", "name"),
}


def identity(reg: Registration) -> tuple[Any, ...] | None:
    """The physical identity of a registration, None when it has none we can know (auto-named, unknown)."""
    if reg.type.startswith("kubernetes:") and reg.type != "kubernetes:helm.sh/v3:Release":
        metadata = reg.inputs.get("metadata") or {}
        name, namespace = metadata.get("name"), metadata.get("namespace")
        return (reg.type, namespace, name) if isinstance(name, str) else None
    keys = PHYSICAL_IDENTITY.get(reg.type)
    if keys is None or not isinstance(reg.inputs.get(keys[-1]), str):
        return None
    values = tuple(json.dumps(reg.inputs.get(key), sort_keys=True) for key in keys)
    # In a preview, an identity made of unknowns (an ARN not yet created) cannot be compared yet.
    return None if any(UNKNOWN in value for value in values) else (reg.type, *values)


def assert_graph_keeps_the_rules(plan: Plan) -> None:
    identities = Counter(ident for reg in plan.resources if (ident := identity(reg)) is not None)
    duplicates = [ident for ident, count in identities.items() if count > 1]
    assert duplicates == [], f"physical names declared twice: {duplicates}"
    declared = {
        reg.inputs["metadata"]["name"]
        for reg in plan.by_type("kubernetes:core/v1:Namespace")
        if isinstance(reg.inputs.get("metadata", {}).get("name"), str)
    }
    assert declared.isdisjoint(BUILT_IN_NAMESPACES), f"built-in namespaces declared: {declared & BUILT_IN_NAMESPACES}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("mode", ["preview", "update"])
def test_every_stack_keeps_the_rules(stack, mode):
    plan = run_program(stack, mode)
    assert_graph_keeps_the_rules(plan)
    assert len({identity(r) for r in plan.resources} - {None}) > 50  # the check saw the graph


def with_app_role(stack: str, service: str, **role: Any) -> dict[str, Any]:
    raw = copy.deepcopy(stack_settings(stack))
    raw.setdefault("appRoles", {})[service] = {"namespace": service, "serviceAccount": service, **role}
    return raw


def test_an_app_role_in_kube_system_gets_a_service_account_but_no_namespace():
    raw = with_app_role("dev", "metrics", namespace="kube-system", serviceAccount="metrics-reader")
    plan = run_program("dev", "update", config_overrides={KEY: raw})
    assert_graph_keeps_the_rules(plan)
    [account] = [
        r for r in plan.by_type("kubernetes:core/v1:ServiceAccount") if r.inputs["metadata"]["name"] == "metrics-reader"
    ]
    assert account.inputs["metadata"]["namespace"] == "kube-system"
    assert not [r for r in plan.resources if r.name == "app-metrics-namespace"]


def test_the_vault_bound_service_account_in_default_declares_no_namespace():
    raw = copy.deepcopy(stack_settings("prod"))
    raw["vault"]["boundNamespace"] = "default"
    plan = run_program("prod", "update", config_overrides={KEY: raw})
    assert_graph_keeps_the_rules(plan)
    accounts = [
        r for r in plan.by_type("kubernetes:core/v1:ServiceAccount") if r.name == "vault-bound-role-service-account"
    ]
    assert [a.inputs["metadata"]["namespace"] for a in accounts] == ["default"]


@pytest.mark.parametrize("service", sorted(PLATFORM_ROLES - {"cluster", "node"}))
def test_an_app_role_named_like_a_platform_role_is_refused_before_registration(service):
    # prod's pattern is the default {cluster}-{service}: the app role would take the platform role's name.
    raw = with_app_role("prod", service)
    with pytest.raises(ConfigurationError) as caught:
        run_program("prod", "preview", config_overrides={KEY: raw})
    name = NamingContext("eks-platform", "prod").platform_role(service)
    assert caught.value.message.startswith(
        f"Pulumi.prod.yaml: {KEY}.appRoles.{service}.roleName: IAM role name {name!r} is already the platform's"
    )
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}


def test_two_app_roles_rendering_one_name_are_refused():
    raw = with_app_role("prod", "a", roleName="{cluster}-shared")
    raw["appRoles"]["b"] = {"namespace": "b", "serviceAccount": "b", "roleName": "{cluster}-shared"}
    with pytest.raises(ConfigurationError) as caught:
        run_program("prod", "preview", config_overrides={KEY: raw})
    assert caught.value.message.startswith(
        f"Pulumi.prod.yaml: {KEY}.appRoles.b.roleName: IAM role name 'eks-platform-prod-shared' is already the role of"
    )


def test_a_platform_service_account_cannot_be_claimed():
    raw = with_app_role("dev", "cni", namespace="kube-system", serviceAccount="aws-node")
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides={KEY: raw})
    assert caught.value.message == (
        f"Pulumi.dev.yaml: {KEY}.appRoles.cni.serviceAccount: "
        "ServiceAccount 'kube-system/aws-node' is already created by the VPC CNI"
    )


def test_admin_roles_sharing_a_name_on_different_paths_get_one_entry_each():
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"]["adminRoleArns"] = [
        "arn:aws:iam::444455556666:role/platform-admin",
        "arn:aws:iam::444455556666:role/team/platform-admin",
    ]
    plan = run_program("prod", "update", config_overrides={KEY: raw})
    assert_graph_keeps_the_rules(plan)
    entries = plan.by_type("aws:eks/accessEntry:AccessEntry")
    principals = sorted(e.inputs["principalArn"] for e in entries)
    assert set(raw["cluster"]["adminRoleArns"]) <= set(principals)
    # Neither keeps the old, shared key as an alias: it would name two resources.
    shared = [e for e in entries if e.inputs["principalArn"] in raw["cluster"]["adminRoleArns"]]
    assert all(e.aliases == [] for e in shared)


def test_two_managed_policies_with_one_name_are_two_attachments():
    arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/ReadOnlyAccess"]
    raw = with_app_role("dev", "reports", managedPolicyArns=arns)
    plan = run_program("dev", "update", config_overrides={KEY: raw})
    assert_graph_keeps_the_rules(plan)
    attached = sorted(
        r.inputs["policyArn"]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("app-reports-")
    )
    assert attached == sorted(arns)


NAMES = st.sampled_from(["ebs-csi", "vpc-cni", "karpenter-controller", "daft", "reports", "metrics", "a"])
NAMESPACES = st.sampled_from([*sorted(BUILT_IN_NAMESPACES), "argocd", "vault", "eventual-hub", "team-x", "daft"])
ACCOUNTS = st.sampled_from(["aws-node", "karpenter", "app", "reader", "vault-auth"])
PATTERNS = st.sampled_from([None, "{cluster}-{service}", "eks-{service}-{env}", "{cluster}_DaftRole", "{cluster}-x"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    roles=st.dictionaries(NAMES, st.tuples(NAMESPACES, ACCOUNTS, PATTERNS), max_size=3),
    stack=st.sampled_from(["dev", "prod"]),
)
def test_generated_settings_are_refused_or_keep_the_rules(roles, stack):
    raw = copy.deepcopy(stack_settings(stack))
    raw["appRoles"] = {
        service: {"namespace": ns, "serviceAccount": sa, **({"roleName": pattern} if pattern else {})}
        for service, (ns, sa, pattern) in roles.items()
    }
    try:
        plan = run_program(stack, "preview", config_overrides={KEY: raw})
    except ConfigurationError as err:
        refused = err
    else:
        assert_graph_keeps_the_rules(plan)
        return
    assert refused.message.startswith(f"Pulumi.{stack}.yaml: {KEY}.")
    assert {r.type for r in refused.registrations} <= {"pulumi:pulumi:Stack"}


def test_role_names_collide_case_insensitively():
    # IAM: "you cannot create resources named both MyResource and myresource" (names are case-insensitive).
    raw = with_app_role("prod", "shouting", roleName="{cluster}-EBS-CSI")
    with pytest.raises(ConfigurationError) as caught:
        run_program("prod", "preview", config_overrides={KEY: raw})
    assert "IAM role name 'eks-platform-prod-EBS-CSI' is already the platform's ebs-csi role" in caught.value.message


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_helm_release_name_fits_helm(stack):
    # Helm refuses release names over 53 characters or that are not DNS-1123 subdomains.
    plan = run_program(stack, "update")
    names = [r.inputs["name"] for r in plan.by_type("kubernetes:helm.sh/v3:Release")]
    assert len(names) >= 3
    for name in names:
        assert name_problem(name, "helm_release") is None, name
        assert NAME_RULES["dns_subdomain"].match(name), name
