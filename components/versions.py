"""Pinned versions: Kubernetes and its EKS support lifecycle, EKS managed add-ons, AMIs and Helm charts.

Bump them here, in one place, following the upgrade runbook in the README (control plane -> add-ons -> node
groups -> Karpenter AMI alias). Add-on versions are per Kubernetes minor version: ``aws eks
describe-addon-versions --kubernetes-version <v> --addon-name <name>`` lists the valid ones.

Pure module, no Pulumi imports: the settings and the policy pack import it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

UpgradePolicy = Literal["STANDARD", "EXTENDED"]
#: Days before the end of support from which the plan warns.
SUPPORT_WARNING_DAYS: Final = 60
#: Extended support bills $0.60 per cluster-hour instead of $0.10 (Amazon EKS pricing): six times the control plane.
EXTENDED_SUPPORT_COST_FACTOR: Final = 6


@dataclass(frozen=True)
class KubernetesRelease:
    """One Kubernetes minor version on EKS and its support window (dates in UTC).

    Source: the Amazon EKS release calendar (EKS User Guide, "Understand the Kubernetes version lifecycle on
    EKS"), checked 2026-12-01. On the day standard support ends a cluster with ``upgradePolicy: STANDARD`` is
    upgraded by AWS to the next version (the next ``pulumi up`` would then try a downgrade, which EKS refuses);
    with ``EXTENDED`` it stays, billed at the extended rate, until extended support ends.
    """

    version: str
    released: dt.date
    end_of_standard: dt.date
    end_of_extended: dt.date

    def end_of_support(self, policy: UpgradePolicy) -> dt.date:
        """The last day before AWS upgrades the cluster itself under ``policy``."""
        return self.end_of_standard if policy == "STANDARD" else self.end_of_extended


#: The EKS release calendar, newest first.
KUBERNETES_LIFECYCLE: Final[dict[str, KubernetesRelease]] = {
    release.version: release
    for release in (
        KubernetesRelease("1.36", dt.date(2026, 6, 2), dt.date(2027, 8, 2), dt.date(2028, 8, 2)),
        KubernetesRelease("1.35", dt.date(2026, 1, 27), dt.date(2027, 3, 27), dt.date(2028, 3, 27)),
        KubernetesRelease("1.34", dt.date(2025, 10, 2), dt.date(2026, 12, 2), dt.date(2027, 12, 2)),
        KubernetesRelease("1.33", dt.date(2025, 5, 29), dt.date(2026, 7, 29), dt.date(2027, 7, 29)),
        KubernetesRelease("1.32", dt.date(2025, 1, 23), dt.date(2026, 3, 23), dt.date(2027, 3, 23)),
    )
}

#: Kubernetes minor versions this platform pins add-ons, images and charts for; the first is the default for new
#: stacks. 1.34 stays for clusters on their way up (EKS upgrades one minor version at a time).
SUPPORTED_KUBERNETES_VERSIONS: Final = ("1.36", "1.35", "1.34")
DEFAULT_KUBERNETES_VERSION: Final = SUPPORTED_KUBERNETES_VERSIONS[0]


def support_problem(
    version: str, policy: UpgradePolicy, today: dt.date
) -> tuple[Literal["error", "warning"], str] | None:
    """Whether ``version`` under ``policy`` is past its end of support (error) or within the warning window."""
    release = KUBERNETES_LIFECYCLE.get(version)
    if release is None:
        return "error", f"Kubernetes {version} is not in the EKS release calendar of components/versions.py"
    end = release.end_of_support(policy)
    kind = "standard" if policy == "STANDARD" else "extended"
    if today >= end:
        hint = (
            "upgrade to the next version, or set upgradePolicy: EXTENDED (6x the control-plane price)"
            if policy == "STANDARD" and today < release.end_of_extended
            else "upgrade to the next version"
        )
        return "error", f"Kubernetes {version} left EKS {kind} support on {end.isoformat()}: {hint}"
    days = (end - today).days
    if days <= SUPPORT_WARNING_DAYS:
        return "warning", (
            f"Kubernetes {version} leaves EKS {kind} support on {end.isoformat()} ({days} days): "
            "plan the upgrade (README: Upgrading Kubernetes)"
        )
    return None


#: The GuardDuty security agent's EKS add-on. `EksCluster` installs every other add-on of `EKS_ADDON_VERSIONS`;
#: this one is the `GuardDuty` component's, and only with ``guardDuty.agent: stack`` (else GuardDuty's automated agent
#: configuration installs and updates it).
GUARDDUTY_AGENT_ADDON: Final = "aws-guardduty-agent"

#: EKS managed add-on versions per Kubernetes version (kube-proxy and coredns from the EKS User Guide's
#: per-version tables; vpc-cni, eks-pod-identity-agent and aws-ebs-csi-driver as reported by
#: describe-addon-versions for that Kubernetes version). aws-guardduty-agent: GuardDuty User Guide, "Prerequisites
#: for Amazon EKS cluster support", table "Kubernetes versions supported by GuardDuty security agent"
#: (prereq-runtime-monitoring-eks-support.html#gdu-agent-supported-k8-version, checked 2026-12-01): v1.16.0, latest
#: build v1.16.0-eksbuild.2, supports Kubernetes 1.28 - 1.36 (release notes: "GuardDuty security agent release
#: versions", runtime-monitoring-agent-release-history.html).
EKS_ADDON_VERSIONS: Final[dict[str, dict[str, str]]] = {
    "1.36": {
        "vpc-cni": "v1.23.1-eksbuild.1",
        "kube-proxy": "v1.36.0-eksbuild.14",
        "coredns": "v1.14.3-eksbuild.3",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "aws-ebs-csi-driver": "v1.66.0-eksbuild.1",
        GUARDDUTY_AGENT_ADDON: "v1.16.0-eksbuild.2",
    },
    "1.35": {
        "vpc-cni": "v1.23.1-eksbuild.1",
        "kube-proxy": "v1.35.3-eksbuild.13",
        "coredns": "v1.14.3-eksbuild.3",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "aws-ebs-csi-driver": "v1.64.0-eksbuild.1",
        GUARDDUTY_AGENT_ADDON: "v1.16.0-eksbuild.2",
    },
    "1.34": {
        "vpc-cni": "v1.20.4-eksbuild.2",
        "kube-proxy": "v1.34.0-eksbuild.2",
        "coredns": "v1.12.3-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "aws-ebs-csi-driver": "v1.50.1-eksbuild.1",
        GUARDDUTY_AGENT_ADDON: "v1.16.0-eksbuild.2",
    },
}

Architecture = Literal["x86_64", "arm64"]
#: AMI families a managed node group may run (``nodeGroups.<g>.amiType``), with their architecture; EKS picks the
#: newest release of the family for the cluster's version. The values are the EKS API's ``AMITypes`` enum (EKS API
#: Reference, Nodegroup ``amiType``; botocore's eks 2017-11-01 service model; note the lowercase ``x86_64`` and
#: the uppercase ``ARM_64``), checked 2026-12-01.
NODE_AMI_TYPES: Final[dict[str, Architecture]] = {
    "AL2023_x86_64_STANDARD": "x86_64",
    "AL2023_ARM_64_STANDARD": "arm64",
    "BOTTLEROCKET_x86_64": "x86_64",
    "BOTTLEROCKET_ARM_64": "arm64",
}
#: The default AMI family of managed node groups (every group before ``amiType`` existed ran it).
NODE_AMI_TYPE: Final = "AL2023_x86_64_STANDARD"
#: Root volume device of AL2023 EKS AMIs (managed node groups and Karpenter nodes): karpenter-provider-aws
#: pkg/providers/amifamily/al2023.go, ``DefaultBlockDeviceMappings``.
ROOT_DEVICE: Final = "/dev/xvda"
#: Bottlerocket boots from an OS volume and keeps container images, pod logs and ephemeral storage on a separate data
#: volume (bottlerocket-os/bottlerocket README, "Default Volumes"). Their device names and the OS volume's size are
#: those of karpenter-provider-aws pkg/providers/amifamily/bottlerocket.go (``DefaultBlockDeviceMappings``:
#: ``/dev/xvda`` 4Gi; ``EphemeralBlockDevice``: ``/dev/xvdb``) and of Bottlerocket's own Karpenter test mapping
#: (TESTING.md); 4 GiB holds the largest OS image of the aws-k8s variants (the NVIDIA ones set
#: ``os-image-size-gib = 4``). Checked 2026-12-01.
BOTTLEROCKET_OS_DEVICE: Final = "/dev/xvda"
BOTTLEROCKET_DATA_DEVICE: Final = "/dev/xvdb"
BOTTLEROCKET_OS_VOLUME_GIB: Final = 4


def is_bottlerocket(ami_type: str) -> bool:
    """True for the Bottlerocket AMI families (OS volume and data volume), False for AL2023 (one root volume)."""
    return ami_type.startswith("BOTTLEROCKET_")


#: Helm charts: (repository, chart, version). OCI repositories carry the chart in the URL.
#: Karpenter 1.14 supports Kubernetes 1.29-1.36 (karpenter-provider-aws upgrading/compatibility.md).
KARPENTER_CHART: Final = ("oci://public.ecr.aws/karpenter", "karpenter", "1.14.1")  # also karpenter-crd 1.14.1
#: EKS-optimized AL2023 AMI release Karpenter nodes boot (`al2023@latest` would float: pin, bump deliberately).
#: v20260714 ships 1.34, 1.35 and 1.36 node images (amazon-eks-ami CHANGELOG.md).
KARPENTER_AMI_ALIAS: Final = "al2023@v20260714"
CLUSTER_AUTOSCALER_CHART: Final = ("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0")
#: cluster-autoscaler image per Kubernetes minor version (its minor must match the cluster's; kubernetes/autoscaler
#: tags cluster-autoscaler-1.36.1 and -1.35.2 of 2026-07-22).
CLUSTER_AUTOSCALER_IMAGE_TAGS: Final[dict[str, str]] = {"1.36": "v1.36.1", "1.35": "v1.35.2", "1.34": "v1.34.5"}
ARGO_CD_CHART: Final = ("https://argoproj.github.io/argo-helm", "argo-cd", "10.1.1")  # Argo CD v3.4.4
#: vault 0.34.1: Vault 2.0.4 (server and agent image tag), kubeVersion ">= 1.20.0-0" (hashicorp/vault-helm v0.34.1
#: Chart.yaml and values.yaml). VaultAwsAuth installs its injector only; VaultServer the HA raft server too.
VAULT_CHART: Final = ("https://helm.releases.hashicorp.com", "vault", "0.34.1")
#: Flux 2.8.5 (the chart's appVersion; source-controller v1.8.2, kustomize-controller v1.8.3, helm-controller v1.5.3,
#: fluxcd-community/helm-charts tag flux2-2.18.3, charts/flux2/Chart.yaml and values.yaml). Flux 2.8 supports
#: Kubernetes 1.30-1.35 (`FLUX_KUBERNETES_VERSIONS`; ControlPlane's Flux v2.8 release page, fluxcd.io/flux/releases).
FLUX2_CHART: Final = ("https://fluxcd-community.github.io/helm-charts", "flux2", "2.18.3")
#: Kubernetes minor versions the pinned Flux supports: `gitops.engine: flux` refuses a cluster outside them.
FLUX_KUBERNETES_VERSIONS: Final = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35")
#: Spot Ocean's controller (Ocean Controller v2), app version 2.3.0, Chart.yaml ``kubeVersion: ">=1.20.0-0"`` (read at
#: spotinst/charts tag ocean-kubernetes-controller-0.1.74, charts/ocean-kubernetes-controller/Chart.yaml, 2026-05-25).
OCEAN_CONTROLLER_CHART: Final = ("https://charts.spot.io", "ocean-kubernetes-controller", "0.1.74")
#: EKS-optimized AL2023 release Spot Ocean nodes boot, the same as Karpenter's (`KARPENTER_AMI_ALIAS`): read from its
#: SSM public parameter of that release, not `recommended`, which moves under a stack and fails the drift check.
OCEAN_AMI_RELEASE: Final = KARPENTER_AMI_ALIAS.removeprefix("al2023@")

# Add-on catalog (components/addon_catalog.py); each read from the chart's own repository at the tag named.
#: App v3.5.0 (Chart.yaml appVersion, kubernetes-sigs/aws-load-balancer-controller tag v3.5.0,
#: helm/aws-load-balancer-controller); Kubernetes 1.22+ (docs/deploy/installation.md "Supported Kubernetes versions").
#: The controller's IAM policy is that tag's docs/install/iam_policy.json (components/lb_controller_policy.py).
LB_CONTROLLER_CHART: Final = ("https://aws.github.io/eks-charts", "aws-load-balancer-controller", "3.5.0")
#: App 0.21.0 (Chart.yaml of kubernetes-sigs/external-dns tag external-dns-helm-chart-1.21.1, charts/external-dns);
#: Kubernetes with discovery.k8s.io/v1 EndpointSlices, 1.21+ (README "Kubernetes version compatibility", >= 0.18.x).
EXTERNAL_DNS_CHART: Final = ("https://kubernetes-sigs.github.io/external-dns", "external-dns", "1.21.1")
#: App v1.21.1 (cert-manager/cert-manager tag v1.21.1, deploy/charts/cert-manager: the release tool sets version and
#: appVersion to the tag); Chart.yaml kubeVersion ">= 1.22.0-0".
CERT_MANAGER_CHART: Final = ("https://charts.jetstack.io", "cert-manager", "v1.21.1")
#: App 0.8.1 (Chart.yaml of kubernetes-sigs/metrics-server tag metrics-server-helm-chart-3.13.1); Kubernetes 1.31+
#: (README "Compatibility Matrix" at v0.8.1, metrics-server 0.8.x).
METRICS_SERVER_CHART: Final = ("https://kubernetes-sigs.github.io/metrics-server", "metrics-server", "3.13.1")
#: App 0.32.0 (Chart.yaml of aquasecurity/trivy-operator tag v0.32.0, deploy/helm; no kubeVersion declared).
TRIVY_OPERATOR_CHART: Final = ("https://aquasecurity.github.io/helm-charts", "trivy-operator", "0.34.0")
#: App 0.11.5 (Chart.yaml of fjogeleit/trivy-operator-polr-adapter tag chart-v0.11.5): turns trivy-operator's reports
#: into PolicyReports (trivy-operator docs/tutorials/integrations/policy-reporter.md); no kubeVersion declared.
#: One line, as Renovate's regex (renovate.json) reads chart tuples.
TRIVY_POLR_ADAPTER_CHART: Final = ("https://fjogeleit.github.io/trivy-operator-polr-adapter", "trivy-operator-polr-adapter", "0.11.5")  # noqa: E501  # fmt: skip
#: App 3.9.0 (Chart.yaml of kyverno/policy-reporter tag policy-reporter-chart-v3.9.1, charts/policy-reporter); no
#: kubeVersion declared.
POLICY_REPORTER_CHART: Final = ("https://kyverno.github.io/policy-reporter", "policy-reporter", "3.9.1")
