"""Every policy of the pack, built for one stack. Importable: constructing `PolicyPack` is ``__main__``'s job."""

from __future__ import annotations

from pulumi_policy import Policy

from policies import (
    detection_rules,
    eks_rules,
    encryption_rules,
    helm_rules,
    iam_rules,
    naming_rules,
    network_rules,
    protection_rules,
    stack_rules,
    tag_rules,
)
from policies.settings import PackContext

PACK_NAME = "eks-platform"
MODULES = (
    naming_rules,
    tag_rules,
    encryption_rules,
    eks_rules,
    iam_rules,
    network_rules,
    detection_rules,
    helm_rules,
    protection_rules,
    stack_rules,
)


def build_policies(ctx: PackContext) -> list[Policy]:
    """All policies, with enforcement levels for ``ctx``'s stack; names are unique."""
    built = [policy for module in MODULES for policy in module.policies(ctx)]
    names = [policy.name for policy in built]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        msg = f"duplicate policy names: {duplicates}"
        raise ValueError(msg)
    return built
