"""The EKS version lifecycle: every pinned version is in the release calendar, its pins match its minor version,
and the plan refuses a version past its end of support under the chosen upgrade policy (exit 2), warning within
60 days. Source of the dates: the Amazon EKS release calendar (EKS User Guide, kubernetes-versions)."""

import copy
import datetime as dt
import re

import pulumi
import pytest

from components.versions import (
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    DEFAULT_KUBERNETES_VERSION,
    EKS_ADDON_VERSIONS,
    GUARDDUTY_AGENT_ADDON,
    KUBERNETES_LIFECYCLE,
    SUPPORT_WARNING_DAYS,
    SUPPORTED_KUBERNETES_VERSIONS,
    support_problem,
)
from config import lifecycle_warnings, parse_settings, today_utc
from tests.config.test_settings import stack_settings
from tools.harness import ConfigurationError, run_program

KEY = "eks-platform:settings"
ADDON = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


def minor(version: str) -> tuple[int, int]:
    major, minor_, *_ = version.removeprefix("v").split(".")
    return int(major), int(minor_)


def test_the_calendar_matches_the_eks_dates_we_rely_on():
    # EKS User Guide: 1.33 left standard support on 2026-07-29, 1.34 leaves it on 2026-12-02.
    assert KUBERNETES_LIFECYCLE["1.33"].end_of_standard == dt.date(2026, 7, 29)
    assert KUBERNETES_LIFECYCLE["1.34"].end_of_standard == dt.date(2026, 12, 2)
    for release in KUBERNETES_LIFECYCLE.values():
        assert release.released < release.end_of_standard < release.end_of_extended
        # Standard support is 14 months, extended support 12 more.
        assert 13 * 30 < (release.end_of_standard - release.released).days < 15 * 31
        assert 360 <= (release.end_of_extended - release.end_of_standard).days <= 370


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES_VERSIONS)
def test_every_supported_version_has_matching_pins(version):
    assert version in KUBERNETES_LIFECYCLE
    addons = EKS_ADDON_VERSIONS[version]
    assert set(addons) == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
        "aws-guardduty-agent",
    }
    assert all(ADDON.match(v) for v in addons.values()), addons
    # kube-proxy and the cluster-autoscaler must run the cluster's own minor version.
    assert minor(addons["kube-proxy"]) == minor(version)
    assert minor(CLUSTER_AUTOSCALER_IMAGE_TAGS[version]) == minor(version)


def test_the_default_is_at_least_1_35_and_the_stacks_are_in_support_today():
    assert minor(DEFAULT_KUBERNETES_VERSION) >= (1, 35)
    for stack in ("dev", "prod"):
        cluster = stack_settings(stack)["cluster"]
        version, policy = cluster["kubernetesVersion"], cluster.get("upgradePolicy", "STANDARD")
        problem = support_problem(version, policy, today_utc())
        assert problem is None or problem[0] == "warning", problem


def parse_on(day: dt.date, **cluster):
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"] = {**raw["cluster"], **cluster}
    return parse_settings(raw, stack_file="Pulumi.prod.yaml", key=KEY, today=day)


def test_a_version_past_standard_support_is_refused_under_standard():
    with pytest.raises(pulumi.RunError) as caught:
        parse_on(dt.date(2026, 12, 2), kubernetesVersion="1.34")
    assert str(caught.value) == (
        f"Pulumi.prod.yaml: {KEY}.cluster.kubernetesVersion: Kubernetes 1.34 left EKS standard support on "
        "2026-12-02: upgrade to the next version, or set upgradePolicy: EXTENDED (6x the control-plane price)"
    )
    # The day before, it still plans, with a warning.
    settings = parse_on(dt.date(2026, 12, 1), kubernetesVersion="1.34")
    expected = (
        ".cluster.kubernetesVersion: Kubernetes 1.34 leaves EKS standard support on 2026-12-02 (1 days): "
        "plan the upgrade (README: Upgrading Kubernetes)"
    )
    assert lifecycle_warnings(settings, dt.date(2026, 12, 1)) == [expected]


def test_extended_support_keeps_the_version_until_its_end():
    settings = parse_on(dt.date(2027, 6, 1), kubernetesVersion="1.34", upgradePolicy="EXTENDED")
    assert settings.cluster.upgrade_policy == "EXTENDED"
    assert lifecycle_warnings(settings, dt.date(2027, 6, 1)) == []
    with pytest.raises(pulumi.RunError, match=r"left EKS extended support on 2027-12-02: upgrade to the next version$"):
        parse_on(dt.date(2027, 12, 2), kubernetesVersion="1.34", upgradePolicy="EXTENDED")


def test_the_warning_window_is_60_days():
    end = KUBERNETES_LIFECYCLE["1.35"].end_of_standard
    assert support_problem("1.35", "STANDARD", end - dt.timedelta(days=SUPPORT_WARNING_DAYS + 1)) is None
    warning = support_problem("1.35", "STANDARD", end - dt.timedelta(days=SUPPORT_WARNING_DAYS))
    assert warning is not None
    assert warning[0] == "warning"


def test_an_unpinned_version_is_refused():
    with pytest.raises(pulumi.RunError, match=r"kubernetesVersion: unsupported Kubernetes version '1.33'"):
        parse_on(dt.date(2026, 6, 1), kubernetesVersion="1.33")


def test_the_cluster_carries_the_upgrade_policy_and_the_pinned_addons():
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"]["upgradePolicy"] = "EXTENDED"
    plan = run_program("prod", "preview", config_overrides={KEY: raw})
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert cluster["upgradePolicy"] == {"supportType": "EXTENDED"}
    version = raw["cluster"]["kubernetesVersion"]
    assert cluster["version"] == version
    addons = {r.inputs["addonName"]: r.inputs["addonVersion"] for r in plan.by_type("aws:eks/addon:Addon")}
    # GuardDuty's automated agent configuration installs the agent in prod (guardDuty.agent: guardduty).
    assert addons == {k: v for k, v in EKS_ADDON_VERSIONS[version].items() if k != GUARDDUTY_AGENT_ADDON}
    assert {r.inputs["version"] for r in plan.by_type("aws:eks/nodeGroup:NodeGroup")} == {version}


def test_the_plan_refuses_an_expired_version_before_registration():
    raw = copy.deepcopy(stack_settings("prod"))
    raw["cluster"]["kubernetesVersion"] = "1.32"
    with pytest.raises(ConfigurationError) as caught:
        run_program("prod", "preview", config_overrides={KEY: raw})
    assert caught.value.message.startswith(f"Pulumi.prod.yaml: {KEY}.cluster.kubernetesVersion:")
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


@pytest.mark.parametrize(
    "addon", ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver", "aws-guardduty-agent"]
)
def test_an_upgrade_never_downgrades_an_addon(addon):
    # The runbook moves a cluster up one version at a time: each add-on pin must not go backwards on the way.
    ordered = sorted(SUPPORTED_KUBERNETES_VERSIONS, key=minor)
    pins = [EKS_ADDON_VERSIONS[version][addon] for version in ordered]
    assert pins == sorted(pins, key=version_key), dict(zip(ordered, pins, strict=True))
