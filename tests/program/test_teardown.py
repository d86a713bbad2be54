"""Destroy order: Argo applications, then in-cluster, then the cluster, then the VPC; never against a dependency."""

import json

import pytest

from tools import teardown
from tools.teardown import PHASES, StateResource, order_violations, plan_phases


@pytest.fixture(scope="module", params=["dev", "prod"])
def phases(request: pytest.FixtureRequest) -> dict[str, list[StateResource]]:
    return plan_phases(teardown.from_offline_plan(request.param))


def types_in(phases: dict[str, list[StateResource]], phase: str) -> set[str]:
    return {r.type for r in phases[phase]}


def test_phases_follow_the_documented_order(phases):
    assert types_in(phases, "applications") == {"kubernetes:argoproj.io/v1alpha1:Application"}
    in_cluster = types_in(phases, "in-cluster")
    assert {
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:karpenter.sh/v1:NodePool",
        "vault:index/policy:Policy",
    } <= in_cluster
    assert all(t.startswith(("kubernetes:", "vault:")) for t in in_cluster)
    assert {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:sqs/queue:Queue"} <= types_in(
        phases, "cluster"
    )
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:guardduty/detector:Detector"} <= types_in(
        phases, "network"
    )
    assert "aws:ec2/vpc:Vpc" not in types_in(phases, "cluster")


def test_no_phase_destroys_what_a_later_phase_still_needs(phases):
    assert order_violations(phases) == []


def test_every_custom_resource_is_in_exactly_one_phase(phases):
    urns = [r.urn for members in phases.values() for r in members]
    assert len(urns) == len(set(urns))


def test_a_misplaced_dependency_is_reported():
    vpc = StateResource("urn:vpc", "aws:ec2/vpc:Vpc", parent="urn:net")
    net = StateResource("urn:net", "eksplatform:platform:Vpc", custom=False)
    # A Kubernetes object that (wrongly) needs the VPC would be destroyed after it: fine; the reverse is not.
    app = StateResource("urn:app", "kubernetes:argoproj.io/v1alpha1:Application", dependencies=("urn:vpc",))
    assert order_violations(plan_phases([vpc, net, app])) == []
    weird = StateResource("urn:vpc2", "aws:ec2/vpc:Vpc", parent="urn:net", dependencies=("urn:app",))
    assert order_violations(plan_phases([net, app, weird])) == [
        "urn:app (applications) is needed by urn:vpc2 (network)"
    ]


def urn(name: str, stack: str = "prod", project: str = "eks-platform") -> str:
    """A URN of ``stack`` of ``project`` (the type part is not looked at)."""
    return f"urn:pulumi:{stack}::{project}::test:index:Thing::{name}"


def test_script_from_a_state_export(tmp_path, capsys):
    export = {
        "deployment": {
            "resources": [
                {"urn": urn("s"), "type": "pulumi:pulumi:Stack", "custom": False},
                {"urn": urn("net"), "type": "eksplatform:platform:Vpc", "parent": urn("s")},
                {"urn": urn("vpc"), "type": "aws:ec2/vpc:Vpc", "custom": True, "parent": urn("net"), "id": "vpc-0abc"},
                {"urn": urn("cluster"), "type": "aws:eks/cluster:Cluster", "custom": True, "protect": True},
                {"urn": urn("app"), "type": "kubernetes:argoproj.io/v1alpha1:Application", "custom": True},
            ]
        }
    }
    state = tmp_path / "state.json"
    state.write_text(json.dumps(export))
    assert teardown.main(["--stack", "prod", "--state", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    destroys = [line for line in lines if line.startswith("pulumi destroy")]
    assert destroys == [
        f"pulumi destroy --stack prod --yes --target-dependents --target {urn('app')}",
        f"pulumi destroy --stack prod --yes --target-dependents --target {urn('cluster')}",
        "pulumi destroy --stack prod --yes",
    ]
    assert f"# pulumi state unprotect --stack prod {urn('cluster')}" in lines
    assert any("elbv2.k8s.aws/cluster,Values=eks-platform-prod" in line for line in lines)
    assert PHASES[0] == "applications"


def test_guardduty_s_endpoint_goes_after_the_cluster_and_before_the_vpc(tmp_path, capsys):
    # GuardDuty's automated agent leaves an interface endpoint and a security group, tagged GuardDutyManaged=true,
    # in the VPC; their ENIs keep the subnets busy, so the network phase would fail without this step.
    export = {
        "deployment": {
            "resources": [
                {"urn": urn("net"), "type": "eksplatform:platform:Vpc"},
                {"urn": urn("vpc"), "type": "aws:ec2/vpc:Vpc", "custom": True, "parent": urn("net"), "id": "vpc-0abc"},
                {"urn": urn("cluster"), "type": "aws:eks/cluster:Cluster", "custom": True},
            ]
        }
    }
    state = tmp_path / "state.json"
    state.write_text(json.dumps(export))
    assert teardown.main(["--stack", "prod", "--state", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    cluster = lines.index(f"pulumi destroy --stack prod --yes --target-dependents --target {urn('cluster')}")
    network = lines.index("pulumi destroy --stack prod --yes")
    endpoint = next(i for i, line in enumerate(lines) if "delete-vpc-endpoints" in line)
    group = next(i for i, line in enumerate(lines) if "delete-security-group" in line)
    assert cluster < endpoint < group < network
    assert "Name=vpc-id,Values=vpc-0abc Name=tag:GuardDutyManaged,Values=true" in lines[endpoint]


# --- state files the script cannot be built from --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"deployment": {"resources": [', "not JSON (line 1, column 31: Expecting value)"),
        ("", "not JSON (line 1, column 1: Expecting value)"),
        ("[]", "not a `pulumi stack export` document: no deployment.resources list"),
        ('{"version": 3}', "not a `pulumi stack export` document: no deployment.resources list"),
        ('{"deployment": {"resources": {}}}', "not a `pulumi stack export` document"),
        ('{"deployment": {"resources": []}}', "no resources: stack prod has nothing to destroy"),
        ('{"deployment": {}}', "not a `pulumi stack export` document"),
        ('{"deployment": {"resources": [{"type": "aws:ec2/vpc:Vpc"}]}}', "resources[0]: a resource needs a string urn"),
        ('{"deployment": {"resources": ["urn:x"]}}', "resources[0]: a resource needs a string urn and type"),
        (
            json.dumps({"deployment": {"resources": [{"urn": "urn:vpc", "type": "aws:ec2/vpc:Vpc"}]}}),
            "urn:vpc: not a Pulumi URN",
        ),
        (
            json.dumps({"deployment": {"resources": [{"urn": urn("vpc", stack="dev"), "type": "aws:ec2/vpc:Vpc"}]}}),
            f"{urn('vpc', stack='dev')}: belongs to stack dev of project eks-platform, not to stack prod",
        ),
        (
            json.dumps(
                {
                    "deployment": {
                        "resources": [
                            {"urn": urn("a"), "type": "aws:ec2/vpc:Vpc"},
                            {"urn": urn("b", project="other"), "type": "aws:ec2/vpc:Vpc"},
                        ]
                    }
                }
            ),
            "belongs to stack prod of project other, not to stack prod of eks-platform",
        ),
    ],
    ids=[
        "truncated-json",
        "empty-file",
        "a-list",
        "no-deployment",
        "resources-not-a-list",
        "no-resources",
        "deployment-without-resources",
        "resource-without-urn",
        "resource-not-an-object",
        "not-a-urn",
        "other-stack",
        "other-project",
    ],
)
def test_a_state_file_that_is_not_this_stack_s_export_is_refused_in_one_line(tmp_path, capsys, text, error):
    state = tmp_path / "state.json"
    state.write_text(text)
    assert teardown.main(["--stack", "prod", "--state", str(state)]) == teardown.EXIT_BAD_STATE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {state}: ")
    assert error in captured.err
    assert captured.err.count("\n") == 1


def test_a_missing_state_file_is_refused_in_one_line(tmp_path, capsys):
    assert teardown.main(["--stack", "prod", "--state", str(tmp_path / "nope.json")]) == teardown.EXIT_BAD_STATE
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.json'}: cannot be read: No such file or directory\n"


def test_a_real_export_of_the_stack_is_accepted(tmp_path, capsys):
    plan = teardown.from_offline_plan("dev")  # engine URNs: urn:pulumi:dev::eks-platform::...
    export = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z"},
            "resources": [
                {"urn": r.urn, "type": r.type, "custom": r.custom, "parent": r.parent, "id": r.id} for r in plan
            ],
        },
    }
    state = tmp_path / "state.json"
    state.write_text(json.dumps(export))
    assert teardown.main(["--stack", "dev", "--state", str(state)]) == 0
    assert "pulumi destroy --stack dev --yes" in capsys.readouterr().out
