"""The EKS access policies that exist (``arn:<partition>:eks::aws:cluster-access-policy/<name>``), kept by hand.

EKS access policies are not IAM policies: no IAM dataset lists them, and the program may only name one of these.
Sources (add a name only with a source):

- EKS User Guide, "Review access policy permissions" (one section per policy, with its ARN):
  https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
  (source: github.com/awsdocs/amazon-eks-user-guide, latest/ug/manage-access/k8s-access/access-policy-reference.adoc)
- The ``aws eks list-access-policies`` output shown on that page and in the AWS CLI's example
  (github.com/aws/aws-cli, awscli/examples/eks/list-access-policies.rst).
"""

from __future__ import annotations

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
