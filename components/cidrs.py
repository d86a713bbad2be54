"""CIDR sets: does a list of source ranges, taken together, reach the whole internet?

"Anywhere" is not only ``0.0.0.0/0``: ``0.0.0.0/1`` and ``128.0.0.0/1`` together (or any other split) open the
same door. Settings validation and the policy pack both ask this module. Pure functions, no Pulumi imports.

IPv4 and IPv6 are judged separately (the whole IPv4 space, or the whole IPv6 space); strings that are not
CIDRs or addresses (and non-strings) are ignored. Host bits are tolerated (``10.0.0.1/0`` is ``0.0.0.0/0``), as
the union is what matters.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPV4_INTERNET = ipaddress.IPv4Network("0.0.0.0/0")
IPV6_INTERNET = ipaddress.IPv6Network("::/0")


def parse_networks(
    cidrs: Iterable[object],
) -> tuple[list[ipaddress.IPv4Network], list[ipaddress.IPv6Network]]:
    """The valid IPv4 and IPv6 networks among ``cidrs`` (invalid strings and non-strings are skipped)."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for cidr in cidrs:
        if not isinstance(cidr, str):
            continue
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return v4, v6


def covered_families(cidrs: Iterable[object]) -> tuple[str, ...]:
    """Which whole address spaces the union of ``cidrs`` covers: ``()``, ``("IPv4",)``, ``("IPv6",)`` or both."""
    v4, v6 = parse_networks(cidrs)
    covered = []
    if list(ipaddress.collapse_addresses(v4)) == [IPV4_INTERNET]:
        covered.append("IPv4")
    if list(ipaddress.collapse_addresses(v6)) == [IPV6_INTERNET]:
        covered.append("IPv6")
    return tuple(covered)


def covers_internet(cidrs: Iterable[object]) -> bool:
    """True when the union of ``cidrs`` is the whole IPv4 internet or the whole IPv6 internet.

    >>> covers_internet(["0.0.0.0/1", "128.0.0.0/1"])
    True
    >>> covers_internet(["10.0.0.0/8", "::/1"])
    False
    """
    return bool(covered_families(cidrs))


def internet_cidrs(cidrs: Iterable[object], family: str) -> list[str]:
    """The (valid) entries of ``cidrs`` of one family (``"IPv4"`` or ``"IPv6"``), in order, for messages."""
    version = 4 if family == "IPv4" else 6
    found = []
    for cidr in cidrs:
        v4, v6 = parse_networks([cidr])
        if (v4 if version == 4 else v6) and isinstance(cidr, str):  # noqa: PLR2004 - the IP version
            found.append(cidr)
    return found
