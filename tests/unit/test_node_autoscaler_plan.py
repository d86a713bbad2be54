import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import node_autoscaler as plan
from components.iam_documents import MANAGED_POLICY_MAX_CHARS, compact_length
from components.limits import MAX_LENGTH
from components.scheduling import tolerations
from components.versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHART,
    SUPPORTED_KUBERNETES_VERSIONS,
)
from config import KarpenterSettings, NodeAutoscalerSettings, node_autoscaler_engine

CLUSTER = "eks-platform-dev"
ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:sqs:us-west-2:{ACCOUNT}:eks-platform-dev-karpenter-interruption"
NODE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/eks-platform-dev-karpenter-node"
REQUIRED_TAGS = {
    "Project": "eks-platform",
    "Environment": "dev",
    "Owner": "platform-team",
    "CostCenter": "CC-1042",
    "ManagedBy": "pulumi",
}
#: The cluster-autoscaler seed (000_*): a dedicated on-demand pool.
SEED_NODE_SELECTOR = {"dedicated": "clusterAutoscaler"}
SEED_TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "clusterAutoscaler", "effect": "NoSchedule"}
#: Actions allowed on "*" (reads only); everything that changes something must be scoped.
READ_ONLY_ON_ANY = re.compile(r"^(ec2:Describe\w+|pricing:GetProducts|iam:ListInstanceProfiles)$")


def karpenter(**settings_: Any) -> plan.KarpenterSpec:
    """The Karpenter spec ``settings.nodeAutoscaler.karpenter`` maps to."""
    spec = node_autoscaler_engine(NodeAutoscalerSettings(karpenter=KarpenterSettings(**settings_)))
    assert isinstance(spec, plan.KarpenterSpec)
    return spec


def controller_policies(cluster: str = CLUSTER, partition: str = "aws", region: str = "us-west-2") -> dict[str, Any]:
    return plan.karpenter_controller_policies(
        cluster_name=cluster,
        partition=partition,
        region=region,
        account_id=ACCOUNT,
        node_role_arn=NODE_ROLE_ARN,
        queue_arn=QUEUE_ARN,
    )


def statements(docs: dict[str, Any]) -> dict[str, Any]:
    return {s["Sid"]: s for doc in docs.values() for s in doc["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- EventBridge and SQS -------------------------------------------------------------------------------


def test_interruption_rules_match_karpenters_cloudformation():
    patterns = plan.interruption_event_patterns()
    assert patterns == {
        "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
        "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
        "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
        "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
        "capacity-reservation-interruption": {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"],
        },
    }


def test_queue_policy_lets_eventbridge_send_and_denies_plain_http():
    doc = plan.interruption_queue_policy(QUEUE_ARN)
    allow, deny = doc["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == QUEUE_ARN
    assert deny == {
        "Sid": "DenyHTTP",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE_ARN,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


# --- Karpenter controller policy -----------------------------------------------------------------------


def test_controller_policy_is_split_into_the_named_documents():
    assert tuple(controller_policies()) == plan.KARPENTER_POLICY_NAMES


@settings(max_examples=40, deadline=None)
@given(
    cluster=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=MAX_LENGTH["eks_cluster"]),
    partition=st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    region=st.sampled_from(["us-west-2", "cn-northwest-1", "us-gov-west-1", "ap-southeast-5"]),
)
def test_every_controller_document_fits_a_managed_policy(cluster, partition, region):
    for key, doc in controller_policies(cluster, partition, region).items():
        assert compact_length(doc) < MANAGED_POLICY_MAX_CHARS, key


def test_one_document_would_not_fit_with_the_longest_cluster_name():
    """Why the policy is split: all statements together exceed IAM's managed policy limit."""
    docs = controller_policies(cluster="c" * MAX_LENGTH["eks_cluster"])
    merged = {"Version": "2012-10-17", "Statement": [s for d in docs.values() for s in d["Statement"]]}
    assert compact_length(merged) > MANAGED_POLICY_MAX_CHARS


def test_controller_writes_are_scoped_and_only_reads_are_unscoped():
    for sid, statement in statements(controller_policies()).items():
        assert statement["Effect"] == "Allow"
        if "*" in as_list(statement["Resource"]):
            assert all(READ_ONLY_ON_ANY.match(action) for action in as_list(statement["Action"])), sid


def test_launches_require_this_clusters_request_tags():
    by_sid = statements(controller_policies())
    for sid in ("AllowScopedEC2InstanceActionsWithTags", "AllowScopedResourceCreationTagging"):
        condition = by_sid[sid]["Condition"]
        assert condition["StringEquals"][f"aws:RequestTag/kubernetes.io/cluster/{CLUSTER}"] == "owned"
        assert condition["StringEquals"]["aws:RequestTag/eks:eks-cluster-name"] == CLUSTER
        assert condition["StringLike"] == {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    deletion = by_sid["AllowScopedDeletion"]
    assert set(deletion["Action"]) == {"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"}
    assert deletion["Condition"]["StringEquals"] == {f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER}": "owned"}


def test_passrole_sqs_and_eks_are_limited_to_this_clusters_resources():
    by_sid = statements(controller_policies())
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == NODE_ROLE_ARN
    assert by_sid["AllowPassingInstanceRole"]["Action"] == "iam:PassRole"
    assert by_sid["AllowInterruptionQueueActions"]["Resource"] == QUEUE_ARN
    assert by_sid["AllowAPIServerEndpointDiscovery"]["Resource"] == (
        f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/{CLUSTER}"
    )
    assert by_sid["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}
    assert by_sid["AllowSSMReadActions"]["Resource"] == "arn:aws:ssm:us-west-2::parameter/aws/service/*"
    for sid in ("AllowScopedInstanceProfileTagActions", "AllowScopedInstanceProfileActions"):
        scoped = by_sid[sid]["Condition"]["StringEquals"]
        assert scoped[f"aws:ResourceTag/kubernetes.io/cluster/{CLUSTER}"] == "owned"
        assert scoped["aws:ResourceTag/topology.kubernetes.io/region"] == "us-west-2"


def test_arns_follow_the_given_partition_and_region():
    docs = controller_policies(partition="aws-us-gov", region="us-gov-west-1")
    arns = [r for s in statements(docs).values() for r in as_list(s["Resource"]) if r.startswith("arn:")]
    generated = [a for a in arns if a not in (NODE_ROLE_ARN, QUEUE_ARN)]
    assert generated
    assert all(a.startswith("arn:aws-us-gov:") for a in generated)
    assert all(":us-west-2:" not in a for a in generated)


# --- cluster-autoscaler ---------------------------------------------------------------------------------


def test_cluster_autoscaler_may_only_scale_groups_tagged_for_this_cluster():
    doc = plan.cluster_autoscaler_policy(cluster_name=CLUSTER, partition="aws", region="us-west-2", account_id=ACCOUNT)
    describe, node_groups, scale = doc["Statement"]
    assert describe["Resource"] == "*"
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in describe["Action"])
    assert node_groups["Resource"] == f"arn:aws:eks:us-west-2:{ACCOUNT}:nodegroup/{CLUSTER}/*"
    assert set(scale["Action"]) == {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert scale["Condition"] == {
        "StringEquals": {
            f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
        }
    }
    assert compact_length(doc) < MANAGED_POLICY_MAX_CHARS


def test_seed_placement_is_expressible_in_settings_and_reaches_the_values():
    ca = node_autoscaler_engine(
        NodeAutoscalerSettings.model_validate(
            {
                "engine": "cluster-autoscaler",
                "clusterAutoscaler": {"nodeSelector": SEED_NODE_SELECTOR, "tolerations": [SEED_TOLERATION]},
            }
        )
    )
    assert isinstance(ca, plan.ClusterAutoscalerSpec)
    values = plan.cluster_autoscaler_values(
        cluster_name=CLUSTER,
        role_arn="arn:aws:iam::123456789012:role/ca",
        region="us-west-2",
        image_tag="v1.34.5",
        node_selector=ca.node_selector,
        node_tolerations=tolerations(ca.tolerations),
    )
    assert values["nodeSelector"] == SEED_NODE_SELECTOR
    assert values["tolerations"] == [SEED_TOLERATION]
    assert values["autoDiscovery"] == {"clusterName": CLUSTER}
    assert values["awsRegion"] == "us-west-2"
    assert values["cloudProvider"] == "aws"
    assert values["rbac"]["serviceAccount"]["name"] == plan.CLUSTER_AUTOSCALER_SERVICE_ACCOUNT
    assert values["rbac"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ca"
    }


def test_per_zone_groups_are_balanced_through_the_charts_extra_args():
    # EKS User Guide, "Managed node groups": one node group per zone, with --balance-similar-node-groups; the chart's
    # values.yaml takes flags as extraArgs entries (merged into its defaults: logtostderr, stderrthreshold, v).
    def values(*, balance: bool) -> dict[str, object]:
        return plan.cluster_autoscaler_values(
            cluster_name=CLUSTER,
            role_arn="arn:aws:iam::123456789012:role/ca",
            region="us-west-2",
            image_tag="v1.35.2",
            node_selector={},
            node_tolerations=[],
            balance_similar_node_groups=balance,
        )

    assert values(balance=True)["extraArgs"] == {"balance-similar-node-groups": True}
    assert "extraArgs" not in values(balance=False)


# --- Karpenter Helm values and manifests ----------------------------------------------------------------


def test_karpenter_values_wire_cluster_queue_role_and_system_placement():
    system_taint = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    values = plan.karpenter_values(
        cluster_name=CLUSTER,
        cluster_endpoint="https://example.eks.amazonaws.com",
        interruption_queue="q",
        role_arn="arn:aws:iam::123456789012:role/k",
        region="us-west-2",
        node_selector={"eks.amazonaws.com/nodegroup": "eks-platform-dev-system"},
        node_tolerations=[system_taint],
        replicas=2,
    )
    assert values["settings"] == {
        "clusterName": CLUSTER,
        "clusterEndpoint": "https://example.eks.amazonaws.com",
        "interruptionQueue": "q",
    }
    assert values["serviceAccount"] == {
        "create": True,
        "name": "karpenter",
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/k"},
    }
    assert values["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "eks.amazonaws.com/nodegroup": "eks-platform-dev-system",
    }
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}, system_taint]
    assert {"name": "AWS_REGION", "value": "us-west-2"} in values["controller"]["env"]


def test_node_pool_follows_the_settings():
    spec = karpenter(
        capacity_types=["spot", "on-demand"],
        instance_categories=["c", "m"],
        instance_generation_min=6,
        cpu_limit=64,
        memory_limit_gib=256,
        consolidation_policy="WhenEmpty",
        consolidate_after="5m",
        expire_after="168h",
    )
    pool = plan.node_pool(spec, node_class="default")
    assert pool["apiVersion"] == "karpenter.sh/v1"
    assert pool["kind"] == "NodePool"
    assert pool["metadata"] == {"name": "default"}
    template = pool["spec"]["template"]["spec"]
    assert template["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    requirements = {r["key"]: (r["operator"], r["values"]) for r in template["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ("In", ["spot", "on-demand"])
    assert requirements["karpenter.k8s.aws/instance-category"] == ("In", ["c", "m"])
    assert requirements["karpenter.k8s.aws/instance-generation"] == ("Gt", ["5"])
    assert requirements["kubernetes.io/arch"] == ("In", ["amd64"])
    assert all(isinstance(v, str) for r in template["requirements"] for v in r["values"])
    assert template["expireAfter"] == "168h"
    assert pool["spec"]["limits"] == {"cpu": "64", "memory": "256Gi"}
    assert pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"}


def test_ec2_node_class_is_pinned_discovered_hardened_encrypted_and_tagged():
    node_class = plan.ec2_node_class(
        karpenter(disk_size_gib=80),
        role="eks-platform-dev-karpenter-node",
        cluster_name=CLUSTER,
        tags=REQUIRED_TAGS,
        ami_alias=KARPENTER_AMI_ALIAS,
    )
    assert node_class["apiVersion"] == "karpenter.k8s.aws/v1"
    assert node_class["kind"] == "EC2NodeClass"
    spec = node_class["spec"]
    assert spec["role"] == "eks-platform-dev-karpenter-node"
    assert "instanceProfile" not in spec
    assert spec["amiSelectorTerms"] == [{"alias": KARPENTER_AMI_ALIAS}]
    discovery = [{"tags": {"karpenter.sh/discovery": CLUSTER}}]
    assert spec["subnetSelectorTerms"] == discovery
    assert spec["securityGroupSelectorTerms"] == discovery
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (root,) = spec["blockDeviceMappings"]
    assert root["rootVolume"] is True
    assert root["ebs"] == {"volumeSize": "80Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}
    assert spec["tags"] == REQUIRED_TAGS


def test_node_class_tags_avoid_the_keys_karpenter_rejects():
    restricted = re.compile(
        r"^(eks:eks-cluster-name|kubernetes\.io/cluster.*|karpenter\.sh/node(pool|claim)|karpenter\.k8s\.aws/ec2nodeclass)$"
    )
    tags = plan.ec2_node_class(
        karpenter(), role="r", cluster_name=CLUSTER, tags=REQUIRED_TAGS, ami_alias=KARPENTER_AMI_ALIAS
    )["spec"]["tags"]
    assert not [key for key in tags if restricted.match(key)]


# --- Pinned versions -------------------------------------------------------------------------------------


def test_ami_alias_is_pinned_not_latest():
    assert re.fullmatch(r"al2023@v\d{8}", KARPENTER_AMI_ALIAS)


@pytest.mark.parametrize("chart", [KARPENTER_CHART, CLUSTER_AUTOSCALER_CHART])
def test_charts_are_pinned_to_exact_versions(chart):
    repository, name, version = chart
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), name
    assert repository.startswith(("oci://", "https://"))


def test_karpenter_chart_is_v1():
    assert KARPENTER_CHART[2].startswith("1.")


@pytest.mark.parametrize("kubernetes_version", SUPPORTED_KUBERNETES_VERSIONS)
def test_cluster_autoscaler_image_minor_matches_kubernetes(kubernetes_version):
    assert CLUSTER_AUTOSCALER_IMAGE_TAGS[kubernetes_version].startswith(f"v{kubernetes_version}.")
