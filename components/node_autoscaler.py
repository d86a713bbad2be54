"""NodeAutoscaler: Karpenter (default) or the Kubernetes cluster-autoscaler, with its AWS side.

Karpenter: an IRSA controller role with the v1 controller policy (several managed policies, each under
IAM's size limit), an SSE-encrypted SQS interruption queue fed by EventBridge rules, a node role with an
``EC2_LINUX`` access entry, the karpenter-crd and karpenter Helm releases, and the default NodePool and
EC2NodeClass. cluster-autoscaler: an IRSA role that may only scale this cluster's tagged groups, the
discovery tags on each managed node group's ASG, and its Helm release.

Controller identity is IRSA, not EKS Pod Identity: every other platform role uses IRSA, and the policy
pack's stack check requires each ServiceAccount ``eks.amazonaws.com/role-arn`` annotation to point at a
role whose trust policy names exactly that namespace/ServiceAccount. Pod Identity roles trust
``pods.eks.amazonaws.com`` and would not pass it.

No instance profile is created: Karpenter v1 creates and tags one per EC2NodeClass from ``spec.role``
(its controller policy allows instance-profile management only for profiles tagged for this cluster and
region), and an unused pre-made profile would only drift.

The pure half comes first: the engines' specs (what the settings map to), IAM documents, EventBridge patterns,
Helm values and manifests, plain data in and out. IAM documents take plain strings (the component calls them
inside an ``apply``); Helm values and Karpenter manifests may carry Pulumi inputs as leaf values (role ARNs, the
cluster name), which the SDK resolves when the resource is registered.

Sources: Karpenter v1.14 getting-started CloudFormation (controller policies, interruption queue and
rules), the cluster-autoscaler AWS README (its IAM policy and ASG discovery tags).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam_documents as iam
from components.context import AwsContext, ClusterRef
from components.helm_release import pinned_release, release_name
from components.iam_documents import PolicyDocument
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import ROLE_ARN_ANNOTATION, NamingContext
from components.node_identity import node_identity
from components.scheduling import Toleration, linux_node_selector, tolerations
from components.tagging import KARPENTER_DISCOVERY_TAG
from components.versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHART,
    ROOT_DEVICE,
)

Manifest = dict[str, Any]


# --- what the settings map to (config.node_autoscaler_engine) -------------------------------------------


@dataclass(frozen=True)
class KarpenterSpec:
    """Karpenter as the engine: the shape of its default NodePool and EC2NodeClass."""

    #: ``karpenter.sh/capacity-type`` values (``on-demand``, ``spot``).
    capacity_types: tuple[str, ...]
    #: EC2 instance categories (``c``, ``m``, ``r``...) and the smallest generation allowed.
    instance_categories: tuple[str, ...]
    instance_generation_min: int
    #: NodePool limits on total vCPUs and memory.
    cpu_limit: int
    memory_limit_gib: int
    #: ``WhenEmptyOrUnderutilized`` or ``WhenEmpty``, and the wait before consolidating (``30s``).
    consolidation_policy: str
    consolidate_after: str
    #: Node lifetime (``720h``, ``Never``).
    expire_after: str
    #: Size of the encrypted gp3 root volume.
    disk_size_gib: int


@dataclass(frozen=True)
class ClusterAutoscalerSpec:
    """The cluster-autoscaler as the engine, and where it runs (neither given: on the system node group)."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()


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
CRITICAL_ADDONS_TOLERATION = Toleration("CriticalAddonsOnly", operator="Exists")
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
        "nodeSelector": linux_node_selector(node_selector),
        "tolerations": [*tolerations([CRITICAL_ADDONS_TOLERATION]), *(dict(t) for t in node_tolerations)],
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


def node_pool(spec: KarpenterSpec, *, node_class: pulumi.Input[str], name: str = DEFAULT_NODE_POOL) -> Manifest:
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
                            "values": list(spec.capacity_types),
                        },
                        {
                            "key": "karpenter.k8s.aws/instance-category",
                            "operator": "In",
                            "values": list(spec.instance_categories),
                        },
                        {
                            "key": "karpenter.k8s.aws/instance-generation",
                            "operator": "Gt",
                            "values": [str(spec.instance_generation_min - 1)],
                        },
                    ],
                    "expireAfter": spec.expire_after,
                }
            },
            "limits": {"cpu": str(spec.cpu_limit), "memory": f"{spec.memory_limit_gib}Gi"},
            "disruption": {
                "consolidationPolicy": spec.consolidation_policy,
                "consolidateAfter": spec.consolidate_after,
            },
        },
    }


def ec2_node_class(
    spec: KarpenterSpec,
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
                        "volumeSize": f"{spec.disk_size_gib}Gi",
                        "volumeType": "gp3",
                        "encrypted": True,
                        "deleteOnTermination": True,
                    },
                }
            ],
            "tags": dict(tags),
        },
    }


# --- the component ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeAutoscalerArgs:
    """Inputs of a NodeAutoscaler."""

    naming: NamingContext
    #: The engine, Karpenter or the cluster-autoscaler, with its own settings.
    engine: KarpenterSpec | ClusterAutoscalerSpec
    #: The cluster (its security group is tagged for Karpenter's selector; the controller runs on its system group).
    cluster: ClusterRef
    #: Account, region, required tags (Karpenter puts them on what it launches) and permissions boundary.
    account: AwsContext
    #: Managed node groups by name; with cluster-autoscaler their ASGs get the discovery tags.
    node_groups: Mapping[str, aws.eks.NodeGroup]
    #: Controller replicas (Karpenter spreads them over nodes and zones; use 1 with a one-node system group).
    controller_replicas: int = 2
    #: cluster-autoscaler: balance similar node groups (set when node groups are per zone).
    balance_similar_node_groups: bool = False


class NodeAutoscaler(pulumi.ComponentResource):
    """Outputs: the controller role, the Helm release name and, with Karpenter, its queue and node role."""

    controller_role_arn: pulumi.Output[str]
    helm_release_name: pulumi.Output[str]
    interruption_queue_name: pulumi.Output[str] | None = None
    interruption_queue_arn: pulumi.Output[str] | None = None
    node_role_name: pulumi.Output[str] | None = None
    node_role_arn: pulumi.Output[str] | None = None

    def __init__(self, name: str, args: NodeAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:NodeAutoscaler", name, None, opts)
        self._name, self._args = name, args
        if isinstance(args.engine, KarpenterSpec):
            self._karpenter(args.engine)
        else:
            self._cluster_autoscaler(args.engine)
        self.register_outputs(
            {
                "controllerRoleArn": self.controller_role_arn,
                "helmReleaseName": self.helm_release_name,
                "interruptionQueueName": self.interruption_queue_name,
                "interruptionQueueArn": self.interruption_queue_arn,
                "nodeRoleName": self.node_role_name,
                "nodeRoleArn": self.node_role_arn,
            }
        )

    # --- Karpenter -------------------------------------------------------------------------------------

    def _karpenter(self, spec: KarpenterSpec) -> None:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        identity = node_identity(
            name,
            parent=self,
            naming=args.naming,
            account=args.account,
            cluster_name=args.cluster.name,
            platform_role="karpenter-node",
            description="Nodes launched by Karpenter",
        )
        node_role, node_prerequisites = identity.role, identity.prerequisites
        aws.ec2.Tag(
            f"{name}-cluster-sg-discovery",
            resource_id=args.cluster.security_group_id,
            key=KARPENTER_DISCOVERY_TAG,
            value=args.cluster.name,
            opts=child,
        )
        queue = self._interruption_queue()
        controller = self._karpenter_controller_role(node_role, queue)

        repository, _, version = KARPENTER_CHART
        crds = pinned_release(
            f"{name}-crds",
            (repository, KARPENTER_CRD_RELEASE, version),  # karpenter-crd, of the same repository and version
            name=KARPENTER_CRD_RELEASE,
            namespace=KARPENTER_NAMESPACE,
            opts=child,
        )
        release = pinned_release(
            f"{name}-release",
            KARPENTER_CHART,
            name=KARPENTER_RELEASE,
            namespace=KARPENTER_NAMESPACE,
            skip_crds=True,  # owned by the karpenter-crd release, which Helm upgrades
            values=karpenter_values(
                cluster_name=args.cluster.name,
                cluster_endpoint=args.cluster.endpoint,
                interruption_queue=queue.name,
                role_arn=controller.role_arn,
                region=args.account.region,
                node_selector=args.cluster.system_node_selector,
                node_tolerations=args.cluster.system_tolerations,
                replicas=args.controller_replicas,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The controller watches its CRDs and calls EC2/SQS at start: the CRDs and the role's policy
                # attachments (children of the IrsaRole) are not inputs of this release.
                depends_on=[crds, controller],
            ),
        )
        node_class_manifest = ec2_node_class(
            spec,
            role=node_role.name,
            cluster_name=args.cluster.name,
            tags=args.account.tags,
            ami_alias=KARPENTER_AMI_ALIAS,
        )
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-ec2nodeclass-{DEFAULT_NODE_CLASS}",
            api_version=node_class_manifest["apiVersion"],
            kind=node_class_manifest["kind"],
            metadata=node_class_manifest["metadata"],
            spec=node_class_manifest["spec"],
            opts=pulumi.ResourceOptions(
                parent=self,
                # Cluster-scoped CRs have no namespace to take from the release: the CRDs come from the
                # releases, and the controller must outlive these objects to remove their finalizers on
                # delete. Nodes may only launch once their role's policies and access entry exist.
                depends_on=[release, *node_prerequisites],
            ),
        )
        # The SDK sets output attributes on CustomResource at runtime; its class declares none.
        node_class_metadata: pulumi.Output[Mapping[str, Any]] = node_class.metadata  # type: ignore[attr-defined]
        pool_manifest = node_pool(spec, node_class=node_class_metadata.apply(lambda meta: str(meta["name"])))
        k8s.apiextensions.CustomResource(
            f"{name}-nodepool-{DEFAULT_NODE_POOL}",
            api_version=pool_manifest["apiVersion"],
            kind=pool_manifest["kind"],
            metadata=pool_manifest["metadata"],
            spec=pool_manifest["spec"],
            # Same reason as the EC2NodeClass: CRDs and finalizer removal come from the releases.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )

        self.controller_role_arn = controller.role_arn
        self.helm_release_name = release_name(release, KARPENTER_RELEASE)
        self.interruption_queue_name, self.interruption_queue_arn = queue.name, queue.arn
        self.node_role_name, self.node_role_arn = node_role.name, node_role.arn

    def _interruption_queue(self) -> aws.sqs.Queue:
        """The SQS queue Karpenter reads interruption events from, and the EventBridge rules feeding it."""
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            f"{name}-interruption-queue",
            name=args.naming.name("karpenter-interruption", "sqs_queue"),
            message_retention_seconds=INTERRUPTION_QUEUE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruption-queue-policy",
            queue_url=queue.url,
            policy=queue.arn.apply(lambda arn: json.dumps(interruption_queue_policy(arn))),
            opts=child,
        )
        for key, pattern in interruption_event_patterns().items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}-rule",
                name=args.naming.name(f"karpenter-{key}", "eventbridge_rule"),
                description=f"Karpenter interruption handling: {pattern['detail-type'][0]}",
                event_pattern=json.dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{key}-target",
                rule=rule.name,
                arn=queue.arn,
                target_id=INTERRUPTION_TARGET_ID,
                opts=child,
            )
        return queue

    def _karpenter_controller_role(self, node_role: aws.iam.Role, queue: aws.sqs.Queue) -> IrsaRole:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        documents = pulumi.Output.all(args.cluster.name, node_role.arn, queue.arn).apply(
            lambda values: karpenter_controller_policies(
                cluster_name=values[0],
                partition=args.account.partition,
                region=args.account.region,
                account_id=args.account.account_id,
                node_role_arn=values[1],
                queue_arn=values[2],
            )
        )
        policies = {
            key: aws.iam.Policy(
                f"{name}-controller-{key}",
                name=args.naming.name(f"karpenter-controller-{key}", "iam_policy"),
                description=f"Karpenter controller: {key}",
                policy=documents.apply(functools.partial(_policy_json, key=key)),
                opts=child,
            )
            for key in KARPENTER_POLICY_NAMES
        }
        return IrsaRole(
            f"{name}-controller",
            IrsaRoleArgs(
                role_name=args.naming.platform_role("karpenter-controller"),
                oidc=args.cluster.oidc,
                namespace=KARPENTER_NAMESPACE,
                service_account=KARPENTER_SERVICE_ACCOUNT,
                managed_policy_arns={key: policy.arn for key, policy in policies.items()},
                permissions_boundary=args.account.permissions_boundary,
            ),
            child,
        )

    # --- cluster-autoscaler ----------------------------------------------------------------------------

    def _cluster_autoscaler(self, ca: ClusterAutoscalerSpec) -> None:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        cluster_name = pulumi.Output.from_input(args.cluster.name)
        policy = cluster_name.apply(
            lambda cluster: json.dumps(
                cluster_autoscaler_policy(
                    cluster_name=cluster,
                    partition=args.account.partition,
                    region=args.account.region,
                    account_id=args.account.account_id,
                )
            )
        )
        controller = IrsaRole(
            f"{name}-controller",
            IrsaRoleArgs(
                role_name=args.naming.platform_role("cluster-autoscaler"),
                permissions_boundary=args.account.permissions_boundary,
                oidc=args.cluster.oidc,
                namespace=CLUSTER_AUTOSCALER_NAMESPACE,
                service_account=CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                inline_policies={"cluster-autoscaler": policy},
            ),
            child,
        )
        discovery_tags: dict[str, tuple[pulumi.Input[str], str]] = {
            "enabled": (CA_ENABLED_TAG, "true"),
            "owner": (cluster_name.apply(ca_owner_tag), "owned"),
        }
        for group, node_group in sorted(args.node_groups.items()):
            asg_name = node_group.resources.apply(first_autoscaling_group)
            for key, (tag_key, tag_value) in discovery_tags.items():
                aws.autoscaling.Tag(
                    f"{name}-{group}-asg-{key}",
                    autoscaling_group_name=asg_name,
                    tag={"key": tag_key, "value": tag_value, "propagate_at_launch": False},
                    opts=child,
                )

        own_placement = bool(ca.node_selector or ca.tolerations)
        release = pinned_release(
            f"{name}-release",
            CLUSTER_AUTOSCALER_CHART,
            name=CLUSTER_AUTOSCALER_RELEASE,
            namespace=CLUSTER_AUTOSCALER_NAMESPACE,
            values=cluster_autoscaler_values(
                cluster_name=args.cluster.name,
                role_arn=controller.role_arn,
                region=args.account.region,
                image_tag=CLUSTER_AUTOSCALER_IMAGE_TAGS[args.cluster.kubernetes_version],
                node_selector=ca.node_selector if own_placement else args.cluster.system_node_selector,
                node_tolerations=tolerations(ca.tolerations) if own_placement else args.cluster.system_tolerations,
                balance_similar_node_groups=args.balance_similar_node_groups,
            ),
            # The role's inline policy (a child of the IrsaRole) is not an input of the release.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[controller]),
        )
        self.controller_role_arn = controller.role_arn
        self.helm_release_name = release_name(release, CLUSTER_AUTOSCALER_RELEASE)


def _policy_json(documents: Mapping[str, iam.PolicyDocument], key: str) -> str:
    return json.dumps(documents[key])


def first_autoscaling_group(resources: Sequence[aws.eks.outputs.NodeGroupResource] | None) -> str:
    """The name of a managed node group's (single) Auto Scaling group from its ``resources`` output."""
    groups = resources[0].autoscaling_groups if resources else None
    name = groups[0].name if groups else None
    if not name:
        msg = "the node group reports no Auto Scaling group"
        raise ValueError(msg)
    return name
