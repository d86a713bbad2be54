"""The approver's summary of a saved update plan, and the creates-only check of a first deploy."""

import json

from tools.plan_file import EXIT_BAD_PLAN, EXIT_NOT_ONLY_CREATES, main, not_creates, summary

STACK = "urn:pulumi:prod::eks-platform::pulumi:pulumi:Stack::eks-platform-prod"
SUBNET = "urn:pulumi:prod::eks-platform::eksplatform:platform:Vpc$aws:ec2/subnet:Subnet::network-private-a"
CLUSTER = "urn:pulumi:prod::eks-platform::eksplatform:platform:EksCluster$aws:eks/cluster:Cluster::eks-cluster"
ROLE = "urn:pulumi:prod::eks-platform::eksplatform:platform:CiRunner$aws:iam/role:Role::ci-runner-role"


def plan(**steps: tuple[list[str], bool]) -> dict:
    """A plan in apitype.DeploymentPlanV1's shape (sdk/go/common/apitype/plan.go)."""
    urns = {"stack": STACK, "subnet": SUBNET, "cluster": CLUSTER, "role": ROLE}
    return {
        "manifest": {"time": "2026-12-02T00:00:00Z", "magic": "", "version": "v3.272.0"},
        "resourcePlans": {
            urns[key]: {
                "goal": {"type": urns[key].split("::")[2], "name": key, "custom": True, "protect": protect},
                "steps": ops,
                "state": {},
            }
            for key, (ops, protect) in steps.items()
        },
    }


def test_the_summary_counts_operations_and_flags_protected_replacements():
    text = summary(
        plan(
            stack=([], False),
            subnet=(["create-replacement", "replace", "delete-replaced"], False),
            cluster=(["update"], True),
            role=(["create"], False),
        )
    )
    assert "| update | 1 |" in text
    assert "| create | 1 |" in text
    assert "3 resources change, 1 of them destructively." in text
    assert f"- `{SUBNET}`: create-replacement, replace, delete-replaced\n" in text
    assert f"- `{CLUSTER}`: update" in text


def test_a_protected_resource_being_replaced_is_marked():
    text = summary(plan(cluster=(["replace"], True)))
    assert f"- `{CLUSTER}`: replace **(protected)**" in text


def test_only_creates_passes_a_new_environment_and_stops_anything_else(tmp_path, capsys):
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(plan(stack=(["create"], False), role=(["create"], False))))
    assert main([str(fresh), "--only-creates"]) == 0
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(plan(role=(["create"], False), cluster=(["update"], True))))
    assert not_creates(json.loads(changed.read_text())) == [f"{CLUSTER}: update"]
    assert main([str(changed), "--only-creates"]) == EXIT_NOT_ONLY_CREATES
    assert f"not a create: {CLUSTER}: update" in capsys.readouterr().err


def test_a_file_that_is_not_a_plan_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "state.json"
    bad.write_text(json.dumps({"version": 3, "deployment": {}}))
    assert main([str(bad)]) == EXIT_BAD_PLAN
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: {bad}: no resourcePlans: not a `pulumi preview --save-plan` file"
