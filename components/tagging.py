"""Tags: the required tag set, shared by the AWS provider's default_tags, explicit tags and policies.

Pure functions, no Pulumi imports.
"""

from __future__ import annotations

#: Tags every taggable AWS resource must carry.
REQUIRED_TAG_KEYS: tuple[str, ...] = ("Project", "Environment", "Owner", "CostCenter", "ManagedBy")

MANAGED_BY = "pulumi"

#: Subnet tags the AWS Load Balancer Controller uses to pick subnets.
PUBLIC_ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
#: Tag Karpenter's EC2NodeClass selectors use to discover subnets and security groups.
KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery"


def required_tags(*, project: str, environment: str, owner: str, cost_center: str) -> dict[str, str]:
    """The required tags for one stack, in REQUIRED_TAG_KEYS order."""
    return {
        "Project": project,
        "Environment": environment,
        "Owner": owner,
        "CostCenter": cost_center,
        "ManagedBy": MANAGED_BY,
    }


def missing_tags(tags: dict[str, str] | None, required: tuple[str, ...] = REQUIRED_TAG_KEYS) -> list[str]:
    """Required keys that are absent or blank in ``tags``."""
    present = tags or {}
    return [key for key in required if not str(present.get(key, "")).strip()]


def with_name(tags: dict[str, str], name: str) -> dict[str, str]:
    """``tags`` plus a ``Name`` tag (shown by the EC2 console)."""
    return {**tags, "Name": name}
