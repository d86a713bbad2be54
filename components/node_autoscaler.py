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
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam_documents as iam
from components import karpenter_plan as plan
from components.context import AwsContext, ClusterRef
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import NamingContext
from components.tagging import KARPENTER_DISCOVERY_TAG
from components.versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHART,
)
from config import NodeAutoscalerSettings


@dataclass(frozen=True)
class NodeAutoscalerArgs:
    """Inputs of a NodeAutoscaler."""

    naming: NamingContext
    settings: NodeAutoscalerSettings
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
        if args.settings.engine == "karpenter":
            self._karpenter()
        elif args.settings.engine == "cluster-autoscaler":
            self._cluster_autoscaler()
        else:
            msg = f"engine {args.settings.engine!r} runs no autoscaler: declare no NodeAutoscaler"
            raise ValueError(msg)
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

    def _karpenter(self) -> None:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        node_role = aws.iam.Role(
            f"{name}-node-role",
            name=args.naming.platform_role("karpenter-node"),
            assume_role_policy=json.dumps(iam.service_trust_policy("ec2.amazonaws.com")),
            description="Nodes launched by Karpenter",
            permissions_boundary=args.account.permissions_boundary,
            opts=child,
        )
        node_prerequisites: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=iam.managed_policy_arn(args.account.partition, policy),
                opts=child,
            )
            for policy in iam.NODE_ROLE_POLICIES
        ]
        node_prerequisites.append(
            aws.eks.AccessEntry(
                f"{name}-node-access",
                cluster_name=args.cluster.name,
                principal_arn=node_role.arn,
                type="EC2_LINUX",
                opts=child,
            )
        )
        aws.ec2.Tag(
            f"{name}-cluster-sg-discovery",
            resource_id=args.cluster.security_group_id,
            key=KARPENTER_DISCOVERY_TAG,
            value=args.cluster.name,
            opts=child,
        )
        queue = self._interruption_queue()
        controller = self._karpenter_controller_role(node_role, queue)

        repository, chart, version = KARPENTER_CHART
        crds = k8s.helm.v3.Release(
            f"{name}-crds",
            name=plan.KARPENTER_CRD_RELEASE,
            chart=f"{repository}/{plan.KARPENTER_CRD_RELEASE}",
            version=version,
            namespace=plan.KARPENTER_NAMESPACE,
            atomic=True,
            cleanup_on_fail=True,
            opts=child,
        )
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name=plan.KARPENTER_RELEASE,
            chart=f"{repository}/{chart}",
            version=version,
            namespace=plan.KARPENTER_NAMESPACE,
            skip_crds=True,  # owned by the karpenter-crd release, which Helm upgrades
            atomic=True,
            cleanup_on_fail=True,
            values=plan.karpenter_values(
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
        settings = args.settings.karpenter
        node_class_manifest = plan.ec2_node_class(
            settings,
            role=node_role.name,
            cluster_name=args.cluster.name,
            tags=args.account.tags,
            ami_alias=KARPENTER_AMI_ALIAS,
        )
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-ec2nodeclass-{plan.DEFAULT_NODE_CLASS}",
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
        pool_manifest = plan.node_pool(settings, node_class=node_class_metadata.apply(lambda meta: str(meta["name"])))
        k8s.apiextensions.CustomResource(
            f"{name}-nodepool-{plan.DEFAULT_NODE_POOL}",
            api_version=pool_manifest["apiVersion"],
            kind=pool_manifest["kind"],
            metadata=pool_manifest["metadata"],
            spec=pool_manifest["spec"],
            # Same reason as the EC2NodeClass: CRDs and finalizer removal come from the releases.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )

        self.controller_role_arn = controller.role_arn
        self.helm_release_name = release.name.apply(lambda value: value or plan.KARPENTER_RELEASE)
        self.interruption_queue_name, self.interruption_queue_arn = queue.name, queue.arn
        self.node_role_name, self.node_role_arn = node_role.name, node_role.arn

    def _interruption_queue(self) -> aws.sqs.Queue:
        """The SQS queue Karpenter reads interruption events from, and the EventBridge rules feeding it."""
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        queue = aws.sqs.Queue(
            f"{name}-interruption-queue",
            name=args.naming.name("karpenter-interruption", "sqs_queue"),
            message_retention_seconds=plan.INTERRUPTION_QUEUE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruption-queue-policy",
            queue_url=queue.url,
            policy=queue.arn.apply(lambda arn: json.dumps(plan.interruption_queue_policy(arn))),
            opts=child,
        )
        for key, pattern in plan.interruption_event_patterns().items():
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
                target_id=plan.INTERRUPTION_TARGET_ID,
                opts=child,
            )
        return queue

    def _karpenter_controller_role(self, node_role: aws.iam.Role, queue: aws.sqs.Queue) -> IrsaRole:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        documents = pulumi.Output.all(args.cluster.name, node_role.arn, queue.arn).apply(
            lambda values: plan.karpenter_controller_policies(
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
            for key in plan.KARPENTER_POLICY_NAMES
        }
        return IrsaRole(
            f"{name}-controller",
            IrsaRoleArgs(
                role_name=args.naming.platform_role("karpenter-controller"),
                oidc_provider_arn=args.cluster.oidc_provider_arn,
                oidc_issuer_url=args.cluster.oidc_issuer_url,
                namespace=plan.KARPENTER_NAMESPACE,
                service_account=plan.KARPENTER_SERVICE_ACCOUNT,
                managed_policy_arns={key: policy.arn for key, policy in policies.items()},
                permissions_boundary=args.account.permissions_boundary,
            ),
            child,
        )

    # --- cluster-autoscaler ----------------------------------------------------------------------------

    def _cluster_autoscaler(self) -> None:
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        cluster_name = pulumi.Output.from_input(args.cluster.name)
        policy = cluster_name.apply(
            lambda cluster: json.dumps(
                plan.cluster_autoscaler_policy(
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
                oidc_provider_arn=args.cluster.oidc_provider_arn,
                oidc_issuer_url=args.cluster.oidc_issuer_url,
                namespace=plan.CLUSTER_AUTOSCALER_NAMESPACE,
                service_account=plan.CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                inline_policies={"cluster-autoscaler": policy},
            ),
            child,
        )
        discovery_tags: dict[str, tuple[pulumi.Input[str], str]] = {
            "enabled": (plan.CA_ENABLED_TAG, "true"),
            "owner": (cluster_name.apply(plan.ca_owner_tag), "owned"),
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

        ca = args.settings.cluster_autoscaler
        own_placement = bool(ca.node_selector or ca.tolerations)
        repository, chart, version = CLUSTER_AUTOSCALER_CHART
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name=plan.CLUSTER_AUTOSCALER_RELEASE,
            chart=chart,
            version=version,
            repository_opts={"repo": repository},
            namespace=plan.CLUSTER_AUTOSCALER_NAMESPACE,
            atomic=True,
            cleanup_on_fail=True,
            values=plan.cluster_autoscaler_values(
                cluster_name=args.cluster.name,
                role_arn=controller.role_arn,
                region=args.account.region,
                image_tag=CLUSTER_AUTOSCALER_IMAGE_TAGS[args.cluster.kubernetes_version],
                node_selector=ca.node_selector if own_placement else args.cluster.system_node_selector,
                node_tolerations=plan.tolerations(ca.tolerations) if own_placement else args.cluster.system_tolerations,
                balance_similar_node_groups=args.balance_similar_node_groups,
            ),
            # The role's inline policy (a child of the IrsaRole) is not an input of the release.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[controller]),
        )
        self.controller_role_arn = controller.role_arn
        self.helm_release_name = release.name.apply(lambda value: value or plan.CLUSTER_AUTOSCALER_RELEASE)


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
