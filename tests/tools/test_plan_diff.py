"""The offline diff against a base commit (`tools.plan_diff`, `./dev plan STACK --base REF`).

The fixture is a real git repository holding a copy of this project: a base commit, then one commit per change
(a VPC CIDR, an added app role, a removed one, a renamed prod cluster). Each diff is built from two of its commits,
as the pull-request workflow builds it from the base branch and the head.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import struct_pb2

from tools import plan as plan_cli
from tools.harness import REDACTED, SECRET_SIG_KEY, SECRET_SIG_VALUE, UNKNOWN, Plan, Registration, copy_project
from tools.plan_diff import (
    OPS,
    PlanDiff,
    change_summary,
    diff_against,
    diff_plans,
    plan_of_commit,
    preview_steps,
    property_changes,
    render_markdown,
    render_text,
    show_value,
    summary_line,
)

KEY = "eks-platform:settings"
SUBNET = "aws:ec2/subnet:Subnet"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
CLUSTER = "aws:eks/cluster:Cluster"


def git(repo: Path, *argv: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True, text=True).stdout.strip()


def edit_settings(repo: Path, stack: str, change: Any) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document["config"][KEY])
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = copy_project(tmp_path_factory.mktemp("fixture") / "project")
    (root / ".gitignore").write_text("venv\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "ci")
    commits = {"base": commit(root, "base")}
    edit_settings(root, "dev", lambda s: s["vpc"].update(cidr="10.30.0.0/16"))
    commits["cidr"] = commit(root, "dev: VPC 10.30.0.0/16")
    reports = {"namespace": "reports", "serviceAccount": "reports", "s3BucketArns": ["arn:aws:s3:::reports-dev"]}
    edit_settings(root, "dev", lambda s: s["appRoles"].update(reports=reports))
    commits["added"] = commit(root, "dev: app role reports")
    edit_settings(root, "dev", lambda s: s["appRoles"].pop("daft"))
    commits["removed"] = commit(root, "dev: no app role daft")
    edit_settings(root, "prod", lambda s: s["cluster"].update(name="eks-platform-prod-b"))
    commits["renamed"] = commit(root, "prod: cluster renamed")
    naming = root / "components" / "naming.py"
    text = naming.read_text(encoding="utf-8")
    naming.write_text(
        text.replace('{"app.kubernetes.io/managed-by": "pulumi"}', '{"app.kubernetes.io/managed-by": "platform"}')
    )
    commits["code"] = commit(root, "components: another managed-by label")
    edit_settings(root, "dev", lambda s: s["cluster"]["nodeGroups"]["system"].update(metadataHopLimit=2))
    commits["hops"] = commit(root, "dev: IMDS hop limit 2")
    return {"root": root, **commits}


def between(repo: dict[str, Any], before: str, after: str, stack: str = "dev") -> PlanDiff:
    base_commit, base = plan_of_commit(repo[before], stack, "update", repo["root"])
    assert base is not None

    def preview(existing: frozenset[str], updated: frozenset[str]) -> Plan:
        _, head = plan_of_commit(repo[after], stack, "preview", repo["root"], existing=existing, updated=updated)
        assert head is not None
        return head

    return diff_against(base, preview, base_ref=before, commit=base_commit)


def step(diff: PlanDiff, type_: str, name: str = "") -> Any:
    [found] = [s for s in diff.steps if s.registration.type == type_ and (not name or s.registration.name == name)]
    return found


def ops(diff: PlanDiff, op: str) -> list[tuple[str, str]]:
    return sorted((s.registration.type, s.registration.name) for s in diff.steps if s.op == op)


@pytest.fixture(scope="module")
def cidr(repo: dict[str, Any]) -> PlanDiff:
    return between(repo, "base", "cidr")


def test_a_cidr_change_replaces_the_subnets_and_the_node_groups_in_them(cidr: PlanDiff):
    replaced = ops(cidr, "replace")
    subnets = [name for type_, name in replaced if type_ == SUBNET]
    assert sorted(subnets) == sorted(f"network-{tier}-{az}" for tier in ("intra", "private", "public") for az in "abc")
    private_a = step(cidr, SUBNET, "network-private-a")
    assert "cidrBlock" in private_a.replace_reasons
    change = next(c for c in private_a.changes if c.path == "cidrBlock")
    assert (change.old, change.new, change.replaces) == ("10.20.0.0/18", "10.30.0.0/18", True)
    # The node group's subnets are the replaced subnets' ids: unknown until apply, and replace-on-change.
    node_group = step(cidr, NODE_GROUP)
    assert node_group.op == "replace"
    assert "subnetIds" in node_group.replace_reasons
    assert all(c.new == UNKNOWN for c in node_group.changes if c.path.startswith("subnetIds"))
    # The component deletes it before creating the replacement (its name is fixed): the report says there is a gap.
    assert node_group.delete_first == "the deleteBeforeReplace option"
    assert step(cidr, SUBNET, "network-private-a").delete_first == ""
    # EKS updates a cluster's subnets in place (UpdateClusterConfig): an update, never a replace.
    cluster = step(cidr, CLUSTER)
    assert cluster.op == "update"
    assert ops(cidr, "create") == []
    assert ops(cidr, "delete") == []


def test_an_added_app_role_is_only_creates(repo: dict[str, Any]):
    diff = between(repo, "cidr", "added")
    created = ops(diff, "create")
    assert ("aws:iam/role:Role", "app-role-reports-role") in created or any(
        t == "aws:iam/role:Role" and "reports" in n for t, n in created
    )
    assert all("reports" in name for _, name in created), created
    assert ops(diff, "delete") == []
    assert ops(diff, "replace") == []


def test_a_removed_app_role_is_only_deletes(repo: dict[str, Any]):
    diff = between(repo, "added", "removed")
    deleted = ops(diff, "delete")
    assert any(t == "aws:iam/role:Role" and "daft" in n for t, n in deleted)
    assert all("daft" in name for _, name in deleted), deleted
    assert ops(diff, "create") == []
    assert diff.blocked() == []


def test_renaming_a_protected_cluster_is_refused(repo: dict[str, Any]):
    diff = between(repo, "removed", "renamed", stack="prod")
    blocked = [(s.op, s.registration.type) for s in diff.blocked()]
    assert ("replace", CLUSTER) in blocked
    cluster = step(diff, CLUSTER)
    assert "name" in cluster.replace_reasons
    assert "[BLOCKED: protected]" in "\n".join(render_text(diff))
    assert "> [!CAUTION]" in render_markdown(diff)


def test_a_change_to_the_components_alone_is_seen(repo: dict[str, Any]):
    # The base commit runs its own components/, not the checkout's the harness has imported.
    diff = between(repo, "renamed", "code")
    labelled = [s for s in diff.steps if any("managed-by" in c.path for c in s.changes)]
    assert len(labelled) >= 3
    assert {s.op for s in labelled} == {"update"}
    assert ops(diff, "create") == ops(diff, "delete") == ops(diff, "replace") == []
    change = next(c for c in labelled[0].changes if "managed-by" in c.path)
    assert (change.path, change.old, change.new) == (
        'metadata.labels["app.kubernetes.io/managed-by"]',
        "pulumi",
        "platform",
    )


def test_a_launch_template_update_rolls_the_node_group_on_it(repo: dict[str, Any]):
    diff = between(repo, "code", "hops")
    template = step(diff, "aws:ec2/launchTemplate:LaunchTemplate")
    assert template.op == "update"
    assert [c.path for c in template.changes] == ["metadataOptions.httpPutResponseHopLimit"]
    # Any change makes a new template version (ComputedIf latest_version): the node group moves to it.
    node_group = step(diff, NODE_GROUP)
    assert node_group.op == "update"
    assert [(c.path, c.new) for c in node_group.changes] == [("launchTemplate.version", UNKNOWN)]


def test_the_cli_reports_one_total_in_the_terminal_and_the_markdown(repo: dict[str, Any], tmp_path, capsys):
    json_file, markdown = tmp_path / "plan.json", tmp_path / "plan.md"
    argv = ["--stack", "dev", "--project-dir", str(repo["root"]), "--no-policy", "--format", "plain"]
    code = plan_cli.main([*argv, "--base", repo["base"], "--json", str(json_file), "--markdown", str(markdown)])
    out = capsys.readouterr().out
    assert code == 0
    totals = [line for line in out.splitlines() if line.startswith("Resources: ")]
    assert len(totals) == 1
    assert f"**{totals[0]}**" in markdown.read_text(encoding="utf-8").splitlines()
    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert data["base"]["commit"] == repo["base"]
    counted = {op: sum(1 for s in data["steps"] if s["op"] == op) for op in OPS}
    # The CLI lists changes and the stack, not every same (display.go shouldShow); changeSummary counts them all.
    assert counted["same"] == 1
    assert [s["newState"]["type"] for s in data["steps"] if s["op"] == "same"] == ["pulumi:pulumi:Stack"]
    assert {op: n for op, n in counted.items() if n and op != "same"} == {
        op: n for op, n in data["changeSummary"].items() if op != "same"
    }
    assert re.search(rf"\+-\s*{counted['replace']} to replace", totals[0])
    assert re.search(rf"{data['changeSummary']['same']} unchanged", totals[0])
    # The cost: one summary line in both formats, and the delta from the base (the app roles cost nothing).
    [summary] = [line for line in out.splitlines() if line.startswith("Estimated cost: ")]
    assert summary in markdown.read_text(encoding="utf-8")
    assert data["costDelta"] == {"min": 0.0, "desired": 0.0, "max": 0.0}
    assert "Cost delta against the base: +$0.00/month at desired" in out


def test_the_comment_is_cut_to_fit_github(repo: dict[str, Any], tmp_path, capsys, monkeypatch):
    full, cut = tmp_path / "full.md", tmp_path / "cut.md"
    argv = ["--stack", "dev", "--project-dir", str(repo["root"]), "--no-policy", "--format", "plain", "--no-lint"]
    assert plan_cli.main([*argv, "--base", repo["base"], "--markdown", str(full)]) == 0
    limit = len(full.read_text(encoding="utf-8")) - 1
    monkeypatch.setattr(plan_cli, "MAX_COMMENT_CHARS", limit)
    assert plan_cli.main([*argv, "--base", repo["base"], "--markdown", str(cut)]) == 0
    text = cut.read_text(encoding="utf-8")
    assert len(text) <= limit
    assert re.search(r"… and \d+ more changes: every step is in the plan's JSON", text)
    assert "**Resources: " in text  # the total stays
    capsys.readouterr()


def test_a_protected_replace_fails_the_plan(repo: dict[str, Any], capsys):
    argv = ["--stack", "prod", "--project-dir", str(repo["root"]), "--no-policy", "--format", "plain"]
    assert plan_cli.main([*argv, "--base", repo["removed"]]) == plan_cli.EXIT_CHECKS_FAILED
    assert "[BLOCKED: protected]" in capsys.readouterr().out


def test_a_ref_that_is_no_commit_is_one_line_and_exit_2(repo: dict[str, Any], capsys):
    argv = ["--stack", "dev", "--project-dir", str(repo["root"]), "--no-policy", "--base", "no-such-branch"]
    assert plan_cli.main(argv) == plan_cli.EXIT_CONFIG_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: --base no-such-branch: 'no-such-branch' is not a commit of the repository at {repo['root']}"
    ]


def test_a_stack_the_base_commit_lacks_is_all_creates(repo: dict[str, Any]):
    root: Path = repo["root"]
    commit_id, base = plan_of_commit(repo["base"], "staging", "update", root)
    assert (commit_id, base) == (repo["base"], None)
    _, head = plan_of_commit(repo["base"], "dev", "update", root)
    assert head is not None
    diff = diff_plans(None, head, base_ref="base", commit=commit_id)
    assert diff.new_stack
    assert diff.count()["create"] == len(head.resources)


# ---------------------------------------------------------------------------------------------- the rules


def reg(name: str, inputs: dict[str, Any], **options: Any) -> Registration:
    parent = options.pop("parent", "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s")
    type_ = options.pop("type", SUBNET)
    fields: dict[str, Any] = {
        "urn": options.pop("urn", f"urn:pulumi:s::p::{type_}::{name}"),
        "type": type_,
        "name": name,
        "parent": parent,
        "provider": "",
        "inputs": inputs,
        "raw_object": struct_pb2.Struct(),
        "dependencies": [],
        "property_dependencies": {},
        "custom": True,
        "protect": False,
    }
    return Registration(**(fields | options))


def plan(*resources: Registration) -> Plan:
    return Plan(stack="s", project="p", mode="update", resources=list(resources))


def test_an_aliased_rename_is_an_update_not_a_delete_and_a_create():
    old = reg("old-name", {"cidrBlock": "10.0.0.0/24", "tags": {"a": "1"}})
    new = reg("new-name", {"cidrBlock": "10.0.0.0/24", "tags": {"a": "2"}}, aliases=[{"spec": {"name": "old-name"}}])
    diff = diff_plans(plan(old), plan(new))
    assert [(s.op, s.urn) for s in diff.steps] == [("update", new.urn)]
    assert [c.path for c in diff.steps[0].changes] == ["tags.a"]
    unaliased = diff_plans(plan(old), plan(reg("new-name", old.inputs)))
    assert sorted(s.op for s in unaliased.steps) == ["create", "delete"]


def test_children_inherit_their_renamed_parent_s_alias():
    stack = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    component = "p:platform:Bucket"
    old_parent = reg("old-bucket", {}, type=component, custom=False, parent=stack)
    old_child = reg(
        "old-bucket-policy",
        {"x": 1},
        parent=old_parent.urn,
        urn=f"urn:pulumi:s::p::{component}${SUBNET}::old-bucket-policy",
    )
    new_parent = reg(
        "new-bucket", {}, type=component, custom=False, parent=stack, aliases=[{"spec": {"name": "old-bucket"}}]
    )
    new_child = reg(
        "new-bucket-policy",
        {"x": 1},
        parent=new_parent.urn,
        urn=f"urn:pulumi:s::p::{component}${SUBNET}::new-bucket-policy",
    )
    diff = diff_plans(plan(old_parent, old_child), plan(new_parent, new_child))
    assert sorted((s.op, s.registration.name) for s in diff.steps) == [
        ("same", "new-bucket"),
        ("same", "new-bucket-policy"),
    ]


def test_a_dependent_of_a_replaced_resource_is_previewed_with_its_output_unknown():
    old = [reg("a", {"cidrBlock": "10.0.0.0/24"}), reg("ng", {"subnetIds": ["subnet-a"]}, type=NODE_GROUP)]
    passes: list[frozenset[str]] = []

    def preview(existing: frozenset[str], _updated: frozenset[str]) -> Plan:
        # The mocks' answer: a kept subnet's id is the state's, a replaced one's is unknown until apply.
        passes.append(existing)
        subnet_id = "subnet-a" if old[0].urn in existing else UNKNOWN
        return plan(reg("a", {"cidrBlock": "10.0.1.0/24"}), reg("ng", {"subnetIds": [subnet_id]}, type=NODE_GROUP))

    diff = diff_against(plan(*old), preview)
    by_name = {s.registration.name: s for s in diff.steps}
    assert (by_name["a"].op, by_name["ng"].op) == ("replace", "replace")
    assert [(c.path, c.new, c.replaces, c.unknown) for c in by_name["ng"].changes] == [
        ("subnetIds[0]", UNKNOWN, True, True)
    ]
    assert passes == [frozenset({old[0].urn, old[1].urn}), frozenset({old[1].urn}), frozenset()]


def test_a_replace_deletes_first_with_the_option_or_a_kept_fixed_name():
    kind = "kubernetes:core/v1:ConfigMap"
    old = reg("cm", {"metadata": {"name": "settings"}, "data": {"a": "1"}}, type=kind)
    kept = diff_plans(plan(old), plan(reg("cm", {"metadata": {"name": "settings"}, "data": {"a": "2"}}, type=kind)))
    assert [(s.op, s.delete_first) for s in kept.steps] == [("replace", "its fixed name 'settings' (metadata.name)")]
    renamed = reg("cm", {"metadata": {"name": "settings-v2"}, "data": {"a": "2"}}, type=kind)
    assert [s.delete_first for s in diff_plans(plan(old), plan(renamed)).steps] == [""]
    subnet = reg("a", {"cidrBlock": "10.0.1.0/24"}, delete_before_replace=True)
    forced = diff_plans(plan(reg("a", {"cidrBlock": "10.0.0.0/24"})), plan(subnet))
    assert [s.delete_first for s in forced.steps] == ["the deleteBeforeReplace option"]
    assert "deleted first, because of the deleteBeforeReplace option" in "\n".join(render_text(forced))


def test_the_replace_on_changes_option_and_protect_count():
    old = reg("a", {"mapPublicIpOnLaunch": False}, protect=True)
    new = reg("a", {"mapPublicIpOnLaunch": True}, protect=True, replace_on_changes=["mapPublicIpOnLaunch"])
    diff = diff_plans(plan(old), plan(new))
    assert [(s.op, s.protected) for s in diff.steps] == [("replace", True)]
    gone = diff_plans(plan(reg("b", {}, protect=True, retain_on_delete=True)), plan())
    assert [(s.op, s.protected, s.retained) for s in gone.steps] == [("delete", True, True)]


def test_a_changed_or_unknown_replacement_trigger_replaces():
    old = reg("role", {"x": 1}, replacement_trigger="AROA1")
    same = diff_plans(plan(old), plan(reg("role", {"x": 1}, replacement_trigger="AROA1")))
    assert [s.op for s in same.steps] == ["same"]
    for trigger in ("AROA2", UNKNOWN):
        [changed] = diff_plans(plan(old), plan(reg("role", {"x": 1}, replacement_trigger=trigger))).steps
        assert (changed.op, changed.replace_notes) == ("replace", ("its replacementTrigger changed",))
    # Adding or removing a trigger replaces nothing (shouldTriggerReplace).
    assert [s.op for s in diff_plans(plan(old), plan(reg("role", {"x": 1}))).steps] == ["same"]
    assert [s.op for s in diff_plans(plan(reg("role", {"x": 1})), plan(old)).steps] == ["same"]


def test_ignore_changes_and_replace_on_changes_paths():
    old = reg("ng", {"scalingConfig": {"desiredSize": 1, "maxSize": 3}, "spec": {"containers": [{"image": "a"}]}})
    new = {"scalingConfig": {"desiredSize": 2, "maxSize": 3}, "spec": {"containers": [{"image": "b"}]}}
    ignored = reg(
        "ng", new, ignore_changes=["scalingConfig.desiredSize"], replace_on_changes=["spec.containers[*].image"]
    )
    [step_] = diff_plans(plan(old), plan(ignored)).steps
    assert (step_.op, [c.path for c in step_.changes]) == ("replace", ["spec.containers[0].image"])
    loose = reg("ng", new, replace_on_changes=["spec.*"])
    assert [s.op for s in diff_plans(plan(old), plan(loose)).steps] == ["replace"]
    unrelated = reg("ng", new, replace_on_changes=["metadata.*"])
    assert [s.op for s in diff_plans(plan(old), plan(unrelated)).steps] == ["update"]


def test_unprotecting_in_the_same_change_lets_a_replace_through():
    old = reg("a", {"cidrBlock": "10.0.0.0/24"}, protect=True)
    [kept] = diff_plans(plan(old), plan(reg("a", {"cidrBlock": "10.0.1.0/24"}, protect=True))).steps
    [freed] = diff_plans(plan(old), plan(reg("a", {"cidrBlock": "10.0.1.0/24"}, protect=False))).steps
    assert (kept.op, kept.protected, freed.op, freed.protected) == ("replace", True, "replace", False)


def test_a_kubeconfig_change_replaces_the_provider_only_for_another_cluster():
    def kubeconfig(server: str, user: str) -> dict[str, Any]:
        config = {
            "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": server, "certificate-authority-data": "Q0E="}}],
            "users": [{"name": "u", "user": {"exec": {"args": [user]}}}],
        }
        return {"kubeconfig": json.dumps(config)}

    kind = "pulumi:providers:kubernetes"
    old = reg("k8s", kubeconfig("https://a.eks", "x"), type=kind)
    [auth] = diff_plans(plan(old), plan(reg("k8s", kubeconfig("https://a.eks", "y"), type=kind))).steps
    [moved] = diff_plans(plan(old), plan(reg("k8s", kubeconfig("https://b.eks", "x"), type=kind))).steps
    [unknown] = diff_plans(plan(old), plan(reg("k8s", {"kubeconfig": UNKNOWN}, type=kind))).steps
    assert (auth.op, moved.op, unknown.op) == ("update", "replace", "replace")


def test_secret_values_never_show():
    secret = {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": "hunter2-long-enough"}
    changed = {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": "hunter3-long-enough"}
    [change] = property_changes({"data": secret}, {"data": changed})
    assert (change.path, change.old, change.new) == ("data", REDACTED, REDACTED)
    assert list(property_changes({"data": secret}, {"data": dict(secret)})) == []
    diff = diff_plans(plan(reg("a", {"data": secret})), plan(reg("a", {"data": changed})))
    text = json.dumps(preview_steps(diff.steps)) + "\n".join(render_text(diff)) + "\n".join(render_markdown(diff))
    assert "hunter" not in text
    assert REDACTED in text


def test_values_show_as_the_cli_prints_them():
    assert show_value(2.0) == "2"
    assert show_value({"size": 3.0, "ratio": 0.5}) == '{"ratio": 0.5, "size": 3}'
    assert show_value(UNKNOWN) == "(known after apply)"
    assert show_value("x" * 200).endswith("…")
    assert len(show_value("x" * 200)) == 80


def test_paths_lists_and_odd_keys():
    old = {"tags": {"kubernetes.io/role/elb": "1"}, "ids": ["a", "b"], "spec": {"x": [1]}}
    new = {"tags": {"kubernetes.io/role/elb": "2"}, "ids": ["a", "c"], "spec": {"x": [1, 2]}}
    assert [c.path for c in property_changes(old, new)] == ["ids[1]", "spec.x", 'tags["kubernetes.io/role/elb"]']


def test_the_preview_json_shape():
    diff = diff_plans(
        plan(reg("a", {"cidrBlock": "10.0.0.0/24"}), reg("gone", {})),
        plan(reg("a", {"cidrBlock": "10.0.1.0/24"}), reg("new", {})),
    )
    steps = {s["urn"].rsplit("::", 1)[1]: s for s in preview_steps(diff.steps)}
    assert steps["a"]["op"] == "replace"
    assert steps["a"]["replaceReasons"] == ["cidrBlock"]
    assert steps["a"]["detailedDiff"] == {"cidrBlock": {"kind": "update-replace", "inputDiff": True}}
    assert steps["a"]["oldState"]["inputs"] == {"cidrBlock": "10.0.0.0/24"}
    assert steps["a"]["oldState"]["outputs"] == {}
    assert "oldState" not in steps["new"]
    assert steps["new"]["detailedDiff"] is None
    assert "newState" not in steps["gone"]
    assert change_summary(diff.steps) == {"create": 1, "delete": 1, "replace": 1}


def test_the_summary_line():
    assert summary_line(dict.fromkeys(OPS, 0) | {"same": 4}) == "Resources: 4 unchanged"
    line = summary_line({"create": 3, "update": 1, "replace": 12, "delete": 0, "same": 140})
    assert line == "Resources: + 3 to create, ~ 1 to update, +-12 to replace, 140 unchanged"
