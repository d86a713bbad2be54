"""GuardDuty under mocks: detector create/adopt/none, EKS audit logs, runtime monitoring, the agent's owner, export."""

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.context import AwsContext
from components.guard_duty import FindingsDestination, GuardDuty, GuardDutyArgs, StackAgent, feature_plan
from components.iam_documents import guardduty_data_endpoint_policy
from components.naming import NamingContext
from components.versions import EKS_ADDON_VERSIONS, GUARDDUTY_AGENT_ADDON
from tools.harness import MODES, Mode, Plan, run_callable

ACCOUNT_ID = "123456789012"
NAMING = NamingContext("eks-platform", "test")
ACCOUNT = AwsContext(account_id=ACCOUNT_ID, partition="aws", region="us-west-2", tags={})
DETECTOR_ID = "0123456789abcdef0123456789abcdef"
AGENT = StackAgent(
    cluster_name="eks-platform-test",
    kubernetes_version="1.35",
    vpc_id="vpc-0abc",
    subnet_ids=["subnet-a", "subnet-b"],
    vpc_cidr="10.20.0.0/16",
)
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
EXPORT = "aws:guardduty/publishingDestination:PublishingDestination"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ADDON = "aws:eks/addon:Addon"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def guard_duty_plan(mode: Mode, **changes: object) -> Plan:
    args = GuardDutyArgs(naming=NAMING, account=ACCOUNT, **changes)  # type: ignore[arg-type]

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        GuardDuty("guardduty", args, pulumi.ResourceOptions(providers=[provider]))

    return run_callable(body, mode=mode)


def features(plan: Plan) -> dict[str, Any]:
    return {r.inputs["name"]: r.inputs for r in plan.by_type(FEATURE)}


@pytest.mark.parametrize("mode", MODES)
def test_new_detector_enables_eks_audit_logs_and_runtime_monitoring(mode):
    plan = guard_duty_plan(mode, finding_publishing_frequency="ONE_HOUR")
    detector = plan.one(DETECTOR, "guardduty-detector")
    assert detector.inputs["enable"] is True
    assert detector.inputs["findingPublishingFrequency"] == "ONE_HOUR"
    assert detector.protect
    found = features(plan)
    assert found["EKS_AUDIT_LOGS"]["status"] == "ENABLED"
    assert found["RUNTIME_MONITORING"]["status"] == "ENABLED"
    assert found["RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
    ]
    assert {f["detectorId"] for f in found.values()} == {plan.seen(detector, "id")}
    assert plan.by_type(EXPORT) == []
    # GuardDuty's automated agent configuration installs the agent: the stack declares neither add-on nor endpoint.
    assert plan.by_type(ADDON) == plan.by_type(ENDPOINT) == []


@pytest.mark.parametrize("mode", MODES)
def test_existing_detector_is_adopted_not_created(mode):
    plan = guard_duty_plan(mode, detector="adopt", detector_id=DETECTOR_ID)
    assert plan.by_type(DETECTOR) == []
    assert {f["detectorId"] for f in features(plan).values()} == {DETECTOR_ID}


@pytest.mark.parametrize("mode", MODES)
def test_with_a_central_security_account_the_stack_declares_no_detector_feature_or_export(mode):
    plan = guard_duty_plan(mode, detector="none")
    assert plan.by_type(DETECTOR) == plan.by_type(FEATURE) == plan.by_type(EXPORT) == []
    component = plan.component_outputs[next(r.urn for r in plan.resources if r.type.endswith(":GuardDuty"))]
    assert "detectorId" not in component


def test_detector_none_takes_no_findings_export_and_adopt_needs_an_id():
    destination = FindingsDestination("arn:aws:s3:::findings", "arn:aws:kms:us-west-2:123456789012:key/abc")
    with pytest.raises(ValueError, match="findings_destination"):
        GuardDutyArgs(naming=NAMING, account=ACCOUNT, detector="none", findings_destination=destination)
    with pytest.raises(ValueError, match="detector_id"):
        GuardDutyArgs(naming=NAMING, account=ACCOUNT, detector="adopt")
    with pytest.raises(ValueError, match="detector_id"):
        GuardDutyArgs(naming=NAMING, account=ACCOUNT, detector="create", detector_id=DETECTOR_ID)


@pytest.mark.parametrize("mode", MODES)
def test_findings_export_to_s3_with_kms(mode):
    destination = FindingsDestination("arn:aws:s3:::findings", "arn:aws:kms:us-west-2:123456789012:key/abc")
    plan = guard_duty_plan(mode, findings_destination=destination)
    export = plan.one(EXPORT, "guardduty-findings-export").inputs
    assert export["destinationType"] == "S3"
    assert export["destinationArn"] == "arn:aws:s3:::findings"
    assert export["kmsKeyArn"] == destination.kms_key_arn


def test_runtime_monitoring_can_be_switched_off_explicitly():
    assert feature_plan(runtime_monitoring=False)["RUNTIME_MONITORING"] == (
        "DISABLED",
        {"EKS_ADDON_MANAGEMENT": "DISABLED"},
    )
    assert feature_plan(runtime_monitoring=False)["EKS_AUDIT_LOGS"][0] == "ENABLED"


# --- the agent owned by the stack ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_stack_agent_turns_guardduty_agent_management_off(mode):
    plan = guard_duty_plan(mode, agent=AGENT)
    runtime = features(plan)["RUNTIME_MONITORING"]
    assert runtime["status"] == "ENABLED"
    assert runtime["additionalConfigurations"] == [{"name": "EKS_ADDON_MANAGEMENT", "status": "DISABLED"}]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("detector", ["create", "none"])
def test_the_stack_installs_the_pinned_agent_addon_after_its_endpoint(mode, detector):
    plan = guard_duty_plan(mode, detector=detector, agent=AGENT)
    addon = plan.one(ADDON, "guardduty-agent")
    assert addon.inputs["clusterName"] == "eks-platform-test"
    assert addon.inputs["addonName"] == "aws-guardduty-agent" == GUARDDUTY_AGENT_ADDON
    assert addon.inputs["addonVersion"] == EKS_ADDON_VERSIONS["1.35"][GUARDDUTY_AGENT_ADDON] == "v1.16.0-eksbuild.2"
    assert addon.inputs["resolveConflictsOnCreate"] == addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
    endpoint = plan.one(ENDPOINT, "guardduty-agent-endpoint")
    assert endpoint.urn in addon.dependencies
    if detector == "create":  # GuardDuty accepts the agent's events once runtime monitoring is on
        assert plan.one(FEATURE, "guardduty-runtime-monitoring").urn in addon.dependencies
    else:
        assert plan.by_type(FEATURE) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_agent_endpoint_is_guardduty_data_with_private_dns_in_the_cluster_subnets(mode):
    plan = guard_duty_plan(mode, detector="none", agent=AGENT)
    endpoint = plan.one(ENDPOINT, "guardduty-agent-endpoint").inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-west-2.guardduty-data"
    assert endpoint["vpcEndpointType"] == "Interface"
    assert endpoint["privateDnsEnabled"] is True
    assert endpoint["vpcId"] == "vpc-0abc"
    assert endpoint["subnetIds"] == ["subnet-a", "subnet-b"]
    group = plan.one(GROUP, "guardduty-agent-endpoint-sg")
    assert endpoint["securityGroupIds"] == [plan.seen(group, "id")]
    assert group.inputs["name"] == "eks-platform-test-guardduty-data"
    assert group.inputs["vpcId"] == "vpc-0abc"
    assert "ingress" not in group.inputs  # its rule is a resource of its own
    assert "egress" not in group.inputs  # none: an endpoint answers, it never connects out
    (rule,) = plan.by_type(INGRESS)
    assert rule.inputs["securityGroupId"] == plan.seen(group, "id")
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.20.0.0/16"
    assert plan.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") == []


@pytest.mark.parametrize("mode", MODES)
def test_the_agent_endpoint_admits_only_principals_of_the_account(mode):
    plan = guard_duty_plan(mode, agent=AGENT)
    policy = json.loads(plan.one(ENDPOINT, "guardduty-agent-endpoint").inputs["policy"])
    assert policy == guardduty_data_endpoint_policy(ACCOUNT_ID)


def test_the_endpoint_policy_is_the_one_guardduty_documents():
    # GuardDuty User Guide, "Prerequisite - Creating an Amazon VPC endpoint", step 7 (111122223333 -> the account).
    assert guardduty_data_endpoint_policy("111122223333") == {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "*", "Resource": "*", "Effect": "Allow", "Principal": "*"},
            {
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}},
                "Action": "*",
                "Resource": "*",
                "Effect": "Deny",
                "Principal": "*",
            },
        ],
    }
