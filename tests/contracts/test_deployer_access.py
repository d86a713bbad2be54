"""The deploying identity can reach the Kubernetes API it manages.

The cluster runs authentication mode ``API`` with ``bootstrapClusterCreatorAdminPermissions: false`` (create-only:
changing it replaces the cluster), so nobody has Kubernetes access but the principals with access entries. Every
Namespace, Helm release and custom resource the program declares is sent with the credentials of whoever runs
``pulumi up``: that principal (the STS session's issuer role, with its path, as ``aws.iam.getSessionContext``
reports it) needs a cluster-admin access entry, created before the kubernetes provider is used.
"""

import copy

import pytest

from tests.config.test_settings import stack_settings
from tools.harness import REPO_ROOT, Plan, run_program

KEY = "eks-platform:settings"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def deployer_of(stack: str) -> str:
    """The deploying role the emulated STS session reports: the bootstrap's ``<project>-github-deploy-<env>``."""
    account = stack_settings(stack)["allowedAccountIds"][0]
    return f"arn:aws:iam::{account}:role/eks-platform-github-deploy-{stack}"


def without_deployer(stack: str) -> dict:
    raw = copy.deepcopy(stack_settings(stack))
    raw["cluster"]["adminRoleArns"] = [arn for arn in raw["cluster"]["adminRoleArns"] if "github-deploy" not in arn]
    return raw


def admin_principals(plan: Plan) -> dict[str, str]:
    """principal ARN -> URN of its cluster-admin association (cluster scope)."""
    return {
        r.inputs["principalArn"]: r.urn
        for r in plan.by_type(ASSOCIATION)
        if r.inputs["policyArn"] == CLUSTER_ADMIN and r.inputs["accessScope"] == {"type": "cluster"}
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize("listed", [True, False], ids=["listed", "unlisted"])
def test_the_deployer_is_cluster_admin_before_any_kubernetes_resource(stack, mode, listed):
    raw = stack_settings(stack) if listed else without_deployer(stack)
    plan = run_program(stack, mode, config_overrides={KEY: raw})
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["accessConfig"]
    assert cluster == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    deployer = deployer_of(stack)
    # Listed in adminRoleArns (the stack files list their deploy role): one entry, no second one for the deployer.
    principals = [r.inputs["principalArn"] for r in plan.by_type(ENTRY)]
    assert principals.count(deployer) == 1  # EKS: an IAM principal can't be in more than one access entry
    assert bool([r for r in plan.by_type(ENTRY) if r.name == "eks-admin-deployer"]) is not listed
    association = admin_principals(plan)[deployer]
    provider = plan.one("pulumi:providers:kubernetes", "eks-k8s")
    assert association in provider.dependencies
    in_cluster = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(in_cluster) > 10
    for resource in in_cluster:
        assert resource.provider.startswith(provider.urn + "::"), resource.urn


def test_deployer_access_can_be_turned_off():
    raw = without_deployer("prod")
    raw["cluster"]["deployerAccess"] = False
    plan = run_program("prod", "update", config_overrides={KEY: raw})
    assert not [r for r in plan.by_type(ENTRY) if r.name == "eks-admin-deployer"]
    assert set(admin_principals(plan)) == set(raw["cluster"]["adminRoleArns"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_emulated_deployer_is_the_role_the_bootstrap_creates_for_the_stack(stack):
    # The harness's caller must be a role that really exists for this environment, not an invented one.
    bootstrap = run_program("admin", "update", project_dir=REPO_ROOT / "bootstrap")
    names = {r.inputs.get("name") for r in bootstrap.by_type("aws:iam/role:Role")}
    role = deployer_of(stack).rsplit("/", 1)[-1]
    plan = run_program(stack, "update", config_overrides={KEY: without_deployer(stack)})
    assert [r.inputs["principalArn"] for r in plan.by_type(ENTRY) if r.name == "eks-admin-deployer"] == [
        deployer_of(stack)
    ]
    assert role in names, sorted(n for n in names if isinstance(n, str))
