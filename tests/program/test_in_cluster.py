"""The in-cluster layer in the whole program: NodeAutoscaler, ArgoBootstrap and VaultAwsAuth per stack."""

import pytest

from components.versions import ARGO_CD_CHART, KARPENTER_CHART, VAULT_CHART
from tools.harness import MODES, Plan, run_program

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module", params=[(s, m) for s in ("dev", "prod") for m in MODES], ids="-".join)
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_program(*request.param)


def test_all_three_components_are_composed_under_the_stack(plan):
    stack = plan.stack_resource.urn
    for type_token, name in (
        ("eksplatform:platform:NodeAutoscaler", "node-autoscaler"),
        ("eksplatform:platform:ArgoBootstrap", "argocd"),
        ("eksplatform:platform:VaultAwsAuth", "vault"),
    ):
        assert plan.one(type_token, name).parent == stack


def test_every_kubernetes_object_uses_the_cluster_provider(plan):
    provider = plan.one("pulumi:providers:kubernetes", "eks-k8s")
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(objects) > 10
    assert all(r.provider.startswith(provider.urn + "::") for r in objects)


def test_karpenter_is_wired_to_this_cluster_and_its_queue(plan):
    release = plan.one(RELEASE, "node-autoscaler-release")
    assert release.inputs["chart"] == f"{KARPENTER_CHART[0]}/{KARPENTER_CHART[1]}"
    assert release.inputs["version"] == KARPENTER_CHART[2]
    settings = release.inputs["values"]["settings"]
    assert settings["clusterName"] == f"eks-platform-{plan.stack}"
    queue = plan.one("aws:sqs/queue:Queue", "node-autoscaler-interruption-queue")
    assert settings["interruptionQueue"] == queue.outputs["name"]
    node_group = plan.one("aws:eks/nodeGroup:NodeGroup", "eks-system")
    assert release.inputs["values"]["nodeSelector"]["eks.amazonaws.com/nodegroup"] == node_group.inputs["nodeGroupName"]


def test_node_pool_capacity_per_stack(plan):
    pool = plan.one("kubernetes:karpenter.sh/v1:NodePool", "node-autoscaler-nodepool-default")
    requirements = {r["key"]: r for r in pool.inputs["spec"]["template"]["spec"]["requirements"]}
    capacity = requirements["karpenter.sh/capacity-type"]["values"]
    assert capacity == (["spot"] if plan.stack == "dev" else ["on-demand", "spot"])


def test_controllers_tolerate_the_prod_system_pool_taint(plan):
    toleration = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    karpenter = plan.one(RELEASE, "node-autoscaler-release").inputs["values"]["tolerations"]
    argo = plan.one(RELEASE, "argocd-release").inputs["values"]["global"]["tolerations"]
    vault = plan.one(RELEASE, "vault-injector").inputs["values"]["injector"]["tolerations"]
    for tolerations in (karpenter, argo, vault):
        assert (toleration in tolerations) is (plan.stack == "prod")


def test_argo_is_ha_in_prod_and_private_everywhere(plan):
    release = plan.one(RELEASE, "argocd-release")
    assert (release.inputs["chart"], release.inputs["version"]) == ARGO_CD_CHART[1:]
    values = release.inputs["values"]
    assert values["redis-ha"]["enabled"] is (plan.stack == "prod")
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert not values["server"].get("ingress", {}).get("enabled", False)
    root = plan.one("kubernetes:argoproj.io/v1alpha1:Application", "argocd-root-app").inputs["spec"]
    assert root["source"]["path"] == f"clusters/{plan.stack}"
    assert root["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    projects = {r.name for r in plan.by_type("kubernetes:argoproj.io/v1alpha1:AppProject")}
    expected = {"argocd-project-eventual-hub"} | ({"argocd-project-data-science"} if plan.stack == "prod" else set())
    assert projects == expected


def test_gitops_bridge_carries_role_arns(plan):
    secret = plan.one("kubernetes:core/v1:Secret", "argocd-cluster-in-cluster")
    annotations = secret.inputs["metadata"]["annotations"]
    role = plan.one("aws:iam/role:Role", "node-autoscaler-controller-role")
    assert role.outputs["arn"] in annotations.values()
    assert secret.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"


def test_vault_role_is_bound_to_the_bound_iam_role(plan):
    vault_role = plan.one("vault:aws/authBackendRole:AuthBackendRole", "vault-auth-role")
    iam_role = plan.one("aws:iam/role:Role", "vault-bound-role-role")
    assert iam_role.inputs["name"] == f"eks-platform-{plan.stack}-vault-bound-role"
    assert vault_role.inputs["boundIamPrincipalArns"] == [iam_role.outputs["arn"]]
    assert vault_role.inputs["authType"] == "iam"
    assert vault_role.replacement_trigger == iam_role.outputs["uniqueId"]
    injector = plan.one(RELEASE, "vault-injector")
    assert injector.inputs["version"] == VAULT_CHART[2]
    assert injector.inputs["values"]["global"]["externalVaultAddr"].startswith("https://")
    assert injector.inputs["values"]["server"]["enabled"] is False
    user = plan.one("vault:aws/secretBackendRole:SecretBackendRole", "vault-userrole-jay@eventualcomputing.com")
    assert user.inputs["name"] == "userrole-jay@eventualcomputing.com"
    assert user.inputs["credentialType"] == "assumed_role"
