"""GuardDuty policies: an enabled detector with EKS audit-log and runtime monitoring features."""

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
