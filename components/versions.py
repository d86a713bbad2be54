"""Pinned versions: Kubernetes, EKS managed add-ons and Helm charts. Bump them here, in one place.

Add-on versions are per Kubernetes minor version: ``aws eks describe-addon-versions
--kubernetes-version <v> --addon-name <name>`` lists the valid ones.
"""

from __future__ import annotations

from typing import Final

#: Kubernetes minor versions this platform is tested with; the first is the default.
SUPPORTED_KUBERNETES_VERSIONS: Final = ("1.34", "1.33")
DEFAULT_KUBERNETES_VERSION: Final = SUPPORTED_KUBERNETES_VERSIONS[0]

#: EKS managed add-on versions per Kubernetes version.
EKS_ADDON_VERSIONS: Final[dict[str, dict[str, str]]] = {
    "1.34": {
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.34.0-eksbuild.2",
        "coredns": "v1.12.3-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "aws-ebs-csi-driver": "v1.50.1-eksbuild.1",
    },
    "1.33": {
        "vpc-cni": "v1.20.2-eksbuild.1",
        "kube-proxy": "v1.33.3-eksbuild.6",
        "coredns": "v1.12.4-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
        "aws-ebs-csi-driver": "v1.50.1-eksbuild.1",
    },
}

#: Node AMI family for managed node groups.
NODE_AMI_TYPE: Final = "AL2023_x86_64_STANDARD"
#: Root volume device of AL2023 EKS AMIs (managed node groups and Karpenter nodes).
ROOT_DEVICE: Final = "/dev/xvda"

#: Helm charts: (repository, chart, version). OCI repositories carry the chart in the URL.
KARPENTER_CHART: Final = ("oci://public.ecr.aws/karpenter", "karpenter", "1.14.1")  # also karpenter-crd 1.14.1
#: EKS-optimized AL2023 AMI release Karpenter nodes boot (`al2023@latest` would float: pin, bump deliberately).
KARPENTER_AMI_ALIAS: Final = "al2023@v20260714"
CLUSTER_AUTOSCALER_CHART: Final = ("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0")
#: cluster-autoscaler image per Kubernetes minor version (its minor must match the cluster's).
CLUSTER_AUTOSCALER_IMAGE_TAGS: Final[dict[str, str]] = {"1.34": "v1.34.5", "1.33": "v1.33.6"}
ARGO_CD_CHART: Final = ("https://argoproj.github.io/argo-helm", "argo-cd", "10.1.1")  # Argo CD v3.4.4
VAULT_CHART: Final = ("https://helm.releases.hashicorp.com", "vault", "0.34.1")
