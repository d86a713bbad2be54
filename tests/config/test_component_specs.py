"""config.py's mapping of settings to the components' own types (components never import config).

Each spec must carry every setting of its model (a new setting that the mapping forgets fails here), with the
value the settings hold, lists as tuples.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pydantic
import pytest

from components import scheduling
from components.argo_apps import LimitsSpec
from components.argo_bootstrap import ArgoSpec, RbacSpec, RootAppSpec, SsoSpec, TeamProjectSpec
from components.node_autoscaler import ClusterAutoscalerSpec, KarpenterSpec
from components.vault_aws_auth import VaultSpec
from config import (
    ArgoSettings,
    ClusterAutoscalerSettings,
    KarpenterSettings,
    LimitsSettings,
    NodeAutoscalerSettings,
    RbacSettings,
    RootAppSettings,
    SsoSettings,
    TeamProjectSettings,
    Toleration,
    VaultSettings,
    argo_spec,
    node_autoscaler_engine,
    toleration_spec,
    vault_spec,
)

REPO = Path(__file__).resolve().parents[2]
#: Settings a spec leaves out on purpose, and why.
NOT_MAPPED: dict[type[pydantic.BaseModel], set[str]] = {
    # __main__.py builds the component only when enabled; users_files are merged into users on load; mode and
    # in_cluster choose and configure VaultServer instead (config.vault_server_spec, tests/config/test_vault_settings).
    VaultSettings: {"enabled", "users_files", "mode", "in_cluster"},
    # Built only when enabled; the URL is ArgoBootstrapArgs.server_url.
    ArgoSettings: {"enabled", "url"},
}
#: Spec fields no setting fills (their defaults are what settings mean).
SPEC_ONLY: dict[type, set[str]] = {
    # Settings tolerations are untimed; only chart defaults the platform keeps (Spot Ocean's) set an eviction delay.
    scheduling.Toleration: {"toleration_seconds"},
}
PAIRS = [
    (KarpenterSettings, KarpenterSpec),
    (ClusterAutoscalerSettings, ClusterAutoscalerSpec),
    (Toleration, scheduling.Toleration),
    (VaultSettings, VaultSpec),
    (ArgoSettings, ArgoSpec),
    (RootAppSettings, RootAppSpec),
    (TeamProjectSettings, TeamProjectSpec),
    (SsoSettings, SsoSpec),
    (RbacSettings, RbacSpec),
    (LimitsSettings, LimitsSpec),
]

KARPENTER = {
    "capacityTypes": ["spot", "on-demand"],
    "instanceCategories": ["c", "m"],
    "instanceGenerationMin": 6,
    "cpuLimit": 64,
    "memoryLimitGib": 256,
    "consolidationPolicy": "WhenEmpty",
    "consolidateAfter": "5m",
    "expireAfter": "Never",
    "diskSizeGib": 80,
}
ARN = "arn:aws:iam::941892620273:role/eventual-vault-access"
VAULT = {
    "enabled": True,
    "address": "https://vault.example.hashicorp.cloud:8200",
    "namespace": "admin/platform-dev",
    "authPath": "aws-eks",
    "secretsPath": "aws-sts",
    "authRole": "eks-role",
    "boundNamespace": "hub-vault",
    "boundServiceAccount": "vault-sa",
    "users": {"jay@example.com": [ARN, ARN.replace("eventual", "other")]},
}
ARGO = {
    "highAvailability": True,
    "rootApp": {
        "repoUrl": "https://github.com/example/gitops.git",
        "path": "clusters/prod",
        "targetRevision": "v2",
        "automated": True,
        "prune": False,
        "selfHeal": False,
    },
    "teams": {
        "idp": {
            "description": "IdP",
            "sourceRepos": ["https://github.com/example/idp.git"],
            "namespaces": ["idp", "idp-worker"],
        }
    },
    "sso": {"issuer": "https://idp.example.com", "clientId": "argocd", "adminGroups": ["ops", "sre"]},
    "automatedSync": False,
    "rbac": {"defaultRole": "role:ci", "policyCsv": "p, role:ci, applications, sync, */*, allow\n"},
}


def plain(value: Any) -> Any:
    """A settings value as a spec holds it: models as their fields, lists as tuples."""
    if isinstance(value, pydantic.BaseModel):
        return {name: plain(getattr(value, name)) for name in type(value).model_fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return tuple(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def mapped(settings: pydantic.BaseModel) -> dict[str, Any]:
    skipped = NOT_MAPPED.get(type(settings), set())
    fields = plain(settings)
    return {name: value for name, value in fields.items() if name not in skipped}


@pytest.mark.parametrize(("settings", "spec"), PAIRS, ids=lambda t: t.__name__)
def test_every_setting_has_its_spec_field(settings: type[pydantic.BaseModel], spec: type) -> None:
    assert {field.name for field in dataclasses.fields(spec)} - SPEC_ONLY.get(spec, set()) == set(
        settings.model_fields
    ) - NOT_MAPPED.get(settings, set())


@pytest.mark.parametrize("spec", [spec for _, spec in PAIRS], ids=lambda t: t.__name__)
def test_specs_are_frozen(spec: type) -> None:
    assert spec.__dataclass_params__.frozen  # type: ignore[attr-defined]  # dataclasses set it at runtime


def test_karpenter_settings_reach_the_spec() -> None:
    settings = NodeAutoscalerSettings.model_validate({"karpenter": KARPENTER})
    spec = node_autoscaler_engine(settings)
    assert isinstance(spec, KarpenterSpec)
    assert plain(spec) == mapped(settings.karpenter)
    assert spec.capacity_types == ("spot", "on-demand")


def test_the_engine_is_the_spec_type() -> None:
    assert isinstance(node_autoscaler_engine(NodeAutoscalerSettings()), KarpenterSpec)
    ca = node_autoscaler_engine(
        NodeAutoscalerSettings.model_validate(
            {
                "engine": "cluster-autoscaler",
                "karpenter": KARPENTER,
                "clusterAutoscaler": {
                    "nodeSelector": {"dedicated": "clusterAutoscaler"},
                    "tolerations": [
                        {"key": "dedicated", "value": "clusterAutoscaler"},
                        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoExecute"},
                    ],
                },
            }
        )
    )
    assert ca == ClusterAutoscalerSpec(
        node_selector={"dedicated": "clusterAutoscaler"},
        tolerations=(
            scheduling.Toleration("dedicated", "Equal", "clusterAutoscaler", "NoSchedule"),
            scheduling.Toleration("CriticalAddonsOnly", "Exists", "", "NoExecute"),
        ),
    )


def test_a_settings_toleration_renders_as_kubernetes_spells_it() -> None:
    spec = toleration_spec(Toleration(key="CriticalAddonsOnly", operator="Exists"))
    assert scheduling.tolerations([spec]) == [
        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_vault_settings_reach_the_spec() -> None:
    settings = VaultSettings.model_validate(VAULT)
    spec = vault_spec(settings)
    assert plain(spec) == mapped(settings)
    assert spec.users == {"jay@example.com": (ARN, ARN.replace("eventual", "other"))}


def test_argo_settings_reach_the_spec() -> None:
    settings = ArgoSettings.model_validate(ARGO)
    spec = argo_spec(settings)
    assert plain(spec) == mapped(settings)
    assert spec.teams["idp"] == TeamProjectSpec(
        source_repos=("https://github.com/example/idp.git",), namespaces=("idp", "idp-worker"), description="IdP"
    )


def test_argo_without_root_app_or_sso() -> None:
    spec = argo_spec(ArgoSettings())
    assert (spec.root_app, spec.sso, dict(spec.teams), spec.high_availability) == (None, None, {}, False)


def test_no_component_imports_config() -> None:
    """Components own their types; config.py and __main__.py map the settings to them."""
    importers = []
    for path in sorted((REPO / "components").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name == "config" or name.startswith("config.") for name in names):
                importers.append(path.name)
    assert importers == []
