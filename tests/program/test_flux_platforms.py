"""The seed platforms that ran Flux (Mozilla IAM, seed 002; the IPv6 platform, seed 004) now plan it as settings."""

from __future__ import annotations

import json

from tests.program.test_seed_platforms import plan_of

KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
HELM_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
HELM_RELEASE = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"


def test_mozilla_syncs_its_configuration_repository_with_a_read_only_key_and_no_argo():
    plan = plan_of("mozilla-iam")
    assert [
        r.inputs["chart"] for r in plan.by_type("kubernetes:helm.sh/v3:Release") if "argo" in r.inputs["chart"]
    ] == []
    repository = plan.one(GIT_REPOSITORY, "flux-source-eks-configuration").inputs["spec"]
    assert repository["url"] == "ssh://git@github.com/mozilla-iam/eks-configuration.git"
    assert repository["ref"] == {"branch": "master"}
    cluster = plan.one(KUSTOMIZATION, "flux-kustomization-eks-configuration-cluster").inputs["spec"]
    assert (cluster["path"], cluster["prune"]) == ("./", True)
    assert plan.one(PRIVATE_KEY, "flux-deploy-key-eks-configuration").inputs == {"algorithm": "ED25519"}
    assert set(plan.outputs["fluxDeployKeys"]) == {"eks-configuration"}
    assert "argocdNamespace" not in plan.outputs


def test_the_ipv6_platform_orders_its_kustomizations_and_pulls_charts_from_ecr():
    plan = plan_of("istio-ipv6")
    depends = {
        r.inputs["metadata"]["name"]: [d["name"] for d in r.inputs["spec"].get("dependsOn", [])]
        for r in plan.by_type(KUSTOMIZATION)
    }
    assert depends == {
        "infrastructure-istio": [],
        "infrastructure-secrets-store-csi-driver": ["infrastructure-istio"],
        "infrastructure-apps": ["infrastructure-istio", "infrastructure-secrets-store-csi-driver"],
    }
    charts = plan.one(HELM_REPOSITORY, "flux-helm-repository-platform-charts").inputs["spec"]
    assert (charts["type"], charts["provider"]) == ("oci", "aws")
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "flux-source-controller-ecr-pull").inputs["policy"])
    assert policy["Statement"][1]["Resource"] == ["arn:aws:ecr:us-west-2:210987654321:repository/helm-charts/*"]


def test_the_ipv6_platform_installs_cert_manager_and_the_lb_controller_with_flux():
    plan = plan_of("istio-ipv6")
    releases = {r.name: r.inputs["spec"] for r in plan.by_type(HELM_RELEASE)}
    assert sorted(releases) == ["flux-addon-aws-load-balancer-controller", "flux-addon-cert-manager"]
    cert_manager = releases["flux-addon-cert-manager"]
    assert (cert_manager["targetNamespace"], cert_manager["serviceAccountName"]) == ("cert-manager", "flux-reconciler")
    assert cert_manager["values"]["crds"] == {"enabled": True, "keep": True}  # the seed's installCRDs
    controller = releases["flux-addon-aws-load-balancer-controller"]
    assert controller["targetNamespace"] == "kube-system"
    assert controller["dependsOn"] == [{"name": "cert-manager"}]
    assert controller["values"]["enableCertManager"] is True  # "Set enableCertManager to true"
    role = plan.one("aws:iam/role:Role", "addons-aws-load-balancer-controller-role")
    assert controller["values"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": plan.seen(role, "arn")
    }
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub")] == [
        "system:serviceaccount:kube-system:aws-load-balancer-controller"
    ]
    assert plan.outputs["addonRoleArns"] == {
        "aws-load-balancer-controller": "arn:aws:iam::210987654321:role/eks-platform-prod-aws-load-balancer-controller"
    }
    assert [r.name for r in plan.by_type("kubernetes:helm.sh/v3:Release")] == [
        "flux-release",
        "node-autoscaler-crds",
        "node-autoscaler-release",
        "vault-server-release",
    ]
