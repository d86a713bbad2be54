import math
from ipaddress import IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.network_plan import SMALLEST_PREFIX, NetworkPlanError, layout_problems, plan_subnets

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
