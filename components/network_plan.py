"""Subnet CIDR planning for the VPC. Pure functions on ``ipaddress`` values.

IPv4 layout for N availability zones: the VPC is cut into ``2**ceil(log2(N + 1))`` equal blocks; the first N
are the private subnets (large: pods take VPC addresses with the VPC CNI), the last block is split
between the public subnets and, when requested, the intra (control-plane) subnets. NAT subnets (one /28 per
zone, holding only a NAT gateway) go into the first free aligned block after that, so asking for them moves no
other subnet.

IPv6 (dual stack): the VPC's Amazon-provided /56 holds 256 /64s; a subnet's /64 is the one at index
``32 * tier slot + zone letter`` (``ipv6_subnet``), so it depends on nothing but its own tier and zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Network, IPv6Network
from itertools import pairwise
from typing import Final, Literal

#: Smallest subnet AWS allows is /28; EKS wants at least /28 for control-plane ENIs too.
SMALLEST_PREFIX = 28
#: A NAT subnet holds one NAT gateway (one address; AWS reserves five per subnet): the smallest subnet will do.
NAT_SUBNET_PREFIX = SMALLEST_PREFIX

Tier = Literal["public", "private", "intra", "nat"]
#: An Amazon-provided IPv6 block is a /56 (``AssignGeneratedIpv6CidrBlock``); a subnet's IPv6 block is a /64
#: (Amazon VPC User Guide, "IPv6 VPC CIDR blocks" and "Subnet sizing for IPv6").
IPV6_VPC_PREFIX: Final = 56
IPV6_SUBNET_PREFIX: Final = 64
#: Each tier owns 32 of the /56's 256 /64s, one per zone letter (a-z); the rest stay free for later tiers.
IPV6_TIER_SLOTS: Final[dict[Tier, int]] = {"public": 0, "private": 1, "intra": 2, "nat": 3}
IPV6_ZONES_PER_TIER: Final = 32

#: Interface endpoints (``com.amazonaws.<region>.<name>``) a cluster without internet egress needs
#: (``vpc.natStrategy: none``), and who needs each. S3, where ECR keeps image layers, has the VPC's gateway
#: endpoint. Sources: EKS User Guide, "Deploy private clusters with limited internet access" (awsdocs/
#: amazon-eks-user-guide latest/ug/clusters/private-clusters.adoc @ 4d52b4d: ec2, ecr.api, ecr.dkr, s3,
#: elasticloadbalancing, logs, sts; its xray row is for X-Ray users, the platform runs no X-Ray daemon), "EKS Pod
#: Identity" (manage-access/aws-access/service-accounts.adoc: "For private clusters, the eks-auth endpoint in AWS
#: PrivateLink is required"; the eks-pod-identity-agent add-on is always installed) and the Systems Manager User
#: Guide, "Create VPC endpoints" (ssm, ssmmessages; ec2messages is unused from SSM Agent 3.3.40.0 on). Not here: eks
#: (Karpenter's cluster discovery) and autoscaling (cluster-autoscaler), whose controllers cannot run without
#: egress anyway (their images live in public registries); add any endpoint with ``vpc.interfaceEndpoints``.
PRIVATE_CLUSTER_ENDPOINTS: Final[dict[str, str]] = {
    "ec2": "the VPC CNI and the EBS CSI driver (ENIs, addresses, volumes)",
    "ecr.api": "image pulls from ECR (tokens, manifests): EKS add-ons and your private images",
    "ecr.dkr": "image pulls from ECR (the registry)",
    "sts": "IAM roles for service accounts (AssumeRoleWithWebIdentity)",
    "eks-auth": "EKS Pod Identity (the eks-pod-identity-agent add-on)",
    "elasticloadbalancing": "load balancers for Services and Ingresses",
    "logs": "CloudWatch Logs from the nodes (log agents such as Fluent Bit)",
    "ssm": "Session Manager access to nodes (AmazonSSMManagedInstanceCore)",
    "ssmmessages": "Session Manager sessions (SSM Agent channels)",
}
#: An interface endpoint's service short name: lowercase labels separated by dots or dashes (``ecr.api``).
ENDPOINT_SERVICE_PATTERN: Final = r"^[a-z0-9]+([.-][a-z0-9]+)*$"


class NetworkPlanError(ValueError):
    """A VPC CIDR that cannot hold the requested subnets, or subnets that overlap or stray."""


@dataclass(frozen=True)
class ZoneSubnets:
    """The subnets of one availability zone."""

    zone: str
    public: IPv4Network
    private: IPv4Network
    intra: IPv4Network | None = None
    #: The zone's NAT subnet (public, holding only its NAT gateway); None: the NAT gateway is in ``public``.
    nat: IPv4Network | None = None

    def all(self) -> list[IPv4Network]:
        """Every subnet of the zone."""
        return [net for net in (self.public, self.private, self.intra, self.nat) if net is not None]


def _split(block: IPv4Network, count: int) -> list[IPv4Network]:
    bits = math.ceil(math.log2(count)) if count > 1 else 0
    if block.prefixlen + bits > SMALLEST_PREFIX:
        msg = f"{block} is too small for {count} subnets of at least /{SMALLEST_PREFIX}"
        raise NetworkPlanError(msg)
    return list(block.subnets(prefixlen_diff=bits))[:count]


def plan_subnets(vpc_cidr: IPv4Network, zones: Sequence[str], *, intra: bool, nat: bool = False) -> list[ZoneSubnets]:
    """Plan public, private and (optionally) intra and NAT subnets for each zone, in zone order.

    The NAT subnets take space the other tiers leave free: with or without them, every other subnet is the same.
    """
    if not zones:
        msg = "at least one availability zone is required"
        raise NetworkPlanError(msg)
    blocks = _split(vpc_cidr, len(zones) + 1)
    private = blocks[: len(zones)]
    spare = list(vpc_cidr.subnets(new_prefix=blocks[0].prefixlen))[-1]
    if intra:
        public_block, intra_block = _split(spare, 2)
        intras: list[IPv4Network | None] = list(_split(intra_block, len(zones)))
    else:
        public_block, intras = spare, [None] * len(zones)
    public = _split(public_block, len(zones))
    plan = [
        ZoneSubnets(zone=zone, public=pub, private=priv, intra=intr)
        for zone, pub, priv, intr in zip(zones, public, private, intras, strict=True)
    ]
    if not nat:
        return plan
    nats = plan_nat_subnets(vpc_cidr, [net for zone in plan for net in zone.all()], len(zones))
    return [replace(zone, nat=net) for zone, net in zip(plan, nats, strict=True)]


def plan_nat_subnets(vpc_cidr: IPv4Network, taken: Sequence[IPv4Network], count: int) -> list[IPv4Network]:
    """``count`` NAT subnets (/28) packed in the lowest aligned block of ``vpc_cidr`` that ``taken`` leaves free."""
    prefix = NAT_SUBNET_PREFIX - (math.ceil(math.log2(count)) if count > 1 else 0)
    if prefix < vpc_cidr.prefixlen:
        msg = f"{vpc_cidr} is too small for {count} NAT subnets of /{NAT_SUBNET_PREFIX}"
        raise NetworkPlanError(msg)
    free = next(
        (block for block in vpc_cidr.subnets(new_prefix=prefix) if not any(block.overlaps(net) for net in taken)),
        None,
    )
    if free is None:
        msg = f"{vpc_cidr} has no free /{prefix} left for {count} NAT subnets of /{NAT_SUBNET_PREFIX}"
        raise NetworkPlanError(msg)
    return list(free.subnets(new_prefix=NAT_SUBNET_PREFIX))[:count]


def zone_letter_index(zone: str) -> int:
    """The zone's letter as a number (``us-west-2a`` -> 0): its identity, whatever other zones the VPC spans."""
    letter = zone[-1:]
    if not ("a" <= letter <= "z"):
        msg = f"availability zone {zone!r} does not end in a zone letter"
        raise NetworkPlanError(msg)
    return ord(letter) - ord("a")


def ipv6_subnet(vpc_block: IPv6Network, tier: Tier, zone: str) -> IPv6Network:
    """The /64 of ``tier`` in ``zone`` within the VPC's /56: index ``32 * tier slot + zone letter``."""
    if vpc_block.prefixlen != IPV6_VPC_PREFIX:
        msg = f"{vpc_block} is not an Amazon-provided /{IPV6_VPC_PREFIX}"
        raise NetworkPlanError(msg)
    index = IPV6_TIER_SLOTS[tier] * IPV6_ZONES_PER_TIER + zone_letter_index(zone)
    step = 1 << (128 - IPV6_SUBNET_PREFIX)
    return IPv6Network((int(vpc_block.network_address) + index * step, IPV6_SUBNET_PREFIX))


def layout_problems(vpc_cidr: IPv4Network, subnets: Sequence[IPv4Network]) -> list[str]:
    """Why a set of subnets does not fit a VPC: outside it, overlapping, or too small. Empty if fine."""
    problems = [f"{net} is outside the VPC CIDR {vpc_cidr}" for net in subnets if not net.subnet_of(vpc_cidr)]
    problems += [f"{net} is smaller than /{SMALLEST_PREFIX}" for net in subnets if net.prefixlen > SMALLEST_PREFIX]
    ordered = sorted(subnets, key=lambda net: (int(net.network_address), net.prefixlen))
    problems += [f"{first} overlaps {second}" for first, second in pairwise(ordered) if first.overlaps(second)]
    return problems
