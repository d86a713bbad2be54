import math
import re
from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.iam_documents import NODE_ROLE_POLICIES
from components.network_plan import (
    ENDPOINT_SERVICE_PATTERN,
    IPV6_SUBNET_PREFIX,
    NAT_SUBNET_PREFIX,
    PRIVATE_CLUSTER_ENDPOINTS,
    SMALLEST_PREFIX,
    NetworkPlanError,
    Tier,
    ipv6_subnet,
    layout_problems,
    plan_nat_subnets,
    plan_subnets,
)

ZONES = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d", "us-west-2e", "us-west-2f"]


def test_three_zone_layout_is_the_documented_one():
    plan = plan_subnets(IPv4Network("10.0.0.0/16"), ZONES[:3], intra=True)
    assert [str(z.private) for z in plan] == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    assert [str(z.public) for z in plan] == ["10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21"]
    assert [str(z.intra) for z in plan] == ["10.0.224.0/21", "10.0.232.0/21", "10.0.240.0/21"]
    assert [z.zone for z in plan] == ZONES[:3]


def test_without_intra_the_public_subnets_take_the_spare_block():
    plan = plan_subnets(IPv4Network("10.0.0.0/16"), ZONES[:3], intra=False)
    assert all(z.intra is None for z in plan)
    assert [str(z.public) for z in plan] == ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"]


def test_too_small_a_vpc_is_refused():
    with pytest.raises(NetworkPlanError, match="too small"):
        plan_subnets(IPv4Network("10.0.0.0/26"), ZONES[:3], intra=True)


def test_no_zone_is_refused():
    with pytest.raises(NetworkPlanError, match="at least one"):
        plan_subnets(IPv4Network("10.0.0.0/16"), [], intra=True)


@given(
    prefix=st.integers(min_value=16, max_value=24),
    base=st.integers(min_value=0, max_value=2**32 - 1),
    zone_count=st.integers(min_value=1, max_value=6),
    intra=st.booleans(),
)
def test_any_plan_fits_the_vpc_without_overlap(prefix, base, zone_count, intra):
    vpc = IPv4Network((base, prefix), strict=False)
    smallest = prefix + math.ceil(math.log2(zone_count + 1)) + intra + math.ceil(math.log2(zone_count))
    if smallest > SMALLEST_PREFIX:
        with pytest.raises(NetworkPlanError):
            plan_subnets(vpc, ZONES[:zone_count], intra=intra)
        return
    plan = plan_subnets(vpc, ZONES[:zone_count], intra=intra)
    subnets = [net for zone in plan for net in zone.all()]
    assert len(plan) == zone_count
    assert len(subnets) == zone_count * (3 if intra else 2)
    assert layout_problems(vpc, subnets) == []
    # Private subnets are the largest: pods take VPC addresses.
    assert all(z.private.prefixlen <= z.public.prefixlen for z in plan)
    assert max(net.prefixlen for net in subnets) == smallest


def test_layout_problems_name_overlap_stray_and_tiny_subnets():
    vpc = IPv4Network("10.0.0.0/16")
    problems = layout_problems(
        vpc,
        [
            IPv4Network("10.0.0.0/24"),
            IPv4Network("10.0.0.128/25"),
            IPv4Network("10.1.0.0/24"),
            IPv4Network("10.0.9.0/29"),
        ],
    )
    assert "10.0.0.0/24 overlaps 10.0.0.128/25" in problems
    assert "10.1.0.0/24 is outside the VPC CIDR 10.0.0.0/16" in problems
    assert "10.0.9.0/29 is smaller than /28" in problems


# --- NAT subnets: free space only, every other subnet stays where it was ------------------------------------


def test_nat_subnets_take_the_first_free_block_after_the_public_ones():
    plan = plan_subnets(IPv4Network("10.0.0.0/16"), ZONES[:3], intra=True, nat=True)
    assert [str(z.nat) for z in plan] == ["10.0.216.0/28", "10.0.216.16/28", "10.0.216.32/28"]
    assert [z.zone for z in plan] == ZONES[:3]


def test_a_one_zone_layout_has_no_room_for_nat_subnets():
    with pytest.raises(NetworkPlanError, match="no free /28 left for 1 NAT subnets"):
        plan_subnets(IPv4Network("10.0.0.0/16"), ZONES[:1], intra=True, nat=True)


@given(
    # Up to a /20, every layout of 2-6 zones leaves a free block for the NAT subnets (a spare top-level block, or
    # a public slot of /25 or more); smaller VPCs may not, and the settings say so.
    prefix=st.integers(min_value=16, max_value=20),
    base=st.integers(min_value=0, max_value=2**32 - 1),
    zone_count=st.integers(min_value=2, max_value=6),
    intra=st.booleans(),
)
def test_nat_subnets_move_no_other_subnet_and_overlap_none(prefix, base, zone_count, intra):
    vpc = IPv4Network((base, prefix), strict=False)
    without = plan_subnets(vpc, ZONES[:zone_count], intra=intra)
    plan = plan_subnets(vpc, ZONES[:zone_count], intra=intra, nat=True)
    assert [(z.public, z.private, z.intra) for z in plan] == [(z.public, z.private, z.intra) for z in without]
    nats = [z.nat for z in plan]
    assert all(net is not None and net.prefixlen == NAT_SUBNET_PREFIX for net in nats)
    assert layout_problems(vpc, [net for zone in plan for net in zone.all()]) == []


def test_nat_subnets_are_refused_when_the_vpc_is_full():
    vpc = IPv4Network("10.0.0.0/24")
    taken = list(vpc.subnets(new_prefix=26))
    with pytest.raises(NetworkPlanError, match="no free /27"):
        plan_nat_subnets(vpc, taken, 2)


# --- IPv6: a /64 per tier and zone letter ---------------------------------------------------------------------

VPC_V6 = IPv6Network("2600:1f14:abcd:ef00::/56")


def test_ipv6_subnets_are_indexed_by_tier_slot_and_zone_letter():
    assert str(ipv6_subnet(VPC_V6, "public", "us-west-2a")) == "2600:1f14:abcd:ef00::/64"
    assert str(ipv6_subnet(VPC_V6, "private", "us-west-2b")) == "2600:1f14:abcd:ef21::/64"
    assert str(ipv6_subnet(VPC_V6, "intra", "us-west-2c")) == "2600:1f14:abcd:ef42::/64"
    assert str(ipv6_subnet(VPC_V6, "nat", "us-west-2a")) == "2600:1f14:abcd:ef60::/64"


TIERS: list[Tier] = ["public", "private", "intra", "nat"]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@given(
    block=st.integers(min_value=0, max_value=2**56 - 1),
    letters=st.lists(st.sampled_from(LETTERS), min_size=1, max_size=6, unique=True),
)
def test_ipv6_subnets_are_distinct_64s_inside_the_vpc_and_depend_on_their_own_zone_only(block, letters):
    vpc = IPv6Network((block << 72, 56))
    zones = [f"eu-central-1{letter}" for letter in letters]
    nets = {(tier, zone): ipv6_subnet(vpc, tier, zone) for tier in TIERS for zone in zones}
    assert all(net.prefixlen == IPV6_SUBNET_PREFIX and net.subnet_of(vpc) for net in nets.values())
    assert len(set(nets.values())) == len(nets)
    # The same zone letter in a region with other zones, or alone, gets the same /64.
    assert all(ipv6_subnet(vpc, tier, f"us-east-1{zone[-1]}") == net for (tier, zone), net in nets.items())


def test_ipv6_needs_an_amazon_56_and_a_zone_letter():
    with pytest.raises(NetworkPlanError, match="not an Amazon-provided /56"):
        ipv6_subnet(IPv6Network("2600:1f14::/48"), "public", "us-west-2a")
    with pytest.raises(NetworkPlanError, match="does not end in a zone letter"):
        ipv6_subnet(VPC_V6, "public", "us-west-2-lax-1")


# --- a private cluster's interface endpoints -------------------------------------------------------------------

#: The EKS User Guide's table, "Deploy private clusters with limited internet access" (private-clusters.adoc @
#: 4d52b4d of awsdocs/amazon-eks-user-guide): the services a cluster without outbound internet access commonly needs.
GUIDE_PRIVATE_CLUSTER_SERVICES = {"ec2", "ecr.api", "ecr.dkr", "s3", "elasticloadbalancing", "xray", "logs", "sts"}


def test_the_private_cluster_endpoints_cover_the_guides_table():
    # s3 is the VPC's gateway endpoint; xray serves X-Ray daemons, which the platform does not run.
    assert GUIDE_PRIVATE_CLUSTER_SERVICES - {"s3", "xray"} <= set(PRIVATE_CLUSTER_ENDPOINTS)
    assert "s3" not in PRIVATE_CLUSTER_ENDPOINTS


def test_the_private_cluster_endpoints_include_pod_identity_and_session_manager():
    # eks-auth: EKS Pod Identity in a private cluster (service-accounts.adoc); the agent add-on is always installed.
    # ssm/ssmmessages: Session Manager on nodes that carry AmazonSSMManagedInstanceCore.
    assert {"eks-auth", "ssm", "ssmmessages"} <= set(PRIVATE_CLUSTER_ENDPOINTS)
    assert "AmazonSSMManagedInstanceCore" in NODE_ROLE_POLICIES
    assert all(re.fullmatch(ENDPOINT_SERVICE_PATTERN, service) for service in PRIVATE_CLUSTER_ENDPOINTS)
