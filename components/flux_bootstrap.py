"""FluxBootstrap: Flux (``gitops.engine: flux``) locked down for several tenants, its git sources and the bridge.

What the Mozilla IAM seed did by hand (Flux v1 with a deploy key captured from the running pod and given write
access) and seed 004 with ``flux bootstrap`` plus hand-made secrets, declared once:

* the ``flux2`` community chart in ``flux-system``, on the system node group, with the chart's multi-tenancy
  lockdown (``multitenancy.enabled``: every controller gets ``--no-cross-namespace-refs=true``, the kustomize- and
  helm-controller ``--default-service-account=flux-reconciler``; ``privileged: false``: the controllers themselves
  may only impersonate ServiceAccounts, charts/flux2/templates/*-controller.yaml and
  cluster-reconciler-impersonator-clusterrole.yaml at flux2-2.18.3) and ``--no-remote-bases=true`` on the
  kustomize-controller (a Kustomization may not pull bases from outside its source). The image automation
  controllers are not installed: the deploy key is read-only, and nothing may write to git;
* the reconciler ServiceAccount ``flux-system/flux-reconciler``, bound to ``cluster-admin``: the platform's own
  Kustomizations (and the bridged add-ons' HelmReleases) reconcile as it. A tenant namespace has no such
  ServiceAccount, so a tenant's Kustomization or HelmRelease (which defaults to it) can do nothing until the
  platform grants one there with a namespaced RoleBinding;
* per git source a deploy key generated as code (``tls.PrivateKey``, Ed25519: source-controller v1.8.2 clones
  with go-git v5.16.5 and golang.org/x/crypto/ssh (its go.mod; libgit2 is gone since Flux 2.0), which read OpenSSH
  Ed25519 keys, and the Flux CLI generates them (``--ssh-key-algorithm ed25519``); GitHub's "Generating a new SSH
  key" recommends Ed25519), kept in a Secret of the shape GitRepository expects (``identity``, ``identity.pub``,
  ``known_hosts``; source-controller docs/spec/v1/gitrepositories.md, "SSH authentication"); the private key stays
  a secret Output. Its public half is an output to register as the repository's read-only deploy key;
* per source one ``GitRepository`` and one ``Kustomization`` per cluster path, each substituting the bridge's
  variables (``postBuild.substituteFrom`` the ``platform-bridge`` ConfigMap) and ordered by ``dependsOn``;
* ``HelmRepository`` objects of ``type: oci`` on ECR with ``provider: aws``; source-controller then logs in to
  ECR with an IRSA role that may only read those repositories (source-controller
  docs/spec/v1/helmrepositories.md, "Provider", "AWS");
* the GitOps bridge: the ``platform-bridge`` ConfigMap (cluster name, region, account, VPC, environment, role
  ARNs as ``<name>_role_arn``), and per bridged add-on a HelmRepository and a HelmRelease in ``flux-system`` that
  install the add-on into its namespace.

Every custom resource is created after the release that installs its CRD (its namespace comes out of the release's
status); ``pulumi destroy`` deletes them before the release, while Flux still runs and can finalize them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components import iam_documents as iam
from components.context import once_created
from components.gitops_bridge import BRIDGE, BridgedAddon, BridgeFacts
from components.helm_release import after_release, pinned_release, release_name
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import FLUX_NAMESPACE, MANAGED_BY_LABELS, ROLE_ARN_ANNOTATION, NamingContext
from components.scheduling import linux_node_selector
from components.versions import FLUX2_CHART

T = TypeVar("T")

RELEASE_NAME: Final = "flux"
SOURCE_API: Final = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API: Final = "kustomize.toolkit.fluxcd.io/v1"
HELM_API: Final = "helm.toolkit.fluxcd.io/v2"
#: The ServiceAccount the platform's Kustomizations and HelmReleases reconcile as, and every controller's default.
RECONCILER_SERVICE_ACCOUNT: Final = "flux-reconciler"
#: What the reconciler is bound to: the platform's git paths declare cluster-scoped objects (CRDs, namespaces).
RECONCILER_CLUSTER_ROLE: Final = "cluster-admin"
BRIDGE_CONFIG_MAP: Final = "platform-bridge"
#: The chart's source-controller ServiceAccount (charts/flux2/templates/source-controller-serviceaccount.yaml).
SOURCE_CONTROLLER_SERVICE_ACCOUNT: Final = "source-controller"
DEPLOY_KEY_ALGORITHM: Final = "ED25519"
#: Bridged add-ons: how often Flux checks the release, and how often it rechecks the chart.
ADDON_INTERVAL: Final = "10m"
ADDON_CHART_INTERVAL: Final = "1h"
KUSTOMIZATION_TIMEOUT: Final = "5m"

#: GitHub's SSH host keys, as GitHub publishes them ("GitHub's SSH key fingerprints", docs.github.com).
GITHUB_KNOWN_HOSTS: Final = (
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    (
        "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZ"
        "My7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg="
    ),
    (
        "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4U"
        "e1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBy"
        "wINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zM"
        "jA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYir"
        "YgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK"
        "2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk="
    ),
)

#: A git URL Flux's GitRepository takes over SSH: ``ssh://<user>@<host>[:<port>]/<path>`` (not the scp-like form).
SSH_URL: Final = re.compile(r"^ssh://[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+)(:(?P<port>\d{1,5}))?/\S+$")
#: An ECR registry (and optional repository prefix) as an OCI HelmRepository URL.
ECR_OCI_URL: Final = re.compile(
    r"^oci://(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d)\.amazonaws\.com(\.cn)?"
    r"(?P<path>(/[a-z0-9]+([._/-][a-z0-9]+)*)?)/?$"
)
#: A variable of Flux's post-build substitution (kustomize-controller docs, "Post build variable substitution").
_VARIABLE = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")
_REFERENCE = re.compile(r"\$\{([_A-Za-z][_A-Za-z0-9]*)\}")

#: Actions source-controller needs to pull Helm charts from ECR (login, manifests, layers, tag listing).
ECR_PULL_ACTIONS: Final = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:ListImages",
)


@dataclass(frozen=True)
class ClusterPathSpec:
    """A path of a git source reconciled by one Kustomization."""

    path: str
    #: Delete from the cluster what git no longer holds.
    prune: bool = True
    #: Other paths of the same source that must be ready first (e.g. CRDs and controllers before apps).
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class GitSourceSpec:
    """A git repository (``ssh://``) Flux pulls with its own deploy key, and its cluster paths by name."""

    url: str
    branch: str
    interval: str
    paths: Mapping[str, ClusterPathSpec]


@dataclass(frozen=True)
class FluxSpec:
    """What Flux is set up with (``settings.flux``, mapped by ``config.flux_spec``)."""

    sources: Mapping[str, GitSourceSpec] = field(default_factory=dict)
    #: OCI Helm repositories on ECR (``oci://<account>.dkr.ecr.<region>.amazonaws.com/<prefix>``) by name.
    helm_repositories: Mapping[str, str] = field(default_factory=dict)
    #: ``known_hosts`` lines for the sources' hosts.
    known_hosts: tuple[str, ...] = GITHUB_KNOWN_HOSTS


@dataclass(frozen=True)
class FluxBootstrapArgs:
    """Inputs of a FluxBootstrap."""

    naming: NamingContext
    flux: FluxSpec
    #: The cluster (its OIDC provider is what source-controller's ECR role trusts), the account (the ECR policy, the
    #: roles' boundary) and the facts of the bridge: the variables ``<name>_role_arn`` (``-`` becomes ``_``) and the
    #: add-ons Flux installs (``install: gitops``), each a HelmRepository and a HelmRelease.
    bridge: BridgeFacts


# ---------------------------------------------------------------------------------------------- planning


def placement(node_selector: Mapping[str, T], tolerations: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """NodeSelector and tolerations of one controller (the chart has no global placement)."""
    return {"nodeSelector": linux_node_selector(node_selector), "tolerations": list(tolerations)}


def helm_values(
    *,
    node_selector: Mapping[str, T],
    tolerations: Sequence[Mapping[str, str]],
    source_controller_role_arn: T | None = None,
) -> dict[str, Any]:
    """Values of the flux2 chart (keys as in its values.yaml at the pinned version).

    ``multitenancy`` is the chart's lockdown: with ``enabled`` its templates add ``--no-cross-namespace-refs=true``
    to every controller and ``--default-service-account=<defaultServiceAccount>`` to the kustomize- and
    helm-controller; with ``privileged: false`` the controllers get only the ``impersonate`` ClusterRole instead
    of cluster-admin. ``source_controller_role_arn`` annotates source-controller's ServiceAccount (IRSA for ECR).
    """
    where = placement(node_selector, tolerations)
    source: dict[str, Any] = {**where}
    if source_controller_role_arn is not None:
        source["serviceAccount"] = {"annotations": {ROLE_ARN_ANNOTATION: source_controller_role_arn}}
    return {
        "installCRDs": True,
        # Deleting the release must not delete every Flux object in the cluster with the CRDs.
        "crds": {"annotations": {"helm.sh/resource-policy": "keep"}},
        "multitenancy": {
            "enabled": True,
            "defaultServiceAccount": RECONCILER_SERVICE_ACCOUNT,
            "privileged": False,
        },
        "cli": where,
        "sourceController": source,
        "kustomizeController": {**where, "container": {"additionalArgs": ["--no-remote-bases=true"]}},
        "helmController": where,
        "notificationController": where,
        # Image automation writes to git; the deploy keys are read-only.
        "imageAutomationController": {"create": False},
        "imageReflectionController": {"create": False},
    }


def variable_name(name: str) -> str:
    """A bridge name as a substitution variable: ``node-autoscaler`` -> ``node_autoscaler``.

    Raises:
        ValueError: the result is not a variable name Flux substitutes.
    """
    variable = name.replace("-", "_").replace(".", "_")
    if not _VARIABLE.fullmatch(variable):
        msg = f"{name!r} does not make a substitution variable name"
        raise ValueError(msg)
    return variable


def role_arn_variable(name: str) -> str:
    """The bridge variable holding role ``name``'s ARN: ``${<name>_role_arn}``."""
    return f"{variable_name(name)}_role_arn"


def bridge_data(
    *,
    cluster_name: T,
    region: T,
    account_id: T,
    vpc_id: T,
    environment: T,
    role_arns: Mapping[str, T],
) -> dict[str, T]:
    """``data`` of the ``platform-bridge`` ConfigMap: the variables every Kustomization substitutes.

    Raises:
        ValueError: two role names that make one variable (``a-b`` and ``a_b``), or one that makes none.
    """
    data: dict[str, T] = {
        "cluster_name": cluster_name,
        "region": region,
        "account_id": account_id,
        "vpc_id": vpc_id,
        "environment": environment,
    }
    for name, arn in sorted(role_arns.items()):
        variable = role_arn_variable(name)
        if variable in data:
            msg = f"role names {name!r} and another both make the variable {variable!r}"
            raise ValueError(msg)
        data[variable] = arn
    return data


def referenced_variables(value: object) -> set[str]:
    """Every ``${var}`` the strings in ``value`` (values of a chart, nested) refer to."""
    if isinstance(value, str):
        return set(_REFERENCE.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(referenced_variables(item) for item in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(referenced_variables(item) for item in value))
    return set()


def substitute(value: Any, variables: Mapping[str, str]) -> Any:  # noqa: ANN401 - chart values of any shape
    """``value`` with each ``${var}`` in its strings replaced, as Flux's post-build substitution would.

    Raises:
        ValueError: a variable the bridge does not hold (Flux would substitute an empty string).
    """
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in variables:
                msg = f"${{{match.group(1)}}} is not a bridge variable ({', '.join(sorted(variables))})"
                raise ValueError(msg)
            return variables[match.group(1)]

        return _REFERENCE.sub(replace, value)
    if isinstance(value, Mapping):
        return {key: substitute(item, variables) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [substitute(item, variables) for item in value]
    return value


def ssh_host(url: str) -> str:
    """The ``known_hosts`` host of an ``ssh://`` URL: ``github.com``, or ``[host]:port`` off port 22.

    Raises:
        ValueError: not an ``ssh://user@host/path`` URL.
    """
    matched = SSH_URL.fullmatch(url)
    if matched is None:
        msg = f"{url!r} is not an ssh://<user>@<host>/<path> URL (Flux takes no scp-like git@host:path)"
        raise ValueError(msg)
    port = matched["port"]
    return f"[{matched['host']}]:{port}" if port and port != "22" else matched["host"]


def known_hosts_problem(url: str, known_hosts: Sequence[str]) -> str | None:
    """Why ``known_hosts`` cannot verify ``url``'s host (None if a line names it)."""
    host = ssh_host(url)
    for line in known_hosts:
        fields = line.split()
        if len(fields) >= 3 and host in fields[0].split(","):  # noqa: PLR2004 - host, key type, key
            return None
    return f"no known_hosts line names {host} (Flux refuses a host key it cannot verify)"


def path_order(paths: Mapping[str, ClusterPathSpec]) -> list[str]:
    """The paths' names, each after the paths it depends on (ties by name).

    Raises:
        ValueError: an unknown or self dependency, or a cycle.
    """
    for name, spec in paths.items():
        unknown = [dep for dep in spec.depends_on if dep not in paths or dep == name]
        if unknown:
            msg = f"{name}: dependsOn {', '.join(unknown)}: not another path of this source"
            raise ValueError(msg)
    done: list[str] = []
    remaining = dict(paths)
    while remaining:
        ready = sorted(name for name, spec in remaining.items() if all(dep in done for dep in spec.depends_on))
        if not ready:
            msg = f"dependsOn cycle among {', '.join(sorted(remaining))}"
            raise ValueError(msg)
        done += ready
        for name in ready:
            del remaining[name]
    return done


def kustomization_name(source: str, path: str) -> str:
    """The Kustomization of ``source``'s path ``path``: ``<source>-<path>``."""
    return f"{source}-{path}"


def git_repository_spec(source: GitSourceSpec, secret_name: T) -> dict[str, Any]:
    """``spec`` of a GitRepository: the branch, pulled over SSH with the source's deploy key."""
    return {
        "url": source.url,
        "ref": {"branch": source.branch},
        "interval": source.interval,
        "secretRef": {"name": secret_name},
    }


def kustomization_spec(
    source_name: str,
    path_name: str,
    source: GitSourceSpec,
    *,
    repository: T,
    service_account: T,
    bridge: T,
) -> dict[str, Any]:
    """``spec`` of the Kustomization of one cluster path (``repository``, ``service_account``, ``bridge``: names)."""
    path = source.paths[path_name]
    spec: dict[str, Any] = {
        "interval": source.interval,
        "path": path.path,
        "prune": path.prune,
        "sourceRef": {"kind": "GitRepository", "name": repository},
        "serviceAccountName": service_account,
        "timeout": KUSTOMIZATION_TIMEOUT,
        "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": bridge}]},
    }
    if path.depends_on:
        spec["dependsOn"] = [{"name": kustomization_name(source_name, dep)} for dep in sorted(path.depends_on)]
    return spec


def ecr_match(url: str) -> re.Match[str] | None:
    """The parts of an ECR OCI URL (account, region, path), None for any other URL."""
    return ECR_OCI_URL.fullmatch(url)


def helm_repository_spec(url: str, *, interval: str = ADDON_CHART_INTERVAL) -> dict[str, Any]:
    """``spec`` of a HelmRepository: ``type: oci`` for ``oci://`` URLs, with ``provider: aws`` on ECR."""
    if not url.startswith("oci://"):
        return {"url": url, "interval": interval}
    return {"type": "oci", "url": url, "provider": "aws" if ecr_match(url) else "generic", "interval": interval}


def ecr_pull_policy(urls: Sequence[str], *, partition: str) -> iam.PolicyDocument:
    """source-controller's ECR access: a token, and pulls from the repositories under the given URLs only.

    Raises:
        ValueError: a URL that is not an ECR OCI URL.
    """
    resources = set()
    for url in urls:
        matched = ecr_match(url)
        if matched is None:
            msg = f"{url!r} is not an ECR OCI URL"
            raise ValueError(msg)
        prefix = matched["path"].strip("/")
        repository = f"{prefix}/*" if prefix else "*"
        resources.add(f"arn:{partition}:ecr:{matched['region']}:{matched['account']}:repository/{repository}")
    return iam.document(
        # GetAuthorizationToken authorizes no repository and takes no resource but "*" (ECR User Guide, IAM).
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullCharts", "Effect": "Allow", "Action": list(ECR_PULL_ACTIONS), "Resource": sorted(resources)},
    )


def addon_repository_name(addon: BridgedAddon) -> str:
    """The HelmRepository of a bridged add-on: ``addon-<name>``."""
    return f"addon-{addon.name}"


def addon_dependencies(addon: BridgedAddon, addons: Sequence[BridgedAddon]) -> list[str]:
    """The add-ons of lower waves (CRD providers first): what ``addon``'s HelmRelease depends on."""
    return sorted(other.name for other in addons if other.wave < addon.wave)


def helm_release_spec(
    addon: BridgedAddon, addons: Sequence[BridgedAddon], *, repository: T, values: T, service_account: T
) -> dict[str, Any]:
    """``spec`` of a bridged add-on's HelmRelease (in ``flux-system``, installing into the add-on's namespace).

    ``service_account`` is the reconciler's name: helm-controller installs the chart as it.
    """
    spec: dict[str, Any] = {
        "interval": ADDON_INTERVAL,
        "serviceAccountName": service_account,
        "releaseName": addon.name,
        "targetNamespace": addon.namespace,
        "storageNamespace": addon.namespace,
        "chart": {
            "spec": {
                "chart": addon.chart,
                "version": addon.version,
                "sourceRef": {"kind": "HelmRepository", "name": repository},
                "interval": ADDON_CHART_INTERVAL,
            }
        },
        "install": {"createNamespace": True, "crds": "CreateReplace", "remediation": {"retries": 3}},
        "upgrade": {"crds": "CreateReplace", "remediation": {"retries": 3}},
        "values": values,
    }
    depends = addon_dependencies(addon, addons)
    if depends:
        spec["dependsOn"] = [{"name": name} for name in depends]
    return spec


def labels() -> dict[str, str]:
    """Labels of the objects this component creates."""
    return {**MANAGED_BY_LABELS, f"{BRIDGE}gitops-engine": "flux"}


# --------------------------------------------------------------------------------------------- component


def _substituted(values: Mapping[str, Any], variables: Mapping[str, pulumi.Input[str]]) -> pulumi.Input[Any]:
    """``values`` with the bridge ``variables`` substituted (an Output once a variable is one)."""
    if not variables:
        return dict(values)
    resolved: pulumi.Output[dict[str, str]] = pulumi.Output.all(**variables)
    return resolved.apply(lambda known: substitute(values, known))


class FluxBootstrap(pulumi.ComponentResource):
    """Flux, its deploy keys, sources and Kustomizations, OCI Helm repositories on ECR and the GitOps bridge.

    Outputs: ``namespace``, ``release_name``, ``deploy_keys`` (public keys by source), ``kustomization_names``
    (by ``<source>-<path>``), ``bridge_name``, ``source_controller_role_arn`` (None without ECR repositories).
    """

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    deploy_keys: dict[str, pulumi.Output[str]]
    kustomization_names: dict[str, pulumi.Output[str]]
    bridge_name: pulumi.Output[str]
    source_controller_role_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: FluxBootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:FluxBootstrap", name, None, opts)
        spec = args.flux
        child = pulumi.ResourceOptions(parent=self)
        names = {addon_repository_name(addon) for addon in args.bridge.bridged_addons}
        if clash := sorted(names & set(spec.helm_repositories)):
            msg = f"helm repository names {clash} are the bridged add-ons' own"
            raise ValueError(msg)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": FLUX_NAMESPACE, "labels": labels()}, opts=child
        )
        self.source_controller_role_arn = self._source_controller_role(name, args)
        release = pinned_release(
            f"{name}-release",
            FLUX2_CHART,
            name=RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=helm_values(
                node_selector=args.bridge.cluster.system_node_selector,
                tolerations=args.bridge.cluster.system_tolerations,
                source_controller_role_arn=self.source_controller_role_arn,
            ),
            timeout=600,
            max_history=10,
            opts=child,
        )
        # GitRepository, Kustomization, HelmRepository and HelmRelease are CRDs the chart installs: their namespace
        # comes out of the release's status, so they are created after it (and preview does not look them up early).
        crd_namespace = after_release(release, namespace.metadata.name)
        reconciler, binding = self._reconciler(name, namespace.metadata.name)
        # The bridge's variables: the ConfigMap Kustomizations substitute from, and what the add-ons' values refer to.
        variables = bridge_data(
            cluster_name=args.bridge.cluster.name,
            region=args.bridge.account.region,
            account_id=args.bridge.account.account_id,
            vpc_id=args.bridge.vpc_id,
            environment=args.bridge.environment,
            role_arns=args.bridge.role_arns,
        )
        bridge = k8s.core.v1.ConfigMap(
            f"{name}-bridge",
            metadata={"name": BRIDGE_CONFIG_MAP, "namespace": namespace.metadata.name, "labels": labels()},
            data=variables,
            opts=child,
        )
        # The reconciler's rights come from the binding, which nothing the Kustomizations and HelmReleases read
        # carries: without the edge they could reconcile (and fail) before it exists, and `pulumi destroy` would
        # remove the rights before Flux finalizes (prunes) what they applied.
        reconciling = pulumi.ResourceOptions(parent=self, depends_on=[binding])

        self.deploy_keys = {}
        self.kustomization_names = {}
        for source_name, source in sorted(spec.sources.items()):
            self._git_source(
                name,
                source_name,
                source,
                known_hosts=spec.known_hosts,
                namespace=namespace.metadata.name,
                crd_namespace=crd_namespace,
                reconciler=reconciler.metadata.name,
                bridge=bridge.metadata.name,
                reconciling=reconciling,
            )
        for repo_name, url in sorted(spec.helm_repositories.items()):
            k8s.apiextensions.CustomResource(
                f"{name}-helm-repository-{repo_name}",
                api_version=SOURCE_API,
                kind="HelmRepository",
                metadata={"name": repo_name, "namespace": crd_namespace, "labels": labels()},
                spec=helm_repository_spec(url),
                opts=child,
            )
        self._bridged_addons(
            name,
            args.bridge.bridged_addons,
            variables=variables,
            crd_namespace=crd_namespace,
            reconciler=reconciler.metadata.name,
            reconciling=reconciling,
        )

        self.namespace = namespace.metadata.name
        self.release_name = release_name(release, RELEASE_NAME)
        self.bridge_name = bridge.metadata.name
        self.register_outputs(
            {
                "namespace": self.namespace,
                "releaseName": self.release_name,
                "deployKeys": self.deploy_keys,
                "kustomizationNames": self.kustomization_names,
                "bridgeName": self.bridge_name,
                "sourceControllerRoleArn": self.source_controller_role_arn,
            }
        )

    def _source_controller_role(self, name: str, args: FluxBootstrapArgs) -> pulumi.Output[str] | None:
        """source-controller's IRSA role, pulling from the ECR repositories of the stack (None without any)."""
        ecr_urls = sorted(
            {url for url in args.flux.helm_repositories.values() if ecr_match(url)}
            | {addon.repo_url for addon in args.bridge.bridged_addons if ecr_match(addon.repo_url)}
        )
        if not ecr_urls:
            return None
        role = IrsaRole(
            f"{name}-source-controller",
            IrsaRoleArgs(
                role_name=args.naming.platform_role("flux-source-controller"),
                oidc=args.bridge.cluster.oidc,
                namespace=FLUX_NAMESPACE,
                service_account=SOURCE_CONTROLLER_SERVICE_ACCOUNT,
                inline_policies={
                    "ecr-pull": json.dumps(ecr_pull_policy(ecr_urls, partition=args.bridge.account.partition))
                },
                permissions_boundary=args.bridge.account.permissions_boundary,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        return role.role_arn

    def _reconciler(
        self, name: str, namespace: pulumi.Output[str]
    ) -> tuple[k8s.core.v1.ServiceAccount, k8s.rbac.v1.ClusterRoleBinding]:
        """The ServiceAccount the platform's Kustomizations and HelmReleases reconcile as, and its binding."""
        child = pulumi.ResourceOptions(parent=self)
        reconciler = k8s.core.v1.ServiceAccount(
            f"{name}-reconciler",
            metadata={"name": RECONCILER_SERVICE_ACCOUNT, "namespace": namespace, "labels": labels()},
            opts=child,
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-reconciler-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"flux-system-{RECONCILER_SERVICE_ACCOUNT}", labels=labels()),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=RECONCILER_CLUSTER_ROLE
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=reconciler.metadata.name, namespace=namespace)
            ],
            opts=child,
        )
        return reconciler, binding

    def _git_source(
        self,
        name: str,
        source_name: str,
        source: GitSourceSpec,
        *,
        known_hosts: Sequence[str],
        namespace: pulumi.Output[str],
        crd_namespace: pulumi.Output[str],
        reconciler: pulumi.Output[str],
        bridge: pulumi.Output[str],
        reconciling: pulumi.ResourceOptions,
    ) -> None:
        """One git source: its deploy key and credentials Secret, its GitRepository, a Kustomization per path."""
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{name}-deploy-key-{source_name}", algorithm=DEPLOY_KEY_ALGORITHM, opts=child)
        credentials = k8s.core.v1.Secret(
            f"{name}-git-credentials-{source_name}",
            metadata={"name": f"{source_name}-git-credentials", "namespace": namespace, "labels": labels()},
            type="Opaque",
            string_data={
                "identity": key.private_key_openssh,
                "identity.pub": key.public_key_openssh,
                "known_hosts": "".join(f"{line}\n" for line in known_hosts),
            },
            opts=child,
        )
        repository = k8s.apiextensions.CustomResource(
            f"{name}-source-{source_name}",
            api_version=SOURCE_API,
            kind="GitRepository",
            metadata={"name": source_name, "namespace": crd_namespace, "labels": labels()},
            spec=git_repository_spec(source, credentials.metadata.name),
            opts=child,
        )
        for path_name in path_order(source.paths):
            kustomization = kustomization_name(source_name, path_name)
            resource = k8s.apiextensions.CustomResource(
                f"{name}-kustomization-{kustomization}",
                api_version=KUSTOMIZE_API,
                kind="Kustomization",
                metadata={"name": kustomization, "namespace": crd_namespace, "labels": labels()},
                spec=kustomization_spec(
                    source_name,
                    path_name,
                    source,
                    repository=once_created(repository, source_name),
                    service_account=reconciler,
                    bridge=bridge,
                ),
                opts=reconciling,
            )
            self.kustomization_names[kustomization] = once_created(resource, kustomization)
        self.deploy_keys[source_name] = key.public_key_openssh

    def _bridged_addons(
        self,
        name: str,
        bridged: Sequence[BridgedAddon],
        *,
        variables: Mapping[str, pulumi.Input[str]],
        crd_namespace: pulumi.Output[str],
        reconciler: pulumi.Output[str],
        reconciling: pulumi.ResourceOptions,
    ) -> None:
        """Per add-on the GitOps bridge carries: its HelmRepository and a HelmRelease with the bridge substituted."""
        child = pulumi.ResourceOptions(parent=self)
        addons = sorted(bridged, key=lambda addon: addon.name)
        for addon in addons:
            addon_repo = k8s.apiextensions.CustomResource(
                f"{name}-addon-repository-{addon.name}",
                api_version=SOURCE_API,
                kind="HelmRepository",
                metadata={"name": addon_repository_name(addon), "namespace": crd_namespace, "labels": labels()},
                spec=helm_repository_spec(addon.repo_url),
                opts=child,
            )
            used = referenced_variables(addon.values)
            if unknown := sorted(used - set(variables)):
                msg = f"bridged add-on {addon.name}: values refer to ${{{unknown[0]}}}, not a bridge variable"
                raise ValueError(msg)
            addon_values = _substituted(addon.values, {v: variables[v] for v in sorted(used)})
            k8s.apiextensions.CustomResource(
                f"{name}-addon-{addon.name}",
                api_version=HELM_API,
                kind="HelmRelease",
                metadata={"name": addon.name, "namespace": crd_namespace, "labels": labels()},
                spec=helm_release_spec(
                    addon,
                    addons,
                    repository=once_created(addon_repo, addon_repository_name(addon)),
                    values=addon_values,
                    service_account=reconciler,
                ),
                opts=reconciling,
            )
