"""EC2 instance categories and the generations each offers on x86_64 (amd64), for Karpenter requirements.

Karpenter labels every instance type with ``karpenter.k8s.aws/instance-category`` (the family's letters: ``c`` for
``c6i``, ``inf`` for ``inf2``) and ``karpenter.k8s.aws/instance-generation`` (its digit). A NodePool asking for a
category with no amd64 type at or above its minimum generation matches nothing in that category (``t`` has
t2/t3/t3a on amd64; t4g is arm64). Source: Amazon EC2 instance types (EC2 User Guide, "Amazon EC2 instance type
naming conventions" and the instance type list), current-generation and previous-generation families; checked
2026-12-01. Pure module: the settings import it.
"""

from __future__ import annotations

import re
from typing import Final

#: Category -> generations with at least one amd64 instance type (families in the comment).
AMD64_GENERATIONS: Final[dict[str, frozenset[int]]] = {
    "c": frozenset({1, 3, 4, 5, 6, 7, 8}),  # c1 c3 c4 c5* c6a/c6i* c7a/c7i* c8i
    "d": frozenset({2, 3}),  # d2 d3 d3en
    "dl": frozenset({1}),  # dl1
    "f": frozenset({1, 2}),  # f1 f2
    "g": frozenset({3, 4, 5, 6}),  # g3 g4dn g4ad g5 g6 g6e (g5g is arm64)
    "h": frozenset({1}),  # h1
    "hpc": frozenset({6, 7}),  # hpc6a hpc7a
    "i": frozenset({2, 3, 4, 7}),  # i2 i3 i3en i4i i7i i7ie (i4g, i8g arm64)
    "inf": frozenset({1, 2}),  # inf1 inf2
    "m": frozenset({1, 2, 3, 4, 5, 6, 7, 8}),  # m1..m4 m5* m6a/m6i* m7a/m7i* m8a/m8i
    "p": frozenset({2, 3, 4, 5, 6}),  # p2 p3 p4d p5 p6
    "r": frozenset({3, 4, 5, 6, 7, 8}),  # r3 r4 r5* r6a/r6i* r7a/r7i/r7iz r8i
    "t": frozenset({1, 2, 3}),  # t1 t2 t3 t3a (t4g arm64)
    "trn": frozenset({1, 2}),  # trn1 trn2
    "u": frozenset({1, 7}),  # u-*tb1 u7i
    "vt": frozenset({1}),  # vt1
    "x": frozenset({1, 2}),  # x1 x1e x2idn x2iedn x2iezn (x2gd, x8g arm64)
    "z": frozenset({1}),  # z1d
}


def amd64_problem(category: str, minimum_generation: int) -> str | None:
    """Why ``category`` offers no amd64 instance type of ``minimum_generation`` or newer (None if it does)."""
    generations = AMD64_GENERATIONS.get(category)
    if generations is None:
        return f"{category!r} is not an EC2 instance category with amd64 types ({', '.join(sorted(AMD64_GENERATIONS))})"
    if max(generations) < minimum_generation:
        known = ", ".join(map(str, sorted(generations)))
        return (
            f"category {category!r} has no amd64 instance type of generation {minimum_generation} or newer "
            f"(its amd64 generations: {known})"
        )
    return None


_FAMILY = re.compile(r"^(?P<category>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)$")


def is_arm64_instance_type(instance_type: str) -> bool:
    """True for AWS Graviton (arm64) types: a ``g`` among the family's attributes (m6g, c7gn, t4g, x2gd) or a1."""
    family = instance_type.split(".", 1)[0]
    match = _FAMILY.fullmatch(family)
    if match is None:
        return False  # u-6tb1 and other special shapes are x86_64
    return match["category"] == "a" or "g" in match["attributes"]


#: Families on the Xen hypervisor, which an IPv6 cluster cannot use ("You can only use IPv6 with AWS Nitro-based
#: Amazon EC2 or Fargate nodes", EKS User Guide, "Learn about IPv6 addresses to clusters, pods, and services").
#: Source: Karpenter's generated instance-type reference (aws/karpenter-provider-aws
#: website/content/en/docs/reference/instance-types.md @ 1d92708: ``karpenter.k8s.aws/instance-hypervisor`` is
#: ``xen``) for c1 c3 c4 d2 h1 i2 i3 m1 m2 m3 m4 r3 r4 t1 t2 x1 x1e, plus the retired Xen GPU/FPGA families that
#: reference no longer lists (p2, p3 but not p3dn, g2, g3, g3s, f1). Every Xen family is of generation 4 or older.
XEN_FAMILIES: Final = frozenset(
    {
        "c1", "c3", "c4", "d2", "h1", "i2", "i3", "m1", "m2", "m3", "m4", "r3", "r4", "t1", "t2", "x1", "x1e",
        "p2", "p3", "g2", "g3", "g3s", "f1",
    }
)  # fmt: skip
#: The newest generation with a Xen family: a Karpenter NodePool from the next one up launches Nitro types only.
NEWEST_XEN_GENERATION: Final = 4


def is_nitro_instance_type(instance_type: str) -> bool:
    """True unless ``instance_type`` is of a Xen family; bare-metal sizes (``i3.metal``) run on Nitro hardware."""
    family, _, size = instance_type.partition(".")
    return family not in XEN_FAMILIES or size == "metal"
