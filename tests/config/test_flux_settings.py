"""`gitops.engine` and `flux` settings: one engine's settings only, each bad input one line naming its field."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from components.flux_bootstrap import GITHUB_KNOWN_HOSTS, ClusterPathSpec, FluxSpec, GitSourceSpec
from config import FluxPathSettings, FluxSettings, FluxSourceSettings, flux_spec, required_secrets
from tests.config.test_settings import error_of, parse, stack_settings
from tests.program.test_variants import variant_settings

BASE: dict[str, Any] = {
    "region": "us-west-2",
    "owner": "o",
    "costCenter": "c",
    "cluster": {"kubernetesVersion": "1.35"},
}
SOURCE = {"url": "ssh://git@github.com/example-org/platform-gitops.git", "paths": {"apps": "./clusters/prod/apps"}}


def flux(**flux_settings: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), "gitops": {"engine": "flux"}, "flux": flux_settings}


def test_the_engine_defaults_to_argocd_so_dev_and_prod_keep_argo_cd():
    for stack in ("dev", "prod"):
        settings = parse(stack_settings(stack), stack)
        assert settings.gitops.engine == "argocd"
        assert settings.argo_installed
        assert settings.flux_settings is None


def test_the_flux_variant_parses_into_the_components_spec():
    settings = parse(variant_settings("flux"), "prod")
    assert not settings.argo_installed
    flux_settings = settings.flux_settings
    assert flux_settings is not None
    spec = flux_spec(flux_settings)
    source = spec.sources["platform"]
    assert source.url == "ssh://git@github.com/example-org/platform-gitops.git"
    assert (source.branch, source.interval) == ("main", "5m")
    assert source.paths == {
        "infrastructure": ClusterPathSpec(path="./clusters/prod/infrastructure"),
        "apps": ClusterPathSpec(path="./clusters/prod/apps", depends_on=("infrastructure",)),
    }
    assert spec.helm_repositories == {"platform-charts": "oci://444455556666.dkr.ecr.us-west-2.amazonaws.com/charts"}
    assert spec.known_hosts == GITHUB_KNOWN_HOSTS


def test_engine_flux_without_a_flux_block_is_flux_with_no_sources():
    settings = parse({**copy.deepcopy(BASE), "gitops": {"engine": "flux"}})
    assert settings.flux_settings is not None
    assert flux_spec(settings.flux_settings).sources == {}


@pytest.mark.parametrize(
    ("argo", "field"),
    [
        ({"rootApp": {"repoUrl": "https://github.com/example/apps.git"}}, "argo.rootApp"),
        ({"teams": {"t": {"sourceRepos": ["https://github.com/x/y.git"], "namespaces": ["t"]}}}, "argo.teams"),
        ({"highAvailability": True}, "argo.highAvailability"),
        ({"enabled": True}, "argo.enabled"),
    ],
)
def test_engine_flux_refuses_argo_settings_naming_the_field(argo, field):
    message = error_of({**flux(), "argo": argo})
    assert f"eks-platform:settings.{field}: gitops.engine flux installs no Argo CD" in message


def test_engine_argocd_refuses_a_flux_block():
    message = error_of({**copy.deepcopy(BASE), "flux": {"sources": {"platform": SOURCE}}})
    assert "eks-platform:settings.flux: Flux settings take effect with gitops.engine flux only" in message


def test_an_unknown_engine_is_refused():
    assert "eks-platform:settings.gitops.engine" in error_of({**copy.deepcopy(BASE), "gitops": {"engine": "fleet"}})


def test_flux_refuses_a_kubernetes_version_the_pinned_flux_does_not_support():
    raw = flux()
    raw["cluster"]["kubernetesVersion"] = "1.36"
    message = error_of(raw)
    assert (
        "eks-platform:settings.gitops.engine: the pinned Flux (flux2 chart 2.18.3) supports Kubernetes 1.30-1.35"
        in (message)
    )


def test_flux_needs_internet_egress_like_argo():
    raw = flux()
    raw["vpc"] = {"natStrategy": "none"}
    raw["nodeAutoscaler"] = {"engine": "none"}
    assert "eks-platform:settings.gitops.engine: Flux pulls its images from ghcr.io" in error_of(raw)


def test_flux_installs_no_argo_so_needs_no_argo_secret():
    assert "argocdOidcClientSecret" not in required_secrets(parse(flux()))


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:example-org/platform-gitops.git",  # scp-like: Flux's GitRepository refuses it
        "https://github.com/example-org/platform-gitops.git",  # the deploy key is SSH
        "ssh://github.com/example-org/platform-gitops.git",  # no user
    ],
)
def test_a_source_url_must_be_ssh(url):
    message = error_of(flux(sources={"platform": {**SOURCE, "url": url}}))
    assert "eks-platform:settings.flux.sources.platform.url" in message


def test_a_source_host_needs_known_host_keys():
    gitlab = {**SOURCE, "url": "ssh://git@gitlab.com/example/platform.git"}
    message = error_of(flux(sources={"platform": gitlab}))
    assert "flux.sources.platform.url: no known_hosts line names gitlab.com" in message
    line = "gitlab.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf"
    assert parse(flux(sources={"platform": gitlab}, knownHosts=[line])).flux_settings is not None


def test_a_port_other_than_22_is_a_bracketed_known_hosts_host():
    other = {**SOURCE, "url": "ssh://git@git.example.com:2222/platform.git"}
    assert "no known_hosts line names [git.example.com]:2222" in error_of(flux(sources={"platform": other}))
    line = "[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf"
    assert parse(flux(sources={"platform": other}, knownHosts=[line])).flux_settings is not None


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ({"apps": {"path": "./apps", "dependsOn": ["infra"]}}, "paths.apps: dependsOn infra: not another path"),
        ({"apps": {"path": "./apps", "dependsOn": ["apps"]}}, "paths.apps: dependsOn apps: not another path"),
        (
            {"a": {"path": "./a", "dependsOn": ["b"]}, "b": {"path": "./b", "dependsOn": ["a"]}},
            "paths.dependsOn cycle among a, b",
        ),
        ({"apps": "../outside"}, "flux.sources.platform.paths.apps.path"),
        ({"apps": "/abs/path"}, "flux.sources.platform.paths.apps.path"),
        ({}, "flux.sources.platform.paths"),
    ],
)
def test_cluster_paths_are_ordered_and_stay_inside_the_repository(paths, expected):
    assert expected in error_of(flux(sources={"platform": {**SOURCE, "paths": paths}}))


def test_a_kustomization_name_must_fit_a_label_value():
    long_path = "p" * 55
    message = error_of(flux(sources={"platform": {**SOURCE, "paths": {long_path: "./apps"}}}))
    assert f"flux.sources.platform.paths.{long_path}: the Kustomization 'platform-{long_path}' is longer than 63" in (
        message
    )


@pytest.mark.parametrize(
    "url",
    [
        "oci://ghcr.io/example/charts",  # not ECR
        "https://444455556666.dkr.ecr.us-west-2.amazonaws.com/charts",  # not OCI
        "oci://44445555666.dkr.ecr.us-west-2.amazonaws.com/charts",  # 11-digit account
    ],
)
def test_helm_repositories_are_oci_on_ecr(url):
    message = error_of(flux(helmRepositories={"charts": {"url": url}}))
    assert "eks-platform:settings.flux.helmRepositories.charts.url" in message


def test_intervals_are_durations():
    assert "flux.sources.platform.interval" in error_of(flux(sources={"platform": {**SOURCE, "interval": "often"}}))
    assert "flux.sources.platform.interval" in error_of(flux(sources={"platform": {**SOURCE, "interval": "h"}}))
    parsed = parse(flux(sources={"platform": {**SOURCE, "interval": "1m30s"}}))
    assert parsed.flux_settings is not None
    assert parsed.flux_settings.sources["platform"].interval == "1m30s"


def test_flux_system_is_a_platform_namespace_no_team_or_role_may_claim():
    raw = {
        **copy.deepcopy(BASE),
        "appRoles": {"x": {"namespace": "flux-system", "serviceAccount": "x", "createServiceAccount": True}},
    }
    assert "namespace 'flux-system' is already created by flux" in error_of(raw)


def test_two_paths_making_one_kustomization_name_are_refused():
    sources = {
        "a-b": {**SOURCE, "paths": {"c": "./x"}},
        "a": {**SOURCE, "url": "ssh://git@github.com/example-org/other.git", "paths": {"b-c": "./y"}},
    }
    message = error_of(flux(sources=sources))
    assert "flux.sources.a-b.paths.c: the Kustomization 'a-b-c' is also sources.a.paths.b-c's" in message


def test_helm_repository_names_of_the_bridged_addons_are_reserved():
    url = "oci://444455556666.dkr.ecr.us-west-2.amazonaws.com/charts"
    message = error_of(flux(helmRepositories={"addon-x": {"url": url}}))
    assert "flux.helmRepositories.addon-x: names addon-<name> are the bridged add-ons' HelmRepositories" in message


@pytest.mark.parametrize(
    ("settings", "spec"),
    [(FluxSettings, FluxSpec), (FluxSourceSettings, GitSourceSpec), (FluxPathSettings, ClusterPathSpec)],
    ids=lambda t: t.__name__,
)
def test_every_flux_setting_has_its_spec_field(settings: type[pydantic.BaseModel], spec: type) -> None:
    # As tests/config/test_component_specs.py holds the other specs: a setting the mapping forgets fails here.
    assert {field.name for field in dataclasses.fields(spec)} == set(settings.model_fields)
    assert spec.__dataclass_params__.frozen  # type: ignore[attr-defined]  # dataclasses set it at runtime


def readme_flux_example() -> dict[str, Any]:
    """The stack-file example of README "### Flux instead of Argo CD"."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("### Flux instead of Argo CD", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    example: dict[str, Any] = yaml.safe_load(block)
    return example


def test_the_readme_example_is_valid_and_shows_every_flux_setting():
    example = readme_flux_example()
    settings = parse({**copy.deepcopy(BASE), **example})
    assert settings.gitops.engine == "flux"
    flux_settings = settings.flux_settings
    assert flux_settings is not None
    raw = example["flux"]
    assert set(raw) == {info.alias for info in FluxSettings.model_fields.values()}
    sources = raw["sources"].values()
    assert set().union(*map(set, sources)) == {info.alias for info in FluxSourceSettings.model_fields.values()}
    paths = [path for source in sources for path in source["paths"].values() if isinstance(path, dict)]
    assert set().union(*map(set, paths)) == {info.alias for info in FluxPathSettings.model_fields.values()}
    assert flux_settings.known_hosts[0] == GITHUB_KNOWN_HOSTS[0]
