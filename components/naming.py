"""Naming: the one source of truth for logical and physical names.

Pure functions, no Pulumi imports: the policy pack imports this module too.

Physical names follow ``{project}-{stack}-{role}``; names longer than a service's limit are cut and
suffixed with a short hash of the full name, so they stay unique and stable.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass

# Longest name per kind: the one table lives in components/limits.py (re-exported for callers of naming).
from components.limits import MAX_LENGTH

#: Namespaces every Kubernetes cluster creates itself. The platform never declares them: a create fails with
#: AlreadyExists and a destroy would delete them. ServiceAccounts go into them without owning them.
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
#: Argo CD's namespace (ArgoBootstrap) and the Vault agent injector's (VaultAwsAuth).
ARGOCD_NAMESPACE = "argocd"
VAULT_INJECTOR_NAMESPACE = "vault"
#: Namespaces the platform's own components create, and the component that owns each.
PLATFORM_NAMESPACES: dict[str, str] = {ARGOCD_NAMESPACE: "argo", VAULT_INJECTOR_NAMESPACE: "vault injector"}
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
        "ci-runner",
    }
)
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


@dataclass(frozen=True)
class NamingContext:
    """Project and stack: everything a physical name is derived from."""

    project: str
    stack: str

    @property
    def prefix(self) -> str:
        """``{project}-{stack}``, the prefix of every physical name of this stack."""
        return f"{self.project}-{self.stack}"

    @property
    def cluster_name(self) -> str:
        """The EKS cluster's name (also the Karpenter discovery tag value)."""
        return fit(self.prefix, MAX_LENGTH["eks_cluster"])

    def name(self, role: str, kind: str = "default") -> str:
        """Physical name ``{project}-{stack}-{role}``, length-safe for ``kind`` (a key of MAX_LENGTH)."""
        return fit(f"{self.prefix}-{role}", MAX_LENGTH[kind])

    def platform_role(self, role: str) -> str:
        """Physical name of one of the platform's own IAM roles (``role`` must be in `PLATFORM_ROLES`)."""
        if role not in PLATFORM_ROLES:
            msg = f"{role!r} is not one of the platform roles ({', '.join(sorted(PLATFORM_ROLES))})"
            raise ValueError(msg)
        return self.name(role, "iam_role")

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
