"""Subnet CIDR planning for the VPC. Pure functions on ``ipaddress`` values.

Layout for N availability zones: the VPC is cut into ``2**ceil(log2(N + 1))`` equal blocks; the first N
are the private subnets (large: pods take VPC addresses with the VPC CNI), the last block is split
between the public subnets and, when requested, the intra (control-plane) subnets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import pairwise

#: Smallest subnet AWS allows is /28; EKS wants at least /28 for control-plane ENIs too.
SMALLEST_PREFIX = 28


class NetworkPlanError(ValueError):
    """A VPC CIDR that cannot hold the requested subnets, or subnets that overlap or stray."""


@dataclass(frozen=True)
class ZoneSubnets:
    """The subnets of one availability zone."""

    zone: str
    public: IPv4Network
    private: IPv4Network
    intra: IPv4Network | None = None

    def all(self) -> list[IPv4Network]:
        """Every subnet of the zone."""
        return [net for net in (self.public, self.private, self.intra) if net is not None]


def _split(block: IPv4Network, count: int) -> list[IPv4Network]:
    bits = math.ceil(math.log2(count)) if count > 1 else 0
    if block.prefixlen + bits > SMALLEST_PREFIX:
        msg = f"{block} is too small for {count} subnets of at least /{SMALLEST_PREFIX}"
        raise NetworkPlanError(msg)
    return list(block.subnets(prefixlen_diff=bits))[:count]


def plan_subnets(vpc_cidr: IPv4Network, zones: Sequence[str], *, intra: bool) -> list[ZoneSubnets]:
    """Plan public, private and (optionally) intra subnets for each zone, in zone order."""
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
    return [
        ZoneSubnets(zone=zone, public=pub, private=priv, intra=intr)
        for zone, pub, priv, intr in zip(zones, public, private, intras, strict=True)
    ]


def layout_problems(vpc_cidr: IPv4Network, subnets: Sequence[IPv4Network]) -> list[str]:
    """Why a set of subnets does not fit a VPC: outside it, overlapping, or too small. Empty if fine."""
    problems = [f"{net} is outside the VPC CIDR {vpc_cidr}" for net in subnets if not net.subnet_of(vpc_cidr)]
    problems += [f"{net} is smaller than /{SMALLEST_PREFIX}" for net in subnets if net.prefixlen > SMALLEST_PREFIX]
    ordered = sorted(subnets, key=lambda net: (int(net.network_address), net.prefixlen))
    problems += [f"{first} overlaps {second}" for first, second in pairwise(ordered) if first.overlaps(second)]
    return problems
