"""Addons under the offline harness: roles trust exactly their add-on's ServiceAccount, Helm releases and their
values, GitOps installs that create only the role and publish the add-on for the bridge."""

from __future__ import annotations

import functools
import json
from typing import Any

import pulumi
import pytest

from components import addon_catalog as catalog
from components.addons import Addons, AddonsArgs
from components.context import AwsContext, ClusterRef
from components.gitops_bridge import BridgedAddon
from components.naming import NamingContext
from config import AddonsSettings, addons_spec
from tools.fidelity import chart_name, chart_values, values_problems
from tools.harness import MODES, Mode, Plan, run_callable

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"
TOLERATIONS = [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}]
ZONE = "Z0123456789ABCDEFGHIJ"

HELM_ALL = {
    "awsLoadBalancerController": {"install": "helm"},
    "externalDns": {"install": "helm", "hostedZoneIds": [ZONE], "domainFilters": ["example.com"]},
    "certManager": {"install": "helm", "hostedZoneIds": [ZONE]},
    "metricsServer": {"install": "helm"},
    "trivyOperator": {"install": "helm"},
}
GITOPS = {
    "awsLoadBalancerController": {"install": "gitops"},
    "externalDns": {"install": "gitops", "hostedZoneIds": [ZONE]},
    "metricsServer": {"install": "gitops"},
}


def _args(raw: dict[str, Any]) -> AddonsArgs:
    return AddonsArgs(
        naming=NamingContext("eks-platform", "test"),
        addons=addons_spec(AddonsSettings.model_validate(raw)),
        cluster=ClusterRef(
            name=pulumi.Output.from_input("eks-platform-test"),
            endpoint="https://example.gr7.us-west-2.eks.amazonaws.com",
            oidc_provider_arn=f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}",
            oidc_issuer_url=f"https://{ISSUER}",
            security_group_id="sg-0123456789abcdef0",
            kubernetes_version="1.35",
            system_node_selector={"dedicated": "system"},
            system_tolerations=TOLERATIONS,
        ),
        account=AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags={}),
        vpc_id=pulumi.Output.from_input("vpc-0123456789abcdef0"),
    )


@functools.cache
def run(name: str, mode: Mode) -> tuple[Plan, list[BridgedAddon]]:
    raw = {"helm": HELM_ALL, "gitops": GITOPS}[name]
    made: list[Addons] = []
    plan = run_callable(lambda: made.append(Addons("addons", _args(raw))), mode=mode)
    return plan, made[0].bridged


def releases(plan: Plan) -> dict[str, Any]:
    return {str(r.inputs["name"]): r for r in plan.by_type(RELEASE)}


@pytest.mark.parametrize("mode", MODES)
def test_each_role_trusts_exactly_its_add_on_s_service_account(mode):
    plan, _ = run("helm", mode)
    roles = {r.name: r for r in plan.by_type(ROLE)}
    assert set(roles) == {f"addons-{a}-role" for a in ("aws-load-balancer-controller", "external-dns", "cert-manager")}
    if mode == "preview":
        return  # the trust document is built in an apply
    for addon, account in catalog.SERVICE_ACCOUNTS.items():
        role = roles[f"addons-{addon}-role"]
        assert role.inputs["name"] == f"eks-platform-test-{addon}"
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        assert statement["Condition"]["StringEquals"] == {
            f"{ISSUER}:sub": f"system:serviceaccount:{catalog.NAMESPACES[addon]}:{account}",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }


def test_each_role_holds_its_catalog_policy():
    plan, _ = run("helm", "update")
    policies = {r.name: json.loads(r.inputs["policy"]) for r in plan.by_type(ROLE_POLICY)}
    spec = _args(HELM_ALL).addons
    for addon in catalog.SERVICE_ACCOUNTS:
        assert policies[f"addons-{addon}-{addon}"] == catalog.role_policy(addon, spec, "aws")


@pytest.mark.parametrize("mode", MODES)
def test_helm_installs_pinned_atomic_releases_in_the_add_ons_namespaces(mode):
    plan, bridged = run("helm", mode)
    assert bridged == []
    found = releases(plan)
    assert set(found) == set(catalog.NAMESPACES)
    for name, release in found.items():
        inputs = release.inputs
        assert (inputs["atomic"], inputs["cleanupOnFail"], inputs["timeout"], inputs["maxHistory"]) == (
            True,
            True,
            600.0,
            10.0,
        )
        assert inputs["values"]["tolerations"] == TOLERATIONS
        assert inputs["values"]["nodeSelector"]["dedicated"] == "system"
        if mode == "update":
            assert inputs["namespace"] == catalog.NAMESPACES[name]
    assert {r.inputs["metadata"]["name"] for r in plan.by_type(NAMESPACE)} == {
        "external-dns",
        "cert-manager",
        "trivy-system",
        "policy-reporter",
    }  # kube-system is built in: never declared


def test_the_releases_carry_their_role_arns_and_the_cluster_facts():
    plan, _ = run("helm", "update")
    found = releases(plan)
    roles = {r.name: r for r in plan.by_type(ROLE)}
    lbc = found["aws-load-balancer-controller"].inputs["values"]
    assert lbc["clusterName"] == "eks-platform-test"
    assert lbc["vpcId"] == "vpc-0123456789abcdef0"
    arn = lbc["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert arn.endswith(":role/eks-platform-test-aws-load-balancer-controller")
    assert roles["addons-aws-load-balancer-controller-role"].inputs["name"] == arn.rsplit("/", 1)[1]


def test_crd_consumers_wait_for_the_charts_that_install_their_crds():
    plan, _ = run("helm", "update")
    found = releases(plan)
    assert found["cert-manager"].urn in found["aws-load-balancer-controller"].dependencies
    assert found["trivy-operator-polr-adapter"].urn in found["policy-reporter"].dependencies
    assert (
        found["external-dns"].dependencies == [] or found["cert-manager"].urn not in found["external-dns"].dependencies
    )


@pytest.mark.parametrize("mode", MODES)
def test_gitops_creates_only_the_roles_and_publishes_the_add_ons(mode):
    plan, bridged = run("gitops", mode)
    assert list(plan.by_type(RELEASE)) == []
    assert list(plan.by_type(NAMESPACE)) == []
    assert {r.name for r in plan.by_type(ROLE)} == {
        "addons-aws-load-balancer-controller-role",
        "addons-external-dns-role",
    }
    by_name = {addon.name: addon for addon in bridged}
    assert set(by_name) == {"aws-load-balancer-controller", "external-dns", "metrics-server"}
    lbc = by_name["aws-load-balancer-controller"]
    assert (lbc.repo_url, lbc.chart, lbc.version) == (
        "https://aws.github.io/eks-charts",
        "aws-load-balancer-controller",
        "3.5.0",
    )
    assert lbc.service_account == "aws-load-balancer-controller"
    assert lbc.values["clusterName"] == "{{metadata.annotations.platform.eks/cluster-name}}"
    assert lbc.values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "{{metadata.annotations.platform.eks/aws-load-balancer-controller-role-arn}}"
    )
    assert by_name["metrics-server"].service_account is None


def test_every_chart_s_values_are_keys_of_its_values_yaml():
    # The fidelity test checks the variants' releases; this checks every chart of the catalog, helm and bridged,
    # each whose values.yaml the fidelity data holds (the shared set carries none of the add-on charts).
    plan, _ = run("helm", "update")
    _, bridged = run("gitops", "update")
    charts = [
        (chart_name(str(release.inputs["chart"])), str(release.inputs["version"]), release.inputs["values"])
        for release in releases(plan).values()
    ] + [(addon.chart, addon.version, dict(addon.values)) for addon in bridged]
    assert len(charts) == len(catalog.NAMESPACES) + 3
    checked = 0
    for chart, version, values in charts:
        upstream = chart_values(chart, version)
        if upstream is None:
            continue
        free = {"extraArgs"} if chart == "external-dns" else set()
        assert values_problems(values, upstream, free_maps=free) == [], chart
        checked += 1
    if checked == 0:
        pytest.skip("no upstream values for any add-on chart (tools/fidelity_extract.py writes them)")
