"""ArgoBootstrap: Argo CD, the root app-of-apps, delegated teams' AppProjects and the GitOps bridge.

What the login.gov seed did by hand with kustomize (Argo CD plus application and project manifests) and the
Sage seed with Terraform, declared once:

* the ``argo-cd`` Helm chart in its own ``argocd`` namespace, on the system node group, never exposed
  publicly (ClusterIP service, no ingress: reach it with ``kubectl port-forward``), HA replicas and
  redis-ha when asked, OIDC single sign-on with the local ``admin`` disabled. Without SSO the chart's
  ``admin`` user logs in with the password Argo CD writes to ``argocd-initial-admin-secret``;
* the root "app-of-apps" ``Application``: system services live in git, in the ``default`` project;
* one ``AppProject`` per delegated team, limited to its repositories and its (created) namespaces, with only the
  cluster-scoped kinds it is allowed (none by default) and no way to lift its own ResourceQuota, LimitRange or
  NetworkPolicy (nor the kinds it is denied besides); per team namespace the platform's guardrails: a
  ResourceQuota and a LimitRange when given, a default-deny NetworkPolicy unless switched off;
* the Applications declared in settings (one source or several, sync waves and options, ``ignoreDifferences``,
  automated or manual sync), each created after the release and the AppProject it names;
* one ApplicationSet per add-on the GitOps bridge carries (``bridged_addons``), its cluster generator selecting
  the cluster Secret by the add-on's label (added to the Secret here);
* the GitOps bridge: the ``in-cluster`` cluster Secret whose labels and annotations carry what add-ons need
  from the infrastructure (cluster name, region, account, VPC, IRSA role ARNs), for ApplicationSets' cluster
  generators (``{{metadata.annotations.platform.eks/karpenter-role-arn}}``).

The ``default`` project is left as Argo CD creates it at start-up (any repository, any destination): system
services need exactly that, and declaring it here would race Argo CD's own creation of the object. Teams
cannot use it: their Applications only reach their own namespaces, never ``argocd`` where Applications live.

Sync waves: the root app carries wave ``-1`` so that, if a hub ever adopts it, it syncs before anything it
deploys; Applications in git should use waves ``0`` and up (CRD-providing add-ons first).

Tear-down order (the Sage seed's "delete all applications first"): the root app has the resources finalizer,
so deleting it deletes every Application it created and their resources; Pulumi deletes it before the team
AppProjects, the cluster Secret and the Helm release it depends on, while Argo CD still runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.argo_apps import (
    BUILT_IN_ROLES,
    DEFAULT_PROJECT,
    IN_CLUSTER_SERVER,
    RESOURCES_FINALIZER,
    SYNC_WAVE,
    ApplicationSpec,
    KindSpec,
    LimitsSpec,
    addon_application_set_spec,
    addon_labels,
    application_annotations,
    application_finalizers,
    application_spec,
    bridged_addon_problems,
    limit_range_spec,
    network_policy_spec,
    policy_csv_problems,
    rbac_roles,
    resource_quota_spec,
)
from components.context import once_created
from components.gitops_bridge import BRIDGE, BridgeFacts
from components.helm_release import after_release, pinned_release, release_name
from components.limits import label_value_problem
from components.naming import ARGOCD_NAMESPACE, MANAGED_BY_LABELS, NamingContext
from components.scheduling import linux_node_selector
from components.versions import ARGO_CD_CHART

T = TypeVar("T")

RELEASE_NAME = "argocd"
ROOT_APP_NAME = "root"
IN_CLUSTER_NAME = "in-cluster"
#: Argo CD's SSO callback base when the server is only reachable through ``kubectl port-forward``.
DEFAULT_SERVER_URL = "https://localhost:8080"

ARGO_API_VERSION = "argoproj.io/v1alpha1"
ROOT_APP_WAVE = "-1"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"  # noqa: S105 - a label key
TEAM_LABEL = f"{BRIDGE}team"
#: Key of the OIDC client secret in ``argocd-secret``; ``oidc.config`` refers to it as ``$oidc.clientSecret``.
OIDC_SECRET_KEY = "oidc.clientSecret"  # noqa: S105 - a key name, not its value
OIDC_SCOPES = ("openid", "profile", "email", "groups")
HA_REPLICAS = 2

#: Namespaced kinds a team may not manage: the guardrails the platform sets on its namespaces.
GUARDRAIL_KINDS: tuple[dict[str, str], ...] = (
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
)
SYNC_OPTIONS = ("PrunePropagationPolicy=foreground", "PruneLast=true")
SYNC_RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}

_KEY_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class RootAppSpec:
    """The app-of-apps: an Application syncing the platform's GitOps repository into ``argocd``."""

    repo_url: str
    path: str
    target_revision: str
    #: Sync automatically; with it, delete what git removed (``prune``) and revert changes made outside git.
    automated: bool
    prune: bool
    self_heal: bool


@dataclass(frozen=True)
class TeamProjectSpec:
    """A delegated team's AppProject: the repositories it may use and the namespaces (created) it may deploy to."""

    source_repos: tuple[str, ...]
    namespaces: tuple[str, ...]
    #: Shown in the Argo CD UI (empty: a default naming the team).
    description: str = ""
    #: Cluster-scoped kinds the team may manage (``clusterResourceWhitelist``; none by default).
    allow_cluster_kinds: tuple[KindSpec, ...] = ()
    #: Namespaced kinds denied beyond the guardrails (`GUARDRAIL_KINDS`, always denied).
    deny_namespaced_kinds: tuple[KindSpec, ...] = ()
    #: Extra labels of the team's namespaces.
    labels: Mapping[str, str] = field(default_factory=dict)
    #: ResourceQuota ``hard`` limits of each team namespace (None: no ResourceQuota).
    quota: Mapping[str, str] | None = None
    #: LimitRange of each team namespace (None: no LimitRange).
    limits: LimitsSpec | None = None
    #: A default-deny NetworkPolicy in each team namespace (DNS to kube-system stays open).
    default_deny_network_policy: bool = True


@dataclass(frozen=True)
class SsoSpec:
    """OIDC single sign-on (the local ``admin`` is disabled with it)."""

    issuer: str
    client_id: str
    #: IdP groups mapped to ``role:admin``.
    admin_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class RbacSpec:
    """Argo CD RBAC beyond the SSO admin groups."""

    #: ``policy.default`` of argocd-rbac-cm: the role of every authenticated user ("" = none).
    default_role: str = ""
    #: More ``policy.csv`` lines (roles and group bindings), after the SSO admin groups'.
    policy_csv: str = ""


@dataclass(frozen=True)
class ArgoSpec:
    """What Argo CD is set up with (``settings.argo``, mapped by ``config.argo_spec``)."""

    #: HA replicas, pod disruption budgets and redis-ha.
    high_availability: bool = False
    root_app: RootAppSpec | None = None
    #: AppProjects by team.
    teams: Mapping[str, TeamProjectSpec] = field(default_factory=dict)
    sso: SsoSpec | None = None
    #: Applications by name (``argo.applications``).
    applications: Mapping[str, ApplicationSpec] = field(default_factory=dict)
    #: Automated sync of the add-on ApplicationSets' Applications (``argo.automatedSync``).
    automated_sync: bool = True
    rbac: RbacSpec = field(default_factory=RbacSpec)


@dataclass(frozen=True)
class ArgoBootstrapArgs:
    """Inputs of an ArgoBootstrap."""

    naming: NamingContext
    argo: ArgoSpec
    #: The cluster and the facts the cluster Secret publishes (labels: plain text), the add-ons to install.
    bridge: BridgeFacts
    #: OIDC client secret (``require_secret("argocdOidcClientSecret")``); only with ``argo.sso``.
    oidc_client_secret: pulumi.Input[str] | None = None
    #: URL users reach Argo CD at (SSO callbacks); default: a port-forward on localhost.
    server_url: str = DEFAULT_SERVER_URL


# ---------------------------------------------------------------------------------------------- planning


def oidc_config(sso: SsoSpec, *, with_client_secret: bool) -> str:
    """The ``oidc.config`` entry of ``argocd-cm`` (YAML text).

    The client secret is a reference to ``argocd-secret`` (``$oidc.clientSecret``), never the secret itself.
    Without one the client is public and signs in with PKCE.
    """
    config: dict[str, Any] = {
        "name": "SSO",
        "issuer": sso.issuer,
        "clientID": sso.client_id,
        "requestedScopes": list(OIDC_SCOPES),
    }
    if with_client_secret:
        config["clientSecret"] = f"${OIDC_SECRET_KEY}"
    else:
        config["enablePKCEAuthentication"] = True
    return yaml.safe_dump(config, sort_keys=False)


def rbac_policy(admin_groups: Sequence[str]) -> str:
    """``policy.csv`` of ``argocd-rbac-cm``: each IdP group gets ``role:admin``.

    Raises:
        ValueError: a group name that would break the CSV (comma, quote or line break).
    """
    bad = [group for group in admin_groups if not group.strip() or any(c in group for c in ',"\n\r')]
    if bad:
        msg = f"admin group names unusable in policy.csv: {bad}"
        raise ValueError(msg)
    return "".join(f"g, {group}, role:admin\n" for group in admin_groups)


def rbac_values(spec: ArgoSpec) -> dict[str, Any]:
    """``configs.rbac`` of the chart: ``policy.default``, ``policy.csv`` (SSO admin groups, then ``rbac.policy_csv``).

    Raises:
        ValueError: unusable admin group names, malformed ``policy.csv`` lines, or a default role that is neither
            built in nor defined by ``policy.csv``.
    """
    problems = policy_csv_problems(spec.rbac.policy_csv)
    if problems:
        raise ValueError("policy.csv: " + "; ".join(problems))
    policy = (rbac_policy(spec.sso.admin_groups) if spec.sso is not None else "") + spec.rbac.policy_csv
    if policy and not policy.endswith("\n"):
        policy += "\n"
    default = spec.rbac.default_role
    if default and default not in BUILT_IN_ROLES | rbac_roles(policy):
        msg = f"default role {default!r} is neither {' nor '.join(sorted(BUILT_IN_ROLES))} nor defined in policy.csv"
        raise ValueError(msg)
    rbac: dict[str, Any] = {"policy.default": default, "scopes": "[groups]"}
    if spec.sso is not None or policy:
        rbac["policy.csv"] = policy
    return rbac


def helm_values(
    spec: ArgoSpec,
    *,
    node_selector: Mapping[str, pulumi.Input[str]],
    tolerations: Sequence[Mapping[str, str]],
    oidc_client_secret: T | None = None,
    server_url: str = DEFAULT_SERVER_URL,
) -> dict[str, Any]:
    """Values of the argo-cd chart (keys as in the chart's values.yaml).

    ``oidc_client_secret`` is passed through untouched (a Pulumi secret Output in the component) into
    ``configs.secret.extra``, the only place the secret appears.

    Raises:
        ValueError: a client secret without SSO settings, or unusable admin group names.
    """
    if oidc_client_secret is not None and spec.sso is None:
        msg = "an OIDC client secret was given but argo.sso is not set"
        raise ValueError(msg)
    placement = {"nodeSelector": linux_node_selector(node_selector), "tolerations": list(tolerations)}
    cm: dict[str, Any] = {"url": server_url, "admin.enabled": spec.sso is None, "exec.enabled": False}
    rbac = rbac_values(spec)
    secret: dict[str, Any] = {"createSecret": True}
    if spec.sso is not None:
        cm["oidc.config"] = oidc_config(spec.sso, with_client_secret=oidc_client_secret is not None)
        if oidc_client_secret is not None:
            secret["extra"] = {OIDC_SECRET_KEY: oidc_client_secret}
    ha = spec.high_availability
    replicas = HA_REPLICAS if ha else 1
    pdb = {"enabled": True, "minAvailable": 1} if ha else {"enabled": False}
    return {
        "global": placement,
        "crds": {"install": True, "keep": True},
        "configs": {"cm": cm, "params": {"server.insecure": False}, "rbac": rbac, "secret": secret},
        # SSO talks OIDC directly to the IdP: no Dex to run and patch.
        "dex": {"enabled": False},
        # Sharding is per cluster: with only the in-cluster destination a second controller would idle
        # (the chart's documented HA values keep one).
        "controller": {"replicas": 1},
        "server": {
            "replicas": replicas,
            "pdb": pdb,
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
        },
        "repoServer": {"replicas": replicas, "pdb": pdb},
        "applicationSet": {"replicas": replicas, "pdb": pdb},
        # The redis-ha subchart does not read the parent's global placement.
        "redis-ha": {"enabled": True, **placement} if ha else {"enabled": False},
    }


def sync_policy(root: RootAppSpec) -> dict[str, Any]:
    """The root app's ``syncPolicy``; no ``automated`` key at all when syncing is manual."""
    policy: dict[str, Any] = {"syncOptions": list(SYNC_OPTIONS), "retry": SYNC_RETRY}
    if root.automated:
        policy["automated"] = {"prune": root.prune, "selfHeal": root.self_heal}
    return policy


def root_application_spec(root: RootAppSpec) -> dict[str, Any]:
    """``spec`` of the app-of-apps: git -> the ``argocd`` namespace of this cluster, project ``default``."""
    return {
        "project": DEFAULT_PROJECT,
        "source": {"repoURL": root.repo_url, "path": root.path, "targetRevision": root.target_revision},
        "destination": {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE},
        "syncPolicy": sync_policy(root),
    }


def app_project_spec(team: str, project: TeamProjectSpec, namespaces: Sequence[T]) -> dict[str, Any]:
    """``spec`` of a team's AppProject: its repositories and namespaces, allowed cluster kinds, denied kinds.

    Cluster-scoped kinds: only those the team is allowed (none by default). Denied namespaced kinds: the
    guardrails, then the team's own.

    ``namespaces`` are the team's namespace names (Outputs of the created namespaces in the component).
    """
    denied = [dict(kind) for kind in GUARDRAIL_KINDS]
    denied += [
        {"group": kind.group, "kind": kind.kind}
        for kind in project.deny_namespaced_kinds
        if {"group": kind.group, "kind": kind.kind} not in denied
    ]
    return {
        "description": project.description or f"Applications delegated to team {team}",
        "sourceRepos": list(project.source_repos),
        "destinations": [{"server": IN_CLUSTER_SERVER, "namespace": ns} for ns in namespaces],
        "clusterResourceWhitelist": [kind.entry() for kind in project.allow_cluster_kinds],
        "namespaceResourceBlacklist": denied,
    }


def namespace_labels(team: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels of a namespace this component creates (with its owning team, if any, and the team's own labels).

    Raises:
        ValueError: an extra label that would replace the managed-by or team label.
    """
    ours = {**MANAGED_BY_LABELS, TEAM_LABEL: team} if team else dict(MANAGED_BY_LABELS)
    clash = sorted(set(extra or {}) & set(ours))
    if clash:
        msg = f"namespace labels {clash} are set by the platform"
        raise ValueError(msg)
    return {**(extra or {}), **ours}


def _key_name(name: str) -> str:
    if not _KEY_NAME.fullmatch(name):
        msg = f"{name!r} cannot be part of a label or annotation key"
        raise ValueError(msg)
    return name


def role_arn_annotation(name: str) -> str:
    """Annotation key of a role ARN on the cluster Secret: ``platform.eks/<name>-role-arn``.

    Raises:
        ValueError: ``name`` does not make a valid annotation key.
    """
    return BRIDGE + _key_name(f"{name}-role-arn")


def cluster_secret_labels(
    *, project: str, stack: str, environment: str, region: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Labels of the cluster Secret: what cluster generators select on (``extra``: the bridge's own labels).

    Raises:
        ValueError: a value that is not a valid label value, or an extra key outside ``platform.eks/``.
    """
    outside = sorted(
        key for key in extra or {} if not key.startswith(BRIDGE) or not _KEY_NAME.fullmatch(key[len(BRIDGE) :])
    )
    if outside:
        msg = f"bridge label keys must be {BRIDGE}<name>: {outside}"
        raise ValueError(msg)
    labels = {
        **(extra or {}),
        SECRET_TYPE_LABEL: "cluster",
        **MANAGED_BY_LABELS,
        f"{BRIDGE}project": project,
        f"{BRIDGE}stack": stack,
        f"{BRIDGE}environment": environment,
        f"{BRIDGE}region": region,
    }
    bad = {key: value for key, value in labels.items() if label_value_problem(value)}
    if bad:
        msg = f"not valid label values: {bad}"
        raise ValueError(msg)
    return labels


def cluster_secret_annotations(
    *,
    cluster_name: T,
    region: T,
    account_id: T,
    vpc_id: T,
    environment: T,
    role_arns: Mapping[str, T],
    root_app: RootAppSpec | None = None,
) -> dict[str, T | str]:
    """Annotations of the cluster Secret: infrastructure facts for add-on templates (values may be Outputs)."""
    annotations: dict[str, T | str] = {
        f"{BRIDGE}cluster-name": cluster_name,
        f"{BRIDGE}region": region,
        f"{BRIDGE}account-id": account_id,
        f"{BRIDGE}vpc-id": vpc_id,
        f"{BRIDGE}environment": environment,
    }
    if root_app is not None:
        annotations |= {
            f"{BRIDGE}gitops-repo-url": root_app.repo_url,
            f"{BRIDGE}gitops-repo-revision": root_app.target_revision,
        }
    annotations |= {role_arn_annotation(name): arn for name, arn in sorted(role_arns.items())}
    return annotations


def cluster_secret_data() -> dict[str, str]:
    """``stringData`` of the in-cluster Secret: no credentials, the controller uses its ServiceAccount."""
    return {
        "name": IN_CLUSTER_NAME,
        "server": IN_CLUSTER_SERVER,
        "config": '{"tlsClientConfig":{"insecure":false}}',
    }


# --------------------------------------------------------------------------------------------- component


def bootstrap_problems(args: ArgoBootstrapArgs) -> list[str]:
    """What Argo CD would refuse of ``args``.

    Bridged add-ons without their role, apps of unknown projects, a team's apps outside its namespaces.
    """
    spec = args.argo
    problems = bridged_addon_problems(args.bridge.bridged_addons)
    problems += [
        f"add-on {addon.name!r} has a service account but no role ARN under role_arns[{addon.name!r}]"
        for addon in args.bridge.bridged_addons
        if addon.service_account is not None and addon.name not in args.bridge.role_arns
    ]
    problems += [
        f"application {app!r} names project {application.project!r}, which is neither default nor a team's"
        for app, application in sorted(spec.applications.items())
        if application.project != DEFAULT_PROJECT and application.project not in spec.teams
    ]
    problems += [
        f"application {app!r} of team {application.project} targets {application.server} {application.namespace}, "
        "outside the team's namespaces"
        for app, application in sorted(spec.applications.items())
        if application.project in spec.teams
        and (
            application.namespace not in spec.teams[application.project].namespaces
            or application.server != IN_CLUSTER_SERVER
        )
    ]
    return problems


class ArgoBootstrap(pulumi.ComponentResource):
    """Argo CD and its GitOps bootstrap.

    Outputs: ``namespace``, ``release_name``, ``root_app_name`` (None without a root app),
    ``project_names`` and ``team_namespaces`` (by team), ``cluster_secret_name``, ``application_names`` (by
    declared name) and ``application_set_names`` (by add-on).
    """

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    root_app_name: pulumi.Output[str] | None
    project_names: dict[str, pulumi.Output[str]]
    team_namespaces: dict[str, list[pulumi.Output[str]]]
    cluster_secret_name: pulumi.Output[str]
    application_names: dict[str, pulumi.Output[str]]
    application_set_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ArgoBootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:ArgoBootstrap", name, None, opts)
        spec = args.argo
        child = pulumi.ResourceOptions(parent=self)
        problems = bootstrap_problems(args)
        if problems:
            raise ValueError("; ".join(problems))

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": ARGOCD_NAMESPACE, "labels": namespace_labels()}, opts=child
        )
        release = pinned_release(
            f"{name}-release",
            ARGO_CD_CHART,
            name=RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=helm_values(
                spec,
                node_selector=args.bridge.cluster.system_node_selector,
                tolerations=args.bridge.cluster.system_tolerations,
                oidc_client_secret=args.oidc_client_secret,
                server_url=args.server_url,
            ),
            timeout=900,
            max_history=10,
            opts=child,
        )
        # Application and AppProject are CRDs the chart installs: their namespace comes out of the
        # release's status, so they are created after it (and preview does not look the kinds up early).
        crd_namespace = after_release(release, namespace.metadata.name)

        projects = self._teams(name, spec, crd_namespace)
        cluster_secret = self._cluster_secret(name, args, namespace.metadata.name)
        self.root_app_name = self._root_app(name, spec, crd_namespace, [*projects.values(), cluster_secret])
        self._applications(name, spec, crd_namespace, projects)
        self._application_sets(name, args, crd_namespace, cluster_secret)

        self.namespace = namespace.metadata.name
        self.release_name = release_name(release, RELEASE_NAME)
        self.cluster_secret_name = cluster_secret.metadata.name
        self.register_outputs(
            {
                "namespace": self.namespace,
                "releaseName": self.release_name,
                "rootAppName": self.root_app_name,
                "projectNames": self.project_names,
                "clusterSecretName": self.cluster_secret_name,
                "applicationNames": self.application_names,
                "applicationSetNames": self.application_set_names,
            }
        )

    def _teams(self, name: str, spec: ArgoSpec, crd_namespace: pulumi.Output[str]) -> dict[str, pulumi.Resource]:
        """Each team's namespaces (with their guardrails) and AppProject; the projects by team."""
        child = pulumi.ResourceOptions(parent=self)
        self.team_namespaces = {}
        self.project_names = {}
        projects: dict[str, pulumi.Resource] = {}
        for team, project in sorted(spec.teams.items()):
            namespaces = [
                k8s.core.v1.Namespace(
                    f"{name}-ns-{ns}",
                    metadata={"name": ns, "labels": namespace_labels(team, project.labels)},
                    opts=child,
                ).metadata.name
                for ns in project.namespaces
            ]
            for ns, ns_name in zip(project.namespaces, namespaces, strict=True):
                self._guardrails(name, ns, ns_name, team, project)
            app_project = k8s.apiextensions.CustomResource(
                f"{name}-project-{team}",
                api_version=ARGO_API_VERSION,
                kind="AppProject",
                metadata={
                    "name": team,
                    "namespace": crd_namespace,
                    "labels": namespace_labels(team),
                    # Deletion waits until no Application uses the project.
                    "finalizers": [RESOURCES_FINALIZER],
                },
                spec=app_project_spec(team, project, namespaces),
                opts=child,
            )
            projects[team] = app_project
            self.team_namespaces[team] = namespaces
            self.project_names[team] = once_created(app_project, team)
        return projects

    def _cluster_secret(self, name: str, args: ArgoBootstrapArgs, namespace: pulumi.Output[str]) -> k8s.core.v1.Secret:
        """The GitOps bridge: the in-cluster cluster Secret with the infrastructure's labels and annotations."""
        child = pulumi.ResourceOptions(parent=self)
        return k8s.core.v1.Secret(
            f"{name}-cluster-in-cluster",
            metadata={
                "name": IN_CLUSTER_NAME,
                "namespace": namespace,
                "labels": cluster_secret_labels(
                    project=args.naming.project,
                    stack=args.naming.stack,
                    environment=args.bridge.environment,
                    region=args.bridge.account.region,
                    extra=addon_labels(args.bridge.bridged_addons),
                ),
                "annotations": cluster_secret_annotations(
                    cluster_name=args.bridge.cluster.name,
                    region=args.bridge.account.region,
                    account_id=args.bridge.account.account_id,
                    vpc_id=args.bridge.vpc_id,
                    environment=args.bridge.environment,
                    role_arns=args.bridge.role_arns,
                    root_app=args.argo.root_app,
                ),
            },
            type="Opaque",
            string_data=cluster_secret_data(),
            opts=child,
        )

    def _root_app(
        self, name: str, spec: ArgoSpec, crd_namespace: pulumi.Output[str], named: Sequence[pulumi.Resource]
    ) -> pulumi.Output[str] | None:
        """The app-of-apps (None without one); ``named``: the projects and the Secret its apps find by name."""
        if spec.root_app is None:
            return None
        root_app = k8s.apiextensions.CustomResource(
            f"{name}-root-app",
            api_version=ARGO_API_VERSION,
            kind="Application",
            metadata={
                "name": ROOT_APP_NAME,
                "namespace": crd_namespace,
                "labels": dict(MANAGED_BY_LABELS),
                "annotations": {SYNC_WAVE: ROOT_APP_WAVE},
                # Deleting the root app deletes the apps it created and their resources first.
                "finalizers": [RESOURCES_FINALIZER],
            },
            spec=root_application_spec(spec.root_app),
            opts=pulumi.ResourceOptions(
                parent=self,
                # Argo CD resolves the team projects and the cluster Secret by name when the apps sync;
                # no input carries them. The edge also makes `pulumi destroy` delete the root app (and,
                # through its finalizer, every app) before the projects, namespaces and Secret.
                depends_on=list(named),
            ),
        )
        return once_created(root_app, ROOT_APP_NAME)

    def _applications(
        self,
        name: str,
        spec: ArgoSpec,
        crd_namespace: pulumi.Output[str],
        projects: Mapping[str, pulumi.Resource],
    ) -> None:
        """The Applications declared in settings, each after its project and the apps of the nearest lower wave."""
        self.application_names = {}
        waves: dict[int, list[pulumi.Resource]] = {}
        for app, application in sorted(spec.applications.items(), key=lambda item: (item[1].sync_wave or 0, item[0])):
            project_resource = projects.get(application.project)
            wave = application.sync_wave or 0  # Argo CD's default wave
            nearest = max((w for w in waves if w < wave), default=None)
            created = k8s.apiextensions.CustomResource(
                f"{name}-app-{app}",
                api_version=ARGO_API_VERSION,
                kind="Application",
                metadata={
                    "name": app,
                    "namespace": crd_namespace,
                    "labels": dict(MANAGED_BY_LABELS),
                    "annotations": application_annotations(application),
                    "finalizers": application_finalizers(application),
                },
                spec=application_spec(application),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # Argo CD looks the project up by name when it reconciles the app (an app whose project does
                    # not exist yet is refused); no input carries it. The edge also deletes the app (and, through
                    # its finalizer, what it deployed) before the project on `pulumi destroy`. The apps of the
                    # nearest lower sync wave come first as well (waves order only a parent app's sync, and these
                    # apps have none): created after them, deleted before them, e.g. before the CRDs they use.
                    depends_on=[
                        *([project_resource] if project_resource is not None else []),
                        *(waves[nearest] if nearest is not None else []),
                    ],
                ),
            )
            waves.setdefault(wave, []).append(created)
            self.application_names[app] = once_created(created, app)

    def _application_sets(
        self,
        name: str,
        args: ArgoBootstrapArgs,
        crd_namespace: pulumi.Output[str],
        cluster_secret: pulumi.Resource,
    ) -> None:
        """One ApplicationSet per add-on the GitOps bridge carries."""
        self.application_set_names = {}
        for addon in sorted(args.bridge.bridged_addons, key=lambda a: a.name):
            application_set = k8s.apiextensions.CustomResource(
                f"{name}-addon-{addon.name}",
                api_version=ARGO_API_VERSION,
                kind="ApplicationSet",
                metadata={
                    "name": f"addon-{addon.name}",
                    "namespace": crd_namespace,
                    "labels": dict(MANAGED_BY_LABELS),
                    "annotations": {SYNC_WAVE: str(addon.wave)},
                },
                spec=addon_application_set_spec(addon, automated=args.argo.automated_sync),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # The cluster generator finds the Secret by its labels, and the templates read its role ARN
                    # annotations: no input carries that. The edge also deletes the ApplicationSet (and its add-on)
                    # before the Secret on `pulumi destroy`, while Argo CD still runs.
                    depends_on=[cluster_secret],
                ),
            )
            self.application_set_names[addon.name] = once_created(application_set, f"addon-{addon.name}")

    def _guardrails(self, name: str, ns: str, ns_name: pulumi.Output[str], team: str, project: TeamProjectSpec) -> None:
        """The platform's objects in team namespace ``ns``: ResourceQuota, LimitRange, default-deny NetworkPolicy."""
        child = pulumi.ResourceOptions(parent=self)

        def metadata(object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=ns_name, labels=namespace_labels(team))

        if project.quota is not None:
            k8s.core.v1.ResourceQuota(
                f"{name}-quota-{ns}",
                metadata=metadata("team-quota"),
                spec=cast("k8s.core.v1.ResourceQuotaSpecArgsDict", resource_quota_spec(project.quota)),
                opts=child,
            )
        if project.limits is not None:
            k8s.core.v1.LimitRange(
                f"{name}-limits-{ns}",
                metadata=metadata("team-limits"),
                spec=cast("k8s.core.v1.LimitRangeSpecArgsDict", limit_range_spec(project.limits)),
                opts=child,
            )
        if project.default_deny_network_policy:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-netpol-{ns}",
                metadata=metadata("default-deny"),
                spec=cast("k8s.networking.v1.NetworkPolicySpecArgsDict", network_policy_spec()),
                opts=child,
            )
