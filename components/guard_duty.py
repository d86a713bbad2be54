"""GuardDuty: threat detection for the cluster.

EKS audit-log monitoring and runtime monitoring, on a new detector, the account's existing one (GuardDuty allows one
detector per account and region), or none at all: in an organisation the delegated GuardDuty administrator (a central
security account) enables the member account's detector and its features, and a member cannot change them.

The runtime-monitoring agent, the ``aws-guardduty-agent`` EKS add-on, is installed either by GuardDuty's automated
agent configuration (``EKS_ADDON_MANAGEMENT``; GuardDuty then also creates the ``guardduty-data`` endpoint and its
security group in the VPC, outside Pulumi) or by this component (`StackAgent`): the add-on pinned per Kubernetes
version, the ``guardduty-data`` interface endpoint the agent delivers its events through, with a security group open
on 443 to the VPC only and the endpoint policy GuardDuty documents (`iam_documents.guardduty_data_endpoint_policy`).
Source: GuardDuty User Guide, "Managing the security agent manually for Amazon EKS" and its "Prerequisite - Creating
an Amazon VPC endpoint" (checked 2026-12-01).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.endpoints import https_from_vpc_group
from components.naming import NamingContext
from components.versions import EKS_ADDON_VERSIONS, GUARDDUTY_AGENT_ADDON

ENABLED, DISABLED = "ENABLED", "DISABLED"
#: The endpoint the agent sends runtime events to: ``com.amazonaws.<region>.guardduty-data``, private DNS on (the
#: agent resolves ``guardduty-data.<region>.amazonaws.com``), in the cluster's subnets.
AGENT_ENDPOINT_SERVICE = "guardduty-data"

DetectorMode = Literal["create", "adopt", "none"]


def agent_endpoint_service_name(region: str) -> str:
    """``com.amazonaws.<region>.guardduty-data``."""
    return f"com.amazonaws.{region}.{AGENT_ENDPOINT_SERVICE}"


@dataclass(frozen=True)
class FindingsDestination:
    """Where findings are exported: an S3 bucket, encrypted with a KMS key."""

    bucket_arn: str
    kms_key_arn: str


@dataclass(frozen=True)
class StackAgent:
    """The agent installed by the stack: the cluster it runs in and the network it reaches GuardDuty through."""

    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    vpc_id: pulumi.Input[str]
    #: The cluster's node subnets (the private ones): the endpoint's ENIs go there.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The VPC's IPv4 CIDR: the only source the endpoint's security group admits on 443.
    vpc_cidr: str


@dataclass(frozen=True)
class GuardDutyArgs:
    """Inputs of GuardDuty."""

    naming: NamingContext
    account: AwsContext
    #: ``create`` a detector, ``adopt`` the account's (``detector_id``), or ``none``: the organisation's delegated
    #: administrator manages the detector, its features and its findings; the stack declares none of them.
    detector: DetectorMode = "create"
    detector_id: str | None = None
    finding_publishing_frequency: str = "FIFTEEN_MINUTES"
    runtime_monitoring: bool = True
    findings_destination: FindingsDestination | None = None
    #: The add-on installed by the stack (None: by GuardDuty's automated agent configuration, if enabled).
    agent: StackAgent | None = None
    protect: bool = True

    def __post_init__(self) -> None:
        """Refuse combinations the settings refuse first (a programming error past them)."""
        if (self.detector == "adopt") != (self.detector_id is not None):
            msg = "detector_id is required with detector='adopt' and only then"
            raise ValueError(msg)
        if self.detector == "none" and self.findings_destination is not None:
            msg = "findings_destination needs a detector of the stack's (not detector='none')"
            raise ValueError(msg)


def feature_plan(
    runtime_monitoring: bool, *, guardduty_manages_agent: bool = True
) -> dict[str, tuple[str, dict[str, str]]]:
    """Detector features to manage: name -> (status, additional configuration name -> status).

    ``EKS_ADDON_MANAGEMENT`` is GuardDuty's automated agent configuration for EKS: on with runtime monitoring unless
    the stack installs the agent itself (two owners of one add-on would fight over its version).
    """
    runtime = ENABLED if runtime_monitoring else DISABLED
    addon = runtime if guardduty_manages_agent else DISABLED
    return {
        "EKS_AUDIT_LOGS": (ENABLED, {}),
        "RUNTIME_MONITORING": (runtime, {"EKS_ADDON_MANAGEMENT": addon}),
    }


class GuardDuty(pulumi.ComponentResource):
    """Outputs: ``detector_id`` (None with ``detector='none'``), ``agent_endpoint_id`` (None unless the stack agent)."""

    detector_id: pulumi.Output[str] | None
    agent_endpoint_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: GuardDutyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:GuardDuty", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        self.detector_id = None
        if args.detector == "create":
            detector = aws.guardduty.Detector(
                f"{name}-detector",
                enable=True,
                finding_publishing_frequency=args.finding_publishing_frequency,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.detector_id = detector.id
        elif args.detector == "adopt":
            self.detector_id = pulumi.Output.from_input(args.detector_id or "")

        features: dict[str, aws.guardduty.DetectorFeature] = {}
        if self.detector_id is not None:
            plan = feature_plan(args.runtime_monitoring, guardduty_manages_agent=args.agent is None)
            for feature, (status, extra) in plan.items():
                features[feature] = aws.guardduty.DetectorFeature(
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

        self.agent_endpoint_id = None
        if args.agent is not None:
            endpoint = self._agent_endpoint(args.agent)
            self.agent_endpoint_id = endpoint.id
            self._agent_addon(args.agent, endpoint, features.get("RUNTIME_MONITORING"))
        outputs = {"detectorId": self.detector_id, "agentEndpointId": self.agent_endpoint_id}
        self.register_outputs({key: value for key, value in outputs.items() if value is not None})

    def _agent_endpoint(self, agent: StackAgent) -> aws.ec2.VpcEndpoint:
        """``guardduty-data`` in the node subnets: private DNS, 443 from the VPC, this account's principals only."""
        name, args, child = self._name, self._args, pulumi.ResourceOptions(parent=self)
        physical = args.naming.name(AGENT_ENDPOINT_SERVICE)
        group = https_from_vpc_group(
            f"{name}-agent-endpoint",
            physical_name=physical,
            description="GuardDuty runtime agent endpoint: HTTPS from the VPC",
            rule_description="HTTPS from the VPC (the GuardDuty agent on the nodes)",
            vpc_id=agent.vpc_id,
            vpc_cidr=agent.vpc_cidr,
            tags={"Name": physical},
            parent=self,
        )
        return aws.ec2.VpcEndpoint(
            f"{name}-agent-endpoint",
            vpc_id=agent.vpc_id,
            service_name=agent_endpoint_service_name(args.account.region),
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=list(agent.subnet_ids),
            security_group_ids=[group.id],
            policy=json.dumps(iam.guardduty_data_endpoint_policy(args.account.account_id)),
            tags={"Name": physical},
            opts=child,
        )

    def _agent_addon(
        self,
        agent: StackAgent,
        endpoint: aws.ec2.VpcEndpoint,
        runtime_monitoring: aws.guardduty.DetectorFeature | None,
    ) -> aws.eks.Addon:
        """The pinned ``aws-guardduty-agent`` add-on of the cluster's Kubernetes version."""
        prerequisites: list[pulumi.Resource] = [endpoint]
        if runtime_monitoring is not None:
            prerequisites.append(runtime_monitoring)
        return aws.eks.Addon(
            f"{self._name}-agent",
            cluster_name=agent.cluster_name,
            addon_name=GUARDDUTY_AGENT_ADDON,
            addon_version=EKS_ADDON_VERSIONS[agent.kubernetes_version][GUARDDUTY_AGENT_ADDON],
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(
                parent=self,
                # The agent resolves guardduty-data.<region>.amazonaws.com to the endpoint's private DNS and sends
                # its events there, and GuardDuty accepts them only once runtime monitoring is on; neither the
                # endpoint nor the detector feature is an input of the add-on.
                depends_on=prerequisites,
            ),
        )
