"""The test cluster both GitOps engines' component tests install on (ArgoBootstrap, FluxBootstrap)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.context import AwsContext, ClusterRef
from components.gitops_bridge import BridgedAddon, BridgeFacts

TOLERATIONS = [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}]


def bridge_facts(role_arns: Mapping[str, pulumi.Input[str]], addons: Sequence[BridgedAddon] = ()) -> BridgeFacts:
    """Cluster ``eks-platform-test`` (system group ``dedicated=system``, tainted) in us-west-2, stack ``test``."""
    return BridgeFacts(
        cluster=ClusterRef(
            name=pulumi.Output.from_input("eks-platform-test"),
            endpoint="https://example.gr7.us-west-2.eks.amazonaws.com",
            oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
            oidc_issuer_url="https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
            security_group_id="sg-0123456789abcdef0",
            kubernetes_version="1.35",
            system_node_selector={"dedicated": "system"},
            system_tolerations=TOLERATIONS,
        ),
        account=AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags={}),
        vpc_id=pulumi.Output.from_input("vpc-0123456789abcdef0"),
        environment="test",
        role_arns=role_arns,
        bridged_addons=addons,
    )
