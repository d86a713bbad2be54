"""components.cidrs: whether a set of CIDRs, together, covers the whole IPv4 or IPv6 internet."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.cidrs import covered_families, covers_internet, internet_cidrs, parse_networks

INVALID = [
    "",
    "anywhere",
    "0.0.0.0/33",
    "::/129",
    "300.0.0.0/8",
    "10.0.0.0/8/1",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
]


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["::/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2"],
        ["10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"],
        ["::/1", "8000::/1"],
        ["10.1.2.3/0"],  # host bits: still the whole space
        ["0.0.0.0/1", "128.0.0.0/1", "not-a-cidr", 5, None],
    ],
    ids=["v4-zero", "v6-zero", "v4-halves", "v4-quarters", "overlapping", "v6-halves", "host-bits", "with-junk"],
)
def test_sets_that_cover_the_internet(cidrs):
    assert covers_internet(cidrs)


@pytest.mark.parametrize(
    "cidrs",
    [
        [],
        ["10.0.0.0/8"],
        ["0.0.0.0/1"],
        ["0.0.0.0/1", "128.0.0.0/2"],
        ["0.0.0.0/1", "8000::/1"],  # half of each family is neither
        ["0.0.0.0/1", "128.0.0.0/1 "[:-2]],  # '128.0.0.0/' is invalid: ignored
        INVALID,
    ],
    ids=["empty", "private", "v4-half", "three-quarters", "mixed-halves", "invalid-half", "invalid"],
)
def test_sets_that_leave_a_gap(cidrs):
    assert not covers_internet(cidrs)


def test_families_and_message_helpers():
    cidrs = ["0.0.0.0/1", "::/0", "128.0.0.0/1", "bad"]
    assert covered_families(cidrs) == ("IPv4", "IPv6")
    assert covered_families(["::/1", "8000::/1"]) == ("IPv6",)
    assert internet_cidrs(cidrs, "IPv4") == ["0.0.0.0/1", "128.0.0.0/1"]
    assert internet_cidrs(cidrs, "IPv6") == ["::/0"]
    v4, v6 = parse_networks(cidrs)
    assert [str(n) for n in v4] == ["0.0.0.0/1", "128.0.0.0/1"]
    assert [str(n) for n in v6] == ["::/0"]


@st.composite
def partitions(draw: st.DrawFn, version: int) -> list[str]:
    """A random partition of the whole address space of ``version`` into disjoint CIDRs."""
    root = ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
    pieces: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [root]
    leaves: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    while pieces and len(leaves) + len(pieces) < 24:
        network = pieces.pop()
        if network.prefixlen < network.max_prefixlen and draw(st.booleans()):
            pieces.extend(network.subnets())
        else:
            leaves.append(network)
    return [str(n) for n in leaves + pieces]


@settings(max_examples=200, deadline=None)
@given(version=st.sampled_from([4, 6]), data=st.data())
def test_a_partition_covers_and_any_missing_piece_leaves_a_gap(version, data):
    cidrs = data.draw(partitions(version))
    shuffled = data.draw(st.permutations(cidrs))
    junk = data.draw(st.lists(st.sampled_from(INVALID), max_size=3))
    assert covers_internet([*shuffled, *junk])
    if len(cidrs) > 1:
        missing = data.draw(st.integers(0, len(cidrs) - 1))
        assert not covers_internet([c for i, c in enumerate(shuffled) if i != missing])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 32)), max_size=20))
def test_prefixes_longer_than_zero_within_one_half_never_cover(entries):
    # Every network inside 0.0.0.0/1 (the top bit cleared): the other half stays uncovered.
    cidrs = [str(ipaddress.ip_network(((address >> 1), length), strict=False)) for address, length in entries]
    assert not covers_internet(cidrs)
