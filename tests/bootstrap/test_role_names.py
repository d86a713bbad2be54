"""An environment whose stack names its roles its own way: ``clusterName`` and ``roleNamePatterns``.

A stack with ``cluster.name: dpe-k8`` names its service roles and the Vault bound role ``dpe-k8-...``, and one with
``naming.roles.cluster: eks_cluster_role`` names its cluster role exactly that: outside ``<project>-<env>-*``, so
without these settings the deploy role's ``iam:CreateRole`` and ``iam:PassRole`` fail at ``pulumi up``. Each request
below is evaluated with tools.iam_eval on the documents the bootstrap plan renders (tests/bootstrap/account.py).
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from bootstrap.bootstrap_plan import (
    MAX_ROLE_NAME_PATTERNS,
    BootstrapSettings,
    globs_intersect,
    platform_role_globs,
    settings_problems,
)
from components.naming import PLATFORM_ROLES
from tests.bootstrap.account import POLICY, ROLE_POLICY, Account, denied_all
from tests.bootstrap.managed_documents import require_documents
from tools.harness import REPO_ROOT, ConfigurationError, Plan, run_program

PROJECT_DIR = REPO_ROOT / "bootstrap"
#: The first platform role (in name order, as the check goes) a 40-character pattern pushes over IAM's 64.
FIRST_TOO_LONG = next(role for role in sorted(PLATFORM_ROLES) if len(f"eks-platform-prod-{'x' * 40}-{role}") > 64)
SETTINGS = yaml.safe_load((PROJECT_DIR / "Pulumi.admin.yaml").read_text())["config"]["eks-platform-bootstrap:settings"]
#: The Sage seed (examples/seeds/sage-dpe.yaml) as prod: cluster dpe-k8, naming.role "{cluster}-{role}"; plus an
#: exact naming.roles name.
CLUSTER, PATTERNS = "dpe-k8", ["{cluster}-{role}", "eks_cluster_role"]
PROD = {"clusterName": CLUSTER, "roleNamePatterns": PATTERNS}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ROLE_WRITES = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:PassRole",
]


def with_environments(**environments: dict) -> dict:
    settings = copy.deepcopy(SETTINGS)
    for name, changes in environments.items():
        settings["environments"][name] = {**(settings["environments"][name] or {}), **changes}
    return settings


def plan_with(settings: dict) -> Plan:
    return run_program("admin", "update", project_dir=PROJECT_DIR, config_overrides={"settings": settings})


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_with(with_environments(prod=PROD))


@pytest.fixture(scope="module")
def account(plan) -> Account:
    return Account.of(plan, require_documents())


def bounded(account: Account, env: str) -> dict[str, str]:
    return {"iam:PermissionsBoundary": account.boundary(env)}


def ci_roles(account: Account) -> list[str]:
    return [account.ci(kind, env) for kind in ("deploy", "preview") for env in ("dev", "prod")]


def documents(plan: Plan) -> dict[str, str]:
    """Every policy document the plan renders, by resource name."""
    return {r.name: r.inputs["policy"] for r in [*plan.by_type(POLICY), *plan.by_type(ROLE_POLICY)]}


def test_unset_or_default_values_change_no_document():
    default = plan_with(copy.deepcopy(SETTINGS))
    spelled_out = plan_with(
        with_environments(prod={"clusterName": "eks-platform-prod", "roleNamePatterns": ["{prefix}-{role}"]})
    )
    assert documents(spelled_out) == documents(default)
    assert platform_role_globs(
        project="eks-platform", environment="dev", service_role_name_pattern="eks-{service}-{env}"
    ) == ["eks-platform-dev-*", "eks-platform-dev_*", "eks-*-dev"]


def test_the_globs_of_a_cluster_name_and_role_name_patterns():
    globs = platform_role_globs(
        project="eks-platform",
        environment="prod",
        service_role_name_pattern="{cluster}-{service}",
        cluster_name=CLUSTER,
        role_name_patterns=PATTERNS,
    )
    # {cluster}-{role} and the service pattern are dpe-k8-*: covered by the cluster's own glob, left out.
    assert globs == ["eks-platform-prod-*", "eks-platform-prod_*", "dpe-k8-*", "dpe-k8_*", "eks_cluster_role"]
    iam = json.loads(
        plan_with(with_environments(prod=PROD)).one(ROLE_POLICY, "deploy-prod-platform-iam").inputs["policy"]
    )
    own = next(s for s in iam["Statement"] if s["Sid"] == "ManageOwnRolesWithBoundary")
    assert own["Resource"] == [f"arn:aws:iam::123456789012:role/{glob}" for glob in globs]


def test_a_deploy_role_creates_the_cluster_named_roles_with_its_boundary_only(account):
    deploy = account.ci("deploy", "prod")
    for name in ("dpe-k8-node", "dpe-k8-vault-bound-role", "dpe-k8-karpenter-controller", "dpe-k8_DaftRole"):
        role = account.role(name)
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
            assert account.can(deploy, action, role, bounded(account, "prod")), (action, name)
            assert not account.can(deploy, action, role), (action, name)  # without a boundary: refused
            assert not account.can(deploy, action, role, bounded(account, "dev")), (action, name)
        assert account.can(deploy, "iam:PassRole", role), name  # the node group and the pods pass it


def test_an_exact_role_name_is_managed_and_only_that_name(account):
    deploy = account.ci("deploy", "prod")
    assert account.can(deploy, "iam:CreateRole", account.role("eks_cluster_role"), bounded(account, "prod"))
    assert account.can(deploy, "iam:PassRole", account.role("eks_cluster_role"))
    for name in ("eks_cluster_role2", "eks_cluster_rol", "eks_admin_role"):
        assert not account.can(deploy, "iam:CreateRole", account.role(name), bounded(account, "prod")), name


def test_the_other_environment_gets_none_of_them_and_keeps_its_own(account):
    dev, prod = account.ci("deploy", "dev"), account.ci("deploy", "prod")
    sage = [account.role(name) for name in ("dpe-k8-node", "dpe-k8_DaftRole", "eks_cluster_role")]
    for context in (None, bounded(account, "dev"), bounded(account, "prod")):
        assert denied_all(account, dev, ROLE_WRITES, sage, context) == []
        assert denied_all(account, prod, ROLE_WRITES, [account.role("eks-platform-dev-node")], context) == []
    assert account.can(dev, "iam:CreateRole", account.role("eks-platform-dev-node"), bounded(account, "dev"))
    assert account.can(dev, "iam:CreateRole", account.role("eks-daft-dev"), bounded(account, "dev"))


def test_nothing_matching_the_ci_roles_becomes_manageable(account):
    for deploy in (account.ci("deploy", "dev"), account.ci("deploy", "prod")):
        for context in (None, bounded(account, "dev"), bounded(account, "prod")):
            assert denied_all(account, deploy, ROLE_WRITES, ci_roles(account), context) == []
    role = account.role("dpe-k8-x")
    grown = account.with_role(role, [ALLOW_ALL], account.boundary("prod"))
    targets = [*ci_roles(account), account.role("eks-platform-dev-node"), account.role("platform-admin")]
    for context in (None, bounded(account, "prod"), bounded(account, "dev")):
        assert denied_all(grown, role, ROLE_WRITES, targets, context) == []
    assert grown.can(role, "iam:PassRole", account.role("eks_cluster_role"))  # its own environment's: allowed


def refused(settings: dict) -> str:
    with pytest.raises(ConfigurationError) as caught:
        plan_with(settings)
    return str(caught.value)


@pytest.mark.parametrize(
    ("environments", "expected"),
    [
        (
            {"prod": {"clusterName": "eks-platform-github"}},
            ".environments.prod.clusterName: the role glob eks-platform-github-* would also match the CI roles",
        ),
        (
            {"prod": {"roleNamePatterns": ["{role}-{env}"]}},
            ".environments.prod.roleNamePatterns: the role glob *-prod would also match the CI roles",
        ),
        (
            {"prod": {"roleNamePatterns": ["{role}"]}},
            ".environments.prod.roleNamePatterns: the role glob * would also match the CI roles",
        ),
        (
            {"prod": {"clusterName": "eks-platform-dev"}},
            ".environments.prod.clusterName: the role glob eks-platform-dev-* would also match environment dev's roles",
        ),
        (
            {"prod": {"clusterName": "dpe-k8"}, "dev": {"clusterName": "dpe-k8-dev"}},
            ".environments.dev.clusterName: the role glob dpe-k8-dev-* would also match environment prod's roles",
        ),
        (
            {"prod": {"roleNamePatterns": ["platform-{role}"]}},
            (
                ".environments.prod.roleNamePatterns: the role glob platform-* would also match "
                "arn:aws:iam::123456789012:role/platform-admin"
            ),
        ),
        (
            {"prod": {"roleNamePatterns": ["{team}-{role}"]}},
            ".environments.prod.roleNamePatterns: '{team}-{role}' uses unknown placeholders ['team']",
        ),
        (
            {"prod": {"roleNamePatterns": ["{cluster}-{role"]}},
            ".environments.prod.roleNamePatterns: '{cluster}-{role' is not a name pattern (unbalanced braces)",
        ),
        (
            {"prod": {"roleNamePatterns": ["{prefix}-" + "x" * 40 + "-{role}"]}},
            (
                f".environments.prod.roleNamePatterns: '{{prefix}}-{'x' * 40}-{{role}}' gives "
                f"'eks-platform-prod-{'x' * 40}-{FIRST_TOO_LONG}', "
                f"which is {59 + len(FIRST_TOO_LONG)} characters long, over the limit of 64"
            ),
        ),
        (
            # One pattern per platform role and naming.role: a pattern more is refused.
            {"prod": {"roleNamePatterns": [f"r{index}" for index in range(MAX_ROLE_NAME_PATTERNS + 1)]}},
            f".environments.prod.roleNamePatterns: List should have at most {MAX_ROLE_NAME_PATTERNS} items",
        ),
        (
            {"prod": {"clusterName": "dpe k8"}},
            ".environments.prod.clusterName: 'dpe k8' is not a valid EKS cluster name",
        ),
    ],
    ids=[
        "ci-cluster",
        "ci-suffix",
        "everything",
        "other-env",
        "nested-clusters",
        "person",
        "placeholder",
        "braces",
        "too-long",
        "too-many",
        "cluster-name",
    ],
)
def test_role_names_that_reach_too_far_are_refused(environments, expected):
    assert f"Pulumi.admin.yaml: eks-platform-bootstrap:settings{expected}" in refused(with_environments(**environments))


def test_the_runner_is_no_role_of_an_environment():
    # The harness's session issuer is role/eks-platform-bootstrap-github-deploy-admin.
    runner = "eks-platform-bootstrap-github-deploy-admin"
    message = refused(with_environments(prod={"roleNamePatterns": [runner]}))
    assert message == (
        "Pulumi.admin.yaml: eks-platform-bootstrap:settings.environments.prod.roleNamePatterns: the role glob "
        f"{runner} would also match arn:aws:iam::123456789012:role/{runner} (an administrator, operator or the runner)"
    )


@pytest.mark.parametrize(
    ("first", "second", "meet"),
    [
        ("dpe-k8-*", "eks-platform-github-*", False),
        ("eks-*-dev", "eks-platform-github-*", True),  # eks-platform-github-deploy-dev: denied by name and tag
        ("*-dev", "*-prod", False),
        ("dpe-k8-*", "dpe-k8-dev-*", True),
        ("eks_cluster_role", "eks_cluster_role", True),
        ("eks_cluster_role", "eks_cluster_*", True),
        ("eks_cluster_role", "eks-*", False),
        ("a*b*c", "*d*", True),
        ("abc", "a*d", False),
        ("*", "", True),
    ],
)
def test_glob_intersection(first, second, meet):
    assert globs_intersect(first, second) is meet
    assert globs_intersect(second, first) is meet


def test_the_sage_seed_settings_pass():
    settings = BootstrapSettings.model_validate(with_environments(prod=PROD))
    assert settings_problems(settings) == []
