"""The IAM identity of nodes an autoscaler launches itself (Karpenter, Spot Ocean): one builder for both.

A node role trusted by EC2 with the platform's node policies (`iam_documents.NODE_ROLE_POLICIES`) and an EKS access
entry of type ``EC2_LINUX``, which lets instances of the role join the cluster (EKS User Guide, "Create access
entries": EC2_LINUX for self-managed and Karpenter nodes). Children of the calling component, named
``<name>-node-role``, ``<name>-node-<policy>`` and ``<name>-node-access``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.naming import NamingContext


@dataclass(frozen=True)
class NodeIdentity:
    """The node role, and what must exist before its instances can join (policy attachments, the access entry)."""

    role: aws.iam.Role
    prerequisites: list[pulumi.Resource]


def node_identity(
    name: str,
    *,
    parent: pulumi.Resource,
    naming: NamingContext,
    account: AwsContext,
    cluster_name: pulumi.Input[str],
    platform_role: str,
    description: str,
) -> NodeIdentity:
    """The node role ``naming.platform_role(platform_role)``, its managed policies and its EC2_LINUX access entry."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-node-role",
        name=naming.platform_role(platform_role),
        assume_role_policy=json.dumps(iam.service_trust_policy("ec2.amazonaws.com")),
        description=description,
        permissions_boundary=account.permissions_boundary,
        opts=child,
    )
    prerequisites: list[pulumi.Resource] = [
        aws.iam.RolePolicyAttachment(
            f"{name}-node-{policy}",
            role=role.name,
            policy_arn=iam.managed_policy_arn(account.partition, policy),
            opts=child,
        )
        for policy in iam.NODE_ROLE_POLICIES
    ]
    prerequisites.append(
        aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=cluster_name,
            principal_arn=role.arn,
            type="EC2_LINUX",
            opts=child,
        )
    )
    return NodeIdentity(role, prerequisites)
