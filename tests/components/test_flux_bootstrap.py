"""FluxBootstrap under the offline harness, in preview and update modes."""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.flux_bootstrap import GITHUB_KNOWN_HOSTS, FluxBootstrap, FluxBootstrapArgs
from components.gitops_bridge import BridgedAddon
from components.naming import NamingContext
from components.versions import FLUX2_CHART
from config import FluxSettings, flux_spec
from tests.components.gitops_fixtures import TOLERATIONS, bridge_facts
from tools.fidelity import custom_resource_problems, data_dir, load_crds
from tools.harness import MODES, Mode, Plan, Registration, run_callable, unwrap
from tools.mocks import UNKNOWN

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
COMPONENT = "eksplatform:platform:FluxBootstrap"
RELEASE = "kubernetes:helm.sh/v3:Release"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
HELM_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:HelmRepository"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
HELM_RELEASE = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LBC_ARN = "arn:aws:iam::123456789012:role/eks-platform-test-aws-load-balancer-controller"
ECR = "oci://123456789012.dkr.ecr.us-west-2.amazonaws.com/charts"

FULL = {
    "sources": {
        "platform": {
            "url": "ssh://git@github.com/example-org/platform-gitops.git",
            "paths": {
                "infrastructure": "./clusters/test/infra",
                "apps": {"path": "./clusters/test/apps", "dependsOn": ["infrastructure"]},
            },
        },
        "tenants": {"url": "ssh://git@github.com/example-org/tenants.git", "branch": "prod", "paths": {"all": "./"}},
    },
    "helmRepositories": {"platform-charts": {"url": ECR}},
}
ADDONS = (
    BridgedAddon(
        name="aws-load-balancer-controller",
        repo_url="https://aws.github.io/eks-charts",
        chart="aws-load-balancer-controller",
        version="3.0.0",
        namespace="kube-system",
        values={
            "clusterName": "${cluster_name}",
            "serviceAccount": {
                "name": "aws-load-balancer-controller",
                "annotations": {"eks.amazonaws.com/role-arn": "${aws_load_balancer_controller_role_arn}"},
            },
        },
        service_account="aws-load-balancer-controller",
        wave=1,
    ),
    BridgedAddon(
        name="internal-crds",
        repo_url="oci://123456789012.dkr.ecr.us-west-2.amazonaws.com/platform",
        chart="internal-crds",
        version="0.1.0",
        namespace="platform-crds",
    ),
)


def _args(raw: dict[str, Any], addons: tuple[BridgedAddon, ...]) -> FluxBootstrapArgs:
    return FluxBootstrapArgs(
        naming=NamingContext("eks-platform", "test"),
        flux=flux_spec(FluxSettings.model_validate(raw)),
        bridge=bridge_facts({"aws-load-balancer-controller": pulumi.Output.from_input(LBC_ARN)}, addons),
    )


@functools.cache
def plan_for(name: str, mode: Mode) -> Plan:
    """One run per configuration and mode, shared by the tests of this module."""
    raw, addons = (FULL, ADDONS) if name == "full" else ({}, ())
    return run_callable(lambda: FluxBootstrap("flux", _args(raw, addons)), mode=mode)


@pytest.fixture(params=MODES)
def full(request: pytest.FixtureRequest) -> Plan:
    return plan_for("full", request.param)


def values(plan: Plan) -> dict[str, Any]:
    revealed: dict[str, Any] = unwrap(plan.one(RELEASE, "flux-release").inputs["values"])
    return revealed


def custom_resources(plan: Plan) -> list[Registration]:
    return [r for r in plan.resources if r.type.split(":")[1].endswith(("fluxcd.io/v1", "fluxcd.io/v2"))]


# ---------------------------------------------------------------------------------------------- structure


def test_children_are_parented_and_named_by_identity(full: Plan):
    component = full.one(COMPONENT, "flux")
    names = {(r.type, r.name) for r in full.children_of(component.urn)}
    assert {
        (PRIVATE_KEY, "flux-deploy-key-platform"),
        (PRIVATE_KEY, "flux-deploy-key-tenants"),
        (SECRET, "flux-git-credentials-platform"),
        (SECRET, "flux-git-credentials-tenants"),
        (GIT_REPOSITORY, "flux-source-platform"),
        (GIT_REPOSITORY, "flux-source-tenants"),
        (KUSTOMIZATION, "flux-kustomization-platform-infrastructure"),
        (KUSTOMIZATION, "flux-kustomization-platform-apps"),
        (KUSTOMIZATION, "flux-kustomization-tenants-all"),
        (HELM_REPOSITORY, "flux-helm-repository-platform-charts"),
        (HELM_REPOSITORY, "flux-addon-repository-aws-load-balancer-controller"),
        (HELM_REPOSITORY, "flux-addon-repository-internal-crds"),
        (HELM_RELEASE, "flux-addon-aws-load-balancer-controller"),
        (HELM_RELEASE, "flux-addon-internal-crds"),
        (CONFIG_MAP, "flux-bridge"),
        (BINDING, "flux-reconciler-binding"),
        (RELEASE, "flux-release"),
    } <= names


def test_release_is_pinned_atomic_and_in_flux_system(full: Plan):
    repo, chart, version = FLUX2_CHART
    inputs = full.one(RELEASE, "flux-release").inputs
    assert (inputs["repositoryOpts"]["repo"], inputs["chart"], inputs["version"]) == (repo, chart, version)
    assert (inputs["name"], inputs["namespace"]) == ("flux", "flux-system")
    assert (inputs["atomic"], inputs["cleanupOnFail"], inputs["maxHistory"]) == (True, True, 10.0)


def test_the_controllers_are_locked_down_through_the_chart_values(full: Plan):
    v = values(full)
    assert v["multitenancy"] == {"enabled": True, "defaultServiceAccount": "flux-reconciler", "privileged": False}
    assert v["kustomizeController"]["container"]["additionalArgs"] == ["--no-remote-bases=true"]
    assert v["kustomizeController"]["tolerations"] == TOLERATIONS


# ---------------------------------------------------------------------------------------------- deploy keys


@pytest.mark.parametrize("mode", MODES)
def test_each_source_has_a_generated_ed25519_deploy_key(mode: Mode):
    plan = plan_for("full", mode)
    for source in ("platform", "tenants"):
        key = plan.one(PRIVATE_KEY, f"flux-deploy-key-{source}")
        assert key.inputs == {"algorithm": "ED25519"}
        assert {"privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"} <= set(key.additional_secret_outputs)


@pytest.mark.parametrize("mode", MODES)
def test_the_git_credentials_secret_has_the_shape_gitrepository_expects(mode: Mode):
    plan = plan_for("full", mode)
    key = plan.one(PRIVATE_KEY, "flux-deploy-key-platform")
    secret = plan.one(SECRET, "flux-git-credentials-platform")
    assert secret.property_dependencies["stringData"] == [key.urn]
    assert secret.inputs["metadata"]["name"] == "platform-git-credentials"
    assert secret.inputs["metadata"]["namespace"] == "flux-system"
    # The whole stringData travels as a secret: it holds the private key.
    wrapped = secret.inputs["stringData"]
    assert wrapped[SECRET_SIG] == SECRET_VALUE
    if mode == "preview":  # the provider generates the key at create: the data is not known yet
        assert wrapped["value"] == UNKNOWN
        return
    data = unwrap(wrapped)
    assert set(data) == {"identity", "identity.pub", "known_hosts"}
    assert data["known_hosts"] == "".join(f"{line}\n" for line in GITHUB_KNOWN_HOSTS)
    assert data["identity"] == key.outputs["privateKeyOpenssh"]
    assert data["identity"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert data["identity.pub"] == key.outputs["publicKeyOpenssh"]


@pytest.mark.parametrize("mode", MODES)
def test_the_public_keys_are_the_components_output(mode: Mode):
    plan = plan_for("full", mode)
    out = plan.component_outputs[plan.one(COMPONENT, "flux").urn]["deployKeys"]
    assert set(out) == {"platform", "tenants"}
    for source, public in out.items():
        key = plan.one(PRIVATE_KEY, f"flux-deploy-key-{source}")
        if mode == "preview":
            assert public == UNKNOWN
        else:
            assert public == key.outputs["publicKeyOpenssh"]
            assert public.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")
            assert SECRET_SIG not in json.dumps(out)  # the public half is no secret


def test_the_mocked_key_is_an_openssh_key_ssh_keygen_reads(tmp_path: Path):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("no ssh-keygen")
    key = plan_for("full", "update").one(PRIVATE_KEY, "flux-deploy-key-platform").outputs
    public, private = tmp_path / "identity.pub", tmp_path / "identity"
    public.write_text(key["publicKeyOpenssh"])
    private.write_text(key["privateKeyOpenssh"])
    private.chmod(0o600)
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(public)], check=True, capture_output=True, text=True)
    assert listed.stdout.split()[1] == key["publicKeyFingerprintSha256"]
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], check=True, capture_output=True, text=True)
    assert derived.stdout.split()[:2] == key["publicKeyOpenssh"].split()[:2]


# ---------------------------------------------------------------------------------------------- sources


@pytest.mark.parametrize("mode", MODES)
def test_git_repositories_pull_over_ssh_with_their_own_key(mode: Mode):
    plan = plan_for("full", mode)
    repository = plan.one(GIT_REPOSITORY, "flux-source-tenants")
    assert repository.inputs["spec"] == {
        "url": "ssh://git@github.com/example-org/tenants.git",
        "ref": {"branch": "prod"},
        "interval": "5m",
        "secretRef": {"name": "tenants-git-credentials"},
    }
    assert plan.one(SECRET, "flux-git-credentials-tenants").urn in repository.dependencies


@pytest.mark.parametrize("mode", MODES)
def test_kustomizations_substitute_the_bridge_and_reconcile_as_the_reconciler(mode: Mode):
    plan = plan_for("full", mode)
    bridge = plan.one(CONFIG_MAP, "flux-bridge")
    apps = plan.one(KUSTOMIZATION, "flux-kustomization-platform-apps")
    spec = apps.inputs["spec"]
    assert spec["postBuild"] == {"substituteFrom": [{"kind": "ConfigMap", "name": "platform-bridge"}]}
    assert spec["serviceAccountName"] == "flux-reconciler"
    assert spec["dependsOn"] == [{"name": "platform-infrastructure"}]
    assert spec["path"] == "./clusters/test/apps"
    assert bridge.urn in apps.property_dependencies["spec"]
    if mode == "update":
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": "platform"}
    assert apps.inputs["metadata"]["name"] == "platform-apps"


def test_the_bridge_config_map_holds_the_facts_and_role_arns(full: Plan):
    data = full.one(CONFIG_MAP, "flux-bridge").inputs["data"]
    assert data["cluster_name"] == "eks-platform-test"
    assert data["region"] == "us-west-2"
    assert data["account_id"] == "123456789012"
    assert data["vpc_id"] == "vpc-0123456789abcdef0"
    assert data["environment"] == "test"
    assert data["aws_load_balancer_controller_role_arn"] == LBC_ARN


def test_the_reconciler_is_bound_to_cluster_admin_and_nothing_else_is(full: Plan):
    binding = full.one(BINDING, "flux-reconciler-binding").inputs
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "cluster-admin",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "flux-reconciler", "namespace": "flux-system"}]
    assert len(full.by_type(BINDING)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_custom_resources_wait_for_the_release_and_reconcilers_for_their_rights(mode: Mode):
    plan = plan_for("full", mode)
    release = plan.one(RELEASE, "flux-release")
    binding = plan.one(BINDING, "flux-reconciler-binding")
    resources = custom_resources(plan)
    assert len(resources) == 10
    for resource in resources:
        assert release.urn in resource.property_dependencies["metadata"], resource.name
        if resource.type in (KUSTOMIZATION, HELM_RELEASE):
            assert binding.urn in resource.dependencies, resource.name


# ---------------------------------------------------------------------------------------------- ECR and add-ons


def test_helm_repositories_on_ecr_use_the_aws_provider(full: Plan):
    spec = full.one(HELM_REPOSITORY, "flux-helm-repository-platform-charts").inputs["spec"]
    assert spec == {"type": "oci", "url": ECR, "provider": "aws", "interval": "1h"}
    assert full.one(HELM_REPOSITORY, "flux-addon-repository-internal-crds").inputs["spec"]["provider"] == "aws"
    https = full.one(HELM_REPOSITORY, "flux-addon-repository-aws-load-balancer-controller").inputs["spec"]
    assert "type" not in https


@pytest.mark.parametrize("mode", MODES)
def test_source_controller_gets_an_irsa_role_reading_only_those_ecr_repositories(mode: Mode):
    plan = plan_for("full", mode)
    role = plan.one(ROLE, "flux-source-controller-role")
    assert role.inputs["name"] == "eks-platform-test-flux-source-controller"
    if mode == "update":
        trust = json.loads(role.inputs["assumeRolePolicy"])
        condition = trust["Statement"][0]["Condition"]["StringEquals"]
        assert "system:serviceaccount:flux-system:source-controller" in condition.values()
    policy = json.loads(plan.one(ROLE_POLICY, "flux-source-controller-ecr-pull").inputs["policy"])
    assert policy["Statement"][1]["Resource"] == [
        "arn:aws:ecr:us-west-2:123456789012:repository/charts/*",
        "arn:aws:ecr:us-west-2:123456789012:repository/platform/*",
    ]
    annotation = values(plan)["sourceController"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation == plan.seen(role, "arn")


def test_without_ecr_repositories_there_is_no_role_and_no_annotation():
    plan = plan_for("minimal", "update")
    assert plan.by_type(ROLE) == []
    assert "serviceAccount" not in values(plan)["sourceController"]
    assert custom_resources(plan) == []


@pytest.mark.parametrize("mode", MODES)
def test_bridged_addons_get_the_role_arn_substituted_into_their_values(mode: Mode):
    plan = plan_for("full", mode)
    spec = plan.one(HELM_RELEASE, "flux-addon-aws-load-balancer-controller").inputs["spec"]
    assert spec["targetNamespace"] == "kube-system"
    assert spec["serviceAccountName"] == "flux-reconciler"
    assert spec["dependsOn"] == [{"name": "internal-crds"}]
    assert spec["chart"]["spec"]["version"] == "3.0.0"
    # The variables' values are known here (plain inputs), in a preview too.
    assert spec["values"] == {
        "clusterName": "eks-platform-test",
        "serviceAccount": {
            "name": "aws-load-balancer-controller",
            "annotations": {"eks.amazonaws.com/role-arn": LBC_ARN},
        },
    }
    # Values without variables need no Output at all.
    crds = plan.one(HELM_RELEASE, "flux-addon-internal-crds").inputs["spec"]
    assert crds["values"] == {}


def test_an_addon_value_naming_no_bridge_variable_is_refused():
    bad = BridgedAddon(
        name="x", repo_url="https://e.example", chart="x", version="1", namespace="x", values={"a": "${nope}"}
    )
    with pytest.raises(ValueError, match=r"values refer to \$\{nope\}, not a bridge variable"):
        run_callable(lambda: FluxBootstrap("flux", _args({}, (bad,))), mode="update")


# ---------------------------------------------------------------------------------------------- upstream


def test_every_custom_resource_matches_its_crd_and_a_typo_would_not():
    if not data_dir().is_dir():
        pytest.skip(f"no upstream fidelity data at {data_dir()}")
    crds = load_crds(
        "flux2-2.18.3.source.toolkit.fluxcd.io_gitrepositories.yaml",
        "flux2-2.18.3.source.toolkit.fluxcd.io_helmrepositories.yaml",
        "flux2-2.18.3.kustomize.toolkit.fluxcd.io_kustomizations.yaml",
        "flux2-2.18.3.helm.toolkit.fluxcd.io_helmreleases.yaml",
    )
    if not crds:
        pytest.skip("no Flux CRDs")
    resources = custom_resources(plan_for("full", "update"))
    for resource in resources:
        assert custom_resource_problems(resource.inputs, crds) == [], resource.name
    kustomization = copy.deepcopy(next(r.inputs for r in resources if r.type == KUSTOMIZATION))
    kustomization["spec"]["postBuild"]["substitutesFrom"] = kustomization["spec"]["postBuild"].pop("substituteFrom")
    assert custom_resource_problems(kustomization, crds)
    repository = copy.deepcopy(next(r.inputs for r in resources if r.type == HELM_REPOSITORY))
    repository["spec"]["provider"] = "ecr"
    assert custom_resource_problems(repository, crds)


# ---------------------------------------------------------------------------------------------- tear-down


def test_the_teardown_deletes_flux_s_kustomizations_first_and_breaks_no_dependency():
    from tests.program.test_variants import variant_plan
    from tools.teardown import StateResource, order_violations, plan_phases

    plan = variant_plan("flux")
    phases = plan_phases(
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id) for r in plan.resources
    )
    applications = {r.type for r in phases["applications"]}
    # The variant's bridged add-ons are HelmReleases: they go with the Kustomizations, while the controllers run.
    assert applications == {KUSTOMIZATION, "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"}
    assert GIT_REPOSITORY in {r.type for r in phases["in-cluster"]}
    assert order_violations(phases) == []
