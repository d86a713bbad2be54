"""Pure planning of ArgoBootstrap's declared objects: Applications, add-on ApplicationSets, team guardrails, RBAC.

What the seeds did with hand-written manifests (Sage: multi-source Applications, a public chart with values from
git; login.gov: the app-of-apps with sync waves and delegated AppProjects), as plain data built from the settings:

* ``application_spec``: an Application's ``spec`` with one ``source`` or several ``sources`` (Argo CD user guide,
  "Multiple Sources for an Application": a source with ``ref: values`` lends its files to another source's
  ``valueFiles`` as ``$values/<path>``), destination, ``syncPolicy`` (``automated`` only when on, ``syncOptions``
  checked against `SYNC_OPTIONS`), ``ignoreDifferences``;
* ``addon_application_set_spec``: an ApplicationSet for an add-on the GitOps bridge publishes (``BridgedAddon``):
  a ``clusters`` generator selecting the cluster Secret by ``platform.eks/addon-<name>: enabled``, the chart as the
  template's source and the add-on's values as ``valuesObject``. Templates use the default fasttemplate syntax
  (``goTemplate: false``): the cluster generator flattens the Secret's annotations into parameters named
  ``metadata.annotations.<key>``, so ``{{metadata.annotations.platform.eks/<name>-role-arn}}`` names one directly
  (Go templates would need ``index .metadata.annotations "..."``), and fasttemplate leaves a ``{{...}}`` that names
  no parameter as it is, so chart values carrying Helm's own ``{{ .Release.Name }}`` pass through untouched, where
  a Go template would fail on them (ApplicationSet docs, "Templates" and "Go Template");
* the guardrails of a team namespace: ``resource_quota_spec``, ``limit_range_spec`` and ``network_policy_spec``
  (default deny both ways except DNS to kube-system's CoreDNS), and what a team's AppProject allows cluster-wide;
* ``rbac_roles``: the roles a ``policy.csv`` defines (for ``policy.default``).

Pure module: no Pulumi resources; values that may be Outputs pass through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import yaml

from components.gitops_bridge import BRIDGE, ENABLED, BridgedAddon, addon_label

IN_CLUSTER_SERVER: Final = "https://kubernetes.default.svc"
DEFAULT_PROJECT: Final = "default"
RESOURCES_FINALIZER: Final = "resources-finalizer.argocd.argoproj.io"
SYNC_WAVE: Final = "argocd.argoproj.io/sync-wave"
#: Annotation of the ServiceAccount an IRSA role is for (EKS User Guide, "Assign IAM roles to service accounts").

#: Application-level sync options and the values Argo CD documents for each (argo-cd docs/user-guide/
#: sync-options.md, v3.4): ``Force`` is a resource annotation only and not accepted here.
SYNC_OPTIONS: Final[Mapping[str, frozenset[str]]] = {
    "Prune": frozenset({"false", "confirm"}),
    "Delete": frozenset({"false", "confirm"}),
    "Validate": frozenset({"false"}),
    "SkipDryRunOnMissingResource": frozenset({"true"}),
    "ApplyOutOfSyncOnly": frozenset({"true"}),
    "PrunePropagationPolicy": frozenset({"foreground", "background", "orphan"}),
    "PruneLast": frozenset({"true"}),
    "Replace": frozenset({"true"}),
    "ServerSideApply": frozenset({"true", "false"}),
    "ClientSideApplyMigration": frozenset({"false"}),
    "FailOnSharedResource": frozenset({"true"}),
    "RespectIgnoreDifferences": frozenset({"true"}),
    "CreateNamespace": frozenset({"true"}),
}
#: Sync options of every add-on Application: the namespace comes with the add-on, and server-side apply keeps large
#: CRDs (cert-manager's, the controllers') clear of the 262,144-byte last-applied annotation (sync-options.md).
ADDON_SYNC_OPTIONS: Final = ("CreateNamespace=true", "ServerSideApply=true")
SYNC_RETRY: Final = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}

#: A Kubernetes quantity (k8s.io/apimachinery resource.Quantity's grammar: a signed decimal number, then a binary
#: (Ki..Ei) or decimal (n, u, m, k, M, G, T, P, E) suffix or a decimal exponent).
QUANTITY: Final = re.compile(
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?$"
)
#: ResourceQuota ``hard`` keys: ``requests.cpu``, ``limits.memory``, ``pods``, ``count/deployments.apps``,
#: ``requests.storage``, ``<class>.storageclass.storage.k8s.io/requests.storage`` (Kubernetes docs, "Resource Quotas").
QUOTA_KEY: Final = re.compile(r"^[a-z0-9]([a-z0-9./-]{0,251}[a-z0-9])?$")
#: Resources a LimitRange of type Container bounds.
LIMIT_RESOURCES: Final = frozenset({"cpu", "memory", "ephemeral-storage"})
#: Argo CD's built-in roles (argo-cd docs/operator-manual/rbac.md).
BUILT_IN_ROLES: Final = frozenset({"role:readonly", "role:admin"})
#: A ref source's name, as ``$<ref>/`` in value files.
REF_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_VALUES_REF: Final = re.compile(r"^\$([^/]+)/")
_POLICY_FIELDS: Final = {"p": 6, "g": 3}
DNS_PORT: Final = 53


# ------------------------------------------------------------------------------------------------ Applications


@dataclass(frozen=True)
class HelmSpec:
    """``source.helm``: release name, value files (``$<ref>/...`` for a ref source's), inline values."""

    release_name: str | None = None
    value_files: tuple[str, ...] = ()
    values: Mapping[str, Any] | None = None
    #: ``object``: ``valuesObject`` (a map); ``text``: ``values`` (the map as YAML text).
    values_as: str = "object"


@dataclass(frozen=True)
class SourceSpec:
    """One source: a git path, a chart, or only a ``ref`` lending its files to other sources."""

    repo_url: str
    target_revision: str = "HEAD"
    path: str | None = None
    chart: str | None = None
    ref: str | None = None
    helm: HelmSpec | None = None


@dataclass(frozen=True)
class IgnoreDifferenceSpec:
    """An ``ignoreDifferences`` entry (argo-cd docs/user-guide/diffing.md)."""

    kind: str
    group: str = ""
    name: str | None = None
    namespace: str | None = None
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplicationSpec:
    """An Application declared in settings (``argo.applications.<name>``)."""

    sources: tuple[SourceSpec, ...]
    namespace: str
    project: str = DEFAULT_PROJECT
    #: Several sources (``spec.sources``) even when there is one; otherwise ``spec.source``.
    multi_source: bool = False
    server: str = IN_CLUSTER_SERVER
    sync_wave: int | None = None
    sync_options: tuple[str, ...] = ()
    ignore_differences: tuple[IgnoreDifferenceSpec, ...] = ()
    automated: bool = True
    prune: bool = True
    self_heal: bool = True
    #: The resources finalizer: deleting the Application deletes what it deployed.
    finalizer: bool = True


def sync_option_problem(option: str) -> str | None:
    """Why ``option`` is not an application-level sync option Argo CD documents, None if it is one."""
    name, sep, value = option.partition("=")
    if not sep or name not in SYNC_OPTIONS:
        return f"{option!r} is not a sync option (known: {', '.join(sorted(SYNC_OPTIONS))}; written Name=value)"
    if value not in SYNC_OPTIONS[name]:
        return f"{option!r}: {name} takes {' or '.join(sorted(SYNC_OPTIONS[name]))}"
    return None


def value_file_refs(value_files: Sequence[str]) -> set[str]:
    """The ref names value files point into (``$values/envs/prod.yaml`` -> ``values``)."""
    return {match.group(1) for file in value_files if (match := _VALUES_REF.match(file))}


def source_problems(sources: Sequence[SourceSpec]) -> list[str]:
    """What Argo CD would refuse in these sources: ``$<ref>`` naming no ref source, refs declared twice."""
    refs = [source.ref for source in sources if source.ref]
    problems = [f"ref {ref!r} is declared by more than one source" for ref in sorted(set(refs)) if refs.count(ref) > 1]
    for source in sources:
        files = source.helm.value_files if source.helm else ()
        problems += [
            f"value file {file!r} names ref {ref!r}, which no source declares"
            for file in files
            for ref in sorted(value_file_refs([file]) - set(refs))
        ]
    return problems


def helm_source(helm: HelmSpec) -> dict[str, Any]:
    """``source.helm``."""
    out: dict[str, Any] = {}
    if helm.release_name:
        out["releaseName"] = helm.release_name
    if helm.value_files:
        out["valueFiles"] = list(helm.value_files)
    if helm.values is not None:
        if helm.values_as == "text":
            out["values"] = yaml.safe_dump(dict(helm.values), sort_keys=False)
        else:
            out["valuesObject"] = dict(helm.values)
    return out


def source_spec(source: SourceSpec) -> dict[str, Any]:
    """One entry of ``spec.sources`` (or ``spec.source``)."""
    out: dict[str, Any] = {"repoURL": source.repo_url, "targetRevision": source.target_revision}
    if source.path is not None:
        out["path"] = source.path
    if source.chart is not None:
        out["chart"] = source.chart
    if source.ref is not None:
        out["ref"] = source.ref
    if source.helm is not None:
        helm = helm_source(source.helm)
        if helm:
            out["helm"] = helm
    return out


def ignore_difference(entry: IgnoreDifferenceSpec) -> dict[str, Any]:
    """One ``ignoreDifferences`` entry (only the fields given)."""
    out: dict[str, Any] = {"group": entry.group, "kind": entry.kind}
    if entry.name is not None:
        out["name"] = entry.name
    if entry.namespace is not None:
        out["namespace"] = entry.namespace
    for key, items in (
        ("jsonPointers", entry.json_pointers),
        ("jqPathExpressions", entry.jq_path_expressions),
        ("managedFieldsManagers", entry.managed_fields_managers),
    ):
        if items:
            out[key] = list(items)
    return out


def application_sync_policy(app: ApplicationSpec) -> dict[str, Any]:
    """``syncPolicy``: no ``automated`` key at all when syncing is manual.

    Raises:
        ValueError: a sync option Argo CD does not document.
    """
    problems = [problem for option in app.sync_options if (problem := sync_option_problem(option))]
    if problems:
        raise ValueError("; ".join(problems))
    policy: dict[str, Any] = {"retry": SYNC_RETRY}
    if app.sync_options:
        policy["syncOptions"] = list(app.sync_options)
    if app.automated:
        policy["automated"] = {"prune": app.prune, "selfHeal": app.self_heal}
    return policy


def application_spec(app: ApplicationSpec) -> dict[str, Any]:
    """``spec`` of a declared Application.

    Raises:
        ValueError: no source, several sources without ``multi_source``, a ``$ref`` naming no ref source, or an
            unknown sync option.
    """
    if not app.sources or (len(app.sources) > 1 and not app.multi_source):
        msg = f"an Application needs one source, or sources with multi_source (got {len(app.sources)})"
        raise ValueError(msg)
    problems = source_problems(app.sources)
    if problems:
        raise ValueError("; ".join(problems))
    spec: dict[str, Any] = {"project": app.project}
    if app.multi_source:
        spec["sources"] = [source_spec(source) for source in app.sources]
    else:
        spec["source"] = source_spec(app.sources[0])
    spec["destination"] = {"server": app.server, "namespace": app.namespace}
    spec["syncPolicy"] = application_sync_policy(app)
    if app.ignore_differences:
        spec["ignoreDifferences"] = [ignore_difference(entry) for entry in app.ignore_differences]
    return spec


def application_annotations(app: ApplicationSpec) -> dict[str, str]:
    """The Application's annotations: its sync wave, as Argo CD reads it (a string)."""
    return {} if app.sync_wave is None else {SYNC_WAVE: str(app.sync_wave)}


def application_finalizers(app: ApplicationSpec) -> list[str]:
    """``metadata.finalizers``: the cascading resources finalizer unless switched off."""
    return [RESOURCES_FINALIZER] if app.finalizer else []


# ------------------------------------------------------------------------------------------------ ApplicationSets


def role_arn_template(name: str) -> str:
    """The ApplicationSet template parameter holding add-on ``name``'s IRSA role ARN (fasttemplate syntax).

    The cluster generator offers each annotation of the cluster Secret as ``metadata.annotations.<key>``; the
    bridge publishes the role as ``platform.eks/<name>-role-arn``. Put it where the chart takes its ServiceAccount's
    ``eks.amazonaws.com/role-arn`` annotation (``serviceAccount.annotations`` in most charts).
    """
    return "{{metadata.annotations." + BRIDGE + name + "-role-arn}}"


def addon_labels(addons: Sequence[BridgedAddon]) -> dict[str, str]:
    """The cluster Secret labels that switch these add-ons on for their ApplicationSets."""
    return {addon_label(addon.name): ENABLED for addon in addons}


def addon_application_set_spec(
    addon: BridgedAddon, *, automated: bool, project: str = DEFAULT_PROJECT
) -> dict[str, Any]:
    """``spec`` of the ApplicationSet installing ``addon`` on every cluster whose Secret enables it."""
    policy: dict[str, Any] = {"syncOptions": list(ADDON_SYNC_OPTIONS), "retry": SYNC_RETRY}
    if automated:
        policy["automated"] = {"prune": True, "selfHeal": True}
    helm: dict[str, Any] = {"releaseName": addon.name}
    if addon.values:
        helm["valuesObject"] = dict(addon.values)
    return {
        "goTemplate": False,
        "generators": [{"clusters": {"selector": {"matchLabels": {addon_label(addon.name): ENABLED}}}}],
        "template": {
            "metadata": {
                "name": "{{name}}-" + addon.name,
                "labels": {f"{BRIDGE}addon": addon.name},
                "annotations": {SYNC_WAVE: str(addon.wave)},
                "finalizers": [RESOURCES_FINALIZER],
            },
            "spec": {
                "project": project,
                "source": {
                    "repoURL": addon.repo_url,
                    "chart": addon.chart,
                    "targetRevision": addon.version,
                    "helm": helm,
                },
                "destination": {"server": "{{server}}", "namespace": addon.namespace},
                "syncPolicy": policy,
            },
        },
        # Deleting the ApplicationSet deletes its Applications and, through their finalizer, the add-on.
        "syncPolicy": {"preserveResourcesOnDeletion": False},
    }


def _strings(value: object) -> set[str]:
    """The plain strings anywhere in ``value`` (values may hold Pulumi Outputs: those are skipped)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return set().union(*(_strings(item) for item in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(_strings(item) for item in value))
    return set()


def bridged_addon_problems(addons: Sequence[BridgedAddon]) -> list[str]:
    """Add-ons named twice, or whose role template would appear without the add-on having a role."""
    names = [addon.name for addon in addons]
    problems = [f"add-on {name!r} is bridged more than once" for name in sorted(set(names)) if names.count(name) > 1]
    problems += [
        f"add-on {addon.name!r} uses its role ARN template but has no service account (no role)"
        for addon in addons
        if addon.service_account is None and role_arn_template(addon.name) in _strings(addon.values)
    ]
    return problems


# ------------------------------------------------------------------------------------------------ team guardrails


@dataclass(frozen=True)
class KindSpec:
    """An API group and kind (``group: ""`` is the core group), optionally one name (a glob) in an allow list."""

    kind: str
    group: str = ""
    name: str | None = None

    def entry(self) -> dict[str, str]:
        """As an AppProject list entry."""
        out = {"group": self.group, "kind": self.kind}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class LimitsSpec:
    """A LimitRange of type Container: defaults for limits and requests, and maxima."""

    default: Mapping[str, str] = field(default_factory=dict)
    default_request: Mapping[str, str] = field(default_factory=dict)
    max: Mapping[str, str] = field(default_factory=dict)


def quantity_problem(value: str) -> str | None:
    """Why ``value`` is not a Kubernetes quantity (or is negative), None if it is one."""
    if not isinstance(value, str) or not QUANTITY.fullmatch(value):
        return f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 4Gi, 1e3)"
    if value.startswith("-"):
        return f"{value!r} is negative"
    return None


_SUFFIXES: Final[dict[str, Decimal]] = {
    **{suffix: Decimal(1024) ** (i + 1) for i, suffix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{suffix: Decimal(10) ** exp for suffix, exp in (("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6))},
    **{suffix: Decimal(10) ** exp for suffix, exp in (("G", 9), ("T", 12), ("P", 15), ("E", 18))},
}


def quantity_value(value: str) -> Decimal:
    """The amount a Kubernetes quantity stands for (``500m`` -> 0.5, ``4Gi`` -> 4294967296, ``1e3`` -> 1000).

    Raises:
        ValueError: ``value`` is not a quantity.
    """
    problem = quantity_problem(value)
    if problem is not None and not value.startswith("-"):
        raise ValueError(problem)
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if value.endswith(suffix) and not value[: -len(suffix)].lower().endswith("e"):
            return Decimal(value[: -len(suffix)]) * _SUFFIXES[suffix]
    return Decimal(value)


def limit_bounds_problems(limits: LimitsSpec) -> list[str]:
    """Bounds the API server refuses in a Container LimitRange.

    A default request over the default limit or over the max, or a default limit over the max (k8s.io/kubernetes
    pkg/apis/core/validation ``ValidateLimitRange``).
    """
    pairs = (
        ("defaultRequest", limits.default_request, "default", limits.default),
        ("defaultRequest", limits.default_request, "max", limits.max),
        ("default", limits.default, "max", limits.max),
    )
    return [
        f"{low_key}.{resource}: {low[resource]} is more than {high_key}.{resource} ({high[resource]})"
        for low_key, low, high_key, high in pairs
        for resource in sorted(set(low) & set(high))
        if quantity_value(low[resource]) > quantity_value(high[resource])
    ]


def resource_quota_spec(hard: Mapping[str, str]) -> dict[str, Any]:
    """``spec`` of a team namespace's ResourceQuota.

    Raises:
        ValueError: a key that is not a resource name, or a value that is not a quantity.
    """
    problems = [f"{key!r} is not a quota resource name" for key in hard if not QUOTA_KEY.fullmatch(key)]
    problems += [f"{key}: {problem}" for key, value in hard.items() if (problem := quantity_problem(value))]
    if problems:
        raise ValueError("; ".join(problems))
    return {"hard": dict(sorted(hard.items()))}


def limit_range_spec(limits: LimitsSpec) -> dict[str, Any]:
    """``spec`` of a team namespace's LimitRange (type Container).

    Raises:
        ValueError: a resource a Container limit does not bound, or a value that is not a quantity.
    """
    item: dict[str, Any] = {"type": "Container"}
    problems: list[str] = []
    for key, values in (("default", limits.default), ("defaultRequest", limits.default_request), ("max", limits.max)):
        problems += [
            f"{key}.{name}: not one of {sorted(LIMIT_RESOURCES)}" for name in values if name not in LIMIT_RESOURCES
        ]
        problems += [
            f"{key}.{name}: {problem}" for name, value in values.items() if (problem := quantity_problem(value))
        ]
        if values:
            item[key] = dict(sorted(values.items()))
    if problems:
        raise ValueError("; ".join(problems))
    bounds = limit_bounds_problems(limits)
    if bounds:
        raise ValueError("; ".join(bounds))
    if len(item) == 1:
        msg = "a LimitRange needs default, defaultRequest or max"
        raise ValueError(msg)
    return {"limits": [item]}


def network_policy_spec() -> dict[str, Any]:
    """``spec`` of the default-deny NetworkPolicy: every pod, no ingress, egress only to CoreDNS in kube-system.

    Enforced only where a network policy engine runs (the VPC CNI's agent: ``cluster.vpcCni.networkPolicy``).
    """
    return {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
            }
        ],
    }


# ------------------------------------------------------------------------------------------------ RBAC


def policy_csv_problems(policy: str) -> list[str]:
    """Malformed lines of ``policy.csv`` (argo-cd docs/operator-manual/rbac.md).

    Lines are ``p, <subject>, <resource>, <action>, <object>, <effect>`` or ``g, <subject>, <role>``.
    """
    problems = []
    for number, line in enumerate(policy.splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [part.strip() for part in text.split(",")]
        want = _POLICY_FIELDS.get(fields[0])
        if want is None or len(fields) != want or not all(fields):
            problems.append(
                f"line {number} {text!r} is neither 'p, subject, resource, action, object, effect' "
                "nor 'g, subject, role'"
            )
        elif fields[0] == "p" and fields[5] not in {"allow", "deny"}:
            problems.append(f"line {number}: effect {fields[5]!r} is not allow or deny")
    return problems


def rbac_roles(policy: str) -> set[str]:
    """The ``role:<name>`` roles ``policy.csv`` defines (subjects of ``p`` lines, targets of ``g`` lines)."""
    roles = set()
    for line in policy.splitlines():
        fields = [part.strip() for part in line.split(",")]
        if fields[0] == "p" and len(fields) > 1 and fields[1].startswith("role:"):
            roles.add(fields[1])
        elif fields[0] == "g" and len(fields) > 2 and fields[2].startswith("role:"):  # noqa: PLR2004
            roles.add(fields[2])
    return roles
