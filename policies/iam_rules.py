"""IAM: IRSA trust scoped to one ServiceAccount, no administrator grants, documents under IAM's size limits.

Administrator grants are an Allow of Action ``*`` on Resource ``*``, and what amounts to it: ``NotAction`` on
Resource ``*`` (everything but a few actions), Action ``*`` with ``NotResource`` (everything but a few
resources), and attaching the AWS-managed ``AdministratorAccess`` policy (attachments, ``managedPolicyArns``).
Documents may arrive as JSON text or as objects (``PolicyDocumentArgs``), whole or partly unknown during a
preview: an unknown part is "cannot tell yet", never a violation and never an error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.iam_documents import (
    INLINE_ROLE_POLICIES_MAX_CHARS,
    MANAGED_POLICY_MAX_CHARS,
    STS_AUDIENCE,
    TRUST_POLICY_MAX_CHARS,
    compact_length,
)
from policies.common import (
    WEB_IDENTITY_ACTION,
    actions,
    as_list,
    contains_unknown,
    dig,
    is_unknown,
    json_document,
    plain_props,
    statements,
)
from policies.settings import PackContext, policy_config, schema, string_list

ROLE_TYPE = "aws:iam/role:Role"
ROLE_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy"
POLICY_TYPE = "aws:iam/policy:Policy"
USER_TYPE = "aws:iam/user:User"
USER_POLICY_TYPE = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY_TYPE = "aws:iam/accessKey:AccessKey"
#: Principals the permissions boundary must cap: every role and user the stack creates.
BOUNDED_TYPES = {ROLE_TYPE: "IAM role", USER_TYPE: "IAM user"}
#: What an access key's user may do: send through the SES SMTP interface, nothing else.
SMTP_ACTION = "ses:SendRawEmail"
#: What gives a user permissions (or a console password) besides its inline policies: none may name a keyed user.
USER_GRANT_TYPES = {
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "user",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "userName",
    "aws:iam/userGroupMembership:UserGroupMembership": "user",
    "aws:iam/userLoginProfile:UserLoginProfile": "user",
}
#: Identity policies by type: the inputs holding documents.
IDENTITY_POLICY_TYPES = {
    POLICY_TYPE: "policy",
    ROLE_POLICY_TYPE: "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
#: Types attaching managed policies: the input holding one ARN or a list of ARNs.
POLICY_ATTACHMENT_TYPES = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
    ROLE_TYPE: "managedPolicyArns",
}
#: AWS-managed policies that grant administrator access (any partition).
ADMIN_MANAGED_POLICY = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::aws:policy/AdministratorAccess$")
SERVICE_ACCOUNT_SUBJECT = "system:serviceaccount:"
#: Condition operators that match patterns; never acceptable on an IRSA subject or audience.
PATTERN_OPERATORS = ("StringLike", "StringNotLike", "ForAnyValue:StringLike", "ForAllValues:StringLike")

TRUST_SCHEMA = schema(
    {"audience": {"type": "string", "description": "The only accepted `:aud` value.", "default": STS_AUDIENCE}}
)
WILDCARD_SCHEMA = schema(
    {
        "allowedResources": string_list(
            "Logical names of roles or policies that may grant Action '*' on Resource '*' (break-glass roles).", []
        )
    }
)
SIZE_SCHEMA = schema(
    {
        "managedPolicyMaxChars": {
            "type": "integer",
            "description": "Managed policy limit.",
            "default": MANAGED_POLICY_MAX_CHARS,
        },
        "inlinePoliciesMaxChars": {
            "type": "integer",
            "description": "Limit of a role's inline policies together.",
            "default": INLINE_ROLE_POLICIES_MAX_CHARS,
        },
        "trustPolicyMaxChars": {
            "type": "integer",
            "description": "Trust policy limit.",
            "default": TRUST_POLICY_MAX_CHARS,
        },
    }
)
AGGREGATE_SCHEMA = schema(
    {
        "inlinePoliciesMaxChars": {
            "type": "integer",
            "description": "Limit of a role's inline policies together.",
            "default": INLINE_ROLE_POLICIES_MAX_CHARS,
        }
    }
)


# --- IRSA trust -------------------------------------------------------------------------------------------


def _web_identity_statements(document: object) -> Iterator[dict[str, Any]]:
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        acts = [a.lower() for a in actions(statement)]
        if WEB_IDENTITY_ACTION.lower() in acts or "*" in acts or "sts:*" in acts:
            principal = statement.get("Principal")
            if WEB_IDENTITY_ACTION.lower() in acts or (isinstance(principal, dict) and "Federated" in principal):
                yield statement


def _sid(statement: dict[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return sid if isinstance(sid, str) and sid else str(index)


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def declared_like_subjects(conditions: dict[str, Any], declared: frozenset[str]) -> bool:
    """Whether the statement's ``StringLike`` ``:sub`` values are all wildcard subjects the stack's settings declare."""
    like = conditions.get("StringLike")
    if not isinstance(like, dict):
        return False
    values = [v for key, value in like.items() if key.endswith(":sub") for v in as_list(value)]
    return bool(values) and all(isinstance(v, str) and v in declared for v in values)


def trust_problems(document: object, *, audience: str, declared: frozenset[str] = frozenset()) -> list[str]:
    """Why an IRSA trust policy is not scoped to exact ServiceAccounts and the STS audience.

    ``declared`` are the wildcard subjects the stack's settings name (``appRoles.*.wildcardServiceAccounts``): a
    statement whose ``StringLike`` ``:sub`` holds only those is an explicit, visible exception.
    """
    problems: list[str] = []
    for index, statement in enumerate(_web_identity_statements(document)):
        where = f"statement {_sid(statement, index)}"
        principal = statement.get("Principal")
        federated = principal.get("Federated") if isinstance(principal, dict) else None
        providers = [p for p in as_list(federated) if isinstance(p, str)]
        if contains_unknown(principal):
            pass  # the provider's ARN is computed: cannot tell yet
        elif not providers or any(":oidc-provider/" not in p for p in providers):
            problems.append(f"{where}: the principal must be the cluster's IAM OIDC provider, not {federated!r}")
        issuers = {p.split(":oidc-provider/", 1)[1] for p in providers if ":oidc-provider/" in p}
        conditions = statement.get("Condition") or {}
        if is_unknown(conditions) or is_unknown(
            conditions.get("StringEquals") if isinstance(conditions, dict) else None
        ):
            continue  # cannot tell yet
        if not isinstance(conditions, dict):
            problems.append(f"{where}: unreadable Condition")
            continue
        exception = declared_like_subjects(conditions, declared)
        for operator, block in conditions.items():
            if operator in PATTERN_OPERATORS and isinstance(block, dict):
                keys = [k for k in block if k.endswith((":sub", ":aud"))]
                if exception and operator == "StringLike":
                    keys = [k for k in keys if not k.endswith(":sub")]
                if keys:
                    problems.append(f"{where}: {operator} on {', '.join(keys)} (wildcard matching); use StringEquals")
        equals = conditions.get("StringEquals") or {}
        if not isinstance(equals, dict):
            equals = {}
        if not exception or any(key.endswith(":sub") for key in equals):
            problems += _subject_problems(where, equals, issuers)
        problems += _audience_problems(where, equals, audience)
    return problems


def _subject_problems(where: str, equals: dict[str, Any], issuers: set[str]) -> list[str]:
    subjects = {key: value for key, value in equals.items() if key.endswith(":sub")}
    if not subjects:
        return [
            f"{where}: no StringEquals condition on <issuer>:sub: any ServiceAccount of the cluster may assume the role"
        ]
    problems = []
    for key, value in subjects.items():
        issuer = key.removesuffix(":sub")
        if issuers and issuer not in issuers:
            problems.append(f"{where}: condition key {key} names another issuer than the principal ({sorted(issuers)})")
        for subject in as_list(value):
            if is_unknown(subject):
                continue
            if (
                not isinstance(subject, str)
                or _has_wildcard(subject)
                or not subject.startswith(SERVICE_ACCOUNT_SUBJECT)
            ):
                problems.append(f"{where}: {key} is {subject!r}, not an exact system:serviceaccount:<ns>:<name>")
            elif len(subject.removeprefix(SERVICE_ACCOUNT_SUBJECT).split(":")) != 2:  # noqa: PLR2004 - ns:name
                problems.append(f"{where}: {key} is {subject!r}, not system:serviceaccount:<ns>:<name>")
    return problems


def _audience_problems(where: str, equals: dict[str, Any], audience: str) -> list[str]:
    audiences = {key: value for key, value in equals.items() if key.endswith(":aud")}
    if not audiences:
        return [f"{where}: no StringEquals condition on <issuer>:aud = {audience}"]
    return [
        f"{where}: {key} is {value!r}, expected {audience!r}"
        for key, value in audiences.items()
        if not is_unknown(value) and as_list(value) != [audience]
    ]


def check_irsa_trust(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """IRSA trust policies admit exact ServiceAccounts (StringEquals on :sub) and only the STS audience."""
    if args.resource_type != ROLE_TYPE:
        return
    document = json_document(plain_props(args.props).get("assumeRolePolicy"))
    if is_unknown(document) or document is None:
        return
    cfg = policy_config(args.get_config(), TRUST_SCHEMA)
    for problem in trust_problems(document, audience=cfg["audience"], declared=ctx.wildcard_subjects):
        report(
            f"{problem}.\nRemediation: build the trust with components.iam_documents.irsa_trust_policy(...) "
            "(StringEquals on <issuer>:sub = system:serviceaccount:<ns>:<sa> and <issuer>:aud = sts.amazonaws.com).",
            None,
        )


# --- wildcard grants --------------------------------------------------------------------------------------


def identity_documents(resource_type: str, props: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, document) for each identity policy document a resource declares."""
    key = IDENTITY_POLICY_TYPES.get(resource_type)
    if key is not None:
        yield key, json_document(props.get(key))
    elif resource_type == ROLE_TYPE:
        inline = props.get("inlinePolicies")
        for index, entry in enumerate(as_list(inline) if not is_unknown(inline) else []):
            if isinstance(entry, dict):
                yield f"inlinePolicies[{entry.get('name') or index}]", json_document(entry.get("policy"))


def _all_actions(statement: dict[str, Any]) -> bool:
    return any(a in ("*", "*:*") for a in actions(statement))


def admin_grant(statement: dict[str, Any]) -> str | None:
    """How an Allow statement amounts to administrator access (None when it does not, or cannot tell yet).

    Action ``*`` on Resource ``*``; ``NotAction`` (any list) on Resource ``*``: every action but a few; Action
    ``*`` with ``NotResource``: every resource but a few.
    """
    if statement.get("Effect") != "Allow":
        return None
    every_resource = "*" in as_list(statement.get("Resource"))
    if every_resource and _all_actions(statement):
        return "allows Action '*' on Resource '*'"
    not_action = statement.get("NotAction")
    if every_resource and not_action is not None and not is_unknown(not_action) and "Action" not in statement:
        excluded = ", ".join(repr(a) for a in actions(statement, "NotAction")) or "nothing"
        return f"allows every action but {excluded} (NotAction) on Resource '*'"
    not_resource = statement.get("NotResource")
    if _all_actions(statement) and not_resource is not None and not is_unknown(not_resource):
        return "allows Action '*' on every resource but a few (NotResource)"
    return None


def grants_everything(statement: dict[str, Any]) -> bool:
    """True when an Allow statement amounts to administrator access (see `admin_grant`)."""
    return admin_grant(statement) is not None


def admin_attachments(resource_type: str, props: dict[str, Any]) -> list[str]:
    """The AWS-managed AdministratorAccess ARNs a resource attaches (known values only)."""
    key = POLICY_ATTACHMENT_TYPES.get(resource_type)
    value = props.get(key) if key is not None else None
    if value is None or is_unknown(value):
        return []
    return [arn for arn in as_list(value) if isinstance(arn, str) and ADMIN_MANAGED_POLICY.match(arn.strip())]


def check_no_admin_wildcard(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No identity policy allows Action ``*`` on Resource ``*`` unless allow-listed."""
    cfg = policy_config(args.get_config(), WILDCARD_SCHEMA)
    if args.name in cfg["allowedResources"]:
        return
    remediation = (
        "Remediation: grant the actions and resources the workload needs; a deliberate break-glass role "
        "goes into this policy's `allowedResources` (logical name) in the stack's policy config."
    )
    props = plain_props(args.props)
    for label, document in identity_documents(args.resource_type, props):
        if is_unknown(document):
            continue
        for index, statement in enumerate(statements(document)):
            grant = admin_grant(statement)
            if grant is not None:
                report(f"{label} statement {_sid(statement, index)} {grant}.\n{remediation}", None)
    for arn in admin_attachments(args.resource_type, props):
        report(f"attaches the AWS-managed {arn} (administrator access).\n{remediation}", None)


# --- size limits ------------------------------------------------------------------------------------------


def _length(document: object) -> int | None:
    """Compact length of a known document; None when unknown (wholly or in part) or not a JSON object."""
    if not isinstance(document, dict) or contains_unknown(document):
        return None
    try:
        return compact_length(document)
    except (TypeError, ValueError, RecursionError):
        return None  # not JSON data (e.g. an asset): IAM would refuse it, the provider reports that


def check_document_sizes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Managed, trust and inline policy documents stay under IAM's limits (compact JSON characters)."""
    cfg = policy_config(args.get_config(), SIZE_SCHEMA)
    props = plain_props(args.props)
    checks: list[tuple[str, int | None, int]] = []
    if args.resource_type == POLICY_TYPE:
        checks.append(("managed policy", _length(json_document(props.get("policy"))), cfg["managedPolicyMaxChars"]))
    elif args.resource_type == ROLE_TYPE:
        checks.append(
            ("trust policy", _length(json_document(props.get("assumeRolePolicy"))), cfg["trustPolicyMaxChars"])
        )
        inline = [_length(doc) for _, doc in identity_documents(ROLE_TYPE, props)]
        if inline and all(size is not None for size in inline):
            checks.append(("inline policies", sum(s for s in inline if s is not None), cfg["inlinePoliciesMaxChars"]))
    elif args.resource_type in IDENTITY_POLICY_TYPES:
        checks.append(("inline policy", _length(json_document(props.get("policy"))), cfg["inlinePoliciesMaxChars"]))
    for what, size, limit in checks:
        if size is not None and size > limit:
            report(
                f"the {what} has {size} characters, over IAM's limit of {limit}.\n"
                "Remediation: split the document into several managed policies, or tighten repeated ARNs "
                "into patterns.",
                None,
            )


def _role_of(resource: PolicyResource, roles_by_name: dict[str, PolicyResource]) -> PolicyResource | None:
    for dependency in resource.property_dependencies.get("role", []):
        if dependency.resource_type == ROLE_TYPE:
            return dependency
    name = plain_props(resource.props).get("role")
    return roles_by_name.get(name) if isinstance(name, str) else None


def check_inline_aggregate(args: StackValidationArgs, report: ReportViolation) -> None:
    """A role's inline policies (its own and its RolePolicy resources) together stay under IAM's limit."""
    cfg = policy_config(args.get_config(), AGGREGATE_SCHEMA)
    roles = [r for r in args.resources if r.resource_type == ROLE_TYPE]
    roles_by_name = {name: r for r in roles if isinstance(name := plain_props(r.props).get("name"), str)}
    sizes: dict[str, list[int | None]] = defaultdict(list)
    for role in roles:
        sizes[role.urn] += [_length(doc) for _, doc in identity_documents(ROLE_TYPE, plain_props(role.props))]
    for resource in args.resources:
        if resource.resource_type != ROLE_POLICY_TYPE:
            continue
        owner = _role_of(resource, roles_by_name)
        if owner is not None:
            sizes[owner.urn].append(_length(json_document(plain_props(resource.props).get("policy"))))
    limit = cfg["inlinePoliciesMaxChars"]
    for urn, lengths in sorted(sizes.items()):
        if any(size is None for size in lengths):
            continue  # a document that is unknown (preview) or unreadable
        total = sum(size for size in lengths if size is not None)
        if total > limit:
            report(
                f"the role's inline policies have {total} characters together, over IAM's limit of {limit}.\n"
                "Remediation: move statements into managed policies (each up to 6,144 characters).",
                urn,
            )


def check_wildcard_subjects(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Make every wildcard ServiceAccount subject of an IRSA trust visible (the declared exceptions)."""
    if args.resource_type != ROLE_TYPE:
        return
    document = json_document(plain_props(args.props).get("assumeRolePolicy"))
    if is_unknown(document) or document is None:
        return
    for statement in _web_identity_statements(document):
        like = dig(statement, "Condition", "StringLike")
        for key, value in (like or {}).items() if isinstance(like, dict) else ():
            if key.endswith(":sub"):
                for subject in as_list(value):
                    report(
                        f"trusts every ServiceAccount matching {subject!r} (a declared wildcard exception).\n"
                        "Remediation: none needed if intended; list exact ServiceAccounts where you can.",
                        None,
                    )


def check_permissions_boundary(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """Every IAM role and user carries the stack's permissions boundary when its settings name one.

    The bootstrap's deploy role may create or change a role or a user only with that boundary
    (``iam:PermissionsBoundary`` condition): one without it is refused at ``pulumi up`` with AccessDenied, and a
    principal outside it could be used to escalate beyond the environment.
    """
    boundary = ctx.permissions_boundary
    kind = BOUNDED_TYPES.get(args.resource_type)
    if boundary is None or kind is None:
        return
    actual = plain_props(args.props).get("permissionsBoundary")
    if is_unknown(actual):
        return
    if actual != boundary:
        found = f"permissionsBoundary {actual!r}" if actual else "no permissionsBoundary"
        report(
            f"{kind} has {found}; the stack's settings require {boundary} (permissionsBoundaryArn).\n"
            "Remediation: pass permissions_boundary=settings.permissions_boundary_arn to the component.",
            None,
        )


def _user_of(resource: PolicyResource, key: str) -> str | None:
    """The user name a resource names in ``key``: a user of the stack it depends on, else its known value."""
    for dependency in resource.property_dependencies.get(key, []):
        if dependency.resource_type == USER_TYPE:
            name = plain_props(dependency.props).get("name")
            return name if isinstance(name, str) else dependency.urn
    value = plain_props(resource.props).get(key)
    return value if isinstance(value, str) else None


def smtp_statement_problems(document: object) -> list[str]:
    """Why an inline policy of a keyed user grants more than ``ses:SendRawEmail`` on named SES resources."""
    problems = []
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        where = f"statement {_sid(statement, index)}"
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where} uses NotAction/NotResource")
            continue
        other = [a for a in actions(statement) if not is_unknown(a) and str(a).lower() != SMTP_ACTION.lower()]
        if other:
            problems.append(f"{where} allows {', '.join(map(repr, other))} besides {SMTP_ACTION}")
        resources = [r for r in as_list(statement.get("Resource")) if not is_unknown(r)]
        if "*" in resources or any(isinstance(r, str) and not r.startswith("arn:") for r in resources):
            problems.append(f"{where} allows {SMTP_ACTION} on every identity ('*'), not the stack's")
    return problems


def check_access_keys(args: StackValidationArgs, report: ReportViolation) -> None:
    """An access key (a long-lived credential without MFA or session) only for an SES SMTP sender of the stack.

    Its user must be declared by the stack, hold no attached policy, group or console password, and its inline
    policies may allow ``ses:SendRawEmail`` on SES resources only (components/email.py).
    """
    resources = list(args.resources)
    users = {r.urn: r for r in resources if r.resource_type == USER_TYPE}
    names = {name for u in users.values() if isinstance(name := plain_props(u.props).get("name"), str)}
    remediation = (
        "Remediation: use IAM roles (IRSA) for workloads; an access key is for the SES SMTP user of "
        "components/email.py only (email.smtpUser)."
    )
    keyed = {}
    for key in (r for r in resources if r.resource_type == ACCESS_KEY_TYPE):
        user = _user_of(key, "user")
        if user is None:
            continue  # unknown during a preview
        if user not in names and user not in users:
            report(f"access key for IAM user {user!r}, which the stack does not declare.\n{remediation}", key.urn)
            continue
        keyed[user] = key
    for resource in resources:
        grant = USER_GRANT_TYPES.get(resource.resource_type)
        user = _user_of(resource, grant) if grant else None
        if user in keyed:
            kind = resource.resource_type.rsplit(":", 1)[-1]
            report(f"IAM user {user!r} has an access key and a {kind}.\n{remediation}", resource.urn)
        if resource.resource_type == USER_POLICY_TYPE and _user_of(resource, "user") in keyed:
            document = json_document(plain_props(resource.props).get("policy"))
            if is_unknown(document) or contains_unknown(document):
                continue
            for problem in smtp_statement_problems(document):
                report(f"the inline policy of a user with an access key: {problem}.\n{remediation}", resource.urn)


def policies(ctx: PackContext) -> list[Policy]:
    """The IAM policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        ResourceValidationPolicy(
            name="irsa-trust-scoped",
            description="IRSA trust policies use StringEquals on an exact <issuer>:sub ServiceAccount and :aud.",
            validate=partial(check_irsa_trust, ctx=ctx),
            enforcement_level=level,
            config_schema=TRUST_SCHEMA,
            remediation_steps="Use components.iam_documents.irsa_trust_policy(...).",
        ),
        ResourceValidationPolicy(
            name="iam-no-admin-wildcard",
            description="No IAM identity policy allows Action '*' on Resource '*' (or NotAction on '*', or Action '*' "
            "with NotResource) and nothing attaches AdministratorAccess, outside the allow-list.",
            validate=check_no_admin_wildcard,
            enforcement_level=level,
            config_schema=WILDCARD_SCHEMA,
            remediation_steps="Grant specific actions on specific resources; attach no AdministratorAccess.",
        ),
        ResourceValidationPolicy(
            name="iam-policy-size-limits",
            description="IAM managed (6,144), inline (10,240) and trust (2,048) documents fit IAM's limits.",
            validate=check_document_sizes,
            enforcement_level=level,
            config_schema=SIZE_SCHEMA,
            remediation_steps="Split large documents into several managed policies.",
        ),
        ResourceValidationPolicy(
            name="irsa-wildcard-subject",
            description="Wildcard ServiceAccount subjects of IRSA trusts are listed (declared exceptions).",
            validate=check_wildcard_subjects,
            # Visible in every report, never blocking: the mandatory irsa-trust-scoped refuses undeclared ones.
            enforcement_level=EnforcementLevel.ADVISORY,
            remediation_steps="Prefer exact ServiceAccounts (appRoles.*.additionalServiceAccounts).",
        ),
        ResourceValidationPolicy(
            name="iam-role-permissions-boundary",
            description="Every IAM role and IAM user carries the permissions boundary the stack's settings name.",
            validate=partial(check_permissions_boundary, ctx=ctx),
            # The deploy role's CreateRole and CreateUser are conditioned on the boundary: without it `pulumi up`
            # fails everywhere.
            enforcement_level=EnforcementLevel.MANDATORY,
            remediation_steps="Set permissions_boundary from settings.permissions_boundary_arn on the role or user.",
        ),
        StackValidationPolicy(
            name="iam-access-key-smtp-only",
            description="An IAM access key belongs to a user of the stack that may only ses:SendRawEmail on SES "
            "resources (no attached policy, group or console password).",
            validate=check_access_keys,
            enforcement_level=level,
            remediation_steps="Use IAM roles for workloads; keep access keys to the SES SMTP user.",
        ),
        StackValidationPolicy(
            name="iam-role-inline-policies-size",
            description="A role's inline policies together (RolePolicy resources included) fit 10,240 characters.",
            validate=check_inline_aggregate,
            enforcement_level=level,
            config_schema=AGGREGATE_SCHEMA,
            remediation_steps="Move inline statements into managed policies.",
        ),
    ]
