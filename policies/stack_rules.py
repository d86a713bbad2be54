"""Stack-wide bindings: ServiceAccount role annotations and Vault bound roles point at roles of this stack.

An ``eks.amazonaws.com/role-arn`` annotation (on a ServiceAccount, in a Helm release's values, or an EKS
add-on's ``serviceAccountRoleArn``) must name a role of this stack whose trust policy admits exactly that
namespace/ServiceAccount; a Vault AWS auth role's bound principals must be roles of this stack. ARNs that are
still unknown (a first ``pulumi preview``) are skipped, not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pulumi_policy import Policy, PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from components.iam_documents import arn_name
from components.naming import ROLE_ARN_ANNOTATION
from policies.common import (
    as_list,
    dig,
    is_unknown,
    json_document,
    plain_props,
    statements,
)
from policies.settings import PackContext, policy_config, schema, string_list

ROLE_TYPE = "aws:iam/role:Role"
SERVICE_ACCOUNT_TYPE = "kubernetes:core/v1:ServiceAccount"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
ADDON_TYPE = "aws:eks/addon:Addon"
VAULT_AUTH_ROLE_TYPE = "vault:aws/authBackendRole:AuthBackendRole"
SUBJECT_PREFIX = "system:serviceaccount:"

BINDING_SCHEMA = schema(
    {
        "addonServiceAccounts": {
            "type": "object",
            "description": "ServiceAccount (<namespace>/<name>) each EKS add-on runs as, for serviceAccountRoleArn.",
            "default": {
                "vpc-cni": "kube-system/aws-node",
                "aws-ebs-csi-driver": "kube-system/ebs-csi-controller-sa",
                "aws-efs-csi-driver": "kube-system/efs-csi-controller-sa",
                "adot": "opentelemetry-operator-system/opentelemetry-operator",
            },
        }
    }
)
VAULT_SCHEMA = schema(
    {
        "allowedExternalArns": string_list(
            "Principal ARNs outside this stack that Vault auth roles may bind (e.g. a shared CI role).", []
        )
    }
)


@dataclass(frozen=True)
class RoleFacts:
    """An IAM role of the stack: its URN and the ServiceAccounts its trust policy admits (``ns/name``)."""

    urn: str
    subjects: frozenset[str]
    trust_known: bool


@dataclass(frozen=True)
class Annotation:
    """A role ARN handed to a ServiceAccount: where, which ServiceAccount (None if unknown), which ARN."""

    urn: str
    where: str
    namespace: str | None
    service_account: str | None
    role_arn: str


def trusted_subjects(document: object) -> frozenset[str]:
    """``ns/name`` of every ServiceAccount a trust policy admits through ``StringEquals`` on ``:sub``."""
    subjects = set()
    for statement in statements(document):
        equals = dig(statement, "Condition", "StringEquals")
        if not isinstance(equals, dict):
            continue
        for key, value in equals.items():
            if key.endswith(":sub"):
                subjects |= {
                    s.removeprefix(SUBJECT_PREFIX).replace(":", "/", 1)
                    for s in as_list(value)
                    if isinstance(s, str) and s.startswith(SUBJECT_PREFIX)
                }
    return frozenset(subjects)


def stack_roles(resources: list[PolicyResource]) -> dict[str, RoleFacts]:
    """Roles of the stack by ARN; a role whose ARN is still unknown (preview) is keyed ``name:<role name>``."""
    roles = {}
    for resource in resources:
        if resource.resource_type != ROLE_TYPE:
            continue
        props = plain_props(resource.props)
        arn, name = props.get("arn"), props.get("name")
        key = arn if isinstance(arn, str) else f"name:{name}" if isinstance(name, str) else None
        if key is None:
            continue
        trust = json_document(props.get("assumeRolePolicy"))
        known = isinstance(trust, dict)
        roles[key] = RoleFacts(resource.urn, trusted_subjects(trust) if known else frozenset(), known)
    return roles


def find_role(roles: dict[str, RoleFacts], arn: str) -> RoleFacts | None:
    """The stack's role with this ARN, or with this name while its own ARN is not known yet."""
    return roles.get(arn) or roles.get("name:" + arn_name(arn))


def _annotated_in_values(values: object, path: str = "values") -> Iterator[tuple[str, object, object]]:
    """(path, ServiceAccount name, role ARN) for every ``annotations`` map with a role-arn in Helm values."""
    if isinstance(values, dict):
        annotations = values.get("annotations")
        if isinstance(annotations, dict) and ROLE_ARN_ANNOTATION in annotations:
            yield f"{path}.annotations", values.get("name"), annotations[ROLE_ARN_ANNOTATION]
        for key, value in sorted(values.items()):
            yield from _annotated_in_values(value, f"{path}.{key}")
    elif isinstance(values, list):
        for index, item in enumerate(values):
            yield from _annotated_in_values(item, f"{path}[{index}]")


def role_annotations(resources: list[PolicyResource], addon_accounts: dict[str, str]) -> Iterator[Annotation]:
    """Every known role ARN the stack hands to a ServiceAccount."""
    for resource in resources:
        props = plain_props(resource.props)
        found: list[tuple[str, object, object, object]] = []
        if resource.resource_type == SERVICE_ACCOUNT_TYPE:
            metadata = props.get("metadata")
            found.append(
                (
                    "metadata.annotations",
                    dig(metadata, "namespace") or "default",
                    dig(metadata, "name"),
                    dig(metadata, "annotations", ROLE_ARN_ANNOTATION),
                )
            )
        elif resource.resource_type == HELM_RELEASE_TYPE:
            namespace = props.get("namespace") or "default"
            found += [(where, namespace, name, arn) for where, name, arn in _annotated_in_values(props.get("values"))]
        elif resource.resource_type == ADDON_TYPE:
            account = addon_accounts.get(str(props.get("addonName")), "")
            addon_namespace, _, addon_account = account.partition("/")
            found.append(
                (
                    "serviceAccountRoleArn",
                    addon_namespace or None,
                    addon_account or None,
                    props.get("serviceAccountRoleArn"),
                )
            )
        for where, namespace, name, arn in found:
            if isinstance(arn, str) and arn:
                yield Annotation(
                    resource.urn,
                    where,
                    namespace if isinstance(namespace, str) else None,
                    name if isinstance(name, str) else None,
                    arn,
                )


def check_service_account_bindings(args: StackValidationArgs, report: ReportViolation) -> None:
    """Role-arn annotations name a role of this stack whose trust admits that namespace/ServiceAccount."""
    cfg = policy_config(args.get_config(), BINDING_SCHEMA)
    roles = stack_roles(list(args.resources))
    remediation = (
        "Remediation: annotate with the role_arn of the IrsaRole built for exactly this namespace/ServiceAccount."
    )
    for annotation in role_annotations(list(args.resources), dict(cfg["addonServiceAccounts"])):
        role = find_role(roles, annotation.role_arn)
        if role is None:
            report(
                f"{annotation.where}: {annotation.role_arn} is not a role of this stack.\n{remediation}", annotation.urn
            )
            continue
        if not role.trust_known or annotation.namespace is None:
            continue
        wanted = f"{annotation.namespace}/{annotation.service_account}" if annotation.service_account else None
        in_namespace = any(subject.startswith(f"{annotation.namespace}/") for subject in role.subjects)
        if (wanted is not None and wanted not in role.subjects) or (wanted is None and not in_namespace):
            account = wanted or f"{annotation.namespace}/<chart default>"
            report(
                f"{annotation.where}: role {annotation.role_arn} trusts "
                f"{sorted(role.subjects) or 'no ServiceAccount'}, not {account}.\n{remediation}",
                annotation.urn,
            )


def check_vault_bound_roles(args: StackValidationArgs, report: ReportViolation) -> None:
    """Vault AWS auth roles bind only IAM roles of this stack (or allow-listed principals)."""
    cfg = policy_config(args.get_config(), VAULT_SCHEMA)
    roles = stack_roles(list(args.resources))
    allowed = set(cfg["allowedExternalArns"])
    for resource in args.resources:
        if resource.resource_type != VAULT_AUTH_ROLE_TYPE:
            continue
        props = plain_props(resource.props)
        for key in ("boundIamPrincipalArns", "boundIamRoleArns"):
            arns = props.get(key)
            if is_unknown(arns):
                continue
            for arn in as_list(arns):
                if not isinstance(arn, str) or arn in allowed:
                    continue
                if "*" in arn or find_role(roles, arn) is None:
                    report(
                        f"{key}: {arn} is not a role of this stack.\nRemediation: bind the Vault role to the role_arn "
                        "output of the stack's bound IrsaRole (or allow-list a deliberate external principal).",
                        resource.urn,
                    )


def policies(ctx: PackContext) -> list[Policy]:
    """The stack policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        StackValidationPolicy(
            name="irsa-service-account-binding",
            description="Every eks.amazonaws.com/role-arn annotation names a role of this stack whose trust admits "
            "that namespace/ServiceAccount.",
            validate=check_service_account_bindings,
            enforcement_level=level,
            config_schema=BINDING_SCHEMA,
            remediation_steps="Annotate ServiceAccounts with the IrsaRole built for them.",
        ),
        StackValidationPolicy(
            name="vault-bound-roles-in-stack",
            description="Vault AWS auth roles bind only IAM roles of this stack.",
            validate=check_vault_bound_roles,
            enforcement_level=level,
            config_schema=VAULT_SCHEMA,
            remediation_steps="Bind the Vault role to the stack's IrsaRole ARN.",
        ),
    ]
