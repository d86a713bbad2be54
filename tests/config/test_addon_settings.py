"""Settings of the add-on catalog (`addons`): defaults off, one-line errors naming the field, the mapping to specs."""

from __future__ import annotations

import copy

import pytest
import yaml

from config import addons_spec
from tests.config.test_settings import error_of, parse, stack_settings, with_change

ZONE = "Z0123456789ABCDEFGHIJ"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_add_on_is_off_unless_a_stack_asks(stack):
    settings = parse(stack_settings(stack), stack)
    assert set(settings.addons.installs().values()) == {"off"}


def test_the_example_settings_map_to_the_catalog_spec():
    raw = with_change(
        "prod",
        "addons",
        {
            "awsLoadBalancerController": {"install": "helm"},
            "externalDns": {
                "install": "gitops",
                "hostedZoneIds": [ZONE],
                "domainFilters": ["prod.example.com"],
                "txtOwnerId": "prod-a",
                "sources": ["ingress"],
                "policy": "sync",
            },
            "certManager": {"install": "helm", "hostedZoneIds": [ZONE], "issuerAmbientCredentials": True},
            "metricsServer": {"install": "helm"},
            "trivyOperator": {"install": "gitops", "policyReporter": False},
        },
    )
    spec = addons_spec(parse(raw, "prod").addons)
    assert spec.aws_load_balancer_controller == "helm"
    dns = spec.external_dns
    assert (dns.install, dns.hosted_zone_ids, dns.domain_filters, dns.txt_owner_id, dns.sources, dns.policy) == (
        "gitops",
        (ZONE,),
        ("prod.example.com",),
        "prod-a",
        ("ingress",),
        "sync",
    )
    cert = spec.cert_manager
    assert (cert.crds, cert.cluster_issuer_ambient_credentials, cert.issuer_ambient_credentials) == (True, True, True)
    assert (spec.trivy_operator.install, spec.trivy_operator.policy_reporter) == ("gitops", False)


def test_external_dns_defaults_follow_its_chart():
    raw = with_change("dev", "addons", {"externalDns": {"install": "helm", "hostedZoneIds": [ZONE]}})
    dns = parse(raw).addons.external_dns
    assert (dns.sources, dns.policy, dns.txt_owner_id) == (["service", "ingress"], "upsert-only", None)


@pytest.mark.parametrize(
    ("addons", "expected"),
    [
        ({"externalDns": {"install": "helm"}}, "settings.addons.externalDns.hostedZoneIds: required when external-dns"),
        (
            {"externalDns": {"install": "helm", "hostedZoneIds": ["z0123"]}},
            "settings.addons.externalDns.hostedZoneIds[0]: String should match pattern '^Z[A-Z0-9]+$'",
        ),
        (
            {"certManager": {"install": "helm", "hostedZoneIds": [ZONE, ZONE]}},
            f"settings.addons.certManager.hostedZoneIds: lists {ZONE} more than once",
        ),
        ({"metricsServer": {"install": "yes"}}, "settings.addons.metricsServer.install: Input should be 'helm'"),
        (
            {"certManager": {"install": "helm", "issuerAmbientCredentials": True}},
            "settings.addons.certManager.issuerAmbientCredentials: without hostedZoneIds",
        ),
        (
            {"externalDns": {"install": "helm", "hostedZoneIds": [ZONE], "domainFilters": ["Example..com"]}},
            "settings.addons.externalDns.domainFilters: not domain names: Example..com",
        ),
        (
            {"externalDns": {"install": "helm", "hostedZoneIds": [ZONE], "policy": "create-only"}},
            "settings.addons.externalDns.policy: Input should be 'upsert-only' or 'sync'",
        ),
        ({"trivyOperator": {"install": "helm", "ui": True}}, "settings.addons.trivyOperator.ui: Extra inputs"),
    ],
)
def test_bad_add_on_settings_are_one_line_naming_the_field(addons, expected):
    message = error_of(with_change("dev", "addons", addons))
    assert message.startswith("Pulumi.dev.yaml: eks-platform:")
    assert expected in message


def test_gitops_needs_a_gitops_engine():
    raw = with_change("dev", "addons", {"metricsServer": {"install": "gitops"}})
    raw["argo"] = {"enabled": False}
    message = error_of(raw)
    assert "settings.addons.metricsServer.install: gitops needs a GitOps engine" in message
    raw["addons"] = {"metricsServer": {"install": "helm"}}
    assert parse(raw).addons.metrics_server.install == "helm"


def test_a_cluster_without_egress_installs_no_add_on():
    raw = copy.deepcopy(stack_settings("dev"))
    raw["vpc"] = {**raw.get("vpc", {}), "natStrategy": "none"}
    raw["nodeAutoscaler"] = {"engine": "none"}
    raw["argo"] = {"enabled": False}
    raw["vault"] = {"enabled": False}
    raw.pop("delivery", None)
    raw["addons"] = {"metricsServer": {"install": "helm"}}
    assert "settings.addons.metricsServer.install: the add-ons pull their images from public registries" in error_of(
        raw
    )


def test_an_app_role_may_not_take_an_installed_add_on_s_service_account_or_namespace():
    role = {"lbc": {"namespace": "kube-system", "serviceAccount": "aws-load-balancer-controller"}}
    raw = with_change("dev", "appRoles", role)
    assert parse(raw).app_roles["lbc"]  # the controller is off: nothing claims its ServiceAccount
    raw["addons"] = {"awsLoadBalancerController": {"install": "gitops"}}
    assert (
        "settings.appRoles.lbc.serviceAccount: ServiceAccount 'kube-system/aws-load-balancer-controller' is already "
        "created by addons.awsLoadBalancerController"
    ) in error_of(raw)
    raw = with_change("dev", "appRoles", {"dns": {"namespace": "external-dns", "serviceAccount": "records"}})
    raw["addons"] = {"externalDns": {"install": "helm", "hostedZoneIds": [ZONE]}}
    assert "settings.appRoles.dns: namespace 'external-dns' is already created by addons.externalDns" in error_of(raw)


def test_the_readme_example_is_valid_settings_and_names_the_pinned_charts():
    from components.versions import CERT_MANAGER_CHART, LB_CONTROLLER_CHART
    from tests.config.test_settings import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Add-ons", 1)[1].split("\n## ", 1)[0]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = yaml.safe_load(block)["addons"]
    settings = parse(with_change("prod", "addons", example), "prod").addons
    assert set(settings.installs().values()) == {"helm", "gitops"}
    assert f"chart {LB_CONTROLLER_CHART[2]} " in block
    assert f"chart {CERT_MANAGER_CHART[2]} " in block


@pytest.mark.parametrize("install", ["helm", "gitops"])
def test_metrics_server_comes_from_the_catalog_or_from_spot_ocean_never_both(install):
    raw = copy.deepcopy(stack_settings("prod"))
    raw["nodeAutoscaler"] = {"engine": "spot-ocean", "spotOcean": {"accountId": "act-0a1b2c3d"}}
    raw["addons"] = {"metricsServer": {"install": install}}
    message = error_of(raw, "prod")
    assert "settings.nodeAutoscaler.spotOcean.deployMetricsServer: addons.metricsServer installs" in message
    raw["nodeAutoscaler"]["spotOcean"]["deployMetricsServer"] = False
    assert parse(raw, "prod").addons.metrics_server.install == install
