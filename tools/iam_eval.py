"""A small IAM policy evaluator, for proving offline that one principal cannot do something.

Given a principal's identity policies (documents) and, optionally, the resource's policy (a bucket policy, or a
KMS key policy with its own rules), `evaluate` decides one request: an action on a resource ARN by a principal
ARN (an IAM role or user, as ``aws:PrincipalArn`` names it). Pure, no AWS calls.

The model follows AWS's "Policy evaluation logic" for a request within one account:

1. An explicit ``Deny`` that matches, in any of the documents, denies.
2. Without a key policy (S3 and most services): an ``Allow`` in an identity policy, or a resource policy
   ``Allow`` naming the principal (or ``*``), allows. A resource policy that names the account
   (``arn:aws:iam::<account>:root`` or the bare account id) only delegates to the identity policies.
3. With a key policy (KMS, "Key policies in AWS KMS"): the key policy is the only source of permission. A
   statement naming the principal (or ``*``) allows by itself; one naming the account root lets the identity
   policies decide ("Allows access to the AWS account and enables IAM policies"); without either, identity
   policies have no effect, whatever they allow.
4. Anything else is an implicit deny.

Matching: ``Action``/``NotAction`` and ``Resource``/``NotResource`` take a string or a list; ``*`` matches any
run of characters (``/`` and ``:`` included) and ``?`` one character. Actions compare case-insensitively,
resource ARNs case-sensitively. ``NotPrincipal`` excludes only the ARNs it lists exactly.

Conditions, chosen so that "denied" stays a sound answer (the evaluator never claims a denial AWS would not make):

* an ``Allow`` with a ``Condition`` counts as matching, whatever the condition says (the worst case);
* a ``Deny`` with a ``Condition`` counts only when every condition in it can be evaluated and holds. Supported:
  ``StringEquals``, ``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``,
  ``ArnNotEquals`` and ``ArnNotLike`` (and their ``...IfExists`` forms) on ``aws:PrincipalArn``, whose value is the
  request's principal. Anything else (another key, ``ForAnyValue:``, a policy variable, ``Bool``, ...) makes the
  ``Deny`` not apply.

Not modelled (each can only deny more, so a "denied" answer stays sound; an "allowed" one is an upper bound):
SCPs and RCPs, permissions boundaries, session policies, grants, cross-account requests, ACLs.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

Document = Mapping[str, Any]

#: The one condition key the evaluator can answer: the request's principal.
PRINCIPAL_ARN_KEY: Final = "aws:principalarn"
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


def evaluate_condition(condition: Mapping[str, Any], principal: str) -> bool | None:
    """Whether ``condition`` holds for a request by ``principal``; None when part of it cannot be evaluated.

    Every operator and every key in a condition block must hold (AND); a key holds when any of its values matches
    (for the ``Not`` operators: when none does).
    """
    result = True
    for raw_operator, entries in condition.items():
        operator = raw_operator.removesuffix("IfExists")  # aws:PrincipalArn is always present for an IAM principal
        if operator not in _OPERATORS or not isinstance(entries, Mapping):
            return None
        for key, raw_values in entries.items():
            values = _condition_values(raw_values)
            if str(key).lower() != PRINCIPAL_ARN_KEY or values is None:
                return None
            if operator.startswith("Arn"):
                hit = any(arn_match(value, principal) for value in values)
            elif operator.endswith("Like"):
                hit = any(glob_match(value, principal) for value in values)
            else:
                hit = principal in values
            result = result and (hit != (operator in _NEGATED))
    return result


def _applies(statement: _Statement, principal: str) -> bool:
    """Does ``statement``'s condition let it apply? Allow: always (worst case). Deny: only if known to hold."""
    if statement.condition is None or statement.effect == "Allow":
        return True
    return evaluate_condition(statement.condition, principal) is True


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


def _matching(statements: Iterable[_Statement], action: str, resource: str, principal: str) -> list[_Statement]:
    return [
        s for s in statements if s.matches_action(action) and s.matches_resource(resource) and _applies(s, principal)
    ]


def evaluate(
    *,
    action: str,
    resource: str,
    principal: str,
    identity_policies: Sequence[Document] = (),
    resource_policy: Document | None = None,
    key_policy: Document | None = None,
) -> Decision:
    """Decide whether ``principal`` may perform ``action`` on ``resource``.

    Args:
        action: ``service:Action`` (e.g. ``s3:PutObject``).
        resource: the resource's ARN (an S3 object is ``arn:aws:s3:::<bucket>/<key>``).
        principal: the IAM principal's ARN, with its path (for a role session: the role's ARN).
        identity_policies: every policy document attached to the principal (managed and inline).
        resource_policy: the resource's policy when the service works like S3 (a bucket policy).
        key_policy: a KMS key's policy; the key policy rules of KMS apply (see the module docstring).

    Raises:
        PolicyError: a document is malformed, or both ``resource_policy`` and ``key_policy`` are given.
    """
    if resource_policy is not None and key_policy is not None:
        msg = "give a resource_policy or a key_policy, not both"
        raise PolicyError(msg)
    identity = [
        statement
        for index, document in enumerate(identity_policies)
        for statement in _statements(document, f"identity policy {index}", resource_policy=False)
    ]
    on_resource = resource_policy if resource_policy is not None else key_policy
    source = "key policy" if key_policy is not None else "resource policy"
    resource_statements = [] if on_resource is None else _statements(on_resource, source, resource_policy=True)

    identity_hits = _matching(identity, action, resource, principal)
    resource_hits = [
        (s, grant)
        for s in _matching(resource_statements, action, resource, principal)
        if (grant := _grant(s, principal)) is not None
    ]
    denies = [s.label for s in identity_hits if s.effect == "Deny"]
    denies += [s.label for s, _ in resource_hits if s.effect == "Deny"]
    if denies:
        return Decision(Outcome.EXPLICIT_DENY, tuple(denies))

    identity_allows = [s.label for s in identity_hits]  # no Deny left: every hit is an Allow
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
) -> bool:
    """`evaluate`'s answer as a bool."""
    return evaluate(
        action=action,
        resource=resource,
        principal=principal,
        identity_policies=identity_policies,
        resource_policy=resource_policy,
        key_policy=key_policy,
    ).allowed
