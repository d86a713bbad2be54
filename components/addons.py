"""Addons: the add-on catalog installed (``install: helm``) or handed to the GitOps engine (``install: gitops``).

Per add-on that calls AWS (the load balancer controller, external-dns, cert-manager with DNS-01 zones) an `IrsaRole`
trusting exactly the chart's ServiceAccount, with the catalog's inline policy. ``helm``: the add-on's namespace
(unless built in) and a pinned ``helm.v3.Release`` on the system node group. ``gitops``: only the role; the add-on
is published as a `BridgedAddon` (``bridged``) and its role ARN (``role_arns``) for the GitOps bridge, whose
ApplicationSets install the chart with the same values, the infrastructure facts read from the cluster Secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import addon_catalog as catalog
from components.addon_catalog import AddonPlan, AddonsSpec, Facts
from components.context import AwsContext, ClusterRef
from components.gitops_bridge import BridgedAddon, GitopsEngine, fact_reference
from components.helm_release import pinned_release, release_name
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import BUILT_IN_NAMESPACES, MANAGED_BY_LABELS, NamingContext

#: Helm's wait for one release (the LB controller and cert-manager wait for their webhooks).
RELEASE_TIMEOUT = 600


@dataclass(frozen=True)
class AddonsArgs:
    """Inputs of Addons."""

    naming: NamingContext
    addons: AddonsSpec
    cluster: ClusterRef
    account: AwsContext
    vpc_id: pulumi.Input[str]
    #: The engine that installs ``install: gitops`` add-ons: their values refer to the bridge in its syntax.
    gitops_engine: GitopsEngine = "argocd"


def gitops_facts(spec: AddonsSpec, cluster: ClusterRef, engine: GitopsEngine = "argocd") -> Facts[pulumi.Input[str]]:
    """Facts as references to the GitOps bridge in ``engine``'s syntax (placement stays concrete)."""
    return Facts(
        cluster_name=fact_reference(engine, "cluster-name"),
        region=fact_reference(engine, "region"),
        vpc_id=fact_reference(engine, "vpc-id"),
        role_arns={name: fact_reference(engine, f"{name}-role-arn") for name in catalog.roles_needed(spec)},
        node_selector=cluster.system_node_selector,
        tolerations=cluster.system_tolerations,
    )


class Addons(pulumi.ComponentResource):
    """Outputs: ``role_arns`` (by add-on), ``release_names`` (helm installs), ``bridged`` (gitops installs)."""

    role_arns: dict[str, pulumi.Output[str]]
    release_names: dict[str, pulumi.Output[str]]
    bridged: list[BridgedAddon]

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:Addons", name, None, opts)
        spec, cluster = args.addons, args.cluster
        roles = {
            addon: IrsaRole(
                f"{name}-{addon}",
                IrsaRoleArgs(
                    role_name=args.naming.platform_role(addon),
                    oidc=cluster.oidc,
                    namespace=catalog.NAMESPACES[addon],
                    service_account=catalog.SERVICE_ACCOUNTS[addon],
                    inline_policies={
                        addon: json.dumps(catalog.role_policy(addon, spec, args.account.partition), sort_keys=False)
                    },
                    # The chart creates the ServiceAccount, annotated through its values.
                    create_service_account=False,
                    permissions_boundary=args.account.permissions_boundary,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            for addon in sorted(catalog.roles_needed(spec))
        }
        self.role_arns = {addon: role.role_arn for addon, role in roles.items()}

        helm_facts: Facts[pulumi.Input[str]] = Facts(
            cluster_name=cluster.name,
            region=args.account.region,
            vpc_id=args.vpc_id,
            role_arns=dict(self.role_arns),
            node_selector=cluster.system_node_selector,
            tolerations=cluster.system_tolerations,
        )
        self.release_names = {}
        releases: dict[str, k8s.helm.v3.Release] = {}
        namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for plan in catalog.plan(spec, helm_facts, install="helm", partition=args.account.partition):
            releases[plan.name] = self._release(name, plan, namespaces, releases)
            self.release_names[plan.name] = release_name(releases[plan.name], plan.name)

        self.bridged = [
            BridgedAddon(
                name=plan.name,
                repo_url=plan.chart[0],
                chart=plan.chart[1],
                version=plan.chart[2],
                namespace=plan.namespace,
                values=plan.values,
                service_account=plan.service_account,
                wave=plan.wave,
            )
            for plan in catalog.plan(
                spec,
                gitops_facts(spec, cluster, args.gitops_engine),
                install="gitops",
                partition=args.account.partition,
                ordered=args.gitops_engine == "flux",
            )
        ]
        self.register_outputs({"roleArns": self.role_arns, "releaseNames": self.release_names})

    def _release(
        self,
        name: str,
        plan: AddonPlan[pulumi.Input[str]],
        namespaces: dict[str, k8s.core.v1.Namespace],
        releases: Mapping[str, k8s.helm.v3.Release],
    ) -> k8s.helm.v3.Release:
        namespace: pulumi.Input[str] = plan.namespace
        if plan.namespace not in BUILT_IN_NAMESPACES:
            if plan.namespace not in namespaces:
                namespaces[plan.namespace] = k8s.core.v1.Namespace(
                    f"{name}-ns-{plan.namespace}",
                    metadata={"name": plan.namespace, "labels": dict(MANAGED_BY_LABELS)},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            namespace = namespaces[plan.namespace].metadata.name
        after = [
            releases[first]
            for first in _installed_before(plan.name)
            if first in releases  # only those installed by Helm here too
        ]
        repo, chart, version = plan.chart
        return pinned_release(
            f"{name}-{plan.name}",
            (repo, chart, version),
            name=plan.name,
            namespace=namespace,
            values=plan.values,
            timeout=RELEASE_TIMEOUT,
            max_history=10,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The LB controller's chart creates a cert-manager Certificate and Issuer (enableCertManager), and
                # policy-reporter watches the PolicyReport CRDs the adapter installs: no input carries those kinds.
                depends_on=after or None,
            ),
        )


def _installed_before(addon: str) -> tuple[str, ...]:
    """The add-ons whose CRDs ``addon``'s chart uses."""
    return {
        catalog.LB_CONTROLLER: (catalog.CERT_MANAGER,),
        catalog.POLICY_REPORTER: (catalog.TRIVY_POLR_ADAPTER,),
    }.get(addon, ())
