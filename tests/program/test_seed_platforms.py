"""The five seed platforms (`../shared/seeds/`) as stack settings (`examples/seeds/*.yaml`): each plans completely
under the prod stack, passes the whole policy pack at production levels and the linters, and has the properties that
platform depends on (its names, its access, its network shape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.versions import EKS_ADDON_VERSIONS
from tests.config.test_settings import KEY
from tests.policies.test_pack_grpc import started_with
from tools.harness import Plan, run_program
from tools.linters import lint_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seeds"
SEEDS = sorted(path.stem for path in EXAMPLES.glob("*.yaml"))


def settings_of(seed: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / f"{seed}.yaml").read_text())[KEY]


_PLANS: dict[str, Plan] = {}


def plan_of(seed: str) -> Plan:
    if seed not in _PLANS:
        _PLANS[seed] = run_program("prod", "update", config_overrides={KEY: settings_of(seed)})
    return _PLANS[seed]


def test_every_seed_has_an_example():
    assert SEEDS == ["eventual", "istio-ipv6", "login-gov", "mozilla-iam", "sage-dpe"]


@pytest.mark.parametrize("seed", SEEDS)
def test_each_seed_passes_the_production_gate_and_the_linters(seed):
    plan = plan_of(seed)
    pack = started_with("prod", settings_of(seed))
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    found = {(v.policy, v.level, v.urn.rsplit("::", 1)[-1]) for v in report.violations}
    # The one report by design: the declared wildcard ServiceAccount exception, listed (advisory) for reviewers.
    expected = {("irsa-wildcard-subject", "advisory", "app-ecr-sync-role")} if seed == "istio-ipv6" else set()
    assert found == expected
    assert report.analyzed == len(plan.resources)
    assert lint_plan(plan).failing == []


def names(plan: Plan, type_token: str, key: str = "name") -> dict[str, Any]:
    return {r.name: r.inputs.get(key) for r in plan.by_type(type_token)}


def test_eventual_keeps_its_cluster_and_role_names_and_its_autoscaler_pool():
    plan = plan_of("eventual")
    assert plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["name"] == "jay_sandbox_eks_cluster"
    assert names(plan, "aws:iam/role:Role")["app-daft-role"] == "jay_sandbox_eks_cluster_DaftRole"
    assert names(plan, "aws:iam/role:Role")["vault-bound-role-role"] == "jay_sandbox_eks_cluster-vault-bound-role"
    release = plan.one("kubernetes:helm.sh/v3:Release", "node-autoscaler-release").inputs
    assert release["values"]["nodeSelector"] == {"dedicated": "clusterAutoscaler"}
    assert release["values"]["autoDiscovery"] == {"clusterName": "jay_sandbox_eks_cluster"}


def test_sage_has_its_access_role_no_detector_of_its_own_the_agent_and_email():
    plan = plan_of("sage-dpe")
    assert plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["name"] == "dpe-k8"
    entries = names(plan, "aws:eks/accessEntry:AccessEntry", "principalArn")
    assert entries["eks-access-eks-admin"] == "arn:aws:iam::766808016710:role/eks_admin_role"
    assert plan.by_type("aws:guardduty/detector:Detector") == []
    assert plan.by_type("aws:guardduty/detectorFeature:DetectorFeature") == []
    (agent,) = [r for r in plan.by_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "aws-guardduty-agent"]
    assert agent.inputs["addonVersion"] == EKS_ADDON_VERSIONS["1.35"]["aws-guardduty-agent"]
    (endpoint,) = [
        r
        for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["serviceName"] == "com.amazonaws.us-east-1.guardduty-data"
    ]
    assert endpoint.inputs["privateDnsEnabled"] is True
    assert endpoint.urn in agent.dependencies
    assert names(plan, "aws:iam/user:User") == {"email-smtp-user": "eks-platform-prod-smtp"}
    assert names(plan, "aws:iam/role:Role")["eks-node-role"] == "dpe-k8-node"


def test_mozilla_maps_its_iam_users_and_names_service_roles_its_way():
    plan = plan_of("mozilla-iam")
    entries = names(plan, "aws:eks/accessEntry:AccessEntry", "principalArn")
    assert entries["eks-access-admin-user"] == "arn:aws:iam::320464205386:user/admin"
    assert names(plan, "aws:iam/role:Role")["app-sso-dashboard-role"] == "eks-sso-dashboard-prod"
    scoped = plan.one(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-access-sso-dashboard-devs-AmazonEKSViewPolicy"
    )
    assert scoped.inputs["accessScope"] == {"type": "namespace", "namespaces": ["sso-dashboard"]}


def test_login_gov_delegates_the_idp_and_spreads_its_nodes_per_zone():
    plan = plan_of("login-gov")
    groups = {r.name: r.inputs for r in plan.by_type("aws:eks/nodeGroup:NodeGroup")}
    assert sorted(groups) == ["eks-idp-a", "eks-idp-b", "eks-idp-c", "eks-system"]
    zone_subnets = [groups[f"eks-idp-{letter}"]["subnetIds"] for letter in "abc"]
    assert all(len(subnets) == 1 for subnets in zone_subnets)
    assert len({subnets[0] for subnets in zone_subnets}) == 3
    assert {groups[f"eks-idp-{letter}"]["nodeGroupName"] for letter in "abc"} == {
        f"eks-platform-prod-idp-{letter}" for letter in "abc"
    }
    project = [r for r in plan.by_type("kubernetes:argoproj.io/v1alpha1:AppProject") if r.name.endswith("idp")]
    assert project[0].inputs["spec"]["destinations"][0]["namespace"] == "idp"


def test_the_ipv6_platform_is_dual_stack_with_the_istio_webhook_port_open():
    plan = plan_of("istio-ipv6")
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert cluster["kubernetesNetworkConfig"]["ipFamily"] == "ipv6"
    node_sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    cluster_sg = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    rules = {
        r.inputs["fromPort"]: r.inputs
        for r in plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("securityGroupId") == plan.seen(node_sg, "id")
    }
    assert sorted(rules) == [9443, 15017]
    assert rules[15017]["toPort"] == 15017
    assert rules[15017]["ipProtocol"] == "tcp"
    assert rules[15017]["referencedSecurityGroupId"] == plan.seen(cluster_sg, "vpcConfig")["clusterSecurityGroupId"]
    trust = json.loads(plan.one("aws:iam/role:Role", "app-ecr-sync-role").inputs["assumeRolePolicy"])
    like = [st["Condition"]["StringLike"] for st in trust["Statement"] if "StringLike" in st.get("Condition", {})]
    assert [condition[key] for condition in like for key in condition if key.endswith(":sub")] == [
        "system:serviceaccount:i-*:ecr-credentials-sync"
    ]


APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
RELEASE = "kubernetes:helm.sh/v3:Release"
SAGE_VALUES = {
    "repoURL": "https://github.com/Sage-Bionetworks-Workflows/eks-stack.git",
    "targetRevision": "main",
    "ref": "values",
}


def waves(plan: Plan) -> dict[str, str | None]:
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave")
        for r in plan.by_type(APPLICATION)
    }


def app_edges(plan: Plan, name: str) -> list[str]:
    """The Applications the named one is created after (its ordering edges, by Application name)."""
    urns = {r.urn: r.inputs["metadata"]["name"] for r in plan.by_type(APPLICATION)}
    return sorted(urns[urn] for urn in plan.one(APPLICATION, f"argocd-app-{name}").dependencies if urn in urns)


def test_sage_scales_with_its_ocean_and_keeps_the_controllers_metrics_server():
    plan = plan_of("sage-dpe")
    ocean = plan.one("spotinst:aws/ocean:Ocean", "spot-ocean-ocean").inputs
    assert ocean["controllerId"] == "dpe-k8"
    assert (ocean["minSize"], ocean["maxSize"], ocean["desiredCapacity"]) == (1, 1000, 3)
    assert ocean["autoscaler"]["autoHeadroomPercentage"] == 30
    assert ocean["autoscaler"]["autoscaleDown"] == {"maxScaleDownPercentage": 33, "isAggressiveScaleDownEnabled": True}
    assert ocean["filters"] == {"architectures": ["x86_64"], "minVcpu": 2, "minMemoryGib": 8, "excludeMetal": True}
    controller = plan.one(RELEASE, "spot-ocean-controller").inputs
    assert controller["values"]["spotinst"]["clusterIdentifier"] == "dpe-k8"
    assert "token" not in controller["values"]["spotinst"]
    assert controller["values"]["metrics-server"] == {"deployChart": True}
    assert names(plan, "aws:iam/role:Role")["spot-ocean-node-role"] == "dpe-k8-spot-ocean-node"
    assert {r.name for r in plan.by_type(RELEASE)} == {"argocd-release", "spot-ocean-controller"}


def test_sage_deploys_its_multi_source_applications_in_its_order_by_hand():
    plan = plan_of("sage-dpe")
    airflow = plan.one(APPLICATION, "argocd-app-apache-airflow").inputs["spec"]
    assert airflow["sources"] == [
        {
            "repoURL": "https://airflow.apache.org",
            "chart": "airflow",
            "targetRevision": "1.15.0",
            "helm": {"releaseName": "airflow", "valueFiles": ["$values/modules/apache-airflow/templates/values.yaml"]},
        },
        SAGE_VALUES,
    ]
    assert airflow["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "airflow"}
    assert airflow["project"] == "default"
    assert "automated" not in airflow["syncPolicy"]  # production's auto_deploy = false
    metrics = plan.one(APPLICATION, "argocd-app-victoria-metrics-k8s-stack").inputs["spec"]
    assert metrics["sources"][1] == SAGE_VALUES
    assert metrics["ignoreDifferences"][0] == {"group": "*", "kind": "Secret", "jsonPointers": ["/data/admin-password"]}
    assert metrics["syncPolicy"]["syncOptions"] == ["ServerSideApply=true", "CreateNamespace=true"]
    assert waves(plan) == {
        "victoria-metrics-k8s-stack": "0",
        "postgres-cloud-native-operator": "0",
        "apache-airflow": "1",
        "trivy-operator-resources": "1",
        "airflow-postgres-cloud-native": "2",
    }
    assert app_edges(plan, "apache-airflow") == ["postgres-cloud-native-operator", "victoria-metrics-k8s-stack"]
    assert app_edges(plan, "airflow-postgres-cloud-native") == ["apache-airflow", "trivy-operator-resources"]
    scrape = plan.one(APPLICATION, "argocd-app-trivy-operator-resources").inputs["spec"]
    assert scrape["source"] == {
        "repoURL": "https://github.com/Sage-Bionetworks-Workflows/eks-stack.git",
        "targetRevision": "main",
        "path": "modules/trivy-operator/resources",
    }
    assert (scrape["destination"]["namespace"], scrape["syncPolicy"]["syncOptions"]) == (
        "trivy-system",
        ["CreateNamespace=true"],
    )
    release = plan.one(RELEASE, "argocd-release")
    assert all(release.urn in r.dependencies for r in plan.by_type(APPLICATION))


def test_sage_scans_with_trivy_and_policy_reporter_through_argo():
    plan = plan_of("sage-dpe")
    sets = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.by_type(APPLICATION_SET)}
    assert sorted(sets) == [
        "addon-cert-manager",
        "addon-policy-reporter",
        "addon-trivy-operator",
        "addon-trivy-operator-polr-adapter",
    ]
    placed = {
        name: (
            spec["template"]["spec"]["source"]["chart"],
            spec["template"]["spec"]["destination"]["namespace"],
            spec["template"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        )
        for name, spec in sets.items()
    }
    assert placed == {
        "addon-trivy-operator": ("trivy-operator", "trivy-system", "0"),
        "addon-trivy-operator-polr-adapter": ("trivy-operator-polr-adapter", "trivy-system", "1"),
        "addon-policy-reporter": ("policy-reporter", "policy-reporter", "2"),
        "addon-cert-manager": ("cert-manager", "cert-manager", "0"),
    }
    assert sets["addon-policy-reporter"]["template"]["spec"]["source"]["helm"]["valuesObject"]["plugin"]["trivy"][
        "enabled"
    ]
    labels = plan.one("kubernetes:core/v1:Secret", "argocd-cluster-in-cluster").inputs["metadata"]["labels"]
    assert {key for key, value in labels.items() if key.startswith("platform.eks/addon-") and value == "enabled"} == {
        "platform.eks/addon-trivy-operator",
        "platform.eks/addon-trivy-operator-polr-adapter",
        "platform.eks/addon-policy-reporter",
        "platform.eks/addon-cert-manager",
    }
    assert plan.outputs["addonRoleArns"] == {}  # cert-manager without zones needs no role, trivy none


LOGIN_GOV_WAVES = {
    "falco": "-4",
    "external-dns": "-4",
    "clamav": "-4",
    "k8s-spot-terminator": "-4",
    "istio-operator": "-3",
    "istio": "-2",
    "elk-eck": "0",
    "dashboard": "0",
    "metrics-server": "0",
    "flagger": "0",
    "idp": None,
}


def test_login_gov_declares_its_cluster_directorys_applications_with_its_waves():
    plan = plan_of("login-gov")
    assert waves(plan) == LOGIN_GOV_WAVES  # no root app: these are the cluster directory's Applications
    assert app_edges(plan, "istio-operator") == ["clamav", "external-dns", "falco", "k8s-spot-terminator"]
    assert app_edges(plan, "istio") == ["istio-operator"]
    assert app_edges(plan, "flagger") == ["istio"]
    istio = plan.one(APPLICATION, "argocd-app-istio").inputs
    assert istio["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert istio["spec"]["source"] == {
        "repoURL": "https://github.com/18F/identity-eks.git",
        "targetRevision": "HEAD",
        "path": "base/istio",
    }
    assert istio["spec"]["destination"]["namespace"] == "istio-operator"
    assert istio["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert istio["spec"]["syncPolicy"]["syncOptions"] == ["Validate=false"]
    assert istio["spec"]["ignoreDifferences"] == [
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
    ]
    elk = plan.one(APPLICATION, "argocd-app-elk-eck").inputs["spec"]
    assert [entry["kind"] for entry in elk["ignoreDifferences"]] == [
        "Deployment",
        "ValidatingWebhookConfiguration",
        "CustomResourceDefinition",
        "CustomResourceDefinition",
    ]
    idp = plan.one(APPLICATION, "argocd-app-idp").inputs["spec"]
    assert (idp["project"], idp["destination"]["namespace"]) == ("idp", "idp")
    assert idp["source"]["repoURL"] == "https://github.com/timothy-spencer/idp-dev.git"
    (project,) = [r for r in plan.by_type("kubernetes:argoproj.io/v1alpha1:AppProject") if r.name.endswith("idp")]
    assert project.urn in plan.one(APPLICATION, "argocd-app-idp").dependencies
    spec = project.inputs["spec"]
    assert [d["namespace"] for d in spec["destinations"]] == ["idp", "test"]
    assert spec["sourceRepos"] == [
        "https://github.com/timothy-spencer/idp-dev.git",
        "https://github.com/18F/identity-eks.git",
    ]
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


def test_the_ipv6_platform_runs_vault_on_raft_unsealed_by_a_key_only_vault_may_use():
    plan = plan_of("istio-ipv6")
    ha = plan.one(RELEASE, "vault-server-release").inputs["values"]["server"]["ha"]
    assert (ha["enabled"], ha["replicas"], ha["raft"]["enabled"]) == (True, 3, True)
    config = ha["raft"]["config"]
    assert [f"https://vault-{i}.vault-internal:8200" in config for i in range(3)] == [True, True, True]
    assert config.count("retry_join {") == 3
    assert 'seal "awskms"' in config
    assert 'service_registration "kubernetes" {}' in config
    assert 'address = "[::]:8200"' in config  # the IPv6 cluster's pods listen on IPv6 too
    role = plan.one("aws:iam/role:Role", "vault-server-server-role-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub")] == [
        "system:serviceaccount:vault:vault"
    ]
    policy = json.loads(plan.one("aws:kms/key:Key", "vault-server-unseal-key").inputs["policy"])
    (unseal,) = [st for st in policy["Statement"] if "kms:Decrypt" in st["Action"]]
    assert unseal["Principal"] == {"AWS": plan.seen(role, "arn")}
    assert unseal["Principal"] == {"AWS": "arn:aws:iam::210987654321:role/eks-platform-prod-vault-server"}
    assert unseal["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]
