"""GuardDuty: threat detection for the cluster.

EKS audit-log monitoring and runtime monitoring with the GuardDuty-managed EKS agent, on a new detector
or the account's existing one (GuardDuty allows one detector per account and region).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ENABLED, DISABLED = "ENABLED", "DISABLED"


@dataclass(frozen=True)
class FindingsDestination:
    """Where findings are exported: an S3 bucket, encrypted with a KMS key."""

    bucket_arn: str
    kms_key_arn: str


@dataclass(frozen=True)
class GuardDutyArgs:
    """Inputs of GuardDuty."""

    #: Adopt an existing detector (GuardDuty allows one per account and region) instead of creating one.
    adopt_detector_id: str | None = None
    finding_publishing_frequency: str = "FIFTEEN_MINUTES"
    runtime_monitoring: bool = True
    findings_destination: FindingsDestination | None = None
    protect: bool = True


def feature_plan(runtime_monitoring: bool) -> dict[str, tuple[str, dict[str, str]]]:
    """Detector features to manage: name -> (status, additional configuration name -> status)."""
    runtime = ENABLED if runtime_monitoring else DISABLED
    return {
        "EKS_AUDIT_LOGS": (ENABLED, {}),
        "RUNTIME_MONITORING": (runtime, {"EKS_ADDON_MANAGEMENT": runtime}),
    }


class GuardDuty(pulumi.ComponentResource):
    """Outputs: ``detector_id``."""

    detector_id: pulumi.Output[str]

    def __init__(self, name: str, args: GuardDutyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:GuardDuty", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.adopt_detector_id is None:
            detector = aws.guardduty.Detector(
                f"{name}-detector",
                enable=True,
                finding_publishing_frequency=args.finding_publishing_frequency,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.detector_id = detector.id
        else:
            self.detector_id = pulumi.Output.from_input(args.adopt_detector_id)

        for feature, (status, extra) in feature_plan(args.runtime_monitoring).items():
            aws.guardduty.DetectorFeature(
                f"{name}-{feature.lower().replace('_', '-')}",
                detector_id=self.detector_id,
                name=feature,
                status=status,
                additional_configurations=[{"name": key, "status": value} for key, value in extra.items()],
                opts=child,
            )

        if args.findings_destination is not None:
            aws.guardduty.PublishingDestination(
                f"{name}-findings-export",
                detector_id=self.detector_id,
                destination_type="S3",
                destination_arn=args.findings_destination.bucket_arn,
                kms_key_arn=args.findings_destination.kms_key_arn,
                opts=child,
            )
        self.register_outputs({"detectorId": self.detector_id})
