"""The EKS access policies that exist (``arn:<partition>:eks::aws:cluster-access-policy/<name>``), kept by hand.

EKS access policies are not IAM policies: no IAM dataset lists them, and the program may only name one of these.
Pure: the settings (``cluster.access``), the EksCluster component and the contract tests use it.
Sources (add a name only with a source):

- EKS User Guide, "Review access policy permissions" (one section per policy, with its ARN):
  https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
  (source: github.com/awsdocs/amazon-eks-user-guide, latest/ug/manage-access/k8s-access/access-policy-reference.adoc)
- The ``aws eks list-access-policies`` output shown on that page and in the AWS CLI's example
  (github.com/aws/aws-cli, awscli/examples/eks/list-access-policies.rst).
"""

from __future__ import annotations

import re

EKS_ACCESS_POLICIES: frozenset[str] = frozenset(
    {
        # Kubernetes user-facing roles (cluster-admin, admin, edit, view) and the admin view incl. Secrets.
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
        "AmazonEKSAdminViewPolicy",
        # EKS Auto Mode (node role, and the cluster role's storage, compute, load-balancing, networking).
        "AmazonEKSAutoNodePolicy",
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSBlockStorageClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSComputeClusterPolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSLoadBalancingClusterPolicy",
        "AmazonEKSNetworkingPolicy",
        "AmazonEKSNetworkingClusterPolicy",
        # EKS Hybrid Nodes.
        "AmazonEKSHybridPolicy",
        # Other services' policies in the list-access-policies output.
        "AmazonAIOpsAssistantPolicy",
        "AmazonARCRegionSwitchScalingPolicy",
        "AmazonEMRJobPolicy",
        "AmazonSagemakerHyperpodClusterPolicy",
        "AmazonSagemakerHyperpodControllerPolicy",
        "AmazonSagemakerHyperpodSystemNamespacePolicy",
    }
)

#: Short names of the Kubernetes user-facing policies in ``cluster.access.<name>.policies``.
ACCESS_POLICY_SHORT_NAMES: dict[str, str] = {
    "cluster-admin": "AmazonEKSClusterAdminPolicy",
    "admin": "AmazonEKSAdminPolicy",
    "edit": "AmazonEKSEditPolicy",
    "view": "AmazonEKSViewPolicy",
    "admin-view": "AmazonEKSAdminViewPolicy",
}
#: ``arn:<partition>:eks::aws:cluster-access-policy/<name>``.
ACCESS_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/(?P<name>[A-Za-z0-9]+)$")
#: Prefixes a Kubernetes group of an access entry may not have: ``system:masters`` and the like would grant through
#: RBAC what the access policies do not, and ``eks:``/``aws:``/``amazon:``/``iam:`` are EKS's own.
RESERVED_GROUP_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")


def access_policy_name(policy: str) -> str | None:
    """The access policy a settings entry names (a short name or a full ARN), None if EKS has no such policy."""
    name = ACCESS_POLICY_SHORT_NAMES.get(policy)
    if name is None:
        match = ACCESS_POLICY_ARN.fullmatch(policy)
        name = match["name"] if match else None
    return name if name in EKS_ACCESS_POLICIES else None


def access_policy_arn(partition: str, name: str) -> str:
    """``arn:<partition>:eks::aws:cluster-access-policy/<name>``."""
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"
