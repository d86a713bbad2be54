"""What every component needs to know about where it runs, as typed references instead of loose fields.

`AwsContext` is the account a stack deploys into (built once in ``__main__.py``); `ClusterRef` is the cluster the
in-cluster components share (``EksCluster.ref``); `OidcIssuer` is the cluster's IAM OIDC provider, what every IRSA
role's trust names (``ClusterRef.oidc``, or built by EksCluster for its add-ons' roles before its ``ref`` exists).
Plain data: no resources are created here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class AwsContext:
    """The AWS account, partition and region of a stack, its required tags and its IAM permissions boundary."""

    account_id: str
    partition: str
    region: str
    #: The required tags; for what the provider's ``default_tags`` do not reach (instances, volumes, ENIs).
    tags: Mapping[str, str]
    #: IAM permissions boundary of every role the platform creates (``settings.permissionsBoundaryArn``).
    permissions_boundary: str | None = None


@dataclass(frozen=True)
class OidcIssuer:
    """The cluster's IAM OIDC identity provider: the federated principal and issuer of IRSA trust policies."""

    provider_arn: pulumi.Input[str]
    #: The issuer URL (``https://oidc.eks.<region>.amazonaws.com/id/...``).
    issuer_url: pulumi.Input[str]


@dataclass(frozen=True)
class ClusterRef:
    """The EKS cluster as the in-cluster components see it (``EksCluster.ref``)."""

    name: pulumi.Input[str]
    endpoint: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    #: The issuer URL (``https://oidc.eks.<region>.amazonaws.com/id/...``).
    oidc_issuer_url: pulumi.Input[str]
    #: The EKS-created cluster security group.
    security_group_id: pulumi.Input[str]
    kubernetes_version: str
    #: Where platform controllers run: the system node group (``eks.amazonaws.com/nodegroup: <physical name>``;
    #: an Output, so what is placed with it waits for the group) and the tolerations of its taints.
    system_node_selector: Mapping[str, pulumi.Input[str]]
    system_tolerations: Sequence[Mapping[str, str]]
    #: The kubernetes provider every in-cluster resource goes through (None in component tests without one).
    provider: k8s.Provider | None = None

    @property
    def oidc(self) -> OidcIssuer:
        """The OIDC provider IRSA roles of this cluster trust."""
        return OidcIssuer(provider_arn=self.oidc_provider_arn, issuer_url=self.oidc_issuer_url)


def once_created(resource: pulumi.CustomResource, value: str) -> pulumi.Output[str]:
    """``value`` as an Output that resolves once ``resource`` exists, and carries the dependency on it."""
    return resource.id.apply(lambda _id: value)
