"""A small IAM policy evaluator, for proving offline that one principal cannot do something.

Given a principal's identity policies (documents), optionally its permissions boundary, the resource's policy (a
bucket policy, or a KMS key policy with its own rules) and the request's context, `evaluate` decides one request: an
action on a resource ARN by a principal ARN (an IAM role or user, as ``aws:PrincipalArn`` names it). Pure, no AWS
calls.

The model follows AWS's "Policy evaluation logic" for a request within one account:

1. An explicit ``Deny`` that matches, in any of the documents (the permissions boundary included), denies.
2. Without a key policy (S3 and most services): a resource policy ``Allow`` naming the principal (or ``*``)
   allows; so does an ``Allow`` in an identity policy, if the permissions boundary (when there is one) allows the
   request too. A resource policy that names the account (``arn:aws:iam::<account>:root`` or the bare account id)
   only delegates to the identity policies.
3. With a key policy (KMS, "Key policies in AWS KMS"): the key policy is the only source of permission. A
   statement naming the principal (or ``*``) allows by itself; one naming the account root lets the identity
   policies (within the boundary) decide ("Allows access to the AWS account and enables IAM policies"); without
   either, identity policies have no effect, whatever they allow.
4. Anything else is an implicit deny.

Permissions boundaries ("Permissions boundaries for IAM entities"): an identity policy grant counts only where the
boundary also allows. A resource policy grant naming the principal directly is not capped by the boundary's
implicit deny here: AWS caps such a grant to an IAM role ARN, but not one to a role session ARN, and the evaluator
keeps the worst case. The boundary's explicit denies always apply.

Matching: ``Action``/``NotAction`` and ``Resource``/``NotResource`` take a string or a list; ``*`` matches any
run of characters (``/`` and ``:`` included) and ``?`` one character. Actions compare case-insensitively,
resource ARNs case-sensitively. ``NotPrincipal`` excludes only the ARNs it lists exactly.

Conditions, chosen so that "denied" stays a sound answer (the evaluator never claims a denial AWS would not make):

* the evaluator knows two condition keys: ``aws:PrincipalArn`` (the request's principal, always present) and
  ``iam:PermissionsBoundary`` (from ``context``: the boundary a request sets, or the target role or user carries;
  missing from ``context`` means missing from the request). Supported operators on them: ``StringEquals``,
  ``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``,
  ``ArnNotLike`` (and their ``...IfExists`` forms), and ``Null``. A missing key matches no positive operator and
  every negated one; ``...IfExists`` and ``Null`` test its presence ("IAM JSON policy elements: Condition
  operators"). Anything else (another key, ``ForAnyValue:``, a policy variable, ``Bool``, ...) cannot be evaluated;
* a condition block holds when every operator and key in it holds; it is false as soon as one evaluable part is
  false, and unknown when no part is false but one cannot be evaluated;
* an ``Allow`` with a ``Condition`` counts as matching unless its condition is known to be false (the worst case);
* a ``Deny`` with a ``Condition`` counts only when its condition is known to hold.

Not modelled (each can only deny more, so a "denied" answer stays sound; an "allowed" one is an upper bound):
SCPs and RCPs, session policies, grants, cross-account requests, ACLs.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

Document = Mapping[str, Any]

#: The condition key the evaluator answers from the principal itself (lowercase: keys compare case-insensitively).
PRINCIPAL_ARN_KEY: Final = "aws:principalarn"
#: ``iam:PermissionsBoundary``: the boundary policy ARN a request sets (CreateRole, PutRolePermissionsBoundary) or
#: the target role or user carries (PutRolePolicy, PutUserPolicy, ...), per the Service Authorization Reference.
PERMISSIONS_BOUNDARY_KEY: Final = "iam:permissionsboundary"
#: The keys a request ``context`` may hold; each is evaluated, and its absence from the context is its absence.
CONTEXT_KEYS: Final = frozenset({PERMISSIONS_BOUNDARY_KEY})
_NEGATED: Final = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})
_OPERATORS: Final = frozenset(
    {"StringEquals", "StringLike", "ArnEquals", "ArnLike"} | _NEGATED,
)
_ARN_PARTS: Final = 6
_ACCOUNT_ID: Final = re.compile(r"^\d{12}$")
_ROOT: Final = re.compile(r"^arn:[^:]+:iam::(?P<account>\d{12}):root$")


class PolicyError(ValueError):
    """A policy document the evaluator cannot read (a statement without Effect, Action or Resource, ...)."""


class Outcome(enum.Enum):
    """How a request was decided."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Decision:
    """The answer for one request, with the statements that decided it (``<document>[<index>] <Sid>``)."""

    outcome: Outcome
    statements: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when the request is allowed."""
        return self.outcome is Outcome.ALLOWED

    def __bool__(self) -> bool:
        """A decision is truthy when it allows."""
        return self.allowed

    def __str__(self) -> str:
        """``explicit deny (bucket policy[3] DenyProdStateWrites)``."""
        return f"{self.outcome.value} ({', '.join(self.statements) or 'no statement matched'})"


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard match of the whole ``text``: ``*`` any run of characters, ``?`` exactly one.

    >>> glob_match("arn:aws:s3:::b/.pulumi/stacks/p/dev.*", "arn:aws:s3:::b/.pulumi/stacks/p/dev.json")
    True
    >>> glob_match("s3:Get*", "S3:GETOBJECT", ignore_case=True)
    True
    """
    return _glob(pattern, ignore_case=ignore_case).match(text) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """``ArnLike``: each of the six colon-separated parts of the ARN matched on its own (wildcards allowed)."""
    pattern_parts, arn_parts = pattern.split(":", _ARN_PARTS - 1), arn.split(":", _ARN_PARTS - 1)
    if len(pattern_parts) != _ARN_PARTS or len(arn_parts) != _ARN_PARTS:
        return False
    return all(glob_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def account_of(arn: str) -> str:
    """The account field of an ARN (``""`` when it has none)."""
    parts = arn.split(":", _ARN_PARTS - 1)
    return parts[4] if len(parts) == _ARN_PARTS else ""


def _strings(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    msg = f"{what} must be a string or a non-empty list of strings, not {value!r}"
    raise PolicyError(msg)


@dataclass(frozen=True)
class _Statement:
    label: str
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    condition: Mapping[str, Any] | None
    #: Resource policies only: the AWS principals named (``"*"`` for everyone); None in identity policies.
    principals: tuple[str, ...] | None
    not_principal: bool

    def matches_action(self, action: str) -> bool:
        hit = any(glob_match(pattern, action, ignore_case=True) for pattern in self.actions)
        return hit != self.not_action

    def matches_resource(self, resource: str) -> bool:
        hit = any(glob_match(pattern, resource) for pattern in self.resources)
        return hit != self.not_resource


def _aws_principals(element: object, label: str) -> tuple[str, ...]:
    """The AWS principals of a Principal element; other kinds (Service, Federated, ...) name no IAM principal."""
    if element == "*":
        return ("*",)
    if not isinstance(element, Mapping):
        msg = f"{label}: Principal must be '*' or a mapping, not {element!r}"
        raise PolicyError(msg)
    aws = element.get("AWS")
    return () if aws is None else tuple(_strings(aws, f"{label}: Principal.AWS"))


def _one_of(raw: Mapping[str, Any], key: str, label: str) -> tuple[tuple[str, ...], bool]:
    positive, negative = raw.get(key), raw.get(f"Not{key}")
    if (positive is None) == (negative is None):
        msg = f"{label}: exactly one of {key} and Not{key} is required"
        raise PolicyError(msg)
    if positive is not None:
        return tuple(_strings(positive, f"{label}: {key}")), False
    return tuple(_strings(negative, f"{label}: Not{key}")), True


def _statements(document: Document, source: str, *, resource_policy: bool) -> list[_Statement]:
    raw_statements = document.get("Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        msg = f"{source}: Statement must be a mapping or a list, not {raw_statements!r}"
        raise PolicyError(msg)
    parsed = []
    for index, raw in enumerate(raw_statements):
        label = f"{source}[{index}]" + (f" {raw['Sid']}" if isinstance(raw, Mapping) and raw.get("Sid") else "")
        if not isinstance(raw, Mapping):
            msg = f"{label}: a statement must be a mapping"
            raise PolicyError(msg)
        effect = raw.get("Effect")
        if effect not in {"Allow", "Deny"}:
            msg = f"{label}: Effect must be Allow or Deny, not {effect!r}"
            raise PolicyError(msg)
        actions, not_action = _one_of(raw, "Action", label)
        resources, not_resource = _one_of(raw, "Resource", label)
        principals: tuple[str, ...] | None = None
        not_principal = False
        if resource_policy:
            if ("Principal" in raw) == ("NotPrincipal" in raw):
                msg = f"{label}: a resource policy statement needs exactly one of Principal and NotPrincipal"
                raise PolicyError(msg)
            not_principal = "NotPrincipal" in raw
            principals = _aws_principals(raw["NotPrincipal" if not_principal else "Principal"], label)
        elif "Principal" in raw or "NotPrincipal" in raw:
            msg = f"{label}: an identity policy statement names no Principal"
            raise PolicyError(msg)
        condition = raw.get("Condition")
        if condition is not None and not isinstance(condition, Mapping):
            msg = f"{label}: Condition must be a mapping"
            raise PolicyError(msg)
        parsed.append(
            _Statement(
                label, effect, actions, not_action, resources, not_resource, condition, principals, not_principal
            )
        )
    return parsed


def _condition_values(value: object) -> list[str] | None:
    if isinstance(value, str):
        values = [value]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        values = list(value)
    else:
        return None
    return None if any("${" in item for item in values) else values


def _null_values(value: object) -> set[bool] | None:
    """The values of a ``Null`` check (``"true"``: the key must be absent), or None when they are not booleans."""
    raw = value if isinstance(value, list) else [value]
    parsed = set()
    for item in raw:
        text = str(item).lower() if isinstance(item, str | bool) else ""
        if text not in {"true", "false"}:
            return None
        parsed.add(text == "true")
    return parsed or None


def _key_value(key: str, principal: str, context: Mapping[str, str]) -> tuple[bool, str | None]:
    """``(known, value)`` of a condition key for this request: value None when the key is absent from it."""
    lowered = key.lower()
    if lowered == PRINCIPAL_ARN_KEY:
        return True, principal
    if lowered in CONTEXT_KEYS:
        return True, context.get(lowered)
    return False, None


def _operator_holds(operator: str, values: Sequence[str], value: str) -> bool:
    if operator.startswith("Arn"):
        hit = any(arn_match(pattern, value) for pattern in values)
    elif operator.endswith("Like"):
        hit = any(glob_match(pattern, value) for pattern in values)
    else:
        hit = value in values
    return hit != (operator in _NEGATED)


def _entry_holds(
    raw_operator: str, key: str, raw_values: object, principal: str, context: Mapping[str, str]
) -> bool | None:
    """One key of one operator block: True, False, or None when it cannot be evaluated."""
    known, value = _key_value(str(key), principal, context)
    if not known:
        return None
    if raw_operator == "Null":
        expected = _null_values(raw_values)
        return None if expected is None else (value is None) in expected
    if_exists = raw_operator.endswith("IfExists")
    operator = raw_operator.removesuffix("IfExists")
    values = _condition_values(raw_values)
    if operator not in _OPERATORS or values is None:
        return None
    if value is None:  # a missing key matches no value: negated operators and ...IfExists hold
        return if_exists or operator in _NEGATED
    return _operator_holds(operator, values, value)


def evaluate_condition(
    condition: Mapping[str, Any], principal: str, *, context: Mapping[str, str] | None = None
) -> bool | None:
    """Whether ``condition`` holds for a request by ``principal`` with ``context``; None when that is not known.

    Every operator and every key in a condition block must hold (AND); a key holds when any of its values matches
    (for the ``Not`` operators: when none does). One part known to be false makes the block false, whatever the
    others; otherwise one part that cannot be evaluated makes it unknown.
    """
    request = _context(context)
    unknown = False
    for raw_operator, entries in condition.items():
        if not isinstance(entries, Mapping):
            unknown = True
            continue
        for key, raw_values in entries.items():
            holds = _entry_holds(str(raw_operator), str(key), raw_values, principal, request)
            if holds is False:
                return False
            unknown = unknown or holds is None
    return None if unknown else True


def _context(context: Mapping[str, str] | None) -> dict[str, str]:
    """``context`` with lowercase keys; refuses keys the evaluator does not model (they would be silently ignored)."""
    request = {str(key).lower(): value for key, value in (context or {}).items()}
    unknown = sorted(set(request) - CONTEXT_KEYS)
    if unknown:
        msg = f"the request context may hold {', '.join(sorted(CONTEXT_KEYS))} only, not {', '.join(unknown)}"
        raise PolicyError(msg)
    if not all(isinstance(value, str) for value in request.values()):
        msg = "request context values are strings"
        raise PolicyError(msg)
    return request


def _applies(statement: _Statement, principal: str, context: Mapping[str, str]) -> bool:
    """Does ``statement``'s condition let it apply? Allow: unless known false (worst case). Deny: only if known true."""
    if statement.condition is None:
        return True
    holds = evaluate_condition(statement.condition, principal, context=context)
    return holds is not False if statement.effect == "Allow" else holds is True


def _grant(statement: _Statement, principal: str) -> str | None:
    """What a resource policy statement's principal element does for ``principal``.

    ``"direct"``: it names the principal (or everyone); ``"account"``: it names the principal's account, which
    delegates to identity policies; None: it does not concern the principal.
    """
    if statement.principals is None:  # an identity policy statement: no principal element
        return None
    if statement.not_principal:
        return None if principal in statement.principals else "direct"
    account = account_of(principal)
    found = None
    for named in statement.principals:
        if named in {"*", principal}:
            return "direct"
        root = _ROOT.match(named)
        if (root is not None and root["account"] == account) or (_ACCOUNT_ID.match(named) and named == account):
            found = "account"
    return found


def _matching(
    statements: Iterable[_Statement], action: str, resource: str, principal: str, context: Mapping[str, str]
) -> list[_Statement]:
    return [
        s
        for s in statements
        if s.matches_action(action) and s.matches_resource(resource) and _applies(s, principal, context)
    ]


def evaluate(
    *,
    action: str,
    resource: str,
    principal: str,
    identity_policies: Sequence[Document] = (),
    resource_policy: Document | None = None,
    key_policy: Document | None = None,
    permissions_boundary: Document | None = None,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """Decide whether ``principal`` may perform ``action`` on ``resource``.

    Args:
        action: ``service:Action`` (e.g. ``s3:PutObject``).
        resource: the resource's ARN (an S3 object is ``arn:aws:s3:::<bucket>/<key>``).
        principal: the IAM principal's ARN, with its path (for a role session: the role's ARN).
        identity_policies: every policy document attached to the principal (managed and inline).
        resource_policy: the resource's policy when the service works like S3 (a bucket policy).
        key_policy: a KMS key's policy; the key policy rules of KMS apply (see the module docstring).
        permissions_boundary: the document of the principal's permissions boundary, if it has one.
        context: the request's condition keys (`CONTEXT_KEYS`: ``iam:PermissionsBoundary``); a key left out is
            absent from the request.

    Raises:
        PolicyError: a document is malformed, both ``resource_policy`` and ``key_policy`` are given, or the
            context holds a key the evaluator does not model.
    """
    if resource_policy is not None and key_policy is not None:
        msg = "give a resource_policy or a key_policy, not both"
        raise PolicyError(msg)
    request = _context(context)
    identity = [
        statement
        for index, document in enumerate(identity_policies)
        for statement in _statements(document, f"identity policy {index}", resource_policy=False)
    ]
    boundary = (
        None
        if permissions_boundary is None
        else _statements(permissions_boundary, "permissions boundary", resource_policy=False)
    )
    on_resource = resource_policy if resource_policy is not None else key_policy
    source = "key policy" if key_policy is not None else "resource policy"
    resource_statements = [] if on_resource is None else _statements(on_resource, source, resource_policy=True)

    identity_hits = _matching(identity, action, resource, principal, request)
    boundary_hits = [] if boundary is None else _matching(boundary, action, resource, principal, request)
    resource_hits = [
        (s, grant)
        for s in _matching(resource_statements, action, resource, principal, request)
        if (grant := _grant(s, principal)) is not None
    ]
    denies = [s.label for s in identity_hits + boundary_hits if s.effect == "Deny"]
    denies += [s.label for s, _ in resource_hits if s.effect == "Deny"]
    if denies:
        return Decision(Outcome.EXPLICIT_DENY, tuple(denies))

    # No Deny left: every hit is an Allow. Identity grants count only where the boundary (if any) allows too.
    within_boundary = boundary is None or bool(boundary_hits)
    identity_allows = [s.label for s in identity_hits + boundary_hits] if identity_hits and within_boundary else []
    direct = [s.label for s, grant in resource_hits if grant == "direct"]
    delegated = [s.label for s, grant in resource_hits if grant == "account"]
    if direct:
        return Decision(Outcome.ALLOWED, tuple(direct))
    if key_policy is not None:
        if delegated and identity_allows:
            return Decision(Outcome.ALLOWED, tuple(delegated + identity_allows))
        return Decision(Outcome.IMPLICIT_DENY)
    if identity_allows:
        return Decision(Outcome.ALLOWED, tuple(identity_allows))
    return Decision(Outcome.IMPLICIT_DENY)


def is_allowed(
    *,
    action: str,
    resource: str,
    principal: str,
    identity_policies: Sequence[Document] = (),
    resource_policy: Document | None = None,
    key_policy: Document | None = None,
    permissions_boundary: Document | None = None,
    context: Mapping[str, str] | None = None,
) -> bool:
    """`evaluate`'s answer as a bool."""
    return evaluate(
        action=action,
        resource=resource,
        principal=principal,
        identity_policies=identity_policies,
        resource_policy=resource_policy,
        key_policy=key_policy,
        permissions_boundary=permissions_boundary,
        context=context,
    ).allowed
