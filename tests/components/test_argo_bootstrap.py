"""ArgoBootstrap under the offline harness, in preview and update modes."""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.argo_apps import role_arn_template
from components.argo_bootstrap import ArgoBootstrap, ArgoBootstrapArgs
from components.gitops_bridge import BridgedAddon
from components.naming import NamingContext
from components.versions import ARGO_CD_CHART, DEFAULT_KUBERNETES_VERSION
from config import ArgoSettings, argo_spec
from tests.components.gitops_fixtures import TOLERATIONS, bridge_facts
from tools.fidelity import custom_resource_problems, load_crds
from tools.harness import MODES, Mode, Plan, Registration, run_callable, unwrap

SECRET_SIG = "4dabf18193072939515e22adb298388d"
CLIENT_SECRET = "oidc-client-secret-value"
COMPONENT = "eksplatform:platform:ArgoBootstrap"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
LBC_ARN = "arn:aws:iam::123456789012:role/eks-platform-test-aws-load-balancer-controller"
KARPENTER_ARN = "arn:aws:iam::123456789012:role/eks-platform-test-karpenter"
EBS_ARN = "arn:aws:iam::123456789012:role/eks-platform-test-ebs-csi"

FULL = {
    "highAvailability": True,
    "rootApp": {"repoUrl": "https://github.com/example/platform-apps.git", "path": "clusters/prod"},
    "teams": {
        "idp": {
            "description": "login.gov IdP",
            "sourceRepos": ["https://github.com/example/idp-deploy.git"],
            "namespaces": ["idp", "idp-worker"],
            "allowClusterKinds": [{"group": "", "kind": "Namespace"}],
            "denyNamespacedKinds": [{"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"}],
            "labels": {"cost-center": "identity"},
            "quota": {"requests.cpu": "8", "limits.memory": "32Gi", "pods": "200"},
            "limits": {
                "default": {"cpu": "500m", "memory": "512Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                "max": {"memory": "8Gi"},
            },
        },
        "data": {
            "sourceRepos": ["git@github.com:example/data.git", "https://airflow-helm.github.io/charts"],
            "namespaces": ["airflow"],
            "defaultDenyNetworkPolicy": False,
        },
    },
    "sso": {"issuer": "https://idp.example.com/oauth2", "clientId": "argocd", "adminGroups": ["platform-admins"]},
    "automatedSync": False,
    "rbac": {"defaultRole": "role:readonly"},
    "applications": {
        # The Sage seed's Airflow: a public chart with the values file from the team's git repository.
        "airflow": {
            "project": "data",
            "destination": {"namespace": "airflow"},
            "syncWave": 2,
            "automated": True,
            "selfHeal": False,
            "sources": [
                {
                    "repoUrl": "https://airflow-helm.github.io/charts",
                    "chart": "airflow",
                    "targetRevision": "8.9.0",
                    "helm": {"releaseName": "airflow", "valueFiles": ["$values/airflow/values.yaml"]},
                },
                {"repoUrl": "git@github.com:example/data.git", "targetRevision": "main", "ref": "values"},
            ],
            "ignoreDifferences": [{"group": "apps", "kind": "StatefulSet", "jsonPointers": ["/spec/replicas"]}],
        },
        "monitoring": {
            "destination": {"namespace": "monitoring"},
            "syncWave": -1,
            "source": {
                "repoUrl": "https://prometheus-community.github.io/helm-charts",
                "chart": "kube-prometheus-stack",
                "targetRevision": "65.1.0",
                "helm": {"values": {"grafana": {"enabled": False}}, "valuesAs": "text"},
            },
            "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
            "finalizer": False,
        },
    },
}
ADDONS = (
    BridgedAddon(
        name="aws-load-balancer-controller",
        repo_url="https://aws.github.io/eks-charts",
        chart="aws-load-balancer-controller",
        version="1.14.0",
        namespace="kube-system",
        values={
            "clusterName": "{{metadata.annotations.platform.eks/cluster-name}}",
            "serviceAccount": {
                "name": "aws-load-balancer-controller",
                "annotations": {"eks.amazonaws.com/role-arn": role_arn_template("aws-load-balancer-controller")},
            },
        },
        service_account="aws-load-balancer-controller",
        wave=-2,
    ),
    BridgedAddon(
        name="metrics-server",
        repo_url="https://kubernetes-sigs.github.io/metrics-server/",
        chart="metrics-server",
        version="3.12.2",
        namespace="kube-system",
    ),
)
MINIMAL: dict[str, Any] = {}
MANUAL = {"rootApp": {"repoUrl": "https://github.com/example/apps.git", "automated": False}}
NO_PRUNE = {"rootApp": {"repoUrl": "https://github.com/example/apps.git", "prune": False, "selfHeal": False}}


def _args(raw: dict[str, Any], *, with_secret: bool, addons: tuple[BridgedAddon, ...] = ()) -> ArgoBootstrapArgs:
    return ArgoBootstrapArgs(
        naming=NamingContext("eks-platform", "test"),
        argo=argo_spec(ArgoSettings.model_validate(raw)),
        bridge=bridge_facts(
            {
                "karpenter": pulumi.Output.from_input(KARPENTER_ARN),
                "ebs-csi": EBS_ARN,
                **({"aws-load-balancer-controller": LBC_ARN} if addons else {}),
            },
            addons,
        ),
        oidc_client_secret=pulumi.Output.secret(CLIENT_SECRET) if with_secret else None,
    )


def _run(raw: dict[str, Any], mode: Mode, *, with_secret: bool = False, addons: tuple[BridgedAddon, ...] = ()) -> Plan:
    return run_callable(lambda: ArgoBootstrap("argo", _args(raw, with_secret=with_secret, addons=addons)), mode=mode)


@functools.cache
def plan_for(name: str, mode: Mode) -> Plan:
    """One run per configuration and mode, shared by the tests of this module."""
    return _run(FULL, mode, with_secret=True, addons=ADDONS) if name == "full" else _run(MINIMAL, mode)


@pytest.fixture(params=MODES)
def full(request: pytest.FixtureRequest) -> Plan:
    return plan_for("full", request.param)


@pytest.fixture(params=MODES)
def minimal(request: pytest.FixtureRequest) -> Plan:
    return plan_for("minimal", request.param)


BOTH = pytest.mark.parametrize(("plan_name", "mode"), [(n, m) for n in ("full", "minimal") for m in MODES])


def release(plan: Plan) -> Registration:
    return plan.one(RELEASE, "argo-release")


def values(plan: Plan) -> dict[str, Any]:
    revealed: dict[str, Any] = unwrap(release(plan).inputs["values"])
    return revealed


# ---------------------------------------------------------------------------------------------- structure


def test_children_are_parented_and_named_by_identity(full: Plan):
    component = full.one(COMPONENT, "argo")
    children = full.children_of(component.urn)
    assert {(r.type, r.name) for r in children} == {
        (NAMESPACE, "argo-namespace"),
        (RELEASE, "argo-release"),
        (NAMESPACE, "argo-ns-idp"),
        (NAMESPACE, "argo-ns-idp-worker"),
        (NAMESPACE, "argo-ns-airflow"),
        (APP_PROJECT, "argo-project-idp"),
        (APP_PROJECT, "argo-project-data"),
        (SECRET, "argo-cluster-in-cluster"),
        (APPLICATION, "argo-root-app"),
        (APPLICATION, "argo-app-airflow"),
        (APPLICATION, "argo-app-monitoring"),
        (APPLICATION_SET, "argo-addon-aws-load-balancer-controller"),
        (APPLICATION_SET, "argo-addon-metrics-server"),
        (QUOTA, "argo-quota-idp"),
        (QUOTA, "argo-quota-idp-worker"),
        (LIMIT_RANGE, "argo-limits-idp"),
        (LIMIT_RANGE, "argo-limits-idp-worker"),
        (NETWORK_POLICY, "argo-netpol-idp"),
        (NETWORK_POLICY, "argo-netpol-idp-worker"),
    }
    resources = {r.urn for r in full.resources if r.custom and not r.type.startswith("pulumi:providers:")}
    assert resources == {r.urn for r in children}  # nothing escapes the component


def test_minimal_has_no_root_app_or_projects(minimal: Plan):
    assert minimal.by_type(APPLICATION) == []
    assert minimal.by_type(APP_PROJECT) == []
    assert minimal.by_type(APPLICATION_SET) == []
    assert [r.name for r in minimal.by_type(NAMESPACE)] == ["argo-namespace"]
    assert len(minimal.by_type(SECRET)) == 1


def test_outputs(full: Plan, minimal: Plan):
    out = full.component_outputs[full.one(COMPONENT, "argo").urn]
    assert out["namespace"] == "argocd"
    assert out["releaseName"] == "argocd"
    assert out["rootAppName"] == "root"
    assert out["projectNames"] == {"idp": "idp", "data": "data"}
    assert out["clusterSecretName"] == "in-cluster"
    assert out["applicationNames"] == {"airflow": "airflow", "monitoring": "monitoring"}
    assert out["applicationSetNames"] == {
        "aws-load-balancer-controller": "addon-aws-load-balancer-controller",
        "metrics-server": "addon-metrics-server",
    }
    assert "rootAppName" not in minimal.component_outputs[minimal.one(COMPONENT, "argo").urn]


# ---------------------------------------------------------------------------------------------- release


def test_release_is_pinned_and_namespaced(full: Plan):
    repo, chart, version = ARGO_CD_CHART
    inputs = release(full).inputs
    assert (inputs["repositoryOpts"]["repo"], inputs["chart"], inputs["version"]) == (repo, chart, version)
    assert repo == "https://argoproj.github.io/argo-helm"
    assert version.count(".") == 2
    assert all(part.isdigit() for part in version.split("."))
    assert inputs["name"] == "argocd"
    assert inputs["namespace"] == "argocd"
    assert inputs["atomic"] is True
    assert inputs["cleanupOnFail"] is True
    assert "createNamespace" not in inputs
    ns = full.one(NAMESPACE, "argo-namespace")
    assert ns.inputs["metadata"] == {"name": "argocd", "labels": {"app.kubernetes.io/managed-by": "pulumi"}}
    assert release(full).property_dependencies["namespace"] == [ns.urn]


def test_ha_values(full: Plan):
    v = values(full)
    assert v["redis-ha"]["enabled"] is True
    assert v["controller"]["replicas"] == 1
    for component in ("server", "repoServer", "applicationSet"):
        assert v[component]["replicas"] >= 2
        assert v[component]["pdb"]["enabled"] is True
    assert v["redis-ha"]["tolerations"] == TOLERATIONS


def test_non_ha_values(minimal: Plan):
    v = values(minimal)
    assert v["redis-ha"] == {"enabled": False}
    for component in ("server", "repoServer", "applicationSet"):
        assert v[component]["replicas"] == 1


@BOTH
def test_server_private_and_pods_on_system_nodes(plan_name: str, mode: Mode):
    v = values(plan_for(plan_name, mode))
    assert v["server"]["service"]["type"] == "ClusterIP"
    assert v["server"]["ingress"]["enabled"] is False
    assert v["configs"]["params"]["server.insecure"] is False
    assert v["global"]["tolerations"] == TOLERATIONS
    assert v["global"]["nodeSelector"] == {"kubernetes.io/os": "linux", "dedicated": "system"}


def test_sso_values(full: Plan):
    cm = values(full)["configs"]["cm"]
    assert cm["admin.enabled"] is False
    oidc = yaml.safe_load(cm["oidc.config"])
    assert oidc["issuer"] == "https://idp.example.com/oauth2"
    assert oidc["clientID"] == "argocd"
    assert oidc["clientSecret"] == "$oidc.clientSecret"
    assert values(full)["configs"]["rbac"]["policy.csv"] == "g, platform-admins, role:admin\n"
    assert values(full)["configs"]["rbac"]["policy.default"] == "role:readonly"


def test_admin_enabled_without_sso(minimal: Plan):
    cm = values(minimal)["configs"]["cm"]
    assert cm["admin.enabled"] is True
    assert "oidc.config" not in cm


def test_client_secret_only_in_argocd_secret_and_marked_secret(full: Plan):
    raw_extra = release(full).inputs["values"]["configs"]["secret"]["extra"]["oidc.clientSecret"]
    assert raw_extra[SECRET_SIG]  # a Pulumi secret on the wire, encrypted in state
    assert raw_extra["value"] == CLIENT_SECRET
    values_without_extra = json.dumps({**values(full), "configs": {**values(full)["configs"], "secret": None}})
    assert CLIENT_SECRET not in values_without_extra
    others = [r for r in full.resources if r.type != RELEASE]
    assert all(CLIENT_SECRET not in json.dumps(r.inputs) for r in others)


# ---------------------------------------------------------------------------------------------- root app


def test_root_application(full: Plan):
    app = full.one(APPLICATION, "argo-root-app")
    inputs = app.inputs
    assert inputs["apiVersion"] == "argoproj.io/v1alpha1"
    assert inputs["kind"] == "Application"
    meta = inputs["metadata"]
    assert (meta["name"], meta["namespace"]) == ("root", "argocd")
    assert meta["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert meta["annotations"] == {"argocd.argoproj.io/sync-wave": "-1"}
    spec = inputs["spec"]
    assert spec["project"] == "default"
    assert spec["source"] == {
        "repoURL": "https://github.com/example/platform-apps.git",
        "path": "clusters/prod",
        "targetRevision": "main",
    }
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_crs_wait_for_the_release(full: Plan):
    release_urn = release(full).urn
    crs = [*full.by_type(APPLICATION), *full.by_type(APP_PROJECT), *full.by_type(APPLICATION_SET)]
    assert len(crs) == 7
    for cr in crs:
        assert release_urn in cr.property_dependencies["metadata"], cr.name
        assert cr.inputs["metadata"]["namespace"] == "argocd"


def test_root_app_is_deleted_before_projects_and_the_cluster_secret(full: Plan):
    deps = full.one(APPLICATION, "argo-root-app").dependencies
    assert full.one(APP_PROJECT, "argo-project-idp").urn in deps
    assert full.one(APP_PROJECT, "argo-project-data").urn in deps
    assert full.one(SECRET, "argo-cluster-in-cluster").urn in deps


@pytest.mark.parametrize("mode", MODES)
def test_manual_sync_has_no_automated_key(mode: Mode):
    spec = _run(MANUAL, mode).one(APPLICATION, "argo-root-app").inputs["spec"]
    assert "automated" not in spec["syncPolicy"]
    assert spec["syncPolicy"]["syncOptions"]


@pytest.mark.parametrize("mode", MODES)
def test_prune_and_self_heal_switch_off(mode: Mode):
    spec = _run(NO_PRUNE, mode).one(APPLICATION, "argo-root-app").inputs["spec"]
    assert spec["syncPolicy"]["automated"] == {"prune": False, "selfHeal": False}


# ---------------------------------------------------------------------------------------------- teams


def test_app_projects_restrict_repos_and_namespaces(full: Plan):
    for team, repos, namespaces in (
        ("idp", ["https://github.com/example/idp-deploy.git"], ["idp", "idp-worker"]),
        ("data", ["git@github.com:example/data.git", "https://airflow-helm.github.io/charts"], ["airflow"]),
    ):
        project = full.one(APP_PROJECT, f"argo-project-{team}")
        meta, spec = project.inputs["metadata"], project.inputs["spec"]
        assert (meta["name"], meta["namespace"]) == (team, "argocd")
        assert meta["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        assert spec["sourceRepos"] == repos
        assert spec["destinations"] == [
            {"server": "https://kubernetes.default.svc", "namespace": ns} for ns in namespaces
        ]
        assert {"ResourceQuota", "LimitRange", "NetworkPolicy"} <= {
            k["kind"] for k in spec["namespaceResourceBlacklist"]
        }
        ns_urns = {full.one(NAMESPACE, f"argo-ns-{ns}").urn for ns in namespaces}
        assert set(project.property_dependencies["spec"]) == ns_urns
    assert full.one(APP_PROJECT, "argo-project-idp").inputs["spec"]["description"] == "login.gov IdP"


def test_team_namespaces_and_labels(full: Plan):
    for ns, team, extra in (
        ("idp", "idp", {"cost-center": "identity"}),
        ("idp-worker", "idp", {"cost-center": "identity"}),
        ("airflow", "data", {}),
    ):
        meta = full.one(NAMESPACE, f"argo-ns-{ns}").inputs["metadata"]
        labels = {**extra, "app.kubernetes.io/managed-by": "pulumi", "platform.eks/team": team}
        assert meta == {"name": ns, "labels": labels}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"teams": {"default": {"sourceRepos": ["https://g/x"], "namespaces": ["x"]}}}, "project for system services"),
        ({"teams": {"x": {"sourceRepos": ["https://g/x"], "namespaces": ["argocd"]}}}, "'argocd' is reserved"),
    ],
)
def test_invalid_layouts_fail(raw: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        _run(raw, "preview")


def test_client_secret_without_sso_fails():
    with pytest.raises(ValueError, match=r"argo\.sso is not set"):
        _run(MINIMAL, "preview", with_secret=True)


# ---------------------------------------------------------------------------------------------- bridge


def test_cluster_secret_carries_the_bridge(full: Plan):
    secret = full.one(SECRET, "argo-cluster-in-cluster")
    meta = secret.inputs["metadata"]
    assert (meta["name"], meta["namespace"]) == ("in-cluster", "argocd")
    assert meta["labels"] == {
        "argocd.argoproj.io/secret-type": "cluster",
        "app.kubernetes.io/managed-by": "pulumi",
        "platform.eks/project": "eks-platform",
        "platform.eks/stack": "test",
        "platform.eks/environment": "test",
        "platform.eks/region": "us-west-2",
        "platform.eks/addon-aws-load-balancer-controller": "enabled",
        "platform.eks/addon-metrics-server": "enabled",
    }
    assert meta["annotations"] == {
        "platform.eks/cluster-name": "eks-platform-test",
        "platform.eks/region": "us-west-2",
        "platform.eks/account-id": "123456789012",
        "platform.eks/vpc-id": "vpc-0123456789abcdef0",
        "platform.eks/environment": "test",
        "platform.eks/gitops-repo-url": "https://github.com/example/platform-apps.git",
        "platform.eks/gitops-repo-revision": "main",
        "platform.eks/aws-load-balancer-controller-role-arn": LBC_ARN,
        "platform.eks/ebs-csi-role-arn": EBS_ARN,
        "platform.eks/karpenter-role-arn": KARPENTER_ARN,
    }
    data = unwrap(secret.inputs["stringData"])
    assert data["name"] == "in-cluster"
    assert data["server"] == "https://kubernetes.default.svc"
    assert json.loads(data["config"]) == {"tlsClientConfig": {"insecure": False}}


# ---------------------------------------------------------------------------------------------- kubernetes-validate


def kubernetes_validate(manifests: list[dict[str, Any]], directory: Path) -> subprocess.CompletedProcess[str]:
    """``kubernetes-validate --strict`` against the platform's default Kubernetes version."""
    cli = shutil.which("kubernetes-validate")
    assert cli, "pip install kubernetes-validate into the venv"
    files = []
    for i, manifest in enumerate(manifests):
        path = directory / f"{i}-{manifest['kind']}.yaml"
        path.write_text(yaml.safe_dump(manifest))
        files.append(str(path))
    return subprocess.run(
        [cli, "--strict", "-k", f"{DEFAULT_KUBERNETES_VERSION}.0", *files], capture_output=True, text=True, check=False
    )


def standard_manifests(plan: Plan) -> list[dict[str, Any]]:
    """The standard-kind manifests the component declares itself (secrets revealed)."""
    kinds = (NAMESPACE, SECRET, QUOTA, LIMIT_RANGE, NETWORK_POLICY)
    return [dict(unwrap(r.inputs)) for kind in kinds for r in plan.by_type(kind)]


@BOTH
def test_declared_standard_manifests_validate_strictly(plan_name: str, mode: Mode, tmp_path: Path):
    manifests = standard_manifests(plan_for(plan_name, mode))
    expected = {"Namespace", "Secret"} | (
        {"ResourceQuota", "LimitRange", "NetworkPolicy"} if plan_name == "full" else set()
    )
    assert {m["kind"] for m in manifests} == expected
    result = kubernetes_validate(manifests, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(manifests), result.stdout


def test_strict_validation_catches_an_unknown_field(tmp_path: Path):
    secret = next(m for m in standard_manifests(plan_for("minimal", "update")) if m["kind"] == "Secret")
    secret["metadata"]["label"] = {"typo": "x"}
    assert kubernetes_validate([secret], tmp_path).returncode != 0


# ---------------------------------------------------------------------------------------------- declared apps


def test_multi_source_application(full: Plan):
    app = full.one(APPLICATION, "argo-app-airflow")
    meta, spec = app.inputs["metadata"], app.inputs["spec"]
    assert (meta["name"], meta["namespace"]) == ("airflow", "argocd")
    assert meta["annotations"] == {"argocd.argoproj.io/sync-wave": "2"}
    assert meta["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert spec["project"] == "data"
    assert "source" not in spec
    assert spec["sources"] == [
        {
            "repoURL": "https://airflow-helm.github.io/charts",
            "targetRevision": "8.9.0",
            "chart": "airflow",
            "helm": {"releaseName": "airflow", "valueFiles": ["$values/airflow/values.yaml"]},
        },
        {"repoURL": "git@github.com:example/data.git", "targetRevision": "main", "ref": "values"},
    ]
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "airflow"}
    # automated set on the app wins over argo.automatedSync: false
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": False}
    assert "syncOptions" not in spec["syncPolicy"]
    assert spec["ignoreDifferences"] == [{"group": "apps", "kind": "StatefulSet", "jsonPointers": ["/spec/replicas"]}]


def test_single_source_app_with_values_text_manual_sync_and_no_finalizer(full: Plan):
    app = full.one(APPLICATION, "argo-app-monitoring")
    meta, spec = app.inputs["metadata"], app.inputs["spec"]
    assert meta["annotations"] == {"argocd.argoproj.io/sync-wave": "-1"}
    assert meta.get("finalizers", []) == []
    assert spec["project"] == "default"
    assert spec["source"]["chart"] == "kube-prometheus-stack"
    assert yaml.safe_load(spec["source"]["helm"]["values"]) == {"grafana": {"enabled": False}}
    assert "valuesObject" not in spec["source"]["helm"]
    assert "automated" not in spec["syncPolicy"]  # argo.automatedSync: false
    assert spec["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "ServerSideApply=true"]


def test_apps_wait_for_the_project_they_name(full: Plan):
    airflow = full.one(APPLICATION, "argo-app-airflow")
    assert full.one(APP_PROJECT, "argo-project-data").urn in airflow.dependencies
    assert full.one(APP_PROJECT, "argo-project-idp").urn not in airflow.dependencies
    monitoring = full.one(APPLICATION, "argo-app-monitoring")
    assert not {p.urn for p in full.by_type(APP_PROJECT)} & set(monitoring.dependencies)


def test_apps_come_after_the_apps_of_lower_waves(full: Plan):
    # monitoring is wave -1, airflow wave 2: airflow is created after it and deleted before it.
    monitoring = full.one(APPLICATION, "argo-app-monitoring")
    airflow = full.one(APPLICATION, "argo-app-airflow")
    assert monitoring.urn in airflow.dependencies
    assert airflow.urn not in monitoring.dependencies


def test_app_with_an_unknown_project_or_outside_its_team_fails():
    from components.argo_apps import ApplicationSpec, SourceSpec
    from components.argo_bootstrap import ArgoSpec

    args = _args(MINIMAL, with_secret=False)
    spec = ArgoSpec(
        applications={"x": ApplicationSpec(sources=(SourceSpec("https://g/x", path="p"),), namespace="x", project="y")}
    )
    with pytest.raises(ValueError, match="names project 'y'"):
        run_callable(lambda: ArgoBootstrap("argo", dataclasses.replace(args, argo=spec)), mode="preview")
    team = argo_spec(ArgoSettings.model_validate(FULL)).teams["data"]
    outside = ArgoSpec(
        teams={"data": team},
        applications={
            "x": ApplicationSpec(sources=(SourceSpec("https://g/x", path="p"),), namespace="x", project="data")
        },
    )
    with pytest.raises(ValueError, match="outside the team's namespaces"):
        run_callable(lambda: ArgoBootstrap("argo", dataclasses.replace(args, argo=outside)), mode="preview")


# ---------------------------------------------------------------------------------------------- add-on ApplicationSets


def test_addon_application_sets(full: Plan):
    lbc = full.one(APPLICATION_SET, "argo-addon-aws-load-balancer-controller")
    meta, spec = lbc.inputs["metadata"], lbc.inputs["spec"]
    assert (meta["name"], meta["namespace"]) == ("addon-aws-load-balancer-controller", "argocd")
    assert meta["annotations"] == {"argocd.argoproj.io/sync-wave": "-2"}
    assert spec["goTemplate"] is False
    assert spec["generators"] == [
        {"clusters": {"selector": {"matchLabels": {"platform.eks/addon-aws-load-balancer-controller": "enabled"}}}}
    ]
    template = spec["template"]
    assert template["metadata"]["name"] == "{{name}}-aws-load-balancer-controller"
    assert template["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-2"}
    assert template["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    source = template["spec"]["source"]
    assert (source["repoURL"], source["chart"], source["targetRevision"]) == (
        "https://aws.github.io/eks-charts",
        "aws-load-balancer-controller",
        "1.14.0",
    )
    sa = source["helm"]["valuesObject"]["serviceAccount"]
    assert sa["annotations"] == {
        "eks.amazonaws.com/role-arn": "{{metadata.annotations.platform.eks/aws-load-balancer-controller-role-arn}}"
    }
    assert template["spec"]["destination"] == {"server": "{{server}}", "namespace": "kube-system"}
    assert "automated" not in template["spec"]["syncPolicy"]  # argo.automatedSync: false
    metrics = full.one(APPLICATION_SET, "argo-addon-metrics-server").inputs["spec"]
    assert "valuesObject" not in metrics["template"]["spec"]["source"]["helm"]


def test_bridge_publishes_what_the_templates_read(full: Plan):
    secret = full.one(SECRET, "argo-cluster-in-cluster")
    labels, annotations = secret.inputs["metadata"]["labels"], secret.inputs["metadata"]["annotations"]
    assert labels["platform.eks/addon-aws-load-balancer-controller"] == "enabled"
    assert labels["platform.eks/addon-metrics-server"] == "enabled"
    assert annotations["platform.eks/aws-load-balancer-controller-role-arn"] == LBC_ARN
    for app_set in full.by_type(APPLICATION_SET):
        assert secret.urn in app_set.dependencies, app_set.name


@pytest.mark.parametrize(
    ("addons", "message"),
    [
        ((dataclasses.replace(ADDONS[0], name="cert-manager"),), "no role ARN under role_arns"),
        ((ADDONS[1], ADDONS[1]), "bridged more than once"),
    ],
)
def test_bridged_addon_mistakes_fail(addons: tuple[BridgedAddon, ...], message: str):
    with pytest.raises(ValueError, match=message):
        _run(MINIMAL, "preview", addons=addons)


# ---------------------------------------------------------------------------------------------- team guardrails


def test_team_project_allow_and_deny_lists(full: Plan):
    idp = full.one(APP_PROJECT, "argo-project-idp").inputs["spec"]
    assert idp["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
    assert idp["namespaceResourceBlacklist"] == [
        {"group": "", "kind": "ResourceQuota"},
        {"group": "", "kind": "LimitRange"},
        {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
        {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
    ]
    assert full.one(APP_PROJECT, "argo-project-data").inputs["spec"]["clusterResourceWhitelist"] == []


def test_guardrails_in_each_team_namespace(full: Plan):
    for ns in ("idp", "idp-worker"):
        namespace = full.one(NAMESPACE, f"argo-ns-{ns}")
        assert namespace.inputs["metadata"]["labels"]["cost-center"] == "identity"
        quota = full.one(QUOTA, f"argo-quota-{ns}")
        assert quota.inputs["metadata"]["namespace"] == ns
        assert quota.property_dependencies["metadata"] == [namespace.urn]
        assert quota.inputs["spec"] == {"hard": {"limits.memory": "32Gi", "pods": "200", "requests.cpu": "8"}}
        limits = full.one(LIMIT_RANGE, f"argo-limits-{ns}").inputs["spec"]
        assert limits == {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                    "max": {"memory": "8Gi"},
                }
            ]
        }
        netpol = full.one(NETWORK_POLICY, f"argo-netpol-{ns}")
        assert netpol.property_dependencies["metadata"] == [namespace.urn]
        spec = netpol.inputs["spec"]
        assert spec["podSelector"] == {}
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert "ingress" not in spec
        (egress,) = spec["egress"]
        assert egress["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ]
        assert {(p["protocol"], p["port"]) for p in egress["ports"]} == {("UDP", 53), ("TCP", 53)}
    # team data switched its NetworkPolicy off and has no quota or limits
    guardrails = [r.name for kind in (QUOTA, LIMIT_RANGE, NETWORK_POLICY) for r in full.by_type(kind)]
    assert not [name for name in guardrails if name.endswith("-airflow")]


@pytest.mark.parametrize("mode", MODES)
def test_existing_team_namespaces_get_the_default_deny_policy(mode: Mode):
    plan = _run({"teams": {"t": {"sourceRepos": ["https://g/x"], "namespaces": ["t"]}}}, mode)
    assert [r.name for r in plan.by_type(NETWORK_POLICY)] == ["argo-netpol-t"]
    assert plan.by_type(QUOTA) == []
    assert plan.by_type(LIMIT_RANGE) == []


@BOTH
def test_every_custom_resource_matches_its_crd(plan_name: str, mode: Mode):
    crds = load_crds(
        "argo-cd-10.1.1.crd-application.yaml",
        "argo-cd-10.1.1.crd-applicationset.yaml",
        "argo-cd-10.1.1.crd-appproject.yaml",
    )
    if not crds:
        pytest.skip("no upstream Argo CD CRDs in the fidelity data")
    plan = plan_for(plan_name, mode)
    crs = [*plan.by_type(APPLICATION), *plan.by_type(APP_PROJECT), *plan.by_type(APPLICATION_SET)]
    # Each kind whose CRD the data holds (the shared set has Application and AppProject, not ApplicationSet).
    checked = [cr for cr in crs if (str(cr.inputs["apiVersion"]), str(cr.inputs["kind"])) in crds]
    assert len(checked) == sum(cr.inputs["kind"] != "ApplicationSet" for cr in crs)
    for cr in checked:
        assert custom_resource_problems(cr.inputs, crds) == [], cr.name


def test_each_app_waits_for_the_nearest_lower_wave_only():
    def app(wave: int | None) -> dict[str, Any]:
        return {
            "destination": {"namespace": "x"},
            "source": {"repoUrl": "https://g/x", "path": "p"},
            **({} if wave is None else {"syncWave": wave}),
        }

    plan = _run({"applications": {"crds": app(-1), "plain": app(None), "late": app(1), "later": app(1)}}, "preview")
    deps = {r.name: set(r.dependencies) for r in plan.by_type(APPLICATION)}
    urn = {r.name: r.urn for r in plan.by_type(APPLICATION)}
    assert urn["argo-app-crds"] in deps["argo-app-plain"]  # no wave is wave 0
    assert urn["argo-app-plain"] in deps["argo-app-late"]
    assert urn["argo-app-crds"] not in deps["argo-app-late"]  # through plain
    assert urn["argo-app-late"] not in deps["argo-app-later"]  # the same wave: no order
    assert not set(urn.values()) & deps["argo-app-crds"]
