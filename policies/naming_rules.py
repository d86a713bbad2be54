"""Naming: physical names share the stack's prefix; namespaces are DNS labels; IRSA role names follow a pattern.

The convention comes from ``components.naming`` (the module the program names things with): every physical
name starts with ``{project}-{stack}`` (`NamingContext.prefix`), except names AWS or EKS dictate
(``/aws/eks/<cluster>/cluster``) or that carry the prefix further in (``/aws/vpc/<prefix>/...``,
``/aws/codebuild/<prefix>-...``, CodeBuild's own convention for a project's logs,
``alias/<cluster>-...``), or that the stack's own ``naming`` patterns give, or that start with its ``cluster.name``
(`NamingContext.from_settings`, the program's reading of the same settings). IAM roles for service accounts
follow their own configurable patterns, e.g. the Mozilla seed's ``eks-{service}-{env}`` or the Eventual seed's
``{cluster}_DaftRole``.

Auto-names are accepted: the house style names things physically only where another system needs the name,
and in a real preview the provider's Check fills ``name`` with ``<logical name>-<7 hex>`` for the rest.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from functools import partial
from typing import Any

from pulumi_policy import EnforcementLevel, Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from components.naming import BUILT_IN_NAMESPACES, NamingContext, is_valid_segment, service_role_name_regex
from policies.common import dig, is_unknown, is_web_identity_trust, json_document, plain_props
from policies.settings import PackContext, policy_config, schema, string_list

K8S_NAME_MAX = 63
ROLE_TYPE = "aws:iam/role:Role"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
#: Characters that may follow the prefix in a physical name.
PREFIX_SEPARATORS = ("-", "_", ".", "/")

NAME_PREFIX_SCHEMA = schema(
    {
        "nameKeys": string_list(
            "Inputs holding physical names or name prefixes.", ["name", "namePrefix", "nodeGroupName"]
        ),
        "exemptTypes": string_list(
            "AWS types whose `name` is not a physical name in the account (an enum, a name scoped to its parent).",
            [
                "aws:guardduty/detectorFeature:DetectorFeature",
                "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature",
                "aws:iam/rolePolicy:RolePolicy",
                "aws:iam/userPolicy:UserPolicy",
                "aws:iam/groupPolicy:GroupPolicy",
            ],
        ),
        "exceptionPatterns": string_list(
            "Allowed names besides the prefix; placeholders {prefix}, {cluster}, {project}, {env}; `*`: any text.",
            ["/aws/eks/{cluster}/cluster", "/aws/vpc/{prefix}/*", "/aws/codebuild/{prefix}-*", "alias/{cluster}-*"],
        ),
    }
)

IRSA_PATTERN_SCHEMA = schema(
    {
        "patterns": string_list(
            "Narrows the patterns the stack's settings allow: when set, an IRSA role name must also match one of "
            "these (placeholders {cluster}, {project}, {env}, {service}). Empty: the settings' patterns only.",
            [],
        ),
    }
)


def exception_regex(pattern: str, naming: NamingContext) -> re.Pattern[str]:
    """A regex for an exception pattern: placeholders filled in, ``*`` for any text."""
    values = {"prefix": naming.prefix, "cluster": naming.cluster_name, "project": naming.project, "env": naming.stack}
    parts: list[str] = []
    for literal, field_name, _, _ in string.Formatter().parse(pattern):
        parts.append(".*".join(re.escape(chunk) for chunk in literal.split("*")))
        if field_name is not None:
            parts.append(re.escape(values.get(field_name, "{" + field_name + "}")))
    return re.compile("^" + "".join(parts) + "$")


def is_auto_name(name: str, logical_name: str) -> bool:
    """True for Pulumi's auto-name of ``logical_name`` (the logical name and a random 7-hex suffix)."""
    return re.fullmatch(re.escape(logical_name) + r"-[0-9a-f]{7}", name) is not None


def has_prefix(name: str, prefix: str) -> bool:
    """True when ``name`` is ``prefix`` or starts with it followed by a separator."""
    return name == prefix or any(name.startswith(prefix + sep) for sep in PREFIX_SEPARATORS)


def _is_irsa_or_unclassified_role(props: dict[str, Any]) -> bool:
    trust = json_document(props.get("assumeRolePolicy"))
    return is_unknown(trust) or is_web_identity_trust(trust)


def check_name_prefix(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """AWS physical names and name prefixes start with the stack's prefix or match an exception."""
    if not args.resource_type.startswith("aws:"):
        return
    cfg = policy_config(args.get_config(), NAME_PREFIX_SCHEMA)
    if args.resource_type in cfg["exemptTypes"]:
        return
    props = plain_props(args.props)
    if args.resource_type == ROLE_TYPE and _is_irsa_or_unclassified_role(props):
        return  # IRSA roles follow `irsa-role-name-pattern`; an unknown trust policy cannot be classified yet
    naming = ctx.naming
    exceptions = [exception_regex(p, naming) for p in cfg["exceptionPatterns"]] + naming.pattern_regexes()
    for key in cfg["nameKeys"]:
        value = props.get(key)
        if not isinstance(value, str) or is_auto_name(value, args.name):
            continue
        if has_prefix(value, naming.prefix) or has_prefix(value, naming.cluster_name):
            continue
        if any(regex.fullmatch(value) for regex in exceptions):
            continue
        report(
            f"{key} {value!r} does not start with the stack prefix {naming.prefix!r}.\n"
            f"Remediation: derive physical names with NamingContext.name(role, kind) from components/naming.py, "
            f"or add a documented exception pattern to this policy's `exceptionPatterns`.",
            None,
        )


def namespace_names(resource_type: str, props: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """(where, namespace name) pairs a Kubernetes resource declares or places itself in."""
    if resource_type == NAMESPACE_TYPE:
        yield "metadata.name", dig(props, "metadata", "name")
    elif resource_type == HELM_RELEASE_TYPE:
        yield "namespace", props.get("namespace")
    else:
        yield "metadata.namespace", dig(props, "metadata", "namespace")


def check_namespace_names(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Namespaces are RFC 1123 DNS labels: lowercase alphanumerics and inner hyphens, at most 63 characters."""
    if not args.resource_type.startswith("kubernetes:"):
        return
    props = plain_props(args.props)
    for where, name in namespace_names(args.resource_type, props):
        if not isinstance(name, str):
            continue
        if len(name) > K8S_NAME_MAX or not is_valid_segment(name):
            report(
                f"{where} {name!r} is not a DNS label (lowercase a-z, 0-9 and '-', starting and ending "
                f"alphanumeric, at most {K8S_NAME_MAX} characters).\nRemediation: rename the namespace.",
                None,
            )


def check_built_in_namespaces(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No Namespace object is declared for a namespace Kubernetes creates itself (`BUILT_IN_NAMESPACES`)."""
    if args.resource_type != NAMESPACE_TYPE:
        return
    name = dig(plain_props(args.props), "metadata", "name")
    if isinstance(name, str) and name in BUILT_IN_NAMESPACES:
        report(
            f"the program declares the built-in namespace {name!r}: creating it fails with AlreadyExists, and "
            "destroying the stack would delete it.\nRemediation: put the ServiceAccount (or release) into the "
            "namespace without declaring a Namespace for it.",
            None,
        )


def check_irsa_role_names(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """IAM roles trusted through an OIDC provider (IRSA) are named by one of the configured patterns."""
    if args.resource_type != ROLE_TYPE:
        return
    props = plain_props(args.props)
    trust = json_document(props.get("assumeRolePolicy"))
    if is_unknown(trust) or not is_web_identity_trust(trust):
        return
    cfg = policy_config(args.get_config(), IRSA_PATTERN_SCHEMA)
    name = props.get("name")
    if is_unknown(name):
        return
    patterns = list(ctx.service_role_patterns)
    narrowing: list[str] = list(cfg["patterns"])
    if isinstance(name, str) and name in ctx.platform_role_names:
        return  # the platform's own add-on and controller roles: named by `naming` (NamingContext.platform_role)
    if not isinstance(name, str):
        report(
            "the role has no explicit name (an auto-name cannot follow the service-role pattern).\n"
            "Remediation: set `name` from NamingContext.service_role_name(pattern, service).",
            None,
        )
        return
    if not any(service_role_name_regex(pattern, ctx.naming).fullmatch(name) for pattern in patterns):
        report(
            f"role name {name!r} matches none of the service-role patterns of the stack's settings {patterns}.\n"
            "Remediation: name the role with NamingContext.service_role_name(pattern, service) and a pattern "
            "from the settings (`serviceRoleNamePattern` or `appRoles.<service>.roleName`).",
            None,
        )
    elif narrowing and not any(service_role_name_regex(p, ctx.naming).fullmatch(name) for p in narrowing):
        report(
            f"role name {name!r} matches none of the patterns this policy's config narrows to {narrowing}.\n"
            "Remediation: use a pattern the policy config allows, or widen the config's `patterns`.",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The naming policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        ResourceValidationPolicy(
            name="aws-resource-name-prefix",
            description="AWS physical names and name prefixes start with the stack's {project}-{stack} prefix.",
            validate=partial(check_name_prefix, ctx=ctx),
            enforcement_level=level,
            config_schema=NAME_PREFIX_SCHEMA,
            remediation_steps="Derive names with NamingContext.name(role, kind) (components/naming.py).",
        ),
        ResourceValidationPolicy(
            name="kubernetes-namespace-dns-label",
            description="Kubernetes namespaces (declared, used by resources or Helm releases) are DNS labels.",
            validate=check_namespace_names,
            enforcement_level=level,
            remediation_steps="Rename the namespace to a lowercase RFC 1123 label of at most 63 characters.",
        ),
        ResourceValidationPolicy(
            name="kubernetes-built-in-namespace-undeclared",
            description="No Namespace is declared for default, kube-system, kube-public or kube-node-lease.",
            validate=check_built_in_namespaces,
            # A create would fail at `pulumi up` in every stack, and a destroy would delete the namespace.
            enforcement_level=EnforcementLevel.MANDATORY,
            remediation_steps="Create the namespaced objects in the built-in namespace without declaring it.",
        ),
        ResourceValidationPolicy(
            name="irsa-role-name-pattern",
            description="IAM roles for service accounts (IRSA) are named by a configured service-role pattern.",
            validate=partial(check_irsa_role_names, ctx=ctx),
            enforcement_level=level,
            config_schema=IRSA_PATTERN_SCHEMA,
            remediation_steps="Use NamingContext.service_role_name(pattern, service) with a pattern from config.",
        ),
    ]
