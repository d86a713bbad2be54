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


def deployer_of(plan: Plan) -> str:
    """The deploying role as the mocks' STS session reports it (the bootstrap's ``<project>-github-deploy-<env>``)."""
    [entry] = [r for r in plan.by_type(ENTRY) if r.name == "eks-admin-deployer"]
    return entry.inputs["principalArn"]


def admin_principals(plan: Plan) -> dict[str, str]:
    """principal ARN -> URN of its cluster-admin association (cluster scope)."""
    return {
        r.inputs["principalArn"]: r.urn
        for r in plan.by_type(ASSOCIATION)
        if r.inputs["policyArn"] == CLUSTER_ADMIN and r.inputs["accessScope"] == {"type": "cluster"}
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("mode", ["preview", "update"])
def test_the_deployer_is_cluster_admin_before_any_kubernetes_resource(stack, mode):
    plan = run_program(stack, mode)
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["accessConfig"]
    assert cluster == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    deployer = deployer_of(plan)
    assert deployer.startswith("arn:aws:iam::")
    assert deployer.endswith(f":role/eks-platform-github-deploy-{stack}")
    association = admin_principals(plan)[deployer]
    provider = plan.one("pulumi:providers:kubernetes", "eks-k8s")
    assert association in provider.dependencies
    in_cluster = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(in_cluster) > 10
    for resource in in_cluster:
        assert resource.provider.startswith(provider.urn + "::"), resource.urn


def test_a_deployer_listed_as_admin_gets_no_second_entry():
    plan = run_program("prod", "update")
    deployer = deployer_of(plan)
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"]["adminRoleArns"] = [*raw["cluster"]["adminRoleArns"], deployer]
    listed = run_program("prod", "update", config_overrides={KEY: raw})
    principals = [r.inputs["principalArn"] for r in listed.by_type(ENTRY)]
    assert principals.count(deployer) == 1  # EKS: an IAM principal can't be in more than one access entry
    assert not [r for r in listed.by_type(ENTRY) if r.name == "eks-admin-deployer"]
    provider = listed.one("pulumi:providers:kubernetes", "eks-k8s")
    assert admin_principals(listed)[deployer] in provider.dependencies


def test_deployer_access_can_be_turned_off():
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"]["deployerAccess"] = False
    plan = run_program("prod", "update", config_overrides={KEY: raw})
    assert not [r for r in plan.by_type(ENTRY) if r.name == "eks-admin-deployer"]
    assert set(admin_principals(plan)) == set(raw["cluster"]["adminRoleArns"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_emulated_deployer_is_the_role_the_bootstrap_creates_for_the_stack(stack):
    # The harness's caller must be a role that really exists for this environment, not an invented one.
    bootstrap = run_program("admin", "update", project_dir=REPO_ROOT / "bootstrap")
    names = {r.inputs.get("name") for r in bootstrap.by_type("aws:iam/role:Role")}
    role = deployer_of(run_program(stack, "update")).rsplit("/", 1)[-1]
    assert role in names, sorted(n for n in names if isinstance(n, str))
