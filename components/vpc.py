"""Vpc: a VPC across N availability zones.

Public, private and intra subnets, NAT, flow logs and an S3 gateway endpoint, built from ``pulumi_aws``
primitives (not awsx, whose children are invisible to offline checks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Literal

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.naming import NamingContext
from components.network_plan import ZoneSubnets, plan_subnets
from components.tagging import INTERNAL_ELB_TAG, KARPENTER_DISCOVERY_TAG, PUBLIC_ELB_TAG

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class VpcArgs:
    """Inputs of a Vpc."""

    cidr: IPv4Network
    #: Availability zone names, in order; children are keyed by the zone's letter.
    zones: Sequence[str]
    #: Physical names and Name tags; its cluster name is the Karpenter discovery tag value.
    naming: NamingContext
    #: The region (gateway endpoints) and the permissions boundary of the flow-logs role.
    account: AwsContext
    nat_strategy: Literal["single", "one_per_az"] = "one_per_az"
    intra_subnets: bool = True
    flow_log_retention_days: int = 365
    #: Explicit subnet CIDRs; default: ``plan_subnets(cidr, zones)``.
    subnets: Sequence[ZoneSubnets] | None = None
    #: Extra tags of the VPC and of the subnets by tier (``public``, ``private``, ``intra``), besides the provider's
    #: default tags; a ``Name`` in ``vpc_tags`` replaces the VPC's.
    vpc_tags: Mapping[str, str] = field(default_factory=dict)
    subnet_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def zone_key(zone: str) -> str:
    """Stable identity of a zone in resource names: its letter (``us-west-2a`` -> ``a``)."""
    return zone[-1]


class Vpc(pulumi.ComponentResource):
    """The platform network. Outputs: ``vpc_id`` and the subnet id lists."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    intra_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:Vpc", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        plan = (
            list(args.subnets)
            if args.subnets is not None
            else plan_subnets(args.cidr, args.zones, intra=args.intra_subnets)
        )

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(args.cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": args.naming.network_name, **args.vpc_tags},
            opts=child,
        )
        # CIS: the default security group allows nothing.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{args.naming.network_name}-default"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": args.naming.network_name}, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{args.naming.network_name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=igw.id,
            opts=child,
        )
        intra_rt = (
            aws.ec2.RouteTable(
                f"{name}-intra-rt", vpc_id=vpc.id, tags={"Name": f"{args.naming.network_name}-intra"}, opts=child
            )
            if args.intra_subnets
            else None
        )

        self.public_subnet_ids, self.private_subnet_ids, self.intra_subnet_ids = [], [], []
        self.private_route_table_ids = []
        nat_ids: dict[str, pulumi.Output[str]] = {}
        for index, zone in enumerate(plan):
            key = zone_key(zone.zone)
            public = self._subnet(vpc, zone.zone, zone.public, "public", {PUBLIC_ELB_TAG: "1"})
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{key}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if args.nat_strategy == "one_per_az" or index == 0:
                nat_ids[key] = self._nat(name, args, public, key)
            private = self._subnet(
                vpc,
                zone.zone,
                zone.private,
                "private",
                {INTERNAL_ELB_TAG: "1", KARPENTER_DISCOVERY_TAG: args.naming.cluster_name},
            )
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{key}",
                vpc_id=vpc.id,
                tags={"Name": f"{args.naming.network_name}-private-{key}"},
                opts=child,
            )
            aws.ec2.Route(
                f"{name}-private-default-{key}",
                route_table_id=private_rt.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat_ids.get(key, next(iter(nat_ids.values()))),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{key}", subnet_id=private.id, route_table_id=private_rt.id, opts=child
            )
            self.public_subnet_ids.append(public.id)
            self.private_subnet_ids.append(private.id)
            self.private_route_table_ids.append(private_rt.id)
            if intra_rt is not None and zone.intra is not None:
                intra = self._subnet(vpc, zone.zone, zone.intra, "intra", {})
                aws.ec2.RouteTableAssociation(
                    f"{name}-intra-{key}", subnet_id=intra.id, route_table_id=intra_rt.id, opts=child
                )
                self.intra_subnet_ids.append(intra.id)

        aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.account.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[*self.private_route_table_ids, *([intra_rt.id] if intra_rt else [])],
            tags={"Name": f"{args.naming.network_name}-s3"},
            opts=child,
        )
        self._flow_logs(name, args, vpc)

        self.vpc_id = vpc.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "intraSubnetIds": self.intra_subnet_ids,
            }
        )

    def _subnet(
        self, vpc: aws.ec2.Vpc, zone: str, cidr: IPv4Network, tier: str, tags: dict[str, str]
    ) -> aws.ec2.Subnet:
        name, args, key = self._name, self._args, zone_key(zone)
        return aws.ec2.Subnet(
            f"{name}-{tier}-{key}",
            vpc_id=vpc.id,
            cidr_block=str(cidr),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={"Name": f"{args.naming.network_name}-{tier}-{key}", **args.subnet_tags.get(tier, {}), **tags},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _nat(self, name: str, args: VpcArgs, public: aws.ec2.Subnet, key: str) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        eip = aws.ec2.Eip(
            f"{name}-nat-eip-{key}", domain="vpc", tags={"Name": f"{args.naming.network_name}-nat-{key}"}, opts=child
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat-{key}",
            subnet_id=public.id,
            allocation_id=eip.allocation_id,
            tags={"Name": f"{args.naming.network_name}-nat-{key}"},
            opts=child,
        )
        return nat.id

    def _flow_logs(self, name: str, args: VpcArgs, vpc: aws.ec2.Vpc) -> None:
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{args.naming.prefix}/flow-logs",
            retention_in_days=args.flow_log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=args.naming.platform_role("vpc-flow-logs"),
            assume_role_policy=json.dumps(iam.service_trust_policy("vpc-flow-logs.amazonaws.com")),
            permissions_boundary=args.account.permissions_boundary,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=log_group.arn.apply(lambda arn: json.dumps(iam.flow_logs_policy(arn))),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": args.naming.network_name},
            opts=child,
        )
