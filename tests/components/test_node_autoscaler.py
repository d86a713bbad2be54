"""NodeAutoscaler under mocks, both engines, preview and update."""

import json
from typing import Any

import pulumi_aws as aws
import pytest

from components import node_autoscaler as plan_
from components.context import AwsContext, ClusterRef
from components.iam_documents import MANAGED_POLICY_MAX_CHARS, compact_length
from components.naming import NamingContext
from components.node_autoscaler import NodeAutoscaler, NodeAutoscalerArgs, first_autoscaling_group
from components.versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHART,
)
from config import NodeAutoscalerSettings, node_autoscaler_engine
from tools.harness import MODES, UNKNOWN, Mode, Plan, Registration, run_callable
from tools.mocks import ACCOUNT_ID, OIDC_ISSUER_URL

NAMING = NamingContext("eks-platform", "test")
CLUSTER = NAMING.cluster_name
TAGS = {"Project": "eks-platform", "Environment": "test", "Owner": "o", "CostCenter": "c", "ManagedBy": "pulumi"}
SYSTEM_SELECTOR = {"eks.amazonaws.com/nodegroup": NAMING.name("system", "eks_node_group")}
SYSTEM_TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
#: The cluster-autoscaler seed (000_*): its values.yaml placement, verbatim.
SEED_NODE_SELECTOR = {"dedicated": "clusterAutoscaler"}
SEED_TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "clusterAutoscaler", "effect": "NoSchedule"}
GROUPS = ("batch", "system")

COMPONENT = "eksplatform:platform:NodeAutoscaler"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"


def autoscaler_plan(mode: Mode, settings: dict[str, Any] | None = None) -> Plan:
    engine = node_autoscaler_engine(NodeAutoscalerSettings.model_validate(settings or {}))

    def body() -> None:
        cluster = aws.eks.Cluster(
            "cluster",
            name=CLUSTER,
            role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/cluster",
            vpc_config={"subnet_ids": ["subnet-a", "subnet-b"]},
        )
        oidc = aws.iam.OpenIdConnectProvider("oidc", url=OIDC_ISSUER_URL, client_id_lists=["sts.amazonaws.com"])
        node_groups = {
            group: aws.eks.NodeGroup(
                f"ng-{group}",
                cluster_name=cluster.name,
                node_group_name=NAMING.name(group, "eks_node_group"),
                node_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/node",
                subnet_ids=["subnet-a", "subnet-b"],
                scaling_config={"min_size": 1, "max_size": 3, "desired_size": 1},
            )
            for group in GROUPS
        }
        NodeAutoscaler(
            "autoscaler",
            NodeAutoscalerArgs(
                naming=NAMING,
                engine=engine,
                cluster=ClusterRef(
                    name=cluster.name,
                    endpoint=cluster.endpoint,
                    oidc_provider_arn=oidc.arn,
                    oidc_issuer_url=OIDC_ISSUER_URL,
                    security_group_id=cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or ""),
                    kubernetes_version="1.34",
                    system_node_selector={"eks.amazonaws.com/nodegroup": node_groups["system"].node_group_name},
                    system_tolerations=[SYSTEM_TOLERATION],
                ),
                account=AwsContext(account_id=ACCOUNT_ID, partition="aws", region="us-west-2", tags=TAGS),
                node_groups=node_groups,
            ),
        )

    return run_callable(body, mode=mode)


@pytest.fixture(scope="module", params=MODES)
def karpenter(request: pytest.FixtureRequest) -> Plan:
    return autoscaler_plan(request.param)


@pytest.fixture(scope="module", params=MODES)
def cluster_autoscaler(request: pytest.FixtureRequest) -> Plan:
    seed = {"nodeSelector": SEED_NODE_SELECTOR, "tolerations": [SEED_TOLERATION]}
    return autoscaler_plan(request.param, {"engine": "cluster-autoscaler", "clusterAutoscaler": seed})


def only(plan: Plan, type_token: str) -> Registration:
    (registration,) = plan.by_type(type_token)
    return registration


def document(value: str | dict[str, Any]) -> dict[str, Any]:
    parsed = json.loads(value) if isinstance(value, str) else value
    assert isinstance(parsed, dict)
    return parsed


def unknown_in_preview(plan: Plan, *documents: object) -> bool:
    """In a preview, check that documents naming not-yet-created ARNs are unknown and return True."""
    if plan.mode != "preview":
        return False
    assert all(doc == UNKNOWN for doc in documents)
    return True


def irsa_subject(plan: Plan, role_name: str) -> str:
    role = plan.one(ROLE, f"{role_name}-role")
    (statement,) = document(role.inputs["assumeRolePolicy"])["Statement"]
    (subject,) = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert isinstance(subject, str)
    return subject


# --- Karpenter ------------------------------------------------------------------------------------------


def test_every_child_is_parented_to_the_component(karpenter):
    component = only(karpenter, COMPONENT)
    direct = karpenter.children_of(component.urn)
    assert {r.name for r in direct} >= {
        "autoscaler-node-role",
        "autoscaler-interruption-queue",
        "autoscaler-controller",
        "autoscaler-crds",
        "autoscaler-release",
        "autoscaler-ec2nodeclass-default",
        "autoscaler-nodepool-default",
    }
    assert all(r.name.startswith("autoscaler-") for r in direct)


def test_interruption_queue_is_encrypted_short_lived_and_tls_only(karpenter):
    queue = only(karpenter, "aws:sqs/queue:Queue")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 300
    assert queue.inputs["name"] == "eks-platform-test-karpenter-interruption"
    queue_policy = only(karpenter, "aws:sqs/queuePolicy:QueuePolicy")
    assert queue_policy.inputs["queueUrl"] == karpenter.seen(queue, "url")
    if karpenter.mode == "preview":  # the policy names the queue's ARN, unknown until it exists
        assert queue_policy.inputs["policy"] == UNKNOWN
        return
    allow, deny = document(queue_policy.inputs["policy"])["Statement"]
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == queue.outputs["arn"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_eventbridge_rules_route_interruptions_to_the_queue(karpenter):
    queue_arn = karpenter.seen(only(karpenter, "aws:sqs/queue:Queue"), "arn")
    expected = {
        "health": ("aws.health", "AWS Health Event"),
        "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        "state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
        "capacity-reservation-interruption": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
    }
    assert len(karpenter.by_type("aws:cloudwatch/eventRule:EventRule")) == len(expected)
    for key, (source, detail_type) in expected.items():
        rule = karpenter.one("aws:cloudwatch/eventRule:EventRule", f"autoscaler-{key}-rule")
        assert json.loads(rule.inputs["eventPattern"]) == {"source": [source], "detail-type": [detail_type]}
        target = karpenter.one("aws:cloudwatch/eventTarget:EventTarget", f"autoscaler-{key}-target")
        assert target.inputs["arn"] == queue_arn
        assert target.inputs["rule"] == rule.outputs["name"]
        assert target.inputs["targetId"] == "KarpenterInterruptionQueueTarget"


def test_node_role_joins_through_an_ec2_linux_access_entry(karpenter):
    node_role = karpenter.one(ROLE, "autoscaler-node-role")
    assert document(node_role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    entry = only(karpenter, "aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == karpenter.seen(node_role, "arn")
    assert entry.inputs["clusterName"] == CLUSTER
    attached = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in karpenter.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == node_role.outputs["name"]
    }
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonSSMManagedInstanceCore",
    }
    assert not karpenter.by_type("aws:iam/instanceProfile:InstanceProfile")


def test_cluster_security_group_carries_the_discovery_tag(karpenter):
    cluster = karpenter.one("aws:eks/cluster:Cluster", "cluster")
    tag = only(karpenter, "aws:ec2/tag:Tag")
    assert tag.inputs == {
        "resourceId": karpenter.seen(cluster, "vpcConfig")["clusterSecurityGroupId"]
        if karpenter.mode == "update"
        else UNKNOWN,
        "key": "karpenter.sh/discovery",
        "value": CLUSTER,
    }


def test_controller_is_irsa_with_size_safe_scoped_managed_policies(karpenter):
    role = karpenter.one(ROLE, "autoscaler-controller-role")
    policies = karpenter.by_type("aws:iam/policy:Policy")
    if unknown_in_preview(karpenter, role.inputs["assumeRolePolicy"], *(p.inputs["policy"] for p in policies)):
        return
    assert irsa_subject(karpenter, "autoscaler-controller") == "system:serviceaccount:kube-system:karpenter"
    controller_role = karpenter.one(ROLE, "autoscaler-controller-role")
    policies = karpenter.by_type("aws:iam/policy:Policy")
    assert sorted(p.name for p in policies) == sorted(
        f"autoscaler-controller-{k}" for k in plan_.KARPENTER_POLICY_NAMES
    )
    attached = {
        r.inputs["policyArn"]
        for r in karpenter.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == controller_role.outputs["name"]
    }
    assert attached == {p.outputs["arn"] for p in policies}
    node_role_arn = karpenter.one(ROLE, "autoscaler-node-role").outputs["arn"]
    queue_arn = karpenter.seen(only(karpenter, "aws:sqs/queue:Queue"), "arn")
    statements: dict[str, Any] = {}
    for policy in policies:
        doc = document(policy.inputs["policy"])
        assert compact_length(doc) < MANAGED_POLICY_MAX_CHARS
        statements |= {s["Sid"]: s for s in doc["Statement"]}
    assert statements["AllowPassingInstanceRole"]["Resource"] == node_role_arn
    assert statements["AllowInterruptionQueueActions"]["Resource"] == queue_arn
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == (
        f"arn:aws:eks:us-west-2:{ACCOUNT_ID}:cluster/{CLUSTER}"
    )


def test_karpenter_charts_are_pinned_and_crds_come_from_their_own_release(karpenter):
    repository, chart, version = KARPENTER_CHART
    crds = karpenter.one(RELEASE, "autoscaler-crds")
    release = karpenter.one(RELEASE, "autoscaler-release")
    assert crds.inputs["chart"] == f"{repository}/karpenter-crd"
    assert release.inputs["chart"] == f"{repository}/{chart}" == "oci://public.ecr.aws/karpenter/karpenter"
    assert crds.inputs["version"] == release.inputs["version"] == version
    assert release.inputs["skipCrds"] is True
    assert release.inputs["namespace"] == crds.inputs["namespace"] == "kube-system"
    assert release.inputs["name"] == "karpenter"
    assert release.inputs["atomic"] is True
    assert crds.urn in release.dependencies


def test_karpenter_values_wire_cluster_queue_role_and_system_placement(karpenter):
    values = karpenter.one(RELEASE, "autoscaler-release").inputs["values"]
    queue = only(karpenter, "aws:sqs/queue:Queue")
    cluster = karpenter.one("aws:eks/cluster:Cluster", "cluster")
    assert values["settings"] == {
        "clusterName": CLUSTER,
        "clusterEndpoint": karpenter.seen(cluster, "endpoint"),
        "interruptionQueue": queue.outputs["name"],
    }
    controller_role_arn = karpenter.seen(karpenter.one(ROLE, "autoscaler-controller-role"), "arn")
    assert values["serviceAccount"]["name"] == "karpenter"
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": controller_role_arn}
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", **SYSTEM_SELECTOR}
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}, SYSTEM_TOLERATION]
    assert values["replicas"] == 2


def test_node_class_is_pinned_hardened_encrypted_tagged_and_created_after_the_release(karpenter):
    node_class = only(karpenter, "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert node_class.inputs["apiVersion"] == "karpenter.k8s.aws/v1"
    assert node_class.inputs["kind"] == "EC2NodeClass"
    assert node_class.inputs["metadata"] == {"name": "default"}
    spec = node_class.inputs["spec"]
    assert spec["role"] == karpenter.one(ROLE, "autoscaler-node-role").outputs["name"]
    assert spec["amiSelectorTerms"] == [{"alias": KARPENTER_AMI_ALIAS}]
    assert "latest" not in KARPENTER_AMI_ALIAS
    discovery = [{"tags": {"karpenter.sh/discovery": CLUSTER}}]
    assert spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == discovery
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (root,) = spec["blockDeviceMappings"]
    assert root["ebs"]["encrypted"] is True
    assert root["ebs"]["volumeType"] == "gp3"
    assert spec["tags"] == TAGS
    release = karpenter.one(RELEASE, "autoscaler-release")
    entry = only(karpenter, "aws:eks/accessEntry:AccessEntry")
    assert {release.urn, entry.urn} <= set(node_class.dependencies)


def test_node_pool_follows_settings_and_references_the_node_class(karpenter):
    pool = only(karpenter, "kubernetes:karpenter.sh/v1:NodePool")
    assert pool.inputs["apiVersion"] == "karpenter.sh/v1"
    assert pool.inputs["kind"] == "NodePool"
    spec = pool.inputs["spec"]
    template = spec["template"]["spec"]
    assert template["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    requirements = {r["key"]: (r["operator"], r["values"]) for r in template["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ("In", ["on-demand"])
    assert requirements["karpenter.k8s.aws/instance-category"] == ("In", ["c", "m", "r"])
    assert requirements["karpenter.k8s.aws/instance-generation"] == ("Gt", ["4"])
    assert template["expireAfter"] == "720h"
    assert spec["limits"] == {"cpu": "100", "memory": "400Gi"}
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"}
    node_class = only(karpenter, "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert node_class.urn in pool.dependencies
    assert karpenter.one(RELEASE, "autoscaler-release").urn in pool.dependencies


def test_karpenter_settings_reach_the_node_pool():
    settings = {"karpenter": {"capacityTypes": ["spot", "on-demand"], "cpuLimit": 32, "expireAfter": "Never"}}
    pool = only(autoscaler_plan("update", settings), "kubernetes:karpenter.sh/v1:NodePool").inputs["spec"]
    requirements = {r["key"]: r["values"] for r in pool["template"]["spec"]["requirements"]}
    assert requirements["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert pool["limits"]["cpu"] == "32"
    assert pool["template"]["spec"]["expireAfter"] == "Never"


def test_karpenter_outputs(karpenter):
    component = only(karpenter, COMPONENT)
    outputs = karpenter.component_outputs[component.urn]
    assert set(outputs) >= {"controllerRoleArn", "helmReleaseName", "interruptionQueueArn", "nodeRoleName"}
    if karpenter.mode == "update":
        assert outputs["helmReleaseName"] == "karpenter"
        assert outputs["interruptionQueueArn"] == only(karpenter, "aws:sqs/queue:Queue").outputs["arn"]


def test_karpenter_mode_creates_no_cluster_autoscaler_pieces(karpenter):
    assert not karpenter.by_type("aws:autoscaling/tag:Tag")
    assert all("cluster-autoscaler" not in r.inputs.get("chart", "") for r in karpenter.by_type(RELEASE))


# --- cluster-autoscaler ---------------------------------------------------------------------------------


def test_cluster_autoscaler_role_is_irsa_and_scales_only_owned_groups(cluster_autoscaler):
    role = cluster_autoscaler.one(ROLE, "autoscaler-controller-role")
    policy = only(cluster_autoscaler, "aws:iam/rolePolicy:RolePolicy")
    if unknown_in_preview(cluster_autoscaler, role.inputs["assumeRolePolicy"]):
        return
    subject = irsa_subject(cluster_autoscaler, "autoscaler-controller")
    assert subject == "system:serviceaccount:kube-system:cluster-autoscaler"
    policy = only(cluster_autoscaler, "aws:iam/rolePolicy:RolePolicy")
    scale = document(policy.inputs["policy"])["Statement"][-1]
    assert set(scale["Action"]) == {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert scale["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
    }


def test_every_node_group_asg_gets_the_discovery_tags(cluster_autoscaler):
    tags = cluster_autoscaler.by_type("aws:autoscaling/tag:Tag")
    assert sorted(t.name for t in tags) == sorted(
        f"autoscaler-{group}-asg-{key}" for group in GROUPS for key in ("enabled", "owner")
    )
    for group in GROUPS:
        node_group = cluster_autoscaler.one("aws:eks/nodeGroup:NodeGroup", f"ng-{group}")
        resources = cluster_autoscaler.seen(node_group, "resources")
        asg = UNKNOWN if resources == UNKNOWN else resources[0]["autoscalingGroups"][0]["name"]
        enabled = cluster_autoscaler.one("aws:autoscaling/tag:Tag", f"autoscaler-{group}-asg-enabled")
        owner = cluster_autoscaler.one("aws:autoscaling/tag:Tag", f"autoscaler-{group}-asg-owner")
        assert enabled.inputs["autoscalingGroupName"] == owner.inputs["autoscalingGroupName"] == asg
        assert enabled.inputs["tag"] == {
            "key": "k8s.io/cluster-autoscaler/enabled",
            "value": "true",
            "propagateAtLaunch": False,
        }
        assert owner.inputs["tag"] == {
            "key": f"k8s.io/cluster-autoscaler/{CLUSTER}",
            "value": "owned",
            "propagateAtLaunch": False,
        }


def test_cluster_autoscaler_release_is_pinned_with_the_seeds_placement(cluster_autoscaler):
    repository, chart, version = CLUSTER_AUTOSCALER_CHART
    release = only(cluster_autoscaler, RELEASE)
    assert release.inputs["chart"] == chart == "cluster-autoscaler"
    assert release.inputs["version"] == version
    assert release.inputs["repositoryOpts"] == {"repo": repository}
    assert release.inputs["namespace"] == "kube-system"
    values = release.inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": CLUSTER}
    assert values["awsRegion"] == "us-west-2"
    assert values["image"] == {"tag": CLUSTER_AUTOSCALER_IMAGE_TAGS["1.34"]}
    role_arn = cluster_autoscaler.seen(cluster_autoscaler.one(ROLE, "autoscaler-controller-role"), "arn")
    assert values["rbac"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role_arn}
    assert values["rbac"]["serviceAccount"]["name"] == "cluster-autoscaler"
    assert values["nodeSelector"] == SEED_NODE_SELECTOR
    assert values["tolerations"] == [SEED_TOLERATION]


def test_cluster_autoscaler_mode_creates_no_karpenter_pieces(cluster_autoscaler):
    for type_token in (
        "aws:sqs/queue:Queue",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:eks/accessEntry:AccessEntry",
        "aws:iam/policy:Policy",
        "aws:ec2/tag:Tag",
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    ):
        assert not cluster_autoscaler.by_type(type_token), type_token
    outputs = cluster_autoscaler.component_outputs[only(cluster_autoscaler, COMPONENT).urn]
    if cluster_autoscaler.mode == "update":
        assert outputs["helmReleaseName"] == "cluster-autoscaler"


def test_cluster_autoscaler_without_placement_runs_on_the_system_group():
    release = only(autoscaler_plan("update", {"engine": "cluster-autoscaler"}), RELEASE)
    assert release.inputs["values"]["nodeSelector"] == SYSTEM_SELECTOR
    assert release.inputs["values"]["tolerations"] == [SYSTEM_TOLERATION]


def test_first_autoscaling_group_needs_one():
    with pytest.raises(ValueError, match="no Auto Scaling group"):
        first_autoscaling_group([])
