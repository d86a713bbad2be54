"""Naming: the one source of truth for logical and physical names.

Pure functions, no Pulumi imports: the policy pack imports this module too.

Physical names follow ``{project}-{stack}-{role}``; names longer than a service's limit are cut and
suffixed with a short hash of the full name, so they stay unique and stable.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

# Longest name per kind: the one table lives in components/limits.py (re-exported for callers of naming).
from components.limits import MAX_LENGTH

#: Namespaces every Kubernetes cluster creates itself. The platform never declares them: a create fails with
#: AlreadyExists and a destroy would delete them. ServiceAccounts go into them without owning them.
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
#: Argo CD's namespace (ArgoBootstrap) and Vault's: the agent injector's (VaultAwsAuth, vault.mode hcp) or the
#: server's and its injector's (VaultServer, vault.mode in-cluster).
ARGOCD_NAMESPACE = "argocd"
VAULT_INJECTOR_NAMESPACE = "vault"
#: Flux's namespace (FluxBootstrap, `gitops.engine: flux`).
FLUX_NAMESPACE = "flux-system"
#: The ServiceAccount annotation naming the IAM role its pods assume (IRSA; EKS User Guide, "Assign IAM roles to
#: Kubernetes service accounts").
ROLE_ARN_ANNOTATION: Final = "eks.amazonaws.com/role-arn"
#: The label of every Kubernetes object the platform declares itself (the recommended ``app.kubernetes.io`` label).
MANAGED_BY_LABELS: Final[Mapping[str, str]] = {"app.kubernetes.io/managed-by": "pulumi"}
#: Namespaces the platform's own components create, and the component that owns each.
PLATFORM_NAMESPACES: dict[str, str] = {
    ARGOCD_NAMESPACE: "argo",
    VAULT_INJECTOR_NAMESPACE: "vault injector",
    FLUX_NAMESPACE: "flux",
}
#: Namespaces no application role or delegated team may claim.
RESERVED_NAMESPACES = BUILT_IN_NAMESPACES | frozenset(PLATFORM_NAMESPACES)

#: The platform's own IAM roles: the role part of ``{project}-{stack}-{role}`` (see `NamingContext.platform_role`).
PLATFORM_ROLES = frozenset(
    {
        "cluster",
        "node",
        "vpc-cni",
        "ebs-csi",
        "vpc-flow-logs",
        "karpenter-node",
        "karpenter-controller",
        "cluster-autoscaler",
        "spot-ocean-node",
        "ci-runner",
        "flux-source-controller",
        # The in-cluster Vault server's IRSA role (vault.mode in-cluster: components/vault_server.py).
        "vault-server",
        # The add-on catalog's IRSA roles (components/addons.py).
        "aws-load-balancer-controller",
        "external-dns",
        "cert-manager",
    }
)
#: The platform's own IAM users: the role part of ``{project}-{stack}-{role}`` (see `NamingContext.platform_user`).
#: ``smtp``: the SES SMTP sender of ``email.smtpUser`` (components/email.py).
PLATFORM_USERS = frozenset({"smtp"})
#: The Vault bound role (``<cluster>-vault-bound-role``): a fixed service-role pattern and its service.
VAULT_BOUND_ROLE_PATTERN = "{cluster}-vault-bound-role"
VAULT_BOUND_ROLE_SERVICE = "vault"

_HASH_LENGTH = 8
_SEGMENT = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def short_hash(text: str, length: int = _HASH_LENGTH) -> str:
    """A stable lowercase hex digest prefix of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit(name: str, max_length: int) -> str:
    """Return ``name`` unchanged if it fits, else cut it and append ``-<hash of the full name>``."""
    if len(name) <= max_length:
        return name
    if max_length <= _HASH_LENGTH + 1:
        msg = f"max_length {max_length} leaves no room for a name and its hash"
        raise ValueError(msg)
    head = name[: max_length - _HASH_LENGTH - 1].rstrip("-_")
    return f"{head}-{short_hash(name)}"


def is_valid_segment(segment: str) -> bool:
    """True for a lowercase DNS-label-like name segment (``a-z0-9`` and inner hyphens)."""
    return bool(_SEGMENT.fullmatch(segment))


#: Name families a stack may pattern (``naming.<family>``): the default pattern, the placeholder naming the member
#: of the family (None: one name per stack) and the limit kind (components/limits.py) the rendered name must meet.
NAME_FAMILIES: dict[str, tuple[str, str | None, str]] = {
    "role": ("{prefix}-{role}", "role", "iam_role"),
    "nodeGroup": ("{prefix}-{group}", "group", "eks_node_group"),
    "network": ("{prefix}", None, "tag_value"),
    "kmsAlias": ("alias/{cluster}-{purpose}", "purpose", "kms_alias"),
}
#: Placeholders every name pattern may use: ``{prefix}`` is ``{project}-{env}``, ``{cluster}`` the cluster's name.
STACK_PLACEHOLDERS = frozenset({"project", "env", "prefix", "cluster"})


@dataclass(frozen=True)
class NamePatterns:
    """A stack's own physical-name patterns (``naming`` in the settings); None keeps the default pattern.

    Names from a stack's pattern are used as written (the settings check them against the service's limits);
    default names are cut with a hash when too long (`fit`).
    """

    #: The platform's own IAM roles (cluster, node, add-on and controller roles): placeholder ``{role}``.
    role: str | None = None
    #: Exact names (placeholders allowed) of single platform roles, keyed by `PLATFORM_ROLES` member.
    roles: Mapping[str, str] = field(default_factory=dict)
    #: Managed node groups and their launch templates: placeholder ``{group}``.
    node_group: str | None = None
    #: The VPC's ``Name`` tag; subnets, route tables and gateways are named ``<network>-<tier>-<zone letter>``.
    network: str | None = None
    #: KMS aliases of the platform's keys: placeholder ``{purpose}`` (``secrets``).
    kms_alias: str | None = None

    def pattern(self, family: str) -> str | None:
        """The stack's pattern for ``family`` (a key of `NAME_FAMILIES`), None for the default."""
        return {"role": self.role, "nodeGroup": self.node_group, "network": self.network, "kmsAlias": self.kms_alias}[
            family
        ]


@dataclass(frozen=True)
class NamingContext:
    """Project, stack, the cluster's name and the stack's name patterns: everything a physical name comes from."""

    project: str
    stack: str
    #: ``cluster.name`` of the settings; None: ``{project}-{stack}``.
    cluster: str | None = None
    patterns: NamePatterns = field(default_factory=NamePatterns)

    @classmethod
    def from_settings(cls, project: str, stack: str, settings: Mapping[str, Any] | None) -> NamingContext:
        """The context the raw (camelCase) settings describe: ``cluster.name`` and ``naming``.

        The program (through `config.Settings`) and the policy pack both read names this way. Values of the wrong
        shape are ignored here: the settings refuse them before anything registers.
        """
        raw = settings or {}
        cluster = raw.get("cluster")
        name = cluster.get("name") if isinstance(cluster, Mapping) else None
        naming = raw.get("naming")
        naming = naming if isinstance(naming, Mapping) else {}

        def text(key: str) -> str | None:
            value = naming.get(key)
            return value if isinstance(value, str) and value else None

        roles = naming.get("roles")
        patterns = NamePatterns(
            role=text("role"),
            roles={k: v for k, v in roles.items() if isinstance(v, str)} if isinstance(roles, Mapping) else {},
            node_group=text("nodeGroup"),
            network=text("network"),
            kms_alias=text("kmsAlias"),
        )
        return cls(project, stack, name if isinstance(name, str) and name else None, patterns)

    @property
    def prefix(self) -> str:
        """``{project}-{stack}``, the prefix of every physical name of this stack that has no pattern of its own."""
        return f"{self.project}-{self.stack}"

    @property
    def cluster_name(self) -> str:
        """The EKS cluster's name (also the Karpenter discovery tag value): ``cluster.name`` or the prefix."""
        return self.cluster or fit(self.prefix, MAX_LENGTH["eks_cluster"])

    def placeholders(self) -> dict[str, str]:
        """Values of the stack placeholders (`STACK_PLACEHOLDERS`)."""
        return {"project": self.project, "env": self.stack, "prefix": self.prefix, "cluster": self.cluster_name}

    def render(self, pattern: str, **member: str) -> str:
        """``pattern`` with the stack placeholders and ``member`` (e.g. ``role="node"``) filled in."""
        return pattern.format(**self.placeholders(), **member)

    def name(self, role: str, kind: str = "default") -> str:
        """Physical name ``{project}-{stack}-{role}``, length-safe for ``kind`` (a key of MAX_LENGTH)."""
        return fit(f"{self.prefix}-{role}", MAX_LENGTH[kind])

    def platform_role(self, role: str) -> str:
        """Physical name of one of the platform's own IAM roles (``role`` must be in `PLATFORM_ROLES`)."""
        if role not in PLATFORM_ROLES:
            msg = f"{role!r} is not one of the platform roles ({', '.join(sorted(PLATFORM_ROLES))})"
            raise ValueError(msg)
        if role in self.patterns.roles:
            return self.render(self.patterns.roles[role])
        if self.patterns.role:
            return self.render(self.patterns.role, role=role)
        return self.name(role, "iam_role")

    def node_group(self, group: str) -> str:
        """Physical name of managed node group ``group`` (also its launch template's name)."""
        if self.patterns.node_group:
            return self.render(self.patterns.node_group, group=group)
        return self.name(group, "eks_node_group")

    @property
    def network_name(self) -> str:
        """The VPC's ``Name`` tag, the stem of its subnets', route tables' and gateways' ``Name`` tags."""
        return self.render(self.patterns.network) if self.patterns.network else self.prefix

    def kms_alias(self, purpose: str) -> str:
        """The alias of the platform's KMS key for ``purpose`` (e.g. ``secrets``)."""
        if self.patterns.kms_alias:
            return self.render(self.patterns.kms_alias, purpose=purpose)
        return f"alias/{self.cluster_name}-{purpose}"

    def pattern_regexes(self) -> list[re.Pattern[str]]:
        """Regexes of the names the stack's own patterns produce (any member), for the naming policy."""
        member = "[A-Za-z0-9_+=,.@-]+"
        patterns = [
            pattern_regex(pattern, self.placeholders(), member)
            for family in NAME_FAMILIES
            if (pattern := self.patterns.pattern(family))
        ]
        return patterns + [re.compile(f"^{re.escape(self.render(name))}$") for name in self.patterns.roles.values()]

    def platform_user(self, role: str) -> str:
        """Physical name of one of the platform's own IAM users (``role`` must be in `PLATFORM_USERS`)."""
        if role not in PLATFORM_USERS:
            msg = f"{role!r} is not one of the platform users ({', '.join(sorted(PLATFORM_USERS))})"
            raise ValueError(msg)
        return self.name(role, "iam_user")

    def platform_role_names(self) -> dict[str, str]:
        """Every physical IAM role name the platform itself may create, mapped to what it is for."""
        names = {self.platform_role(role): f"the platform's {role} role" for role in sorted(PLATFORM_ROLES)}
        vault = self.service_role_name(VAULT_BOUND_ROLE_PATTERN, VAULT_BOUND_ROLE_SERVICE)
        names[vault] = "the Vault bound role"
        return names

    def service_role_name(self, pattern: str, service: str) -> str:
        """IAM role name for a service account from a pattern.

        Placeholders: ``{cluster}``, ``{project}``, ``{env}``, ``{service}``. The Mozilla seed's
        ``eks-{service}-{env}`` and the Eventual seed's ``{cluster}_DaftRole`` are both expressible.
        """
        rendered = pattern.format(cluster=self.cluster_name, project=self.project, env=self.stack, service=service)
        return fit(rendered, MAX_LENGTH["iam_role"])


def pattern_regex(pattern: str, values: Mapping[str, str], member: str) -> re.Pattern[str]:
    """A regex matching ``pattern`` with ``values`` filled in and any other placeholder matching ``member``."""
    regex = "".join(
        re.escape(literal) + ("" if field is None else re.escape(values[field]) if field in values else member)
        for literal, field, _, _ in string.Formatter().parse(pattern)
    )
    return re.compile(f"^{regex}$")


def arn_key(arn: str) -> str:
    """A logical-name key for an ARN, unique by construction: its last name segment and a hash of the whole ARN.

    ``role/platform-admin`` and ``role/team/platform-admin`` share a name but not a key.
    """
    return f"{arn.rsplit('/', 1)[-1].rsplit(':', 1)[-1]}-{short_hash(arn)}"


def unique_tail_aliases(arns: list[str] | tuple[str, ...]) -> dict[str, tuple[str]]:
    """``{arn_key(arn): (old key,)}`` for ARNs whose last segment was unique, i.e. was the logical key before."""
    tails = [arn.rsplit("/", 1)[-1] for arn in arns]
    return {arn_key(arn): (tail,) for arn, tail in zip(arns, tails, strict=True) if tails.count(tail) == 1}


#: Placeholders a service-role name pattern may use.
SERVICE_ROLE_PLACEHOLDERS = frozenset({"cluster", "project", "env", "service"})


def pattern_placeholders(pattern: str) -> set[str]:
    """The ``{placeholders}`` used in a name pattern."""
    return {field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None}


def service_role_name_regex(pattern: str, ctx: NamingContext) -> re.Pattern[str]:
    """A regex matching role names rendered from ``pattern`` for any service name (used by policies)."""
    values = {
        "cluster": re.escape(ctx.cluster_name),
        "project": re.escape(ctx.project),
        "env": re.escape(ctx.stack),
        "service": "[A-Za-z0-9_+=,.@-]+",
    }
    regex = "".join(
        re.escape(literal) + (values[field] if field is not None else "")
        for literal, field, _, _ in string.Formatter().parse(pattern)
    )
    return re.compile(f"^{regex}$")
