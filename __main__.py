"""The EKS platform: stack settings -> providers -> components -> exports."""

from __future__ import annotations

import json
import os

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls
import pulumi_vault as vault

from components import iam_documents as iam
from components.addons import Addons, AddonsArgs
from components.argo_bootstrap import ArgoBootstrap, ArgoBootstrapArgs
from components.ci_runner import CiRunner, CiRunnerArgs
from components.context import AwsContext
from components.delivery import DEPLOY_PHASE_ENV, NETWORK_PHASE, RUNNER_ROLE, deploy_phase, runner_project_name
from components.eks_access import access_policy_name
from components.eks_cluster import (
    AccessEntrySpec,
    EksCluster,
    EksClusterArgs,
    NodeGroupSpec,
    StorageClassSpec,
    TaintEffect,
    TaintSpec,
    VpcCniSpec,
)
from components.email import Email, EmailArgs
from components.flux_bootstrap import FluxBootstrap, FluxBootstrapArgs
from components.gitops_bridge import BridgeFacts
from components.guard_duty import FindingsDestination, GuardDuty, GuardDutyArgs, StackAgent
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.manifests import Manifests, ManifestsArgs
from components.naming import BUILT_IN_NAMESPACES, arn_key, unique_tail_aliases
from components.network_plan import ZoneSubnets
from components.node_autoscaler import NodeAutoscaler, NodeAutoscalerArgs
from components.spot_ocean import SpotOcean, SpotOceanArgs
from components.tagging import required_tags
from components.vault_aws_auth import VaultAwsAuth, VaultAwsAuthArgs, vault_provider_args
from components.vault_server import VaultServer, VaultServerArgs
from components.vpc import Vpc, VpcArgs
from components.workload_key import WorkloadKey, WorkloadKeyArgs
from config import (
    AgentManagement,
    AppRoleSettings,
    NodeGroupSettings,
    RunnerKind,
    addons_spec,
    app_role_name,
    argo_spec,
    flux_spec,
    load_settings,
    manifests_spec,
    node_autoscaler_engine,
    spot_ocean_spec,
    vault_server_spec,
    vault_spec,
)

settings = load_settings()
try:
    phase = deploy_phase(os.environ.get(DEPLOY_PHASE_ENV))
except ValueError as err:
    raise pulumi.RunError(str(err)) from None
secrets = pulumi.Config()
naming = settings.naming_context(pulumi.get_project(), pulumi.get_stack())
extra_tags = settings.extra_tags
tags = required_tags(
    project=naming.project, environment=naming.stack, owner=settings.owner, cost_center=settings.cost_center
)

# --- adopting what exists (README "Adopting what exists") ------------------------------------------------------
adopted = settings.adopt.targets()
imported: set[tuple[str, str]] = set()


def adopt(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Import an adopted resource by its id instead of creating it, and protect it from deletion."""
    target = (args.type_, args.name)
    if target not in adopted:
        return None
    imported.add(target)
    options = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=adopted[target], protect=True))
    return pulumi.ResourceTransformationResult(args.props, options)


if adopted:
    pulumi.runtime.register_stack_transformation(adopt)

# --- providers and account facts ------------------------------------------------------------------
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags={"tags": tags},
    allowed_account_ids=settings.allowed_account_ids or None,
)
invoke = pulumi.InvokeOptions(provider=aws_provider)
caller = aws.get_caller_identity(opts=invoke)
account_id = caller.account_id
# The IAM role (with its path) behind the STS session running this deployment: it needs Kubernetes access.
deployer_arn = aws.iam.get_session_context(arn=caller.arn, opts=invoke).issuer_arn
if settings.cluster.deployer_access and deployer_arn not in settings.cluster.listed_principals:
    pulumi.log.warn(
        f"Pulumi.{naming.stack}.yaml: {naming.project}:settings.cluster.adminRoleArns: the deploying role "
        f"{deployer_arn} is not listed, so it gets an access entry of its own that moves to whoever runs the next "
        "`pulumi up`; list every role that deploys this stack"
    )
partition = aws.get_partition(opts=invoke).partition
zones = aws.get_availability_zones(
    state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}], opts=invoke
).names[: settings.vpc.az_count]
if len(zones) < settings.vpc.az_count:
    raise pulumi.RunError(
        f"Pulumi.{naming.stack}.yaml: {naming.project}:settings.vpc.azCount: {settings.vpc.az_count} zones requested, "
        f"{settings.region} offers {len(zones)}"
    )
letters = {zone[-1] for zone in zones}
for subnet_key in sorted(settings.adopt.subnets):
    if subnet_key[-1] not in letters:
        raise pulumi.RunError(
            f"Pulumi.{naming.stack}.yaml: {naming.project}:settings.adopt.subnets.{subnet_key}: the stack's zones are "
            f"{', '.join(zones)}; zone letter {subnet_key[-1]!r} is not one of them"
        )
on_aws = pulumi.ResourceOptions(providers=[aws_provider])
account = AwsContext(
    account_id=account_id,
    partition=partition,
    region=settings.region,
    tags=tags,
    permissions_boundary=settings.permissions_boundary_arn,
)

# --- network and cluster --------------------------------------------------------------------------
explicit = settings.vpc.subnets
vpc = Vpc(
    "network",
    VpcArgs(
        cidr=settings.vpc.cidr,
        zones=zones,
        naming=naming,
        account=account,
        nat_strategy=settings.vpc.nat_strategy.value,
        intra_subnets=settings.vpc.intra_subnets,
        flow_log_retention_days=settings.vpc.flow_log_retention_days,
        vpc_tags=extra_tags.rendered("vpc", naming),
        subnet_tags={
            tier: {**extra_tags.rendered("subnets", naming), **extra_tags.rendered(f"{tier}Subnets", naming)}
            for tier in ("public", "private", "intra")
        }
        | {"nat": extra_tags.rendered("subnets", naming)},
        subnets=None
        if explicit is None
        else [
            ZoneSubnets(
                zone,
                public,
                private,
                explicit.intra[i] if explicit.intra else None,
                explicit.nat[i] if i < len(explicit.nat) else None,
            )
            for i, (zone, public, private) in enumerate(zip(zones, explicit.public, explicit.private, strict=True))
        ],
        nat_subnets=settings.vpc.nat_subnets,
        ipv6=settings.vpc.ipv6,
        interface_endpoints=settings.vpc.endpoint_services,
    ),
    on_aws,
)

# The deploy jobs' runner, inside the VPC: it reaches the private API endpoint (docs/decisions/0003).
ci_runner = None
delivery = settings.delivery
if delivery is not None and delivery.runner is RunnerKind.CODEBUILD:
    repository, connection_arn = delivery.codebuild_source()
    ci_runner = CiRunner(
        "ci-runner",
        CiRunnerArgs(
            naming=naming,
            project_name=runner_project_name(naming),
            vpc_id=vpc.vpc_id,
            subnet_ids=vpc.private_subnet_ids,
            github_repository=repository,
            connection_arn=connection_arn,
            account=account,
            compute_type=delivery.compute_type.value,
            image=delivery.image,
            log_retention_days=delivery.log_retention_days,
            workflows=delivery.workflows,
        ),
        on_aws,
    )
pulumi.export("vpcId", vpc.vpc_id)
pulumi.export("privateSubnetIds", vpc.private_subnet_ids)
pulumi.export("natPublicIps", vpc.nat_public_ips)
if ci_runner:
    pulumi.export("ciRunnerProject", ci_runner.project_name)
    pulumi.export("ciRunnerRunsOn", ci_runner.runs_on)


def node_group_spec(group: NodeGroupSettings) -> NodeGroupSpec:
    """A node group's settings as the cluster component takes them."""
    return NodeGroupSpec(
        instance_types=tuple(group.instance_types),
        capacity_type=group.capacity_type.value,
        min_size=group.min_size,
        max_size=group.max_size,
        desired_size=group.desired,
        disk_size_gib=group.disk_size_gib,
        labels=dict(group.labels),
        taints=tuple(TaintSpec(t.key, t.value, TaintEffect(t.effect.value)) for t in group.taints),
        metadata_hop_limit=group.metadata_hop_limit,
        ami_type=group.ami_type,
        per_zone=group.per_zone,
    )


def eks_cluster() -> EksCluster:
    """The control plane, its access entries, add-ons and managed node groups."""
    return EksCluster(
        "eks",
        EksClusterArgs(
            naming=naming,
            kubernetes_version=settings.cluster.kubernetes_version,
            # Vpc.private_subnet_ids follow its zones' order.
            node_subnets=dict(zip(zones, vpc.private_subnet_ids, strict=True)),
            control_plane_subnet_ids=vpc.intra_subnet_ids or vpc.private_subnet_ids,
            account=account,
            node_groups={key: node_group_spec(group) for key, group in settings.cluster.node_groups.items()},
            public_access=settings.cluster.endpoint.public_access,
            public_access_cidrs=[str(cidr) for cidr in settings.cluster.endpoint.public_access_cidrs],
            log_types=[log_type.value for log_type in settings.cluster.log_types],
            log_retention_days=settings.cluster.log_retention_days,
            admin_role_arns=settings.cluster.admin_role_arns,
            viewer_role_arns=settings.cluster.viewer_role_arns,
            access_entries={
                key: AccessEntrySpec(
                    principal_arn=entry.principal_arn,
                    policies=tuple(access_policy_name(policy) or policy for policy in entry.policies),
                    namespaces=tuple(entry.namespaces),
                    kubernetes_groups=tuple(entry.kubernetes_groups),
                )
                for key, entry in settings.cluster.access.items()
            },
            cluster_creator_admin=settings.cluster.cluster_creator_admin,
            deployer_principal_arn=deployer_arn if settings.cluster.deployer_access else None,
            system_node_group=settings.cluster.system_node_group,
            protect=settings.protect,
            upgrade_policy=settings.cluster.upgrade_policy,
            cluster_tags=extra_tags.rendered("cluster", naming),
            node_group_tags=extra_tags.rendered("nodeGroups", naming),
            api_client_security_groups={RUNNER_ROLE: ci_runner.security_group_id} if ci_runner else {},
            storage_class=StorageClassSpec(
                name=settings.cluster.storage.storage_class_name,
                reclaim_policy=settings.cluster.storage.reclaim_policy,
                kms_key_alias=settings.cluster.storage.kms_key_alias,
            )
            if settings.cluster.storage.default_storage_class
            else None,
            vpc_cni=VpcCniSpec(
                network_policy=settings.cluster.vpc_cni.network_policy,
                prefix_delegation=settings.cluster.vpc_cni.prefix_delegation,
                pod_security_groups=settings.cluster.vpc_cni.pod_security_groups,
                pod_security_group_enforcing_mode=settings.cluster.vpc_cni.pod_security_group_enforcing_mode,
            ),
            webhook_ports=settings.cluster.webhook_ports,
            vpc_id=vpc.vpc_id,
            ip_family=settings.cluster.ip_family,
        ),
        on_aws,
    )


def app_role_policies(role: AppRoleSettings) -> dict[str, str]:
    """The inline policies of an application role: its S3 access and its custom statements."""
    policies = {}
    if role.s3_bucket_arns:
        policies["s3-access"] = json.dumps(iam.s3_access_policy(role.s3_bucket_arns, read_only=role.s3_read_only))
    if role.statements:
        policies["custom"] = json.dumps(iam.document(*(statement.document() for statement in role.statements)))
    return policies


def app_roles(cluster: EksCluster, opts: pulumi.ResourceOptions) -> dict[str, IrsaRole]:
    """One IRSA role per `appRoles` entry, keyed by service."""
    return {
        service: IrsaRole(
            f"app-{service}",
            IrsaRoleArgs(
                permissions_boundary=settings.permissions_boundary_arn,
                role_name=app_role_name(settings, naming, service),
                oidc=cluster.ref.oidc,
                namespace=role.namespace,
                service_account=role.service_account,
                additional_service_accounts=role.additional_subjects,
                wildcard_service_accounts=role.wildcard_subjects,
                # Keyed by the whole ARN (two policies may share a name on different paths); old keys stay aliases.
                managed_policy_arns={arn_key(arn): arn for arn in role.managed_policy_arns},
                policy_aliases=unique_tail_aliases(role.managed_policy_arns),
                inline_policies=app_role_policies(role),
                create_service_account=role.create_service_account,
                create_namespace=role.create_service_account and role.namespace not in BUILT_IN_NAMESPACES,
            ),
            opts,
        )
        for service, role in sorted(settings.app_roles.items())
    }


def workload_keys(apps: dict[str, IrsaRole]) -> dict[str, WorkloadKey]:
    """One customer KMS key per `kmsKeys` entry, usable by the app roles it names only."""
    return {
        key: WorkloadKey(
            f"kms-{key}",
            WorkloadKeyArgs(
                naming=naming,
                account=account,
                key_name=key,
                description=spec.description,
                user_role_arns={service: apps[service].role_arn for service in spec.app_roles},
                deletion_window_days=spec.deletion_window_days,
                protect=settings.protect,
            ),
            on_aws,
        )
        for key, spec in sorted(settings.kms_keys.items())
    }


def vault_aws_auth(cluster: EksCluster) -> VaultAwsAuth | None:
    """Vault's AWS auth and secrets for the cluster, with its own provider (None unless Vault runs on HCP)."""
    if not settings.vault.hcp:
        return None
    spec = vault_spec(settings.vault)
    vault_provider = vault.Provider("vault", **vault_provider_args(spec, token=secrets.require_secret("vaultToken")))
    built = VaultAwsAuth(
        "vault",
        VaultAwsAuthArgs(
            naming=naming,
            vault=spec,
            cluster=cluster.ref,
            account=account,
            aws_access_key=secrets.require_secret("vaultAwsAccessKey"),
            aws_secret_key=secrets.require_secret("vaultAwsSecretKey"),
            protect=settings.protect,
        ),
        pulumi.ResourceOptions(providers=[aws_provider, cluster.provider, vault_provider]),
    )
    pulumi.export("vaultBoundRoleArn", built.bound_role_arn)
    pulumi.export("vaultUserRoleNames", built.user_role_names)
    return built


def vault_server(cluster: EksCluster) -> VaultServer | None:
    """Vault in the cluster (`vault.mode: in-cluster`); with `inCluster.configure` its auth, KV and roles too."""
    if not settings.vault.in_cluster_server:
        return None
    server = settings.vault.server
    providers: list[pulumi.ProviderResource] = [aws_provider, cluster.provider, tls.Provider("tls")]
    if server.configure:
        # Phase 2 (README "Vault in the cluster"): the initialised server, reached at the deployer's address.
        providers.append(
            vault.Provider(
                "vault",
                address=server.address,
                token=secrets.require_secret("vaultToken"),
                ca_cert_file=server.ca_cert_file,
            )
        )
    built = VaultServer(
        "vault-server",
        VaultServerArgs(
            naming=naming,
            spec=vault_server_spec(settings),
            cluster=cluster.ref,
            account=account,
            protect=settings.protect,
        ),
        pulumi.ResourceOptions(providers=providers),
    )
    pulumi.export("vaultServerRoleArn", built.server_role_arn)
    pulumi.export("vaultUnsealKeyArn", built.unseal_key_arn)
    pulumi.export("vaultCaCertPem", built.ca_cert_pem)
    pulumi.export("vaultInternalAddress", built.internal_address)
    if built.role_names:
        pulumi.export("vaultKubernetesRoles", built.role_names)
    return built


def addons(cluster: EksCluster, opts: pulumi.ResourceOptions) -> Addons | None:
    """The add-on catalog: roles, Helm releases and bridged add-ons (None when every add-on is off)."""
    if all(install == "off" for install in settings.addons.installs().values()):
        return None
    built = Addons(
        "addons",
        AddonsArgs(
            naming=naming,
            addons=addons_spec(settings.addons),
            cluster=cluster.ref,
            account=account,
            vpc_id=vpc.vpc_id,
            gitops_engine=settings.gitops.engine,
        ),
        opts,
    )
    pulumi.export("addonRoleArns", built.role_arns)
    return built


def argo_bootstrap(bridge: BridgeFacts, opts: pulumi.ResourceOptions) -> ArgoBootstrap | None:
    """Argo CD, the bridge carrying ``role_arns``, an ApplicationSet per bridged add-on (None: off or engine flux)."""
    if not settings.argo_installed:
        return None
    return ArgoBootstrap(
        "argocd",
        ArgoBootstrapArgs(
            naming=naming,
            argo=argo_spec(settings.argo),
            bridge=bridge,
            oidc_client_secret=secrets.require_secret("argocdOidcClientSecret") if settings.argo.sso else None,
            server_url=settings.argo.url,
        ),
        opts,
    )


def flux_bootstrap(bridge: BridgeFacts, opts: pulumi.ResourceOptions) -> FluxBootstrap | None:
    """Flux, its git sources, the bridge carrying ``role_arns``, a HelmRelease per bridged add-on (None: not flux)."""
    flux = settings.flux_settings
    if flux is None:
        return None
    # The deploy keys come from a tls provider of their own (explicit, like every provider; Vault in the cluster
    # has its own "tls").
    tls_provider = tls.Provider("flux-tls")
    return FluxBootstrap(
        "flux",
        FluxBootstrapArgs(
            naming=naming,
            flux=flux_spec(flux),
            bridge=bridge,
        ),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[tls_provider])),
    )


def guard_duty(cluster: EksCluster) -> GuardDuty:
    """Account security: the GuardDuty detector with EKS protection, and the runtime agent when the stack owns it."""
    guard = settings.guard_duty
    export = guard.findings_export
    return GuardDuty(
        "guardduty",
        GuardDutyArgs(
            naming=naming,
            account=account,
            detector=guard.detector_mode.value,
            detector_id=guard.adopted_detector_id,
            finding_publishing_frequency=guard.finding_publishing_frequency.value,
            runtime_monitoring=guard.runtime_monitoring,
            findings_destination=FindingsDestination(export.bucket_arn, export.kms_key_arn) if export else None,
            agent=StackAgent(
                cluster_name=cluster.cluster_name,
                kubernetes_version=settings.cluster.kubernetes_version,
                vpc_id=vpc.vpc_id,
                subnet_ids=vpc.private_subnet_ids,
                vpc_cidr=str(settings.vpc.cidr),
            )
            if guard.agent_management is AgentManagement.STACK
            else None,
            protect=settings.protect,
        ),
        on_aws,
    )


def email() -> Email | None:
    """SES identities and the SMTP-sending user (None when `email` is unset)."""
    if settings.email is None:
        return None
    built = Email(
        "email",
        EmailArgs(
            naming=naming,
            account=account,
            domains=settings.email.domains,
            addresses=settings.email.addresses,
            configuration_set=settings.email.configuration_set,
            smtp_user=settings.email.smtp_user,
        ),
        on_aws,
    )
    pulumi.export("emailIdentityArns", built.identity_arns)
    pulumi.export("emailDkimRecords", built.dkim_records)
    pulumi.export("smtpEndpoint", built.smtp_endpoint)
    if built.configuration_set_name is not None:
        pulumi.export("emailConfigurationSet", built.configuration_set_name)
    if built.smtp_username is not None and built.smtp_password is not None:
        pulumi.export("smtpUsername", built.smtp_username)
        pulumi.export("smtpPassword", built.smtp_password)
    return built


def spot_ocean(cluster: EksCluster, opts: pulumi.ResourceOptions) -> SpotOcean | None:
    """Spot Ocean and its own spotinst provider (None unless `nodeAutoscaler.engine` is spot-ocean)."""
    ocean_settings = settings.node_autoscaler.spot_ocean
    if settings.node_autoscaler.engine != "spot-ocean" or ocean_settings is None:
        return None
    built = SpotOcean(
        "spot-ocean",
        SpotOceanArgs(
            naming=naming,
            spec=spot_ocean_spec(ocean_settings),
            cluster=cluster.ref,
            account=account,
            spot_token=secrets.require_secret("spotToken"),
            subnet_ids=vpc.private_subnet_ids,
            # The managed node groups' groups: the cluster security group, and the node group with webhook ports.
            security_group_ids=[
                cluster.cluster_security_group_id,
                *([cluster.node_security_group_id] if cluster.node_security_group_id is not None else []),
            ],
            certificate_authority=cluster.certificate_authority_data,
            service_cidr=cluster.service_cidr,
            controller_replicas=min(2, max(1, system_min_nodes())),
        ),
        opts,
    )
    pulumi.export("spotOceanId", built.ocean_id)
    return built


def manifests(cluster: EksCluster, installs: list[pulumi.Resource]) -> Manifests | None:
    """The `manifests` stages, in their order (None when there are none)."""
    if not settings.manifests:
        return None
    built = Manifests(
        "manifests",
        ManifestsArgs(
            stages=manifests_spec(settings),
            cluster=cluster.ref,
            # The first stage's workloads are awaited until their pods are ready: they need nodes. Its objects may
            # also be custom resources of the add-ons' and GitOps engines' CRDs (a Certificate, an Application) or
            # pass their webhooks: it waits for those installs too (no input of a rendered object names them).
            after=[*cluster.node_groups.values(), *installs],
        ),
        pulumi.ResourceOptions(providers=[cluster.provider]),
    )
    pulumi.export("manifestStages", built.stage_names)
    return built


def system_min_nodes() -> int:
    """The system group's smallest node count: its minSize, in each zone when it is per zone."""
    group = settings.cluster.system_group
    return group.min_size * (len(zones) if group.per_zone else 1)


def export_gitops(argo: ArgoBootstrap | None, flux: FluxBootstrap | None) -> None:
    """The GitOps engine's outputs."""
    if argo:
        pulumi.export("argocdNamespace", argo.namespace)
        pulumi.export("argocdProjects", argo.project_names)
    if flux:
        pulumi.export("fluxNamespace", flux.namespace)
        # Register each as its repository's read-only deploy key (README "Flux instead of Argo CD").
        pulumi.export("fluxDeployKeys", flux.deploy_keys)


def cluster_and_platform() -> None:
    """The cluster and everything in and around it: every deploy but a new environment's first, network-only one."""
    cluster = eks_cluster()
    in_cluster = pulumi.ResourceOptions(providers=[aws_provider, cluster.provider])
    # engine none: the node groups keep their sizes (a cluster without egress cannot pull an autoscaler's image).
    node_autoscaler = (
        NodeAutoscaler(
            "node-autoscaler",
            NodeAutoscalerArgs(
                naming=naming,
                engine=node_autoscaler_engine(settings.node_autoscaler),
                cluster=cluster.ref,
                account=account,
                node_groups=cluster.node_groups,
                controller_replicas=min(2, max(1, system_min_nodes())),
                balance_similar_node_groups=any(group.per_zone for group in settings.cluster.node_groups.values()),
            ),
            in_cluster,
        )
        if settings.node_autoscaler.engine not in ("none", "spot-ocean")
        else None
    )
    spot_ocean(cluster, in_cluster)
    apps = app_roles(cluster, in_cluster)
    keys = workload_keys(apps)
    vault_auth = vault_aws_auth(cluster)
    vault_in_cluster = vault_server(cluster)
    catalog = addons(cluster, in_cluster)
    bridged_roles = {
        **({"node-autoscaler": node_autoscaler.controller_role_arn} if node_autoscaler else {}),
        **({"vault-bound": vault_auth.bound_role_arn} if vault_auth else {}),
        **({"vault-server": vault_in_cluster.server_role_arn} if vault_in_cluster else {}),
        **{f"app-{service}": role.role_arn for service, role in apps.items()},
        **(catalog.role_arns if catalog else {}),
    }
    bridge = BridgeFacts(
        cluster=cluster.ref,
        account=account,
        vpc_id=vpc.vpc_id,
        environment=naming.stack,
        role_arns=bridged_roles,
        # Add-ons with `install: gitops`: the engine installs their charts (ApplicationSets, Flux HelmReleases).
        bridged_addons=catalog.bridged if catalog else [],
    )
    argo = argo_bootstrap(bridge, in_cluster)
    flux = flux_bootstrap(bridge, in_cluster)
    detector = guard_duty(cluster)
    email()
    manifests(cluster, [c for c in (catalog, argo, flux, vault_in_cluster, vault_auth) if c is not None])

    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("clusterEndpoint", cluster.endpoint)
    pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    if cluster.node_security_group_id is not None:
        # For SecurityGroupPolicy groupIds: pods with security groups of their own then admit the webhook ports.
        pulumi.export("nodeSecurityGroupId", cluster.node_security_group_id)
    if node_autoscaler:
        pulumi.export("nodeAutoscalerRoleArn", node_autoscaler.controller_role_arn)
    pulumi.export("appRoleArns", {service: role.role_arn for service, role in apps.items()})
    if keys:
        pulumi.export("kmsKeyArns", {key: workload.key_arn for key, workload in keys.items()})
    if detector.detector_id is not None:  # detector: none: the delegated administrator's, not this stack's
        pulumi.export("guardDutyDetectorId", detector.detector_id)
    export_gitops(argo, flux)


# A new environment's first deploy declares only the network and the in-VPC runner; the deploy job then runs on that
# runner, where the API endpoint answers (docs/decisions/0003).
if phase != NETWORK_PHASE:
    cluster_and_platform()

# Every adopted id reached its resource: a miss is a program bug (components/adoption.py ADOPTABLE names a resource
# the program does not declare), and the import would silently not happen.
if phase != NETWORK_PHASE and (missed := sorted(set(adopted) - imported)):
    raise pulumi.RunError(f"adopt: no resource {missed[0][1]!r} of type {missed[0][0]} was declared")
