"""GuardDuty policies: an enabled detector with EKS audit-log and runtime monitoring features."""

import json

import pytest
from pulumi_policy import PolicyResource

from tests.policies.support import check, check_stack, resource

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
CLUSTER = "aws:eks/cluster:Cluster"


def test_detector_enabled():
    assert check("guardduty-detector-enabled", DETECTOR, {"enable": True}) == []
    assert check("guardduty-detector-enabled", DETECTOR, {}) == []
    [message] = check("guardduty-detector-enabled", DETECTOR, {"enable": False})
    assert message == "the detector is disabled.\nRemediation: set enable=True."


def features(
    detector: PolicyResource | None,
    runtime: str = "ENABLED",
    addon: str = "ENABLED",
    names: tuple[str, ...] = ("EKS_AUDIT_LOGS", "RUNTIME_MONITORING"),
) -> list[PolicyResource]:
    found = []
    for name in names:
        props: dict[str, object] = {"detectorId": "d" * 32, "name": name}
        props["status"] = runtime if name == "RUNTIME_MONITORING" else "ENABLED"
        props["additionalConfigurations"] = (
            [{"name": "EKS_ADDON_MANAGEMENT", "status": addon}] if name == "RUNTIME_MONITORING" else []
        )
        deps = {"detectorId": [detector]} if detector is not None else {}
        found.append(resource(FEATURE, f"f-{name}", props, property_dependencies=deps))
    return found


def test_detector_with_both_features_passes():
    detector = resource(DETECTOR, "detector", {"enable": True})
    assert check_stack("guardduty-eks-protection", [detector, *features(detector)]) == []


def test_adopted_detector_features_pass():
    cluster = resource(CLUSTER, "cluster", {})
    assert check_stack("guardduty-eks-protection", [cluster, *features(None)]) == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"runtime": "DISABLED"}, "feature RUNTIME_MONITORING is DISABLED."),
        ({"addon": "DISABLED"}, "feature RUNTIME_MONITORING: EKS_ADDON_MANAGEMENT is DISABLED."),
        ({"names": ("RUNTIME_MONITORING",)}, "feature EKS_AUDIT_LOGS is not managed."),
    ],
    ids=["runtime-off", "agent-unmanaged", "no-audit-logs"],
)
def test_missing_or_disabled_features_fail(kwargs, expected):
    detector = resource(DETECTOR, "detector", {"enable": True})
    [(message, urn)] = check_stack("guardduty-eks-protection", [detector, *features(detector, **kwargs)])
    assert message.startswith(expected)
    assert "Remediation: manage aws.guardduty.DetectorFeature resources" in message
    assert urn == detector.urn


def test_a_cluster_without_guardduty_fails():
    [(message, urn)] = check_stack("guardduty-eks-protection", [resource(CLUSTER, "cluster", {})])
    assert message.startswith("the stack runs an EKS cluster but manages no GuardDuty detector features.")
    assert urn is None
    assert check_stack("guardduty-eks-protection", []) == []


ADDON = "aws:eks/addon:Addon"


def agent_addon() -> PolicyResource:
    return resource(ADDON, "guardduty-agent", {"addonName": "aws-guardduty-agent", "clusterName": "c"})


def guard_ctx(**guard_duty: str):
    from policies.settings import PackContext

    settings = {"region": "us-west-2", "guardDuty": guard_duty}
    return PackContext(
        "eks-platform", "prod", production=True, stack_config={"eks-platform:settings": json.dumps(settings)}
    )


def test_the_stacks_own_agent_stands_in_for_guarddutys_agent_management():
    detector = resource(DETECTOR, "detector", {"enable": True})
    graph = [detector, *features(detector, addon="DISABLED")]
    assert check_stack("guardduty-eks-protection", [*graph, agent_addon()]) == []
    # Without the add-on, nobody installs the agent: refused.
    [(message, _)] = check_stack("guardduty-eks-protection", graph)
    assert message.startswith("feature RUNTIME_MONITORING: EKS_ADDON_MANAGEMENT is DISABLED.")
    # Another add-on is no agent.
    other = resource(ADDON, "coredns", {"addonName": "coredns"})
    assert len(check_stack("guardduty-eks-protection", [*graph, other])) == 1


def test_a_central_security_account_needs_no_detector_features_but_the_agent_it_declares():
    cluster = resource(CLUSTER, "cluster", {})
    central = guard_ctx(detector="none")
    assert central.guard_duty_detector == "none"
    assert central.guard_duty_agent == "stack"
    assert check_stack("guardduty-eks-protection", [cluster, agent_addon()], ctx=central) == []
    [(message, urn)] = check_stack("guardduty-eks-protection", [cluster], ctx=central)
    assert message.startswith("guardDuty.agent is stack but the cluster has no aws-guardduty-agent add-on.")
    assert urn is None
    # The central account's automated agent configuration installs it: nothing for the stack to declare.
    automated = guard_ctx(detector="none", agent="guardduty")
    assert check_stack("guardduty-eks-protection", [cluster], ctx=automated) == []
    # Settings that keep the detector still need its features.
    assert len(check_stack("guardduty-eks-protection", [cluster], ctx=guard_ctx(agent="stack"))) == 1
