"""Add-ons with `install: gitops` through the whole program: the stack makes their IRSA roles, the GitOps engine
installs their charts, and the values reach each engine in its own syntax (components/gitops_bridge.py
`fact_reference`): Argo CD's ApplicationSet templates read the cluster Secret's annotations, Flux's HelmReleases get
the role ARN itself (Pulumi substitutes the bridge variables before they register)."""

from __future__ import annotations

import copy
import json

import pytest

from components.gitops_bridge import ENABLED, addon_label, fact_reference
from tests.config.test_settings import KEY, stack_settings
from tests.program.test_variants import variant_plan
from tools.harness import MODES, Mode, Plan, run_program

ROLE = "aws:iam/role:Role"
APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
HELM_RELEASE = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"
SECRET = "kubernetes:core/v1:Secret"
EXTERNAL_DNS = {"install": "gitops", "hostedZoneIds": ["Z0123456789ABCDEFGHIJ"], "domainFilters": ["example.org"]}


def argo_with_external_dns(mode: Mode) -> Plan:
    settings = copy.deepcopy(stack_settings("prod"))
    settings["addons"] = {"externalDns": EXTERNAL_DNS}
    return run_program("prod", mode, config_overrides={KEY: settings})


@pytest.mark.parametrize("mode", MODES)
def test_argo_installs_a_bridged_addon_from_the_cluster_secret(mode):
    plan = argo_with_external_dns(mode)
    role = plan.one(ROLE, "addons-external-dns-role")
    secret = plan.one(SECRET, "argocd-cluster-in-cluster").inputs["metadata"]
    assert secret["labels"][addon_label("external-dns")] == ENABLED
    assert secret["annotations"]["platform.eks/external-dns-role-arn"] == plan.seen(role, "arn")
    app_set = plan.one(APPLICATION_SET, "argocd-addon-external-dns").inputs["spec"]
    assert app_set["generators"] == [
        {"clusters": {"selector": {"matchLabels": {addon_label("external-dns"): ENABLED}}}}
    ]
    values = app_set["template"]["spec"]["source"]["helm"]["valuesObject"]
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": fact_reference("argocd", "external-dns-role-arn")
    }
    assert fact_reference("argocd", "external-dns-role-arn") == (
        "{{metadata.annotations.platform.eks/external-dns-role-arn}}"
    )
    # Nothing of the add-on is installed by the stack itself: no Helm release, only the role.
    assert not [r for r in plan.by_type("kubernetes:helm.sh/v3:Release") if "external-dns" in r.name]


def test_flux_installs_a_bridged_addon_with_its_role_substituted():
    plan = variant_plan("flux")
    role = plan.one(ROLE, "addons-external-dns-role")
    release = plan.one(HELM_RELEASE, "flux-addon-external-dns").inputs["spec"]
    assert release["values"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": plan.seen(role, "arn")}
    assert release["targetNamespace"] == "external-dns"
    # Every bridge reference was resolved: Flux would substitute an unknown variable with an empty string.
    for helm_release in plan.by_type(HELM_RELEASE):
        text = json.dumps(helm_release.inputs["spec"]["values"])
        assert "${" not in text, helm_release.name
        assert "{{metadata" not in text, helm_release.name
    assert plan.by_type(APPLICATION_SET) == []
