"""GuardDuty under mocks: detector, EKS audit logs, runtime monitoring with managed agent, adoption, export."""

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.guard_duty import FindingsDestination, GuardDuty, GuardDutyArgs, feature_plan
from tools.harness import MODES, Mode, Plan, run_callable


def guard_duty_plan(mode: Mode, **changes: object) -> Plan:
    args = GuardDutyArgs(**changes)  # type: ignore[arg-type]

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        GuardDuty("guardduty", args, pulumi.ResourceOptions(providers=[provider]))

    return run_callable(body, mode=mode)


def features(plan: Plan) -> dict[str, Any]:
    return {r.inputs["name"]: r.inputs for r in plan.by_type("aws:guardduty/detectorFeature:DetectorFeature")}


@pytest.mark.parametrize("mode", MODES)
def test_new_detector_enables_eks_audit_logs_and_runtime_monitoring(mode):
    plan = guard_duty_plan(mode, finding_publishing_frequency="ONE_HOUR")
    detector = plan.one("aws:guardduty/detector:Detector", "guardduty-detector")
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
    assert plan.by_type("aws:guardduty/publishingDestination:PublishingDestination") == []


@pytest.mark.parametrize("mode", MODES)
def test_existing_detector_is_adopted_not_created(mode):
    plan = guard_duty_plan(mode, adopt_detector_id="0123456789abcdef0123456789abcdef")
    assert plan.by_type("aws:guardduty/detector:Detector") == []
    assert {f["detectorId"] for f in features(plan).values()} == {"0123456789abcdef0123456789abcdef"}


@pytest.mark.parametrize("mode", MODES)
def test_findings_export_to_s3_with_kms(mode):
    destination = FindingsDestination("arn:aws:s3:::findings", "arn:aws:kms:us-west-2:123456789012:key/abc")
    plan = guard_duty_plan(mode, findings_destination=destination)
    export = plan.one("aws:guardduty/publishingDestination:PublishingDestination", "guardduty-findings-export").inputs
    assert export["destinationType"] == "S3"
    assert export["destinationArn"] == "arn:aws:s3:::findings"
    assert export["kmsKeyArn"] == destination.kms_key_arn


def test_runtime_monitoring_can_be_switched_off_explicitly():
    assert feature_plan(runtime_monitoring=False)["RUNTIME_MONITORING"] == (
        "DISABLED",
        {"EKS_ADDON_MANAGEMENT": "DISABLED"},
    )
    assert feature_plan(runtime_monitoring=False)["EKS_AUDIT_LOGS"][0] == "ENABLED"
