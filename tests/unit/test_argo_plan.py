"""Pure planning of ArgoBootstrap: Helm values, Application and AppProject specs, bridge labels."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.argo_apps import IN_CLUSTER_SERVER
from components.argo_bootstrap import (
    DEFAULT_SERVER_URL,
    GUARDRAIL_KINDS,
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


# ------------------------------------------------------------------------------------------ declared apps (argo_apps)

from components.argo_apps import (  # noqa: E402 - the declared-objects planner, tested below
    ADDON_SYNC_OPTIONS,
    SYNC_OPTIONS,
    ApplicationSpec,
    HelmSpec,
    IgnoreDifferenceSpec,
    LimitsSpec,
    SourceSpec,
    addon_application_set_spec,
    addon_labels,
    application_annotations,
    application_finalizers,
    application_spec,
    bridged_addon_problems,
    limit_range_spec,
    network_policy_spec,
    policy_csv_problems,
    quantity_problem,
    rbac_roles,
    resource_quota_spec,
    role_arn_template,
    source_problems,
    sync_option_problem,
)
from components.argo_bootstrap import RbacSpec, rbac_values  # noqa: E402
from components.gitops_bridge import BridgedAddon  # noqa: E402

CHART = SourceSpec(
    "https://airflow.apache.org",
    target_revision="1.15.0",
    chart="airflow",
    helm=HelmSpec(release_name="airflow", value_files=("$values/airflow/prod.yaml",), values={"executor": "Celery"}),
)
VALUES = SourceSpec("https://github.com/example/airflow-config.git", target_revision="main", ref="values")
PLAIN = SourceSpec("https://charts.example.com", target_revision="1.0.0", chart="app")


def test_multi_source_spec_keeps_the_order_and_the_ref():
    spec = application_spec(ApplicationSpec(sources=(CHART, VALUES), multi_source=True, namespace="airflow"))
    assert spec["sources"] == [
        {
            "repoURL": "https://airflow.apache.org",
            "targetRevision": "1.15.0",
            "chart": "airflow",
            "helm": {
                "releaseName": "airflow",
                "valueFiles": ["$values/airflow/prod.yaml"],
                "valuesObject": {"executor": "Celery"},
            },
        },
        {"repoURL": "https://github.com/example/airflow-config.git", "targetRevision": "main", "ref": "values"},
    ]
    assert "source" not in spec
    assert spec["destination"] == {"server": IN_CLUSTER_SERVER, "namespace": "airflow"}


def test_values_as_text_is_yaml():
    source = SourceSpec("https://c", chart="c", helm=HelmSpec(values={"a": {"b": [1]}}, values_as="text"))
    helm = application_spec(ApplicationSpec(sources=(source,), namespace="x"))["source"]["helm"]
    assert yaml.safe_load(helm["values"]) == {"a": {"b": [1]}}
    assert "valuesObject" not in helm


def test_a_value_file_naming_no_ref_is_refused():
    lonely = SourceSpec("https://c", chart="c", helm=HelmSpec(value_files=("$values/x.yaml",)))
    assert source_problems([lonely]) == ["value file '$values/x.yaml' names ref 'values', which no source declares"]
    assert source_problems([lonely, VALUES]) == []
    assert source_problems([VALUES, VALUES]) == ["ref 'values' is declared by more than one source"]
    with pytest.raises(ValueError, match="no source declares"):
        application_spec(ApplicationSpec(sources=(lonely,), namespace="x"))


def test_several_sources_need_multi_source():
    with pytest.raises(ValueError, match="one source"):
        application_spec(ApplicationSpec(sources=(CHART, VALUES), namespace="x"))
    with pytest.raises(ValueError, match="one source"):
        application_spec(ApplicationSpec(sources=(), namespace="x"))


@pytest.mark.parametrize(
    ("automated", "prune", "self_heal"), [(True, True, False), (True, False, True), (False, True, True)]
)
def test_sync_policy_of_declared_apps(automated, prune, self_heal):
    app = ApplicationSpec(
        sources=(PLAIN,),
        namespace="x",
        automated=automated,
        prune=prune,
        self_heal=self_heal,
        sync_options=("ServerSideApply=true",),
    )
    policy = application_spec(app)["syncPolicy"]
    assert policy["syncOptions"] == ["ServerSideApply=true"]
    if automated:
        assert policy["automated"] == {"prune": prune, "selfHeal": self_heal}
    else:
        assert "automated" not in policy


def test_wave_and_finalizer_metadata():
    app = ApplicationSpec(sources=(PLAIN,), namespace="x", sync_wave=-3, finalizer=False)
    assert application_annotations(app) == {"argocd.argoproj.io/sync-wave": "-3"}
    assert application_finalizers(app) == []
    default = ApplicationSpec(sources=(PLAIN,), namespace="x")
    assert application_annotations(default) == {}
    assert application_finalizers(default) == ["resources-finalizer.argocd.argoproj.io"]


def test_ignore_differences_carry_only_given_fields():
    entry = IgnoreDifferenceSpec(kind="Deployment", group="apps", managed_fields_managers=("kube-controller-manager",))
    spec = application_spec(ApplicationSpec(sources=(PLAIN,), namespace="x", ignore_differences=(entry,)))
    assert spec["ignoreDifferences"] == [
        {"group": "apps", "kind": "Deployment", "managedFieldsManagers": ["kube-controller-manager"]}
    ]


@given(st.sampled_from(sorted((name, value) for name, values in SYNC_OPTIONS.items() for value in values)))
def test_every_documented_sync_option_is_accepted(option):
    assert sync_option_problem("=".join(option)) is None


@pytest.mark.parametrize(
    "option", ["CreateNamespace", "CreateNamespace=false", "Force=true", "serverSideApply=true", ""]
)
def test_undocumented_sync_options_are_refused(option):
    assert sync_option_problem(option)


# ------------------------------------------------------------------------------------------ ApplicationSets

LBC = BridgedAddon(
    name="aws-load-balancer-controller",
    repo_url="https://aws.github.io/eks-charts",
    chart="aws-load-balancer-controller",
    version="1.14.0",
    namespace="kube-system",
    values={
        "serviceAccount": {
            "annotations": {"eks.amazonaws.com/role-arn": role_arn_template("aws-load-balancer-controller")}
        }
    },
    service_account="aws-load-balancer-controller",
    wave=-1,
)


def test_role_arn_template_names_the_bridge_annotation():
    assert role_arn_template("external-dns") == "{{metadata.annotations.platform.eks/external-dns-role-arn}}"
    assert role_arn_template("karpenter").removeprefix("{{metadata.annotations.").removesuffix("}}") == (
        role_arn_annotation("karpenter")
    )


@pytest.mark.parametrize("automated", [True, False])
def test_addon_application_set(automated):
    spec = addon_application_set_spec(LBC, automated=automated)
    assert spec["goTemplate"] is False  # fasttemplate: {{metadata.annotations.<key>}} and Helm's {{ }} untouched
    assert spec["generators"] == [
        {"clusters": {"selector": {"matchLabels": {"platform.eks/addon-aws-load-balancer-controller": "enabled"}}}}
    ]
    template = spec["template"]
    assert template["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-1"}
    source = template["spec"]["source"]
    assert source["helm"]["valuesObject"] == dict(LBC.values)
    assert source["helm"]["releaseName"] == "aws-load-balancer-controller"
    assert template["spec"]["syncPolicy"]["syncOptions"] == list(ADDON_SYNC_OPTIONS)
    assert ("automated" in template["spec"]["syncPolicy"]) is automated
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": False}


def test_addon_labels_and_problems():
    assert addon_labels([LBC]) == {"platform.eks/addon-aws-load-balancer-controller": "enabled"}
    assert bridged_addon_problems([LBC]) == []
    roleless = BridgedAddon(**{**LBC.__dict__, "service_account": None})
    with_output = BridgedAddon(**{**LBC.__dict__, "values": {**LBC.values, "vpcId": object(), "list": [1, "x"]}})
    assert bridged_addon_problems([with_output]) == []  # values may hold Outputs
    assert bridged_addon_problems([roleless]) == [
        "add-on 'aws-load-balancer-controller' uses its role ARN template but has no service account (no role)"
    ]


# ------------------------------------------------------------------------------------------ team guardrails

_QUANTITIES = st.builds(
    lambda number, suffix: f"{number}{suffix}",
    st.one_of(
        st.integers(0, 10**6).map(str),
        st.builds(lambda whole, frac: f"{whole}.{frac}", st.integers(0, 999), st.integers(0, 999)),
        st.integers(0, 999).map(lambda frac: f".{frac}"),
    ),
    st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti", "e3", "E-2"]),
)


@given(_QUANTITIES)
def test_kubernetes_quantities_are_accepted(value):
    assert quantity_problem(value) is None


@pytest.mark.parametrize("value", ["", "1GB", "lots", "1.2.3", "Gi", "1 Gi", "1gi", "-1", "0x10"])
def test_non_quantities_are_refused(value):
    assert quantity_problem(value)


def test_quota_and_limit_range():
    assert resource_quota_spec({"pods": "10", "requests.cpu": "4"}) == {"hard": {"pods": "10", "requests.cpu": "4"}}
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        resource_quota_spec({"pods": "ten"})
    limits = limit_range_spec(LimitsSpec(default={"memory": "1Gi"}, max={"cpu": "2"}))
    assert limits == {"limits": [{"type": "Container", "default": {"memory": "1Gi"}, "max": {"cpu": "2"}}]}
    with pytest.raises(ValueError, match="needs default"):
        limit_range_spec(LimitsSpec())
    with pytest.raises(ValueError, match="not one of"):
        limit_range_spec(LimitsSpec(max={"nvidia.com/gpu": "1"}))


def test_default_deny_allows_only_dns_to_kube_system():
    spec = network_policy_spec()
    assert spec["podSelector"] == {}
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in spec
    (rule,) = spec["egress"]
    assert rule["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    assert sorted(p["protocol"] for p in rule["ports"]) == ["TCP", "UDP"]


# ------------------------------------------------------------------------------------------ RBAC


def test_rbac_default_role_and_policy_lines():
    spec = argo(sso=SSO)
    rbac = rbac_values(ArgoSpec(sso=spec.sso, rbac=RbacSpec(default_role="role:readonly")))
    assert rbac["policy.default"] == "role:readonly"
    assert rbac["policy.csv"] == "g, platform, role:admin\ng, sre, role:admin\n"
    custom = ArgoSpec(
        rbac=RbacSpec(default_role="role:viewer", policy_csv="p, role:viewer, applications, get, */*, allow")
    )
    assert rbac_values(custom)["policy.csv"] == "p, role:viewer, applications, get, */*, allow\n"
    with pytest.raises(ValueError, match="default role 'role:viewer'"):
        rbac_values(ArgoSpec(rbac=RbacSpec(default_role="role:viewer")))
    assert "policy.csv" not in rbac_values(ArgoSpec())


def test_policy_csv_parsing():
    policy = "p, role:ci, applications, sync, */*, allow\n# comment\ng, devs, role:dev\n"
    assert policy_csv_problems(policy) == []
    assert rbac_roles(policy) == {"role:ci", "role:dev"}
    assert policy_csv_problems("p, role:x, applications, get, */*, maybe") == [
        "line 1: effect 'maybe' is not allow or deny"
    ]
    assert len(policy_csv_problems("x, y\ng, a")) == 2


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("500m", "0.5"),
        ("2", "2"),
        ("1.5", "1.5"),
        ("4Gi", str(4 * 1024**3)),
        ("100Mi", str(100 * 1024**2)),
        ("1G", "1000000000"),
        ("1e3", "1000"),
        ("2E", str(2 * 10**18)),
        ("250u", "0.000250"),
    ],
)
def test_quantities_mean_what_kubernetes_reads(text, amount):
    from decimal import Decimal

    from components.argo_apps import quantity_value

    assert quantity_value(text) == Decimal(amount)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_a_limit_range_refuses_a_default_over_its_max_in_any_unit(mi, gi):
    from components.argo_apps import LimitsSpec, limit_bounds_problems

    low, high = f"{mi}Mi", f"{gi}Gi"
    problems = limit_bounds_problems(LimitsSpec(default={"memory": low}, max={"memory": high}))
    assert bool(problems) == (mi > gi * 1024)
