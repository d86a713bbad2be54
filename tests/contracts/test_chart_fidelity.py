"""Every Helm release's values and every custom resource against upstream at the pinned version.

Helm ignores a values key no template reads and the API server prunes a custom resource's unknown fields, both
without a word: a misspelt or moved key deploys the chart's default. The upstream files (``values.yaml``, the
derived template paths, CRDs) are read from ``../shared/fidelity-data/`` and the folders ``$FIDELITY_DATA`` names
(``tools/fidelity.py``). Without any folder the tests skip. With one, every release and custom resource with an
upstream file is checked; one without is allowed only for the charts and kinds ``NOT_IN_SHARED_DATA`` lists (the
shared set does not carry them; ``tools/fidelity_extract.py`` writes theirs into ``$FIDELITY_DATA``), so a new
chart or kind cannot slip in unchecked.

``FREE_MAPS`` names, per chart, the maps a template ranges over (each key becomes an entry of some object), with the
template that does it: only there may the platform write keys upstream does not declare.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from tests.config.test_settings import KEY, stack_settings
from tests.program.test_seed_platforms import SEEDS, plan_of
from tests.program.test_variants import VARIANTS as EXAMPLE_VARIANTS
from tests.program.test_variants import variant_plan as example_variant_plan
from tools.fidelity import (
    chart_name,
    chart_values,
    crd_versions,
    custom_resource_problems,
    data_dirs,
    have_data,
    load_crds,
    values_problems,
)
from tools.harness import Plan, Registration, run_program, unwrap

RELEASE = "kubernetes:helm.sh/v3:Release"
CUSTOM_RESOURCE_PREFIX = "kubernetes:"

#: Maps a chart's templates range over, by chart (dotted path -> the template that ranges over it).
FREE_MAPS: dict[str, dict[str, str]] = {
    "argo-cd": {
        "configs.cm": "templates/argocd-configs/argocd-cm.yaml: range over omit .Values.configs.cm create annotations",
        "configs.params": "templates/argocd-configs/argocd-cmd-params-cm.yaml: range over .Values.configs.params",
        "configs.rbac": "templates/argocd-configs/argocd-rbac-cm.yaml: range over .Values.configs.rbac",
        "configs.secret.extra": "templates/argocd-configs/argocd-secret.yaml: range over .Values.configs.secret.extra",
    },
    "cluster-autoscaler": {
        "extraArgs": "templates/deployment.yaml: range $key, $value := .Values.extraArgs",
    },
    "vault": {
        "server.extraEnvironmentVars": "templates/_helpers.tpl vault.extraEnvironmentVars: range $key, $value := "
        ".extraEnvironmentVars (server-statefulset.yaml includes it with .Values.server)",
        "injector.extraEnvironmentVars": "templates/_helpers.tpl vault.extraEnvironmentVars (injector-deployment.yaml "
        "includes it with .Values.injector)",
    },
    "external-dns": {
        "extraArgs": "templates/deployment.yaml: range $key, $value := .Values.extraArgs (each key an --<key> flag)",
    },
}

#: Dependencies of a chart (its Chart.yaml ``dependencies``), by the values key they read: (chart, version).
SUBCHARTS: dict[str, dict[str, tuple[str, str]]] = {
    "argo-cd": {"redis-ha": ("redis-ha", "4.38.0")},
}

#: CRD files in the data folder, by the API group/version of the objects they define.
CRD_FILES: tuple[str, ...] = (
    "argo-cd-10.1.1.crd-application.yaml",
    "argo-cd-10.1.1.crd-applicationset.yaml",
    "argo-cd-10.1.1.crd-appproject.yaml",
    "karpenter-1.14.1.karpenter.k8s.aws_ec2nodeclasses.yaml",
    "karpenter-1.14.1.karpenter.sh_nodepools.yaml",
    "flux2-2.18.3.source.toolkit.fluxcd.io_gitrepositories.yaml",
    "flux2-2.18.3.source.toolkit.fluxcd.io_helmrepositories.yaml",
    "flux2-2.18.3.kustomize.toolkit.fluxcd.io_kustomizations.yaml",
    "flux2-2.18.3.helm.toolkit.fluxcd.io_helmreleases.yaml",
)

#: Charts (by name) and custom resource kinds (``group/version kind``) the platform uses whose upstream files the
#: shared set does not carry: a release or resource of these without a file is passed over, not failed.
NOT_IN_SHARED_DATA: frozenset[str] = frozenset(
    {
        "aws-load-balancer-controller",
        "cert-manager",
        "external-dns",
        "flux2",
        "ocean-kubernetes-controller",
        "argoproj.io/v1alpha1 ApplicationSet",
        "helm.toolkit.fluxcd.io/v2 HelmRelease",
        "kustomize.toolkit.fluxcd.io/v1 Kustomization",
        "source.toolkit.fluxcd.io/v1 GitRepository",
        "source.toolkit.fluxcd.io/v1 HelmRepository",
    }
)

#: The stacks and stack variants whose releases differ (engines, modes): dev, prod, prod with the cluster-autoscaler
#: and every `examples/variants/*.yaml` and `examples/seeds/*.yaml` (planned as prod).
VARIANTS: tuple[str, ...] = (
    "dev",
    "prod",
    "prod-cluster-autoscaler",
    *(f"variant-{v}" for v in EXAMPLE_VARIANTS),
    *(f"seed-{seed}" for seed in SEEDS),
)


@cache
def variant_plan(variant: str) -> Plan:
    if variant.startswith("variant-"):
        return example_variant_plan(variant.removeprefix("variant-"))
    if variant.startswith("seed-"):
        return plan_of(variant.removeprefix("seed-"))
    if variant == "prod-cluster-autoscaler":
        settings = copy.deepcopy(stack_settings("prod"))
        settings["nodeAutoscaler"] = {"engine": "cluster-autoscaler"}
        return run_program("prod", "update", config_overrides={KEY: settings})
    return run_program(variant, "update")


def releases(plan: Plan) -> Iterator[Registration]:
    yield from plan.by_type(RELEASE)


def custom_resources(plan: Plan) -> Iterator[Registration]:
    for registration in plan.resources:
        if registration.type.startswith("kubernetes:") and registration.type.count(":") == 2:
            inputs = registration.inputs
            api_version = str(inputs.get("apiVersion", ""))
            group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
            if "." in group and not group.endswith(".k8s.io") and group != "apps":
                yield registration


def declared_crds(plan: Plan) -> dict[tuple[str, str], Any]:
    """The CRDs the plan declares itself (e.g. a `manifests` stage's), for the custom resources of the same plan."""
    crds: dict[tuple[str, str], Any] = {}
    for registration in plan.by_type("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"):
        document = {"kind": "CustomResourceDefinition", **unwrap(registration.inputs)}
        crds |= crd_versions(document, f"declared in the plan by {registration.name}")
    return crds


def needs_data() -> None:
    if not have_data():
        pytest.skip(f"no upstream fidelity data in {', '.join(map(str, data_dirs()))}")


def without_data(name: str, what: str) -> None:
    """A chart or kind with no upstream file: passed over if ``NOT_IN_SHARED_DATA`` lists it, else a failure."""
    assert name in NOT_IN_SHARED_DATA, (
        f"{what}: no upstream file for {name} in {', '.join(map(str, data_dirs()))}; add it to "
        "tools/fidelity_extract.py, or to NOT_IN_SHARED_DATA if the shared set does not carry it"
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_release_uses_only_keys_its_chart_reads(variant):
    needs_data()
    checked = 0
    for release in releases(variant_plan(variant)):
        chart, version = chart_name(str(release.inputs["chart"])), str(release.inputs["version"])
        upstream = chart_values(chart, version)
        if upstream is None:
            without_data(chart, f"{release.name} ({chart} {version})")
            continue
        subcharts = {}
        for key, (sub_chart, sub_version) in SUBCHARTS.get(chart, {}).items():
            sub = chart_values(sub_chart, sub_version)
            assert sub is not None, f"{release.name}: no upstream values for its subchart {sub_chart} {sub_version}"
            subcharts[key] = sub
        problems = values_problems(
            release.inputs.get("values") or {}, upstream, free_maps=FREE_MAPS.get(chart, {}), subcharts=subcharts
        )
        assert problems == [], f"{release.name} ({upstream.source})"
        checked += 1
    # Every stack installs at least one chart of the shared set (Argo CD or Vault's injector, an autoscaler).
    assert checked >= 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_custom_resource_matches_its_crd(variant):
    needs_data()
    plan = variant_plan(variant)
    crds = load_crds(*CRD_FILES) | declared_crds(plan)
    checked = 0
    for resource in custom_resources(plan):
        key = (str(resource.inputs["apiVersion"]), str(resource.inputs["kind"]))
        if key not in crds:
            without_data(" ".join(key), resource.name)
            continue
        assert custom_resource_problems(resource.inputs, crds) == [], resource.name
        checked += 1
    assert checked >= 1


# ------------------------------------------------------------------ the checker itself (no data needed)


def test_the_checker_finds_a_misspelt_key_and_a_wrong_shape():
    from tools.fidelity import ChartValues

    upstream = ChartValues(
        "demo",
        "1.0.0",
        "test",
        {"server": {"replicas": 1, "podAnnotations": {}, "service": {"type": "ClusterIP"}}, "extra": []},
        template_paths=frozenset({"server.hidden"}),
        passthrough=frozenset({"server.resources"}),
    )
    ok = {
        "server": {
            "replicas": 2,
            "podAnnotations": {"a": "b"},
            "hidden": True,
            "resources": {"limits": {"cpu": "1"}},
        },
        "extra": [{"x": 1}],
    }
    assert values_problems(ok, upstream) == []
    assert values_problems({"server": {"replica": 2}}, upstream) == ["demo 1.0.0: unknown values key 'server.replica'"]
    assert values_problems({"server": {"replicas": {"n": 2}}}, upstream) == [
        "demo 1.0.0: 'server.replicas' is a int upstream, given a map"
    ]
    assert values_problems({"server": {"service": "ClusterIP"}}, upstream) == [
        "demo 1.0.0: 'server.service' is a map upstream, given str"
    ]
    assert values_problems({"server": {"service": {"tpye": "x"}}}, upstream, free_maps=["server.service"]) == []


def test_the_crd_check_refuses_unknown_and_mistyped_fields():
    needs_data()
    crds = load_crds("argo-cd-10.1.1.crd-application.yaml")
    if not crds:
        pytest.skip("no Application CRD")
    app: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "x"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
            "source": {"repoURL": "https://example.com/r.git", "path": "p", "targetRevision": "main"},
        },
    }
    assert custom_resource_problems(app, crds) == []
    typo = copy.deepcopy(app)
    typo["spec"]["source"]["repoUrl"] = typo["spec"]["source"].pop("repoURL")
    assert any("repoUrl" in problem for problem in custom_resource_problems(typo, crds))
    wrong = copy.deepcopy(app)
    wrong["spec"]["syncPolicy"] = {"syncOptions": "CreateNamespace=true"}
    assert custom_resource_problems(wrong, crds)
