"""Pure planning of ArgoBootstrap: Helm values, Application and AppProject specs, bridge labels."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.argo_bootstrap import (
    DEFAULT_SERVER_URL,
    GUARDRAIL_KINDS,
    IN_CLUSTER_SERVER,
    OIDC_SECRET_KEY,
    ArgoSpec,
    RootAppSpec,
    SsoSpec,
    app_project_spec,
    cluster_secret_annotations,
    cluster_secret_data,
    cluster_secret_labels,
    helm_values,
    namespace_labels,
    oidc_config,
    rbac_policy,
    role_arn_annotation,
    root_application_spec,
    sync_policy,
)
from config import ArgoSettings, RootAppSettings, SsoSettings, TeamProjectSettings, argo_spec

SSO = SsoSettings(issuer="https://idp.example.com", client_id="argocd", admin_groups=["platform", "sre"])
TOLERATIONS = [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}]


def argo(**settings: Any) -> ArgoSpec:
    """What ``settings.argo`` maps to (``config.argo_spec``)."""
    return argo_spec(ArgoSettings(**settings))


def root_app(**settings: Any) -> RootAppSpec:
    spec = argo(root_app=RootAppSettings(**settings)).root_app
    assert spec is not None
    return spec


def sso() -> SsoSpec:
    spec = argo(sso=SSO).sso
    assert spec is not None
    return spec


TEAM = argo(
    teams={
        "idp": TeamProjectSettings(
            source_repos=["https://github.com/example/idp-deploy.git", "git@github.com:example/idp-config.git"],
            namespaces=["idp", "idp-worker"],
        )
    }
).teams["idp"]


def values(spec: ArgoSpec, secret: str | None = None) -> dict[str, Any]:
    return helm_values(spec, node_selector={"dedicated": "system"}, tolerations=TOLERATIONS, oidc_client_secret=secret)


# ------------------------------------------------------------------------------------------ Helm values


def test_non_ha_values_single_replicas_and_no_redis_ha():
    v = values(argo())
    assert v["redis-ha"] == {"enabled": False}
    assert v["controller"]["replicas"] == 1
    for component in ("server", "repoServer", "applicationSet"):
        assert v[component]["replicas"] == 1
        assert v[component]["pdb"] == {"enabled": False}


def test_ha_values_follow_the_charts_documented_ha_set():
    v = values(argo(high_availability=True))
    assert v["redis-ha"]["enabled"] is True
    assert v["controller"]["replicas"] == 1  # sharding is per cluster; the chart's HA example keeps 1
    for component in ("server", "repoServer", "applicationSet"):
        assert v[component]["replicas"] >= 2
        assert v[component]["pdb"] == {"enabled": True, "minAvailable": 1}
    # redis-ha does not read the parent chart's globals: it gets the placement itself.
    assert v["redis-ha"]["tolerations"] == TOLERATIONS
    assert v["redis-ha"]["nodeSelector"] == {"kubernetes.io/os": "linux", "dedicated": "system"}


@pytest.mark.parametrize("ha", [False, True])
def test_server_is_private_and_tls_terminating(ha):
    v = values(argo(high_availability=ha))
    assert v["server"]["service"] == {"type": "ClusterIP"}
    assert v["server"]["ingress"] == {"enabled": False}
    assert v["configs"]["params"]["server.insecure"] is False
    assert v["dex"] == {"enabled": False}
    assert v["crds"] == {"install": True, "keep": True}


def test_pods_select_and_tolerate_the_system_node_group():
    v = values(argo())
    assert v["global"]["tolerations"] == TOLERATIONS
    assert v["global"]["nodeSelector"] == {"kubernetes.io/os": "linux", "dedicated": "system"}


def test_without_sso_admin_stays_and_no_oidc():
    cm = values(argo())["configs"]["cm"]
    assert cm["admin.enabled"] is True
    assert "oidc.config" not in cm
    assert cm["url"] == DEFAULT_SERVER_URL
    assert "extra" not in values(argo())["configs"]["secret"]


def test_sso_disables_admin_and_references_the_secret_key():
    v = values(argo(sso=SSO), secret="s3cr3t")
    cm = v["configs"]["cm"]
    assert cm["admin.enabled"] is False
    oidc = yaml.safe_load(cm["oidc.config"])
    assert oidc["issuer"] == "https://idp.example.com"
    assert oidc["clientID"] == "argocd"
    assert oidc["clientSecret"] == "$oidc.clientSecret"
    assert "groups" in oidc["requestedScopes"]
    assert "s3cr3t" not in cm["oidc.config"]
    assert v["configs"]["secret"]["extra"] == {OIDC_SECRET_KEY: "s3cr3t"}
    assert v["configs"]["rbac"]["policy.csv"] == "g, platform, role:admin\ng, sre, role:admin\n"
    assert v["configs"]["rbac"]["policy.default"] == ""


def test_sso_without_secret_uses_pkce_and_no_secret_entry():
    v = values(argo(sso=SSO))
    oidc = yaml.safe_load(v["configs"]["cm"]["oidc.config"])
    assert "clientSecret" not in oidc
    assert oidc["enablePKCEAuthentication"] is True
    assert "extra" not in v["configs"]["secret"]


def test_secret_without_sso_is_a_mistake():
    with pytest.raises(ValueError, match=r"argo\.sso is not set"):
        values(argo(), secret="s3cr3t")


def test_secret_value_is_passed_through_untouched():
    marker = object()
    v = helm_values(argo(sso=SSO), node_selector={}, tolerations=[], oidc_client_secret=marker)
    assert v["configs"]["secret"]["extra"][OIDC_SECRET_KEY] is marker


def test_oidc_config_is_yaml_with_the_settings():
    parsed = yaml.safe_load(oidc_config(sso(), with_client_secret=True))
    assert parsed["name"] == "SSO"
    assert parsed["clientSecret"] == f"${OIDC_SECRET_KEY}"


@pytest.mark.parametrize("group", ["a,b", 'quo"te', "line\nbreak", "  "])
def test_rbac_rejects_groups_that_break_the_csv(group):
    with pytest.raises(ValueError, match=r"policy\.csv"):
        rbac_policy([group])


def test_rbac_without_groups_is_empty():
    assert rbac_policy([]) == ""


# ------------------------------------------------------------------------------------------ root app


def test_root_app_spec_points_at_git_and_the_in_cluster_server():
    root = root_app(repo_url="https://github.com/example/platform-apps.git", path="clusters/dev")
    spec = root_application_spec(root)
    assert spec["project"] == "default"
    assert spec["source"] == {
        "repoURL": "https://github.com/example/platform-apps.git",
        "path": "clusters/dev",
        "targetRevision": "main",
    }
    assert spec["destination"] == {"server": IN_CLUSTER_SERVER, "namespace": "argocd"}


@pytest.mark.parametrize(("prune", "self_heal"), [(True, True), (True, False), (False, True), (False, False)])
def test_automated_sync_switches(prune, self_heal):
    root = root_app(repo_url="https://git.example.com/apps.git", prune=prune, self_heal=self_heal)
    assert sync_policy(root)["automated"] == {"prune": prune, "selfHeal": self_heal}


def test_manual_sync_has_no_automated_key():
    policy = sync_policy(root_app(repo_url="https://git.example.com/apps.git", automated=False))
    assert "automated" not in policy
    assert "PruneLast=true" in policy["syncOptions"]
    assert policy["retry"]["limit"] > 0


# ------------------------------------------------------------------------------------------ projects


def test_app_project_restricts_repos_destinations_and_cluster_scope():
    spec = app_project_spec("idp", TEAM, TEAM.namespaces)
    assert spec["sourceRepos"] == list(TEAM.source_repos)
    assert spec["destinations"] == [
        {"server": IN_CLUSTER_SERVER, "namespace": "idp"},
        {"server": IN_CLUSTER_SERVER, "namespace": "idp-worker"},
    ]
    assert spec["clusterResourceWhitelist"] == []
    kinds = {(k["group"], k["kind"]) for k in spec["namespaceResourceBlacklist"]}
    assert kinds == {("", "ResourceQuota"), ("", "LimitRange"), ("networking.k8s.io", "NetworkPolicy")}
    assert "namespaceResourceWhitelist" not in spec
    assert spec["description"] == "Applications delegated to team idp"


def test_blacklist_is_a_copy():
    spec = app_project_spec("idp", TEAM, ["idp"])
    spec["namespaceResourceBlacklist"][0]["kind"] = "Pod"
    assert GUARDRAIL_KINDS[0]["kind"] == "ResourceQuota"


def test_settings_reject_default_reserved_and_shared_namespaces():
    from config import ArgoSettings

    team = {"sourceRepos": ["https://g/x"], "namespaces": ["idp"]}
    ArgoSettings.model_validate({"teams": {"idp": team}})
    with pytest.raises(ValueError, match="project for system services"):
        ArgoSettings.model_validate({"teams": {"default": team}})
    with pytest.raises(ValueError, match="'kube-system' is reserved"):
        ArgoSettings.model_validate({"teams": {"x": {**team, "namespaces": ["kube-system"]}}})
    with pytest.raises(ValueError, match="'idp' is reserved or claimed by another team"):
        ArgoSettings.model_validate({"teams": {"a": team, "b": team}})


def test_namespace_labels():
    assert namespace_labels("idp") == {"app.kubernetes.io/managed-by": "pulumi", "platform.eks/team": "idp"}
    assert namespace_labels() == {"app.kubernetes.io/managed-by": "pulumi"}


# ------------------------------------------------------------------------------------------ GitOps bridge


def test_cluster_secret_labels():
    labels = cluster_secret_labels(project="eks-platform", stack="dev", environment="dev", region="us-west-2")
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert labels["platform.eks/environment"] == "dev"
    assert labels["platform.eks/region"] == "us-west-2"
    with pytest.raises(ValueError, match="label values"):
        cluster_secret_labels(project="p", stack="s", environment="has space", region="r")


def test_cluster_secret_annotations_carry_infrastructure_and_role_arns():
    annotations = cluster_secret_annotations(
        cluster_name="eks-platform-dev",
        region="us-west-2",
        account_id="123456789012",
        vpc_id="vpc-0abc",
        environment="dev",
        role_arns={"karpenter": "arn:aws:iam::123456789012:role/k", "ebs-csi": "arn:aws:iam::123456789012:role/e"},
        root_app=root_app(repo_url="https://git.example.com/apps.git", target_revision="v1"),
    )
    assert annotations == {
        "platform.eks/cluster-name": "eks-platform-dev",
        "platform.eks/region": "us-west-2",
        "platform.eks/account-id": "123456789012",
        "platform.eks/vpc-id": "vpc-0abc",
        "platform.eks/environment": "dev",
        "platform.eks/gitops-repo-url": "https://git.example.com/apps.git",
        "platform.eks/gitops-repo-revision": "v1",
        "platform.eks/ebs-csi-role-arn": "arn:aws:iam::123456789012:role/e",
        "platform.eks/karpenter-role-arn": "arn:aws:iam::123456789012:role/k",
    }


def test_cluster_secret_data_has_no_credentials():
    data = cluster_secret_data()
    assert data["name"] == "in-cluster"
    assert data["server"] == IN_CLUSTER_SERVER
    assert "bearerToken" not in data["config"]


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", fullmatch=True))
def test_role_arn_annotation_keys_are_valid(name):
    key = role_arn_annotation(name)
    prefix, _, rest = key.partition("/")
    assert prefix == "platform.eks"
    assert rest == f"{name}-role-arn"
    assert len(rest) <= 63


@pytest.mark.parametrize("name", ["", "Bad Name", "-x", "x" * 60])
def test_role_arn_annotation_rejects_invalid_names(name):
    with pytest.raises(ValueError, match="annotation key"):
        role_arn_annotation(name)
