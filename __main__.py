"""The EKS platform: stack settings -> providers -> components -> exports."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.eks_cluster import EksCluster, EksClusterArgs
from components.guard_duty import FindingsDestination, GuardDuty, GuardDutyArgs
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import NamingContext
from components.network_plan import ZoneSubnets
from components.tagging import required_tags
from components.vpc import Vpc, VpcArgs
from config import load_settings

settings = load_settings()
naming = NamingContext(pulumi.get_project(), pulumi.get_stack())
tags = required_tags(
    project=naming.project, environment=naming.stack, owner=settings.owner, cost_center=settings.cost_center
)

aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags={"tags": tags},
    allowed_account_ids=settings.allowed_account_ids or None,
)
invoke = pulumi.InvokeOptions(provider=aws_provider)
account_id = aws.get_caller_identity(opts=invoke).account_id
partition = aws.get_partition(opts=invoke).partition
zones = aws.get_availability_zones(
    state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}], opts=invoke
).names[: settings.vpc.az_count]
if len(zones) < settings.vpc.az_count:
    raise pulumi.RunError(
        f"Pulumi.{naming.stack}.yaml: {naming.project}:settings.vpc.azCount: {settings.vpc.az_count} zones requested, "
        f"{settings.region} offers {len(zones)}"
    )
on_aws = pulumi.ResourceOptions(providers=[aws_provider])

explicit = settings.vpc.subnets
vpc = Vpc(
    "network",
    VpcArgs(
        cidr=settings.vpc.cidr,
        zones=zones,
        naming=naming,
        region=settings.region,
        nat_strategy=settings.vpc.nat_strategy.value,
        intra_subnets=settings.vpc.intra_subnets,
        flow_log_retention_days=settings.vpc.flow_log_retention_days,
        subnets=None
        if explicit is None
        else [
            ZoneSubnets(zone, public, private, explicit.intra[i] if explicit.intra else None)
            for i, (zone, public, private) in enumerate(zip(zones, explicit.public, explicit.private, strict=True))
        ],
    ),
    on_aws,
)

cluster = EksCluster(
    "eks",
    EksClusterArgs(
        naming=naming,
        kubernetes_version=settings.cluster.kubernetes_version,
        node_subnet_ids=vpc.private_subnet_ids,
        control_plane_subnet_ids=vpc.intra_subnet_ids or vpc.private_subnet_ids,
        account_id=account_id,
        partition=partition,
        region=settings.region,
        node_groups=settings.cluster.node_groups,
        tags=tags,
        public_access=settings.cluster.endpoint.public_access,
        public_access_cidrs=[str(cidr) for cidr in settings.cluster.endpoint.public_access_cidrs],
        log_types=[log_type.value for log_type in settings.cluster.log_types],
        log_retention_days=settings.cluster.log_retention_days,
        admin_role_arns=settings.cluster.admin_role_arns,
        cluster_creator_admin=settings.cluster.cluster_creator_admin,
        protect=settings.protect,
    ),
    on_aws,
)
in_cluster = pulumi.ResourceOptions(providers=[aws_provider, cluster.provider])

app_roles = {
    service: IrsaRole(
        f"app-{service}",
        IrsaRoleArgs(
            role_name=naming.service_role_name(role.role_name or settings.service_role_name_pattern, service),
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer_url=cluster.oidc_issuer_url,
            namespace=role.namespace,
            service_account=role.service_account,
            managed_policy_arns={arn.rsplit("/", 1)[-1]: arn for arn in role.managed_policy_arns},
            inline_policies={
                "s3-access": json.dumps(iam.s3_access_policy(role.s3_bucket_arns, read_only=role.s3_read_only))
            }
            if role.s3_bucket_arns
            else {},
            create_service_account=role.create_service_account,
            create_namespace=role.create_service_account,
        ),
        in_cluster,
    )
    for service, role in sorted(settings.app_roles.items())
}

export = settings.guard_duty.findings_export
guard_duty = GuardDuty(
    "guardduty",
    GuardDutyArgs(
        adopt_detector_id=settings.guard_duty.adopt_detector_id,
        finding_publishing_frequency=settings.guard_duty.finding_publishing_frequency.value,
        runtime_monitoring=settings.guard_duty.runtime_monitoring,
        findings_destination=FindingsDestination(export.bucket_arn, export.kms_key_arn) if export else None,
        protect=settings.protect,
    ),
    on_aws,
)

pulumi.export("vpcId", vpc.vpc_id)
pulumi.export("privateSubnetIds", vpc.private_subnet_ids)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("appRoleArns", {service: role.role_arn for service, role in app_roles.items()})
pulumi.export("guardDutyDetectorId", guard_duty.detector_id)
