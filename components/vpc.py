"""Vpc: a VPC across N availability zones.

Public, private and intra subnets, NAT (in the public subnets or in NAT subnets of their own, or none), flow
logs, an S3 gateway endpoint and, on request, interface endpoints; optionally dual stack (an Amazon-provided
IPv6 /56, a /64 per subnet, ``::/0`` to the internet gateway from the public subnets and to an egress-only
internet gateway from the private ones). Built from ``pulumi_aws`` primitives (not awsx, whose children are
invisible to offline checks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.endpoints import https_from_vpc_group
from components.naming import NamingContext
from components.network_plan import Tier, ZoneSubnets, ipv6_subnet, plan_subnets, zone_letter_index
from components.tagging import INTERNAL_ELB_TAG, KARPENTER_DISCOVERY_TAG, PUBLIC_ELB_TAG

ANYWHERE = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"


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
    #: ``none``: no NAT gateway, no elastic IP and no default route out of the private subnets (a private cluster).
    nat_strategy: Literal["single", "one_per_az", "none"] = "one_per_az"
    intra_subnets: bool = True
    flow_log_retention_days: int = 365
    #: Explicit subnet CIDRs; default: ``plan_subnets(cidr, zones)``.
    subnets: Sequence[ZoneSubnets] | None = None
    #: Extra tags of the VPC and of the subnets by tier (``public``, ``private``, ``intra``), besides the provider's
    #: default tags; a ``Name`` in ``vpc_tags`` replaces the VPC's.
    vpc_tags: Mapping[str, str] = field(default_factory=dict)
    subnet_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: NAT gateways in NAT subnets of their own (``ZoneSubnets.nat``) instead of the public subnets.
    nat_subnets: bool = False
    #: Dual stack: an Amazon-provided IPv6 /56 and a /64 per subnet (``network_plan.ipv6_subnet``).
    ipv6: bool = False
    #: Interface endpoints (``com.amazonaws.<region>.<name>``) in the private subnets, private DNS on, behind one
    #: security group that admits HTTPS from the VPC's IPv4 block.
    interface_endpoints: Sequence[str] = ()


def zone_key(zone: str) -> str:
    """Stable identity of a zone in resource names: its letter (``us-west-2a`` -> ``a``)."""
    return zone[-1]


class Vpc(pulumi.ComponentResource):
    """The platform network. Outputs: ``vpc_id``, the subnet id lists and the NAT gateways' public IPs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    intra_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    #: The public IPv4 address of each NAT gateway, in zone order (empty with ``nat_strategy="none"``).
    nat_public_ips: list[pulumi.Output[str]]
    #: The VPC's Amazon-provided IPv6 /56 (None unless ``ipv6``).
    ipv6_cidr_block: pulumi.Output[str] | None = None
    #: The interface endpoints' security group (None without interface endpoints).
    endpoint_security_group_id: pulumi.Output[str] | None = None

    def __init__(self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plan = (
            list(args.subnets)
            if args.subnets is not None
            else plan_subnets(args.cidr, args.zones, intra=args.intra_subnets, nat=args.nat_subnets)
        )
        if args.ipv6:
            for zone in plan:
                zone_letter_index(zone.zone)  # a zone without a letter has no IPv6 slot: refuse before registering
        super().__init__("eksplatform:platform:Vpc", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(args.cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            assign_generated_ipv6_cidr_block=True if args.ipv6 else None,
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
        egress_only_igw = None
        if args.ipv6:
            aws.ec2.Route(
                f"{name}-public-default-ipv6",
                route_table_id=public_rt.id,
                destination_ipv6_cidr_block=ANYWHERE_IPV6,
                gateway_id=igw.id,
                opts=child,
            )
            if args.nat_strategy != "none":
                # IPv6 addresses are not translated: private subnets leave through an egress-only gateway.
                egress_only_igw = aws.ec2.EgressOnlyInternetGateway(
                    f"{name}-egress-only-igw", vpc_id=vpc.id, tags={"Name": args.naming.network_name}, opts=child
                )
        intra_rt = (
            aws.ec2.RouteTable(
                f"{name}-intra-rt", vpc_id=vpc.id, tags={"Name": f"{args.naming.network_name}-intra"}, opts=child
            )
            if args.intra_subnets
            else None
        )

        self.public_subnet_ids, self.private_subnet_ids, self.intra_subnet_ids = [], [], []
        self.private_route_table_ids, self.nat_public_ips = [], []
        nat_ids: dict[str, pulumi.Output[str]] = {}
        for index, zone in enumerate(plan):
            key = zone_key(zone.zone)
            public = self._subnet(vpc, zone.zone, zone.public, "public", {PUBLIC_ELB_TAG: "1"})
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{key}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if args.nat_strategy == "one_per_az" or (args.nat_strategy == "single" and index == 0):
                nat_ids[key] = self._nat(name, args, self._nat_home(vpc, zone, public, public_rt), key)
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
            if nat_ids:
                aws.ec2.Route(
                    f"{name}-private-default-{key}",
                    route_table_id=private_rt.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=nat_ids.get(key, next(iter(nat_ids.values()))),
                    opts=child,
                )
            if egress_only_igw is not None:
                aws.ec2.Route(
                    f"{name}-private-default-ipv6-{key}",
                    route_table_id=private_rt.id,
                    destination_ipv6_cidr_block=ANYWHERE_IPV6,
                    egress_only_gateway_id=egress_only_igw.id,
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
        if args.interface_endpoints:
            self._interface_endpoints(vpc)
        self._flow_logs(name, args, vpc)

        self.vpc_id = vpc.id
        self.ipv6_cidr_block = vpc.ipv6_cidr_block if args.ipv6 else None
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "intraSubnetIds": self.intra_subnet_ids,
                "natPublicIps": self.nat_public_ips,
                "ipv6CidrBlock": self.ipv6_cidr_block,
                "endpointSecurityGroupId": self.endpoint_security_group_id,
            }
        )

    def _subnet(
        self, vpc: aws.ec2.Vpc, zone: str, cidr: IPv4Network, tier: Tier, tags: dict[str, str]
    ) -> aws.ec2.Subnet:
        name, args, key = self._name, self._args, zone_key(zone)
        role = "nat-subnet" if tier == "nat" else tier  # "nat-<zone>" names the NAT gateway
        return aws.ec2.Subnet(
            f"{name}-{role}-{key}",
            vpc_id=vpc.id,
            cidr_block=str(cidr),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            # The /64 is computed from the VPC's /56 once AWS assigns it; the subnet waits for it by data edge.
            ipv6_cidr_block=vpc.ipv6_cidr_block.apply(lambda block: str(ipv6_subnet(IPv6Network(block), tier, zone)))
            if args.ipv6
            else None,
            # EKS: nodes in a private subnet with an IPv6 block need the subnet to auto-assign IPv6 addresses (EKS
            # User Guide, "Subnet requirements for nodes"). Public, intra and NAT subnets hold no nodes and give
            # nothing a routable address unasked, as map_public_ip_on_launch gives no public IPv4 address.
            assign_ipv6_address_on_creation=(tier == "private") if args.ipv6 else None,
            tags={"Name": f"{args.naming.network_name}-{role}-{key}", **args.subnet_tags.get(tier, {}), **tags},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _nat_home(
        self, vpc: aws.ec2.Vpc, zone: ZoneSubnets, public: aws.ec2.Subnet, public_rt: aws.ec2.RouteTable
    ) -> aws.ec2.Subnet:
        """Where the zone's NAT gateway lives: its NAT subnet (routed like the public ones), else ``public``."""
        if not self._args.nat_subnets:
            return public
        if zone.nat is None:
            msg = f"nat_subnets is set but zone {zone.zone} has no NAT subnet CIDR"
            raise ValueError(msg)
        subnet = self._subnet(vpc, zone.zone, zone.nat, "nat", {})
        aws.ec2.RouteTableAssociation(
            f"{self._name}-nat-subnet-{zone_key(zone.zone)}",
            subnet_id=subnet.id,
            route_table_id=public_rt.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return subnet

    def _nat(self, name: str, args: VpcArgs, subnet: aws.ec2.Subnet, key: str) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        eip = aws.ec2.Eip(
            f"{name}-nat-eip-{key}", domain="vpc", tags={"Name": f"{args.naming.network_name}-nat-{key}"}, opts=child
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat-{key}",
            subnet_id=subnet.id,
            allocation_id=eip.allocation_id,
            tags={"Name": f"{args.naming.network_name}-nat-{key}"},
            # A gateway moving subnet (natSubnets switched) is replaced; its elastic IP, which stays, can be
            # associated with one gateway at a time, so the old one must go first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.nat_public_ips.append(eip.public_ip)
        return nat.id

    def _interface_endpoints(self, vpc: aws.ec2.Vpc) -> None:
        """Interface endpoints in the private subnets with private DNS, behind a group admitting HTTPS from the VPC."""
        name, args, child = self._name, self._args, pulumi.ResourceOptions(parent=self)
        group = https_from_vpc_group(
            f"{name}-endpoints",
            physical_name=args.naming.name("vpc-endpoints"),
            description="Interface VPC endpoints: HTTPS from the VPC",
            rule_description="HTTPS from the VPC to the interface endpoints",
            vpc_id=vpc.id,
            vpc_cidr=str(args.cidr),
            tags={"Name": f"{args.naming.network_name}-vpc-endpoints"},
            parent=self,
        )
        self.endpoint_security_group_id = group.id
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.account.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{args.naming.network_name}-{service}"},
                opts=child,
            )

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
