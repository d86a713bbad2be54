"""Pure planning for the NodeAutoscaler: IAM documents, EventBridge patterns, Helm values and manifests.

Plain data in, plain data out; no resources are created here. IAM documents take plain strings (the
component calls them inside an ``apply``); Helm values and Karpenter manifests may carry Pulumi inputs
as leaf values (role ARNs, the cluster name), which the SDK resolves when the resource is registered.

Sources: Karpenter v1.14 getting-started CloudFormation (controller policies, interruption queue and
rules), the cluster-autoscaler AWS README (its IAM policy and ASG discovery tags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components import iam_documents as iam
from components.iam_documents import PolicyDocument
from components.irsa_role import ROLE_ARN_ANNOTATION
from components.tagging import KARPENTER_DISCOVERY_TAG
from components.versions import ROOT_DEVICE
from config import KarpenterSettings, Toleration

Manifest = dict[str, Any]

# --- Karpenter -------------------------------------------------------------------------------------------

#: Karpenter runs in kube-system as its docs recommend (API priority and fairness treat it as a system pod).
KARPENTER_NAMESPACE = "kube-system"
KARPENTER_SERVICE_ACCOUNT = "karpenter"
KARPENTER_RELEASE = "karpenter"
#: The CRDs come from their own chart: Helm never upgrades a chart's ``crds/`` directory.
KARPENTER_CRD_RELEASE = "karpenter-crd"
NODE_POOL_API_VERSION = "karpenter.sh/v1"
NODE_CLASS_API_VERSION = "karpenter.k8s.aws/v1"
NODE_CLASS_GROUP = "karpenter.k8s.aws"
DEFAULT_NODE_POOL = "default"
DEFAULT_NODE_CLASS = "default"
INTERRUPTION_QUEUE_RETENTION_SECONDS = 300
INTERRUPTION_TARGET_ID = "KarpenterInterruptionQueueTarget"
#: Events Karpenter handles, keyed by rule identity: (source, detail-type). The pinned version's
#: CloudFormation defines all five; the capacity-reservation warning serves its reserved-capacity feature.
INTERRUPTION_EVENTS: Mapping[str, tuple[str, str]] = {
    "health": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "capacity-reservation-interruption": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}
#: Controller policy documents, each attached as its own managed policy (each under IAM's size limit).
KARPENTER_POLICY_NAMES = ("node-lifecycle", "iam-integration", "cluster-integration")
#: The chart's default toleration, kept when ours are added (a values list replaces the default list).
CRITICAL_ADDONS_TOLERATION: Mapping[str, str] = {"key": "CriticalAddonsOnly", "operator": "Exists"}
#: Karpenter's documented controller resources (requests equal limits: Guaranteed QoS).
CONTROLLER_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "1", "memory": "1Gi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}

# --- cluster-autoscaler ----------------------------------------------------------------------------------

CLUSTER_AUTOSCALER_NAMESPACE = "kube-system"
CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
CLUSTER_AUTOSCALER_RELEASE = "cluster-autoscaler"
CA_ENABLED_TAG = "k8s.io/cluster-autoscaler/enabled"


def ca_owner_tag(cluster_name: str) -> str:
    """The ASG tag key naming the cluster that owns a group (value ``owned``)."""
    return f"k8s.io/cluster-autoscaler/{cluster_name}"


# --- EventBridge and SQS -----------------------------------------------------------------------------------


def interruption_event_patterns() -> dict[str, dict[str, list[str]]]:
    """EventBridge patterns routing interruption events to Karpenter's queue, keyed by rule identity."""
    return {key: {"source": [source], "detail-type": [detail]} for key, (source, detail) in INTERRUPTION_EVENTS.items()}


def interruption_queue_policy(queue_arn: str) -> PolicyDocument:
    """Queue policy: EventBridge (and SQS) may send; anything over plain HTTP is denied."""
    doc = iam.document(
        {
            "Sid": "EventBridgeSends",
            "Effect": "Allow",
            "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        },
        {
            "Sid": "DenyHTTP",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    return {"Id": "EC2InterruptionPolicy", **doc}


# --- IAM -------------------------------------------------------------------------------------------------


def karpenter_controller_policies(
    *, cluster_name: str, partition: str, region: str, account_id: str, node_role_arn: str, queue_arn: str
) -> dict[str, PolicyDocument]:
    """Karpenter v1's controller policy, split into documents keyed by ``KARPENTER_POLICY_NAMES``.

    Launches and deletions are scoped to resources tagged for this cluster and a NodePool, PassRole to
    the node role, SQS to the interruption queue, instance profiles to ones Karpenter tagged for this
    cluster and region.
    """
    ec2 = f"arn:{partition}:ec2:{region}"
    profiles = f"arn:{partition}:iam::{account_id}:instance-profile/*"
    cluster_tag = f"kubernetes.io/cluster/{cluster_name}"
    launched = [
        f"{ec2}:*:{kind}/*"
        for kind in ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")
    ]
    owned = {f"aws:ResourceTag/{cluster_tag}": "owned"}
    requested = {f"aws:RequestTag/{cluster_tag}": "owned", "aws:RequestTag/eks:eks-cluster-name": cluster_name}
    in_region = {"aws:RequestTag/topology.kubernetes.io/region": region}
    node_lifecycle = iam.document(
        {
            "Sid": "AllowScopedEC2InstanceAccessActions",
            "Effect": "Allow",
            "Resource": [
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                *(
                    f"{ec2}:*:{kind}/*"
                    for kind in ("security-group", "subnet", "capacity-reservation", "placement-group")
                ),
            ],
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
        },
        {
            "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
            "Effect": "Allow",
            "Resource": f"{ec2}:*:launch-template/*",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        },
        {
            "Sid": "AllowScopedEC2InstanceActionsWithTags",
            "Effect": "Allow",
            "Resource": launched,
            "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            "Condition": {"StringEquals": requested, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}},
        },
        {
            "Sid": "AllowScopedResourceCreationTagging",
            "Effect": "Allow",
            "Resource": launched,
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": {
                    **requested,
                    "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                },
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        },
        {
            "Sid": "AllowScopedResourceTagging",
            "Effect": "Allow",
            "Resource": f"{ec2}:*:instance/*",
            "Action": "ec2:CreateTags",
            "Condition": {
                "StringEquals": owned,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                },
            },
        },
        {
            "Sid": "AllowScopedDeletion",
            "Effect": "Allow",
            "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
            "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        },
    )
    node_class_requested = {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    node_class_owned = {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    owned_here = {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region}
    iam_integration = iam.document(
        {
            "Sid": "AllowPassingInstanceRole",
            "Effect": "Allow",
            "Resource": node_role_arn,
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        },
        {
            "Sid": "AllowScopedInstanceProfileCreationActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": ["iam:CreateInstanceProfile"],
            "Condition": {"StringEquals": {**requested, **in_region}, "StringLike": node_class_requested},
        },
        {
            "Sid": "AllowScopedInstanceProfileTagActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": ["iam:TagInstanceProfile"],
            "Condition": {
                "StringEquals": {**owned_here, **requested, **in_region},
                "StringLike": {**node_class_owned, **node_class_requested},
            },
        },
        {
            "Sid": "AllowScopedInstanceProfileActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": [
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            ],
            "Condition": {"StringEquals": owned_here, "StringLike": node_class_owned},
        },
        {
            "Sid": "AllowUnscopedInstanceProfileListAction",
            "Effect": "Allow",
            "Resource": "*",
            "Action": "iam:ListInstanceProfiles",
        },
        {
            "Sid": "AllowInstanceProfileReadActions",
            "Effect": "Allow",
            "Resource": profiles,
            "Action": "iam:GetInstanceProfile",
        },
    )
    cluster_integration = iam.document(
        {
            "Sid": "AllowAPIServerEndpointDiscovery",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}",
            "Action": "eks:DescribeCluster",
        },
        {
            "Sid": "AllowInterruptionQueueActions",
            "Effect": "Allow",
            "Resource": queue_arn,
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        },
        {
            "Sid": "AllowRegionalReadActions",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        },
        {
            "Sid": "AllowSSMReadActions",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
            "Action": "ssm:GetParameter",
        },
        {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Resource": "*", "Action": "pricing:GetProducts"},
    )
    return {
        "node-lifecycle": node_lifecycle,
        "iam-integration": iam_integration,
        "cluster-integration": cluster_integration,
    }


def cluster_autoscaler_policy(*, cluster_name: str, partition: str, region: str, account_id: str) -> PolicyDocument:
    """cluster-autoscaler with ASG auto-discovery: read anything, scale only this cluster's tagged groups."""
    return iam.document(
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
        },
        {
            "Sid": "DescribeNodeGroups",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*",
            "Action": "eks:DescribeNodegroup",
        },
        {
            "Sid": "ScaleOwnedGroups",
            "Effect": "Allow",
            "Resource": f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/{ca_owner_tag(cluster_name)}": "owned",
                    f"aws:ResourceTag/{CA_ENABLED_TAG}": "true",
                }
            },
        },
    )


# --- Helm values -----------------------------------------------------------------------------------------


def tolerations(items: Sequence[Toleration]) -> list[dict[str, str]]:
    """Kubernetes tolerations from settings (``value`` omitted with ``Exists``)."""
    return [
        {"key": t.key, "operator": t.operator, "effect": t.effect}
        | ({"value": t.value} if t.operator == "Equal" else {})
        for t in items
    ]


def karpenter_values(
    *,
    cluster_name: pulumi.Input[str],
    cluster_endpoint: pulumi.Input[str],
    interruption_queue: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    region: str,
    node_selector: Mapping[str, pulumi.Input[str]],
    node_tolerations: Sequence[Mapping[str, str]],
    replicas: int,
) -> dict[str, Any]:
    """Values of the karpenter chart: IRSA ServiceAccount, interruption queue, pinned to the system nodes.

    ``AWS_REGION`` is set because node IMDS hop limit 1 keeps the controller from asking IMDS for it.
    """
    return {
        "replicas": replicas,
        "serviceAccount": {
            "create": True,
            "name": KARPENTER_SERVICE_ACCOUNT,
            "annotations": {ROLE_ARN_ANNOTATION: role_arn},
        },
        "settings": {
            "clusterName": cluster_name,
            "clusterEndpoint": cluster_endpoint,
            "interruptionQueue": interruption_queue,
        },
        "nodeSelector": {"kubernetes.io/os": "linux", **node_selector},
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION), *(dict(t) for t in node_tolerations)],
        "controller": {
            "env": [{"name": "AWS_REGION", "value": region}],
            "resources": {kind: dict(amounts) for kind, amounts in CONTROLLER_RESOURCES.items()},
        },
    }


def cluster_autoscaler_values(
    *,
    cluster_name: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    region: str,
    image_tag: str,
    node_selector: Mapping[str, pulumi.Input[str]],
    node_tolerations: Sequence[Mapping[str, str]],
    balance_similar_node_groups: bool = False,
) -> dict[str, Any]:
    """Values of the cluster-autoscaler chart: ASG auto-discovery, IRSA ServiceAccount, placement.

    ``balance_similar_node_groups`` (with per-zone node groups) adds ``--balance-similar-node-groups``, which the EKS
    User Guide ("Managed node groups") asks for beside one node group per zone: the groups of a zone-spread set then
    grow together (the AWS comparator ignores ``eks.amazonaws.com/nodegroup``, the one label they differ in). The
    chart turns each ``extraArgs`` entry into ``--<key>=<value>`` and merges it into its defaults.
    """
    extra_args = {"extraArgs": {"balance-similar-node-groups": True}} if balance_similar_node_groups else {}
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": image_tag},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                "annotations": {ROLE_ARN_ANNOTATION: role_arn},
            }
        },
        "nodeSelector": dict(node_selector),
        "tolerations": [dict(t) for t in node_tolerations],
        **extra_args,
    }


# --- Karpenter manifests ---------------------------------------------------------------------------------


def node_pool(settings: KarpenterSettings, *, node_class: pulumi.Input[str], name: str = DEFAULT_NODE_POOL) -> Manifest:
    """The default NodePool: instance shape requirements, limits, disruption and node lifetime."""
    return {
        "apiVersion": NODE_POOL_API_VERSION,
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {"group": NODE_CLASS_GROUP, "kind": "EC2NodeClass", "name": node_class},
                    "requirements": [
                        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": list(settings.capacity_types),
                        },
                        {
                            "key": "karpenter.k8s.aws/instance-category",
                            "operator": "In",
                            "values": list(settings.instance_categories),
                        },
                        {
                            "key": "karpenter.k8s.aws/instance-generation",
                            "operator": "Gt",
                            "values": [str(settings.instance_generation_min - 1)],
                        },
                    ],
                    "expireAfter": settings.expire_after,
                }
            },
            "limits": {"cpu": str(settings.cpu_limit), "memory": f"{settings.memory_limit_gib}Gi"},
            "disruption": {
                "consolidationPolicy": settings.consolidation_policy,
                "consolidateAfter": settings.consolidate_after,
            },
        },
    }


def ec2_node_class(
    settings: KarpenterSettings,
    *,
    role: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    tags: Mapping[str, str],
    ami_alias: str,
    name: str = DEFAULT_NODE_CLASS,
) -> Manifest:
    """The default EC2NodeClass: pinned AMI, discovery by tag, IMDSv2 hop 1, encrypted gp3 root, tags.

    ``tags`` must be explicit: the provider's default_tags never reach instances Karpenter launches.
    """
    discovery = [{"tags": {KARPENTER_DISCOVERY_TAG: cluster_name}}]
    return {
        "apiVersion": NODE_CLASS_API_VERSION,
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {
            "role": role,
            "amiSelectorTerms": [{"alias": ami_alias}],
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": [dict(term) for term in discovery],
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [
                {
                    "deviceName": ROOT_DEVICE,
                    "rootVolume": True,
                    "ebs": {
                        "volumeSize": f"{settings.disk_size_gib}Gi",
                        "volumeType": "gp3",
                        "encrypted": True,
                        "deleteOnTermination": True,
                    },
                }
            ],
            "tags": dict(tags),
        },
    }
