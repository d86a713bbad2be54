"""Placeholder: replaced by the replace-on-change table (issue 13)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

REPLACE_ON_CHANGE: Mapping[str, tuple[str, ...]] = {
    "aws:ec2/subnet:Subnet": ("cidrBlock", "vpcId", "availabilityZone"),
    "aws:eks/cluster:Cluster": ("name",),
    "aws:eks/nodeGroup:NodeGroup": ("subnetIds", "clusterName", "nodeGroupName", "nodeRoleArn", "instanceTypes"),
}
SOURCES: Mapping[str, str] = {}


def replacing_paths(type_token: str, changed: Iterable[str]) -> list[str]:
    """The changed paths that replace a resource of this type."""
    rules = REPLACE_ON_CHANGE.get(type_token, ())
    if type_token.startswith("kubernetes:"):
        rules = (*rules, "metadata.name", "metadata.namespace")
    return [
        path
        for path in changed
        if any(
            path == r or path.startswith((f"{r}.", f"{r}[")) or r.startswith((f"{path}.", f"{path}[")) for r in rules
        )
    ]
