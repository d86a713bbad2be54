"""The add-on catalog's pure planning: values per chart, IAM documents, which add-ons get a role and an install."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import addon_catalog as catalog
from components.addon_catalog import AddonsSpec, CertManagerSpec, ExternalDnsSpec, Facts, TrivyOperatorSpec

TOLERATIONS = [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}]
FACTS: Facts[str] = Facts(
    cluster_name="eks-platform-prod",
    region="us-west-2",
    vpc_id="vpc-0123",
    role_arns={
        catalog.LB_CONTROLLER: "arn:aws:iam::1:role/lbc",
        catalog.EXTERNAL_DNS: "arn:aws:iam::1:role/dns",
        catalog.CERT_MANAGER: "arn:aws:iam::1:role/cm",
    },
    node_selector={"eks.amazonaws.com/nodegroup": "eks-platform-prod-system"},
    tolerations=TOLERATIONS,
)
ZONE = "Z0123456789ABCDEFGHIJ"
EVERYTHING = AddonsSpec(
    aws_load_balancer_controller="helm",
    external_dns=ExternalDnsSpec(install="helm", hosted_zone_ids=(ZONE,), domain_filters=("example.com",)),
    cert_manager=CertManagerSpec(install="helm", hosted_zone_ids=(ZONE,)),
    metrics_server="helm",
    trivy_operator=TrivyOperatorSpec(install="helm"),
)
PLACEMENT = {
    "nodeSelector": {"kubernetes.io/os": "linux", "eks.amazonaws.com/nodegroup": "eks-platform-prod-system"},
    "tolerations": TOLERATIONS,
}


def by_name(spec: AddonsSpec, install: catalog.Install = "helm") -> dict[str, catalog.AddonPlan[str]]:
    return {p.name: p for p in catalog.plan(spec, FACTS, install=install, partition="aws")}


def test_the_lb_controller_serves_this_cluster_with_its_irsa_service_account():
    values = by_name(EVERYTHING)[catalog.LB_CONTROLLER].values
    assert values["clusterName"] == "eks-platform-prod"
    assert (values["region"], values["vpcId"]) == ("us-west-2", "vpc-0123")
    assert values["serviceAccount"] == {
        "create": True,
        "name": "aws-load-balancer-controller",
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/lbc"},
    }
    assert values["enableCertManager"] is True  # cert-manager is installed the same way
    assert {k: values[k] for k in PLACEMENT} == PLACEMENT


def test_the_lb_controller_uses_its_own_webhook_certificate_without_cert_manager_on_the_same_path():
    spec = AddonsSpec(aws_load_balancer_controller="helm", cert_manager=CertManagerSpec(install="gitops"))
    assert by_name(spec)[catalog.LB_CONTROLLER].values["enableCertManager"] is False


def test_the_lb_controller_takes_cert_manager_s_certificate_only_from_an_installer_that_orders_them():
    spec = AddonsSpec(aws_load_balancer_controller="gitops", cert_manager=CertManagerSpec(install="gitops"))
    # Argo CD's ApplicationSets are unordered: cert-manager's CRDs may come after the controller's Certificate.
    assert by_name(spec, "gitops")[catalog.LB_CONTROLLER].values["enableCertManager"] is False
    # Flux's HelmReleases wait for cert-manager (dependsOn).
    flux = {p.name: p for p in catalog.plan(spec, FACTS, install="gitops", partition="aws", ordered=True)}
    assert flux[catalog.LB_CONTROLLER].values["enableCertManager"] is True


def test_the_lb_controller_webhook_never_blocks_other_services():
    # Its Service mutator answers every Service create in the cluster; `Fail` (the chart's default) would refuse
    # them while the controller starts, rolling back the other releases of the same `pulumi up`.
    values = by_name(EVERYTHING)[catalog.LB_CONTROLLER].values
    assert values["serviceMutatorWebhookConfig"] == {"failurePolicy": "Ignore"}


def test_external_dns_owner_id_defaults_to_the_cluster_and_it_sees_only_its_zones():
    values = by_name(EVERYTHING)[catalog.EXTERNAL_DNS].values
    assert values["txtOwnerId"] == "eks-platform-prod"
    assert values["extraArgs"] == {"zone-id-filter": [ZONE]}
    assert (values["sources"], values["policy"], values["domainFilters"]) == (
        ["service", "ingress"],
        "upsert-only",
        ["example.com"],
    )
    assert values["provider"] == {"name": "aws"}
    owned = ExternalDnsSpec(install="helm", hosted_zone_ids=(ZONE,), txt_owner_id="prod-a", policy="sync")
    values = catalog.external_dns_values(owned, FACTS)
    assert (values["txtOwnerId"], values["policy"]) == ("prod-a", "sync")


def test_cert_manager_installs_crds_and_writes_both_ambient_flags():
    values = by_name(EVERYTHING)[catalog.CERT_MANAGER].values
    assert values["crds"] == {"enabled": True, "keep": True}
    assert "installCRDs" not in values
    assert values["extraArgs"] == ["--cluster-issuer-ambient-credentials=true", "--issuer-ambient-credentials=false"]
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/cm"}
    for part in ("webhook", "cainjector", "startupapicheck"):
        assert values[part] == PLACEMENT
    shared = CertManagerSpec(install="helm", issuer_ambient_credentials=True, crds=False)
    values = catalog.cert_manager_values(shared, FACTS)
    assert values["extraArgs"][1] == "--issuer-ambient-credentials=true"
    assert values["crds"]["enabled"] is False


def test_cert_manager_without_zones_has_no_role():
    spec = AddonsSpec(cert_manager=CertManagerSpec(install="helm"))
    assert catalog.roles_needed(spec) == {}
    plan = by_name(spec)[catalog.CERT_MANAGER]
    assert plan.policy is None
    assert plan.service_account is None


def test_trivy_brings_the_adapter_and_policy_reporter_which_reads_its_reports():
    plans = by_name(EVERYTHING)
    adapter = plans[catalog.TRIVY_POLR_ADAPTER].values
    assert adapter["crds"] == {"install": True}
    assert adapter["adapters"]["vulnerabilityReports"]["enabled"] is True
    reporter = plans[catalog.POLICY_REPORTER].values
    assert reporter["ui"]["enabled"] is True
    assert reporter["plugin"]["trivy"]["enabled"] is True
    assert plans[catalog.POLICY_REPORTER].wave > plans[catalog.TRIVY_POLR_ADAPTER].wave
    alone = AddonsSpec(trivy_operator=TrivyOperatorSpec(install="helm", policy_reporter=False))
    assert list(by_name(alone)) == [catalog.TRIVY_OPERATOR]


def test_each_install_path_plans_only_its_own_add_ons_crd_providers_first():
    spec = AddonsSpec(
        aws_load_balancer_controller="gitops",
        cert_manager=CertManagerSpec(install="gitops"),
        metrics_server="helm",
    )
    assert list(by_name(spec, "helm")) == [catalog.METRICS_SERVER]
    assert list(by_name(spec, "gitops")) == [catalog.CERT_MANAGER, catalog.LB_CONTROLLER]
    assert catalog.plan(spec, FACTS, install="off", partition="aws") == []


def test_the_external_dns_policy_changes_only_the_configured_zones():
    document = catalog.external_dns_policy("aws", [ZONE, "Z2"])
    change, listing = document["Statement"]
    assert change["Resource"] == [
        "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
        "arn:aws:route53:::hostedzone/Z2",
    ]
    assert "route53:ChangeResourceRecordSets" in change["Action"]
    assert listing == {"Sid": "ListZones", "Effect": "Allow", "Action": ["route53:ListHostedZones"], "Resource": "*"}


def test_the_cert_manager_policy_changes_txt_records_of_its_zones_only():
    statements = {s["Sid"]: s for s in catalog.cert_manager_policy("aws", [ZONE])["Statement"]}
    assert statements["PollChanges"]["Resource"] == "arn:aws:route53:::change/*"
    change = statements["ChallengeRecords"]
    assert change["Action"] == "route53:ChangeResourceRecordSets"
    assert change["Resource"] == [f"arn:aws:route53:::hostedzone/{ZONE}"]
    assert change["Condition"] == {
        "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}
    }
    assert statements["ReadRecords"]["Resource"] == [f"arn:aws:route53:::hostedzone/{ZONE}"]
    assert statements["FindZones"] == {
        "Sid": "FindZones",
        "Effect": "Allow",
        "Action": "route53:ListHostedZonesByName",
        "Resource": "*",
    }


@given(st.lists(st.from_regex(r"Z[A-Z0-9]{1,31}", fullmatch=True), min_size=1, max_size=20, unique=True))
def test_no_route53_document_reaches_a_zone_it_was_not_given(zones):
    for document in (catalog.external_dns_policy("aws", zones), catalog.cert_manager_policy("aws", zones)):
        reached = {
            r
            for s in document["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
            if "hostedzone" in r
        }
        assert reached == {f"arn:aws:route53:::hostedzone/{zone}" for zone in zones}


def test_an_add_on_without_a_role_has_no_policy():
    with pytest.raises(ValueError, match="no IAM role"):
        catalog.role_policy(catalog.METRICS_SERVER, EVERYTHING, "aws")


def test_renovate_sees_every_add_on_chart():
    from components import versions
    from tests.unit.test_delivery_config import ROOT, renovate_patterns

    text = (ROOT / "components/versions.py").read_text()
    found = {
        (match["registryUrl"], match["depName"], match["currentValue"])
        for pattern in renovate_patterns()
        if "registryUrl" in pattern.groupindex
        for match in pattern.finditer(text)
    }
    charts = {plan.chart for plan in catalog.plan(EVERYTHING, FACTS, install="helm", partition="aws")}
    assert len(charts) == len(catalog.NAMESPACES)
    assert charts <= found
    assert versions.TRIVY_POLR_ADAPTER_CHART in found
