"""The add-on catalog: what each add-on is (pinned chart, namespace, ServiceAccount, values, IAM documents).

Pure module, no Pulumi resources: `components/addons.py` turns a plan into resources (``install: helm``) or into
`BridgedAddon` entries for the GitOps engine (``install: gitops``). Values keys are those of each chart's
``values.yaml`` at the pinned version (checked by ``tests/contracts/test_chart_fidelity.py``); values that are not
known when planning (the role ARN, the cluster's name, the VPC id, the system node group) are parameters of type
``T``: Pulumi Outputs for a Helm release, the GitOps engine's templates for a bridged add-on.

The seeds: the Sage platform's trivy-operator with policy-reporter (a UI for the scan results); the Mozilla notes'
cert-manager (CRDs installed, ambient credentials for IRSA), AWS Load Balancer Controller (``enableCertManager``)
and external-dns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Literal, TypeVar

from components import iam_documents as iam
from components.iam_documents import PolicyDocument
from components.lb_controller_policy import lb_controller_policy
from components.naming import ROLE_ARN_ANNOTATION
from components.scheduling import linux_node_selector
from components.versions import (
    CERT_MANAGER_CHART,
    EXTERNAL_DNS_CHART,
    LB_CONTROLLER_CHART,
    METRICS_SERVER_CHART,
    POLICY_REPORTER_CHART,
    TRIVY_OPERATOR_CHART,
    TRIVY_POLR_ADAPTER_CHART,
)

T = TypeVar("T")

Install = Literal["helm", "gitops", "off"]
ExternalDnsPolicy = Literal["upsert-only", "sync"]
ExternalDnsSource = Literal["service", "ingress"]
#: external-dns's chart default ``sources``.
EXTERNAL_DNS_SOURCES: Final[tuple[ExternalDnsSource, ...]] = ("service", "ingress")

#: Route 53 hosted zone ids (``Z`` and upper-case letters and digits).
HOSTED_ZONE_ID: Final = r"^Z[A-Z0-9]+$"

LB_CONTROLLER: Final = "aws-load-balancer-controller"
EXTERNAL_DNS: Final = "external-dns"
CERT_MANAGER: Final = "cert-manager"
METRICS_SERVER: Final = "metrics-server"
TRIVY_OPERATOR: Final = "trivy-operator"
TRIVY_POLR_ADAPTER: Final = "trivy-operator-polr-adapter"
POLICY_REPORTER: Final = "policy-reporter"

#: Namespaces the add-ons run in (kube-system is built in: never declared).
NAMESPACES: Final[dict[str, str]] = {
    LB_CONTROLLER: "kube-system",
    EXTERNAL_DNS: "external-dns",
    CERT_MANAGER: "cert-manager",
    METRICS_SERVER: "kube-system",
    TRIVY_OPERATOR: "trivy-system",
    TRIVY_POLR_ADAPTER: "trivy-system",
    POLICY_REPORTER: "policy-reporter",
}
#: ServiceAccounts of the add-ons that call AWS (the charts create them, annotated with the role ARN).
SERVICE_ACCOUNTS: Final[dict[str, str]] = {
    LB_CONTROLLER: "aws-load-balancer-controller",
    EXTERNAL_DNS: "external-dns",
    CERT_MANAGER: "cert-manager",
}
#: Install order of the Helm releases (a release waits for those of lower waves): CRD providers first (cert-manager's
#: CRDs before the LB controller's Certificate, the adapter's PolicyReport CRDs before policy-reporter). For gitops
#: installs the wave is only the generated Application's sync-wave annotation: Argo CD orders waves within one
#: Application's resources (or an app-of-apps' children), not across ApplicationSets, so no gitops add-on relies on
#: another's CRDs at install (see `plan`: the LB controller takes cert-manager's certificate only with helm).
WAVES: Final[dict[str, int]] = {
    CERT_MANAGER: 0,
    METRICS_SERVER: 0,
    TRIVY_OPERATOR: 0,
    TRIVY_POLR_ADAPTER: 1,
    LB_CONTROLLER: 1,
    EXTERNAL_DNS: 1,
    POLICY_REPORTER: 2,
}


@dataclass(frozen=True)
class ExternalDnsSpec:
    """external-dns: which Route 53 zones it may change and which records it manages."""

    install: Install = "off"
    #: The only zones the IAM policy lets it change (and ``--zone-id-filter``).
    hosted_zone_ids: tuple[str, ...] = ()
    domain_filters: tuple[str, ...] = ()
    #: ``--txt-owner-id``: None is the cluster's name.
    txt_owner_id: str | None = None
    sources: tuple[ExternalDnsSource, ...] = EXTERNAL_DNS_SOURCES
    policy: ExternalDnsPolicy = "upsert-only"


@dataclass(frozen=True)
class CertManagerSpec:
    """cert-manager: its CRDs, and the Route 53 zones of its DNS-01 role (none: no role)."""

    install: Install = "off"
    hosted_zone_ids: tuple[str, ...] = ()
    #: ``--cluster-issuer-ambient-credentials``: ClusterIssuers may use the controller's IRSA role.
    cluster_issuer_ambient_credentials: bool = True
    #: ``--issuer-ambient-credentials``: namespaced Issuers may too (anyone who can create an Issuer then can).
    issuer_ambient_credentials: bool = False
    crds: bool = True


@dataclass(frozen=True)
class TrivyOperatorSpec:
    """trivy-operator, and policy-reporter (with the adapter that turns trivy's reports into PolicyReports)."""

    install: Install = "off"
    policy_reporter: bool = True


@dataclass(frozen=True)
class AddonsSpec:
    """The catalog's settings (``settings.addons``, mapped by ``config.addons_spec``)."""

    aws_load_balancer_controller: Install = "off"
    external_dns: ExternalDnsSpec = field(default_factory=ExternalDnsSpec)
    cert_manager: CertManagerSpec = field(default_factory=CertManagerSpec)
    metrics_server: Install = "off"
    trivy_operator: TrivyOperatorSpec = field(default_factory=TrivyOperatorSpec)


@dataclass(frozen=True)
class Facts(Generic[T]):
    """What values need from the infrastructure (Outputs for Helm, engine templates for GitOps)."""

    cluster_name: T
    region: T
    vpc_id: T
    #: ``add-on name -> role ARN`` for the add-ons with a role.
    role_arns: Mapping[str, T]
    node_selector: Mapping[str, T]
    tolerations: Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class AddonPlan(Generic[T]):
    """One chart to install: how, where, with which values; ``policy`` is its role's document (None: no role)."""

    name: str
    install: Install
    chart: tuple[str, str, str]
    namespace: str
    values: dict[str, Any]
    wave: int
    service_account: str | None = None
    policy: PolicyDocument | None = None


# ------------------------------------------------------------------------------------------ IAM documents


def hosted_zone_arn(partition: str, zone_id: str) -> str:
    """``arn:<partition>:route53:::hostedzone/<id>`` (Route 53 ARNs have no region or account)."""
    return f"arn:{partition}:route53:::hostedzone/{zone_id}"


def external_dns_policy(partition: str, zone_ids: Sequence[str]) -> PolicyDocument:
    """external-dns on Route 53: record changes in the given zones only, zone listing everywhere.

    kubernetes-sigs/external-dns ``docs/tutorials/aws.md`` at v0.21.0 ("IAM Policy"): ChangeResourceRecordSets,
    ListResourceRecordSets and ListTagsForResources on hosted zones (there ``hostedzone/*``; here the configured
    zones), ListHostedZones on ``*`` (it takes no resource).
    """
    return iam.document(
        {
            "Sid": "ChangeConfiguredZones",
            "Effect": "Allow",
            "Action": [
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResources",
            ],
            "Resource": sorted(hosted_zone_arn(partition, zone) for zone in zone_ids),
        },
        {"Sid": "ListZones", "Effect": "Allow", "Action": ["route53:ListHostedZones"], "Resource": "*"},
    )


def cert_manager_policy(partition: str, zone_ids: Sequence[str]) -> PolicyDocument:
    """cert-manager's ACME DNS-01 solver on Route 53: TXT records in the given zones only.

    cert-manager docs, "Route53" (configuration/acme/dns01/route53): GetChange on ``change/*``,
    ChangeResourceRecordSets and ListResourceRecordSets on hosted zones with the condition
    ``ForAllValues:StringEquals route53:ChangeResourceRecordSetsRecordTypes: [TXT]``, ListHostedZonesByName on
    ``*``. The zones are the configured ones instead of ``hostedzone/*``, and ListResourceRecordSets has a statement
    of its own: the record-type key exists only for ChangeResourceRecordSets (Service Authorization Reference, Route
    53), and ``ForAllValues`` over an absent key matches anything, so the docs' shared statement grants the same.
    """
    zones = sorted(hosted_zone_arn(partition, zone) for zone in zone_ids)
    return iam.document(
        {
            "Sid": "PollChanges",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": f"arn:{partition}:route53:::change/*",
        },
        {
            "Sid": "ChallengeRecords",
            "Effect": "Allow",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": zones,
            "Condition": {"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}},
        },
        {"Sid": "ReadRecords", "Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zones},
        {"Sid": "FindZones", "Effect": "Allow", "Action": "route53:ListHostedZonesByName", "Resource": "*"},
    )


# ------------------------------------------------------------------------------------------------ values


def _placement(facts: Facts[T]) -> dict[str, Any]:
    return {
        "nodeSelector": linux_node_selector(facts.node_selector),
        "tolerations": list(facts.tolerations),
    }


def _service_account(name: str, role_arn: T) -> dict[str, Any]:
    return {"create": True, "name": name, "annotations": {ROLE_ARN_ANNOTATION: role_arn}}


def lb_controller_values(facts: Facts[T], *, cert_manager: bool) -> dict[str, Any]:
    """aws-load-balancer-controller values: the cluster it serves, its IRSA ServiceAccount, two replicas.

    ``cert_manager``: the webhook's certificate from cert-manager (``enableCertManager``), as the Mozilla notes do.
    """
    return {
        "clusterName": facts.cluster_name,
        "region": facts.region,
        "vpcId": facts.vpc_id,
        "replicaCount": 2,
        "serviceAccount": _service_account(SERVICE_ACCOUNTS[LB_CONTROLLER], facts.role_arns[LB_CONTROLLER]),
        "enableCertManager": cert_manager,
        # The chart's Service mutating webhook (it gives new LoadBalancer Services this controller's class) answers
        # every Service create in the cluster; with the chart's `Fail` a create while the controller is not ready is
        # refused, and the other releases of the same `pulumi up` (argo-cd, vault, ...) roll back. `Ignore` lets such a
        # Service through unmutated (only a LoadBalancer Service made in that window falls to the in-tree provider).
        "serviceMutatorWebhookConfig": {"failurePolicy": "Ignore"},
        **_placement(facts),
    }


def external_dns_values(spec: ExternalDnsSpec, facts: Facts[T]) -> dict[str, Any]:
    """external-dns values: Route 53, the configured zones, owner id, domain filters, sources and policy."""
    return {
        "provider": {"name": "aws"},
        "serviceAccount": _service_account(SERVICE_ACCOUNTS[EXTERNAL_DNS], facts.role_arns[EXTERNAL_DNS]),
        "sources": list(spec.sources),
        "policy": spec.policy,
        "registry": "txt",
        "txtOwnerId": spec.txt_owner_id if spec.txt_owner_id is not None else facts.cluster_name,
        "domainFilters": list(spec.domain_filters),
        # --zone-id-filter, once per zone: external-dns looks at no other zone (its policy could not change one).
        "extraArgs": {"zone-id-filter": list(spec.hosted_zone_ids)},
        **_placement(facts),
    }


def cert_manager_args(spec: CertManagerSpec) -> list[str]:
    """The controller's ambient-credentials flags, both written explicitly.

    cert-manager v1.21.1 ``cmd/controller/app/options``: ``--cluster-issuer-ambient-credentials`` (default true) lets
    ClusterIssuers use the controller's own credentials (its IRSA role) for ACME DNS-01 and Route 53;
    ``--issuer-ambient-credentials`` (default false) lets namespaced Issuers do the same.
    """
    return [
        f"--cluster-issuer-ambient-credentials={str(spec.cluster_issuer_ambient_credentials).lower()}",
        f"--issuer-ambient-credentials={str(spec.issuer_ambient_credentials).lower()}",
    ]


def cert_manager_values(spec: CertManagerSpec, facts: Facts[T]) -> dict[str, Any]:
    """cert-manager values: CRDs through ``crds.enabled`` (``installCRDs`` is deprecated at v1.21), the IRSA role."""
    placement = _placement(facts)
    service_account: dict[str, Any] = {"create": True, "name": SERVICE_ACCOUNTS[CERT_MANAGER]}
    if CERT_MANAGER in facts.role_arns:
        service_account["annotations"] = {ROLE_ARN_ANNOTATION: facts.role_arns[CERT_MANAGER]}
    return {
        "crds": {"enabled": spec.crds, "keep": True},
        "serviceAccount": service_account,
        "extraArgs": cert_manager_args(spec),
        **placement,
        "webhook": dict(placement),
        "cainjector": dict(placement),
        "startupapicheck": dict(placement),
    }


def metrics_server_values(facts: Facts[T]) -> dict[str, Any]:
    """metrics-server values: two replicas with a disruption budget (the chart's high-availability setup)."""
    return {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}, **_placement(facts)}


def trivy_operator_values(facts: Facts[T]) -> dict[str, Any]:
    """trivy-operator values: the operator on the system nodes (its scan jobs run where the workloads are)."""
    return {"trivy": {"ignoreUnfixed": True}, **_placement(facts)}


def polr_adapter_values(facts: Facts[T]) -> dict[str, Any]:
    """trivy-operator-polr-adapter values: the PolicyReport CRDs, vulnerability and config-audit reports."""
    return {
        "crds": {"install": True},
        "adapters": {"vulnerabilityReports": {"enabled": True}, "configAuditReports": {"enabled": True}},
        **_placement(facts),
    }


def policy_reporter_values(facts: Facts[T]) -> dict[str, Any]:
    """policy-reporter values: its UI and the Trivy plugin (vulnerability details), reached by port-forward."""
    placement = _placement(facts)
    return {
        **placement,
        "ui": {"enabled": True, **placement},
        "plugin": {"trivy": {"enabled": True, **placement}},
    }


# -------------------------------------------------------------------------------------------------- plan


def roles_needed(spec: AddonsSpec) -> dict[str, Install]:
    """The add-ons that get an IRSA role, with their install mode (only installed ones; cert-manager with zones)."""
    roles: dict[str, Install] = {}
    if spec.aws_load_balancer_controller != "off":
        roles[LB_CONTROLLER] = spec.aws_load_balancer_controller
    if spec.external_dns.install != "off":
        roles[EXTERNAL_DNS] = spec.external_dns.install
    if spec.cert_manager.install != "off" and spec.cert_manager.hosted_zone_ids:
        roles[CERT_MANAGER] = spec.cert_manager.install
    return roles


def role_policy(name: str, spec: AddonsSpec, partition: str) -> PolicyDocument:
    """The inline policy of add-on ``name``'s role."""
    if name == LB_CONTROLLER:
        return lb_controller_policy(partition)
    if name == EXTERNAL_DNS:
        return external_dns_policy(partition, spec.external_dns.hosted_zone_ids)
    if name == CERT_MANAGER:
        return cert_manager_policy(partition, spec.cert_manager.hosted_zone_ids)
    msg = f"{name} has no IAM role"
    raise ValueError(msg)


def plan(
    spec: AddonsSpec, facts: Facts[T], *, install: Install, partition: str, ordered: bool | None = None
) -> list[AddonPlan[T]]:
    """The charts of every add-on installed with ``install`` (helm or gitops), in wave order then by name.

    ``ordered``: whether the installer waits for lower waves (default: only helm, Pulumi's releases; Flux orders its
    HelmReleases by ``dependsOn`` too, Argo CD's ApplicationSets are not ordered).
    """
    if install == "off":
        return []
    policy = {name: role_policy(name, spec, partition) for name in roles_needed(spec)}

    def one(name: str, values: dict[str, Any]) -> AddonPlan[T]:
        chart = {
            LB_CONTROLLER: LB_CONTROLLER_CHART,
            EXTERNAL_DNS: EXTERNAL_DNS_CHART,
            CERT_MANAGER: CERT_MANAGER_CHART,
            METRICS_SERVER: METRICS_SERVER_CHART,
            TRIVY_OPERATOR: TRIVY_OPERATOR_CHART,
            TRIVY_POLR_ADAPTER: TRIVY_POLR_ADAPTER_CHART,
            POLICY_REPORTER: POLICY_REPORTER_CHART,
        }[name]
        return AddonPlan(
            name=name,
            install=install,
            chart=chart,
            namespace=NAMESPACES[name],
            values=values,
            wave=WAVES[name],
            service_account=SERVICE_ACCOUNTS[name] if name in policy else None,
            policy=policy.get(name),
        )

    plans: list[AddonPlan[T]] = []
    if spec.cert_manager.install == install:
        plans.append(one(CERT_MANAGER, cert_manager_values(spec.cert_manager, facts)))
    if spec.aws_load_balancer_controller == install:
        # The webhook certificate comes from cert-manager only when both are installed the same way by an installer
        # that puts cert-manager (its CRDs) first: Pulumi's releases, Flux's HelmReleases (dependsOn). ApplicationSets
        # have no order (sync waves order the resources of one Application): the controller keeps its own certificate.
        waits = (install == "helm") if ordered is None else ordered
        with_cert_manager = waits and spec.cert_manager.install == install
        plans.append(one(LB_CONTROLLER, lb_controller_values(facts, cert_manager=with_cert_manager)))
    if spec.external_dns.install == install:
        plans.append(one(EXTERNAL_DNS, external_dns_values(spec.external_dns, facts)))
    if spec.metrics_server == install:
        plans.append(one(METRICS_SERVER, metrics_server_values(facts)))
    if spec.trivy_operator.install == install:
        plans.append(one(TRIVY_OPERATOR, trivy_operator_values(facts)))
        if spec.trivy_operator.policy_reporter:
            plans.append(one(TRIVY_POLR_ADAPTER, polr_adapter_values(facts)))
            plans.append(one(POLICY_REPORTER, policy_reporter_values(facts)))
    return sorted(plans, key=lambda p: (p.wave, p.name))
