"""Threat detection: an enabled GuardDuty detector with EKS audit-log and runtime monitoring, and its agent.

The runtime agent (the ``aws-guardduty-agent`` EKS add-on) is installed by GuardDuty (the detector feature's
``EKS_ADDON_MANAGEMENT`` additional configuration) or by the stack (an ``aws:eks/addon:Addon`` of that name); either
satisfies the policy. With ``guardDuty.detector: none`` in the stack's settings the organisation's delegated
administrator manages the detector: the stack then declares no feature, and only the agent it owes is checked.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.common import as_list, dig, is_unknown, plain_props
from policies.settings import PackContext, policy_config, schema, string_list

DETECTOR_TYPE = "aws:guardduty/detector:Detector"
FEATURE_TYPE = "aws:guardduty/detectorFeature:DetectorFeature"
CLUSTER_TYPE = "aws:eks/cluster:Cluster"
ADDON_TYPE = "aws:eks/addon:Addon"
ENABLED = "ENABLED"
#: Additional configurations that install an agent, and the EKS add-on a stack may install instead.
AGENT_CONFIGURATIONS = {"EKS_ADDON_MANAGEMENT": "aws-guardduty-agent"}

FEATURES_SCHEMA = schema(
    {
        "requiredFeatures": string_list(
            "Detector features that must be ENABLED.", ["EKS_AUDIT_LOGS", "RUNTIME_MONITORING"]
        ),
        "requiredAdditionalConfigurations": {
            "type": "object",
            "description": "Per feature, additional configurations that must be ENABLED.",
            "default": {"RUNTIME_MONITORING": ["EKS_ADDON_MANAGEMENT"]},
        },
    }
)


def check_detector_enabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """GuardDuty detectors are enabled."""
    if args.resource_type != DETECTOR_TYPE:
        return
    enable = plain_props(args.props).get("enable")
    if enable is False:
        report("the detector is disabled.\nRemediation: set enable=True.", None)


def _detector_key(feature: PolicyResource, props: dict[str, Any]) -> str | None:
    """Which detector a feature belongs to: the Detector resource it depends on, else its detectorId value."""
    for dependency in feature.property_dependencies.get("detectorId", []):
        if dependency.resource_type == DETECTOR_TYPE:
            return dependency.urn
    detector_id = props.get("detectorId")
    return f"id:{detector_id}" if isinstance(detector_id, str) else None


def feature_problems(
    features: dict[str, dict[str, Any]], cfg: dict[str, Any], addons: frozenset[str] = frozenset()
) -> list[str]:
    """What is missing or disabled among one detector's features (name -> feature props).

    ``addons`` are the EKS add-ons the stack installs itself: an agent-managing configuration (`AGENT_CONFIGURATIONS`)
    may be off when the stack installs that agent.
    """
    problems = []
    for name in cfg["requiredFeatures"]:
        feature = features.get(name)
        if feature is None:
            problems.append(f"feature {name} is not managed")
            continue
        status = feature.get("status")
        if not is_unknown(status) and status != ENABLED:
            problems.append(f"feature {name} is {status}")
        configurations = feature.get("additionalConfigurations")
        if is_unknown(configurations):
            continue  # cannot tell yet
        extras: dict[str, Any] = {}
        for configuration in as_list(configurations):
            extra_name = dig(configuration, "name")
            if isinstance(extra_name, str):
                extras[extra_name] = dig(configuration, "status")
        wanted = cfg["requiredAdditionalConfigurations"]
        for extra in wanted.get(name, []) if isinstance(wanted, dict) else []:
            if AGENT_CONFIGURATIONS.get(extra) in addons:
                continue  # the stack installs the agent itself
            if extra not in extras:
                problems.append(f"feature {name} does not manage {extra}")
            elif not is_unknown(extras[extra]) and extras[extra] != ENABLED:
                problems.append(f"feature {name}: {extra} is {extras[extra]}")
    return problems


def stack_addons(resources: list[PolicyResource]) -> frozenset[str]:
    """The names of the EKS add-ons the stack declares (known values only)."""
    names = (plain_props(r.props).get("addonName") for r in resources if r.resource_type == ADDON_TYPE)
    return frozenset(name for name in names if isinstance(name, str))


def check_eks_protection(args: StackValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """Every detector of the stack (created or adopted) has EKS audit-log and runtime monitoring enabled."""
    cfg = policy_config(args.get_config(), FEATURES_SCHEMA)
    addons = stack_addons(list(args.resources))
    detectors = {r.urn: r for r in args.resources if r.resource_type == DETECTOR_TYPE}
    by_detector: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for resource in args.resources:
        if resource.resource_type != FEATURE_TYPE:
            continue
        props = plain_props(resource.props)
        key = _detector_key(resource, props)
        name = props.get("name")
        if key is not None and isinstance(name, str):
            by_detector[key][name] = props
    for urn in detectors:
        by_detector.setdefault(urn, {})
    remediation = (
        "Remediation: manage aws.guardduty.DetectorFeature resources for EKS_AUDIT_LOGS and RUNTIME_MONITORING "
        "(with EKS_ADDON_MANAGEMENT, or the aws-guardduty-agent add-on installed by the stack) with status ENABLED "
        "(components/guard_duty.py)."
    )
    runs_cluster = any(r.resource_type == CLUSTER_TYPE for r in args.resources)
    if not by_detector and runs_cluster:
        if ctx.guard_duty_detector == "none":
            # The delegated administrator's detector: the stack owes only the agent it said it installs.
            if ctx.guard_duty_agent == "stack" and AGENT_CONFIGURATIONS["EKS_ADDON_MANAGEMENT"] not in addons:
                report(
                    "guardDuty.agent is stack but the cluster has no aws-guardduty-agent add-on.\n"
                    "Remediation: install it with components/guard_duty.py (GuardDutyArgs.agent).",
                    None,
                )
            return
        report(f"the stack runs an EKS cluster but manages no GuardDuty detector features.\n{remediation}", None)
        return
    for key, features in sorted(by_detector.items()):
        for problem in feature_problems(features, cfg, addons):
            report(f"{problem}.\n{remediation}", key if key in detectors else None)


def policies(ctx: PackContext) -> list[Policy]:
    """The GuardDuty policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        ResourceValidationPolicy(
            name="guardduty-detector-enabled",
            description="GuardDuty detectors are enabled.",
            validate=check_detector_enabled,
            enforcement_level=level,
            remediation_steps="Set enable=True on the detector.",
        ),
        StackValidationPolicy(
            name="guardduty-eks-protection",
            description="GuardDuty EKS audit-log monitoring and runtime monitoring are enabled for the detector, with "
            "its agent installed by GuardDuty or the stack (none needed with guardDuty.detector: none).",
            validate=partial(check_eks_protection, ctx=ctx),
            enforcement_level=level,
            config_schema=FEATURES_SCHEMA,
            remediation_steps="Enable the EKS_AUDIT_LOGS and RUNTIME_MONITORING detector features.",
        ),
    ]
