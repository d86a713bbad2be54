"""`argo` settings: declared Applications, team guardrails, RBAC; each mistake is one line naming file and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.argo_apps import IN_CLUSTER_SERVER
from config import argo_spec
from tests.config.test_settings import KEY, error_of, parse, stack_settings

REPO = "https://github.com/example-org/eventual-hub.git"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"


def with_argo(**argo: Any) -> dict[str, Any]:
    """The prod stack's settings with ``argo`` keys replaced."""
    raw = copy.deepcopy(stack_settings("prod"))
    raw["argo"] = {**raw["argo"], **argo}
    return raw


def team(**extra: Any) -> dict[str, Any]:
    return {"eventual-hub": {"sourceRepos": [REPO, CHART_REPO], "namespaces": ["eventual-hub"], **extra}}


def app(**extra: Any) -> dict[str, Any]:
    return {
        "destination": {"namespace": "eventual-hub"},
        "source": {"repoUrl": REPO, "path": "deploy", "targetRevision": "main"},
        **extra,
    }


def error(raw: dict[str, Any]) -> str:
    return error_of(raw, "prod").removeprefix(f"Pulumi.prod.yaml: {KEY}")


def test_the_stacks_keep_their_defaults():
    for stack in ("dev", "prod"):
        argo = parse(stack_settings(stack), stack).argo
        assert argo.applications == {}
        assert argo.automated_sync is True
        assert argo.rbac.default_role == ""
        for project in argo.teams.values():
            assert project.default_deny_network_policy is True
            assert (project.quota, project.limits, project.allow_cluster_kinds) == (None, None, [])


def test_a_multi_source_app_maps_to_its_spec():
    raw = with_argo(
        teams=team(),
        automatedSync=False,
        applications={
            "hub": app(
                project="eventual-hub",
                source=None,
                sources=[
                    {
                        "repoUrl": CHART_REPO,
                        "chart": "kube-state-metrics",
                        "targetRevision": "5.25.1",
                        "helm": {"valueFiles": ["$values/ksm/values.yaml"]},
                    },
                    {"repoUrl": REPO, "ref": "values"},
                ],
                syncWave=3,
                syncOptions=["ServerSideApply=true", "PrunePropagationPolicy=background"],
            )
        },
    )
    raw["argo"]["applications"]["hub"].pop("source")
    spec = argo_spec(parse(raw, "prod").argo).applications["hub"]
    assert spec.multi_source is True
    assert [s.ref for s in spec.sources] == [None, "values"]
    assert spec.sync_wave == 3
    assert spec.automated is False  # argo.automatedSync
    assert spec.server == IN_CLUSTER_SERVER


@pytest.mark.parametrize(
    ("argo", "field", "problem"),
    [
        ({"applications": {"x": app(project="nope")}}, ".argo.applications.x.project", "'nope' is neither default"),
        (
            {"teams": team(), "applications": {"x": app(project="eventual-hub", destination={"namespace": "other"})}},
            ".argo.applications.x.destination.namespace",
            "'other' is not one of team eventual-hub's namespaces",
        ),
        (
            {
                "teams": team(),
                "applications": {
                    "x": app(project="eventual-hub", destination={"namespace": "eventual-hub", "server": "https://x"})
                },
            },
            ".argo.applications.x.destination.server",
            "allows only this cluster",
        ),
        (
            {"teams": team(), "applications": {"x": app(project="eventual-hub", syncOptions=["CreateNamespace=true"])}},
            ".argo.applications.x.syncOptions",
            "CreateNamespace=true needs Namespace in team eventual-hub's allowClusterKinds",
        ),
        (
            {"teams": team(sourceRepos=[CHART_REPO]), "applications": {"x": app(project="eventual-hub")}},
            ".argo.applications.x",
            "does not allow repos",
        ),
        (
            {"applications": {"x": app(syncOptions=["CreateNamespaces=true"])}},
            ".argo.applications.x.syncOptions",
            "'CreateNamespaces=true' is not a sync option",
        ),
        (
            {"applications": {"x": app(syncOptions=["PruneLast=yes"])}},
            ".argo.applications.x.syncOptions",
            "PruneLast takes true",
        ),
        (
            {"applications": {"x": app(syncOptions=["Force=true"])}},
            ".argo.applications.x.syncOptions",
            "'Force=true' is not a sync option",
        ),
        (
            {
                "applications": {
                    "x": {
                        "destination": {"namespace": "x"},
                        "sources": [
                            {"repoUrl": CHART_REPO, "chart": "c", "helm": {"valueFiles": ["$vals/v.yaml"]}},
                            {"repoUrl": REPO, "ref": "values"},
                        ],
                    }
                }
            },
            ".argo.applications.x.sources[0].helm.valueFiles",
            "$vals names no source's ref",
        ),
        (
            {"applications": {"x": {"destination": {"namespace": "x"}}}},
            ".argo.applications.x.source",
            "give either source or sources",
        ),
        (
            {"applications": {"x": app(source={"repoUrl": REPO, "path": "p", "chart": "c"})}},
            ".argo.applications.x.source.chart",
            "a git path or a chart, not both",
        ),
        (
            {"applications": {"x": app(ignoreDifferences=[{"kind": "Deployment"}])}},
            ".argo.applications.x.ignoreDifferences[0].jsonPointers",
            "say what to ignore",
        ),
        ({"applications": {"root": app()}}, ".argo.applications.root", "the root app-of-apps has that name"),
        ({"rbac": {"defaultRole": "role:viewer"}}, ".argo.rbac.defaultRole", "'role:viewer' is not a role"),
        ({"rbac": {"policyCsv": "p, role:x, applications, get\n"}}, ".argo.rbac.policyCsv", "line 1"),
        (
            {"teams": team(quota={"requests.cpu": "lots"})},
            ".argo.teams.eventual-hub.quota",
            "'lots' is not a Kubernetes quantity",
        ),
        ({"teams": team(quota={"requests.memory": "-1Gi"})}, ".argo.teams.eventual-hub.quota", "is negative"),
        (
            {"teams": team(limits={"max": {"gpu": "1"}})},
            ".argo.teams.eventual-hub.limits.max",
            "are not resources a Container LimitRange bounds",
        ),
        (
            {"teams": team(limits={"default": {"memory": "1GB"}})},
            ".argo.teams.eventual-hub.limits.default",
            "'1GB' is not a Kubernetes quantity",
        ),
        ({"teams": team(limits={})}, ".argo.teams.eventual-hub.limits.default", "needs default, defaultRequest or max"),
        (
            {"teams": team(limits={"default": {"cpu": "4"}, "max": {"cpu": "2"}})},
            ".argo.teams.eventual-hub.limits.default.cpu",
            "4 is more than max.cpu (2)",
        ),
        (
            {"teams": team(limits={"default": {"memory": "512Mi"}, "defaultRequest": {"memory": "1Gi"}})},
            ".argo.teams.eventual-hub.limits.defaultRequest.memory",
            "1Gi is more than default.memory (512Mi)",
        ),
        ({"teams": team(labels={"platform.eks/team": "x"})}, ".argo.teams.eventual-hub.labels", "set by the platform"),
        (
            {"teams": team(allowClusterKinds=[{"kind": "namespace"}])},
            ".argo.teams.eventual-hub.allowClusterKinds[0].kind",
            "String should match pattern",
        ),
    ],
)
def test_a_bad_argo_setting_is_one_line_naming_its_field(argo: dict[str, Any], field: str, problem: str):
    message = error(with_argo(**argo))
    assert message.startswith((field + ":", field + " ")), message
    assert problem in message


def test_a_policy_csv_role_may_be_the_default():
    raw = with_argo(rbac={"defaultRole": "role:viewer", "policyCsv": "p, role:viewer, applications, get, */*, allow"})
    spec = argo_spec(parse(raw, "prod").argo)
    assert (spec.rbac.default_role, spec.rbac.policy_csv.strip()) == (
        "role:viewer",
        "p, role:viewer, applications, get, */*, allow",
    )


def test_ignore_differences_take_argo_cds_globs_for_group_and_kind():
    # argo-cd util/argo/diff/ignore.go matches an app's ignoreDifferences with glob.Match(ignore.Group, group) and
    # glob.Match(ignore.Kind, kind): the Sage seed's `group: "*"` (every group) is valid Argo CD.
    entries = [
        {"group": "*", "kind": "Secret", "jsonPointers": ["/data/admin-password"]},
        {"group": "*.k8s.io", "kind": "*", "managedFieldsManagers": ["kube-controller-manager"]},
    ]
    raw = with_argo(applications={"x": app(ignoreDifferences=entries)})
    application = argo_spec(parse(raw, "prod").argo).applications["x"]
    assert [(entry.group, entry.kind) for entry in application.ignore_differences] == [
        ("*", "Secret"),
        ("*.k8s.io", "*"),
    ]
    bad = [{"group": "Apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]
    message = error(with_argo(applications={"x": app(ignoreDifferences=bad)}))
    assert message.startswith(".argo.applications.x.ignoreDifferences[0].group"), message


def test_team_guardrails_map_to_the_spec():
    raw = with_argo(
        teams=team(
            allowClusterKinds=[{"group": "", "kind": "Namespace", "name": "eventual-*"}],
            denyNamespacedKinds=[{"group": "rbac.authorization.k8s.io", "kind": "Role"}],
            labels={"tier": "apps"},
            quota={"requests.cpu": "4", "count/deployments.apps": "20"},
            limits={"defaultRequest": {"cpu": "100m"}},
            defaultDenyNetworkPolicy=False,
        )
    )
    project = argo_spec(parse(raw, "prod").argo).teams["eventual-hub"]
    assert project.allow_cluster_kinds[0].entry() == {"group": "", "kind": "Namespace", "name": "eventual-*"}
    assert project.deny_namespaced_kinds[0].kind == "Role"
    assert project.quota == {"requests.cpu": "4", "count/deployments.apps": "20"}
    assert project.limits is not None
    assert project.limits.default_request == {"cpu": "100m"}
    assert project.default_deny_network_policy is False


def test_the_readme_examples_are_valid_settings():
    import re
    import textwrap
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Argo CD applications and teams", 1)[1].split("\n## ", 1)[0]
    blocks = [yaml.safe_load(textwrap.dedent(b)) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    assert len(blocks) == 3
    argo = blocks[0]["argo"] | blocks[1] | blocks[2]
    settings = parse(with_argo(**argo), "prod").argo
    assert set(settings.applications) == {"airflow", "kube-prometheus-stack"}
    assert settings.teams["data-science"].quota == {"requests.cpu": "64", "limits.memory": "384Gi", "pods": "400"}
    assert settings.rbac.default_role == "role:readonly"


def test_a_quota_on_requests_without_default_requests_is_warned_about():
    from config import guardrail_warnings

    raw = copy.deepcopy(stack_settings("prod"))
    team = next(iter(raw["argo"]["teams"]))
    raw["argo"]["teams"][team]["quota"] = {"requests.cpu": "8", "limits.memory": "32Gi", "pods": "50"}
    warnings = guardrail_warnings(parse(raw, "prod"))
    memory = f".argo.teams.{team}.quota.limits.memory: pods that set no limit of memory are refused in the team's "
    cpu = f".argo.teams.{team}.quota.requests.cpu: pods that set no request of cpu are refused in the team's "
    assert warnings == [
        memory + "namespaces; set limits.default.memory",
        cpu + "namespaces; set limits.defaultRequest.cpu",
    ]
    # A default limit is the default request too; both defaults silence both.
    raw["argo"]["teams"][team]["limits"] = {"default": {"cpu": "1", "memory": "1Gi"}}
    assert guardrail_warnings(parse(raw, "prod")) == []
