"""IAM policies: scoped IRSA trust, no '*' on '*', documents under IAM's size limits."""

import copy
import json

import pytest

from components import iam_documents as iam
from tests.policies.support import ACCOUNT, ISSUER, OIDC_ARN, UNKNOWN, check, check_stack, resource

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TRUST = iam.irsa_trust_policy(
    oidc_provider_arn=OIDC_ARN, issuer_url=f"https://{ISSUER}", namespace="daft", service_account="daft"
)


def trust_with(mutate) -> dict:
    document = copy.deepcopy(TRUST)
    mutate(document["Statement"][0])
    return {"name": "r", "assumeRolePolicy": json.dumps(document)}


def test_scoped_irsa_trust_passes():
    assert check("irsa-trust-scoped", ROLE, {"assumeRolePolicy": json.dumps(TRUST)}) == []
    assert (
        check(
            "irsa-trust-scoped", ROLE, {"assumeRolePolicy": json.dumps(iam.service_trust_policy("eks.amazonaws.com"))}
        )
        == []
    )
    assert check("irsa-trust-scoped", ROLE, {"assumeRolePolicy": UNKNOWN}) == []


def _string_like(statement):
    statement["Condition"] = {
        "StringLike": {f"{ISSUER}:sub": "system:serviceaccount:*:*"},
        "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
    }


def _wildcard_subject(statement):
    statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] = "system:serviceaccount:daft:*"


def _no_subject(statement):
    del statement["Condition"]["StringEquals"][f"{ISSUER}:sub"]


def _no_audience(statement):
    del statement["Condition"]["StringEquals"][f"{ISSUER}:aud"]


def _other_audience(statement):
    statement["Condition"]["StringEquals"][f"{ISSUER}:aud"] = "sts.example.com"


def _any_principal(statement):
    statement["Principal"] = {"Federated": "*"}


def _other_issuer(statement):
    statement["Principal"] = {"Federated": OIDC_ARN.replace("EXAMPLE", "OTHER")}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_string_like, f"statement 0: StringLike on {ISSUER}:sub (wildcard matching); use StringEquals"),
        (_wildcard_subject, f"statement 0: {ISSUER}:sub is 'system:serviceaccount:daft:*', not an exact"),
        (_no_subject, "statement 0: no StringEquals condition on <issuer>:sub: any ServiceAccount"),
        (_no_audience, "statement 0: no StringEquals condition on <issuer>:aud = sts.amazonaws.com"),
        (_other_audience, f"statement 0: {ISSUER}:aud is 'sts.example.com', expected 'sts.amazonaws.com'"),
        (_any_principal, "statement 0: the principal must be the cluster's IAM OIDC provider, not '*'"),
        (_other_issuer, f"statement 0: condition key {ISSUER}:sub names another issuer than the principal"),
    ],
    ids=["string-like", "wildcard-sub", "no-sub", "no-aud", "other-aud", "any-principal", "other-issuer"],
)
def test_loosely_scoped_irsa_trust_fails(mutate, expected):
    messages = check("irsa-trust-scoped", ROLE, trust_with(mutate))
    assert any(m.startswith(expected) for m in messages), messages
    assert all("Remediation: build the trust with components.iam_documents.irsa_trust_policy" in m for m in messages)


ADMIN = iam.document({"Effect": "Allow", "Action": "*", "Resource": "*"})
SCOPED = iam.s3_access_policy(["arn:aws:s3:::bucket"])


def test_scoped_identity_policies_pass():
    assert check("iam-no-admin-wildcard", POLICY, {"policy": json.dumps(SCOPED)}) == []
    deny_all = iam.document({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert check("iam-no-admin-wildcard", ROLE_POLICY, {"policy": json.dumps(deny_all)}) == []


@pytest.mark.parametrize(
    ("type_token", "props", "label"),
    [
        (POLICY, {"policy": json.dumps(ADMIN)}, "policy"),
        (ROLE_POLICY, {"policy": ADMIN}, "policy"),
        (ROLE, {"inlinePolicies": [{"name": "admin", "policy": json.dumps(ADMIN)}]}, "inlinePolicies[admin]"),
    ],
    ids=["managed", "role-policy", "role-inline"],
)
def test_action_star_on_resource_star_fails(type_token, props, label):
    [message] = check("iam-no-admin-wildcard", type_token, props)
    assert message.startswith(f"{label} statement 0 allows Action '*' on Resource '*'.")
    assert "Remediation: grant the actions and resources the workload needs" in message


def test_break_glass_roles_can_be_allow_listed_by_logical_name():
    props = {"policy": json.dumps(ADMIN)}
    config = {"allowedResources": ["break-glass"]}
    assert check("iam-no-admin-wildcard", POLICY, props, config=config, logical_name="break-glass") == []
    assert check("iam-no-admin-wildcard", POLICY, props, config=config, logical_name="app")


def big_policy(characters: int) -> dict:
    """A valid document of at least ``characters`` compact characters."""
    arns = [f"arn:aws:s3:::bucket-{i:05d}/*" for i in range(characters // 30 + 1)]
    return iam.document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": arns})


def test_documents_under_the_limits_pass():
    assert check("iam-policy-size-limits", POLICY, {"policy": json.dumps(big_policy(6000))}) == []
    assert check("iam-policy-size-limits", ROLE, {"assumeRolePolicy": json.dumps(TRUST)}) == []


@pytest.mark.parametrize(
    ("type_token", "props", "what", "limit"),
    [
        (POLICY, {"policy": json.dumps(big_policy(6200))}, "managed policy", 6144),
        (ROLE_POLICY, {"policy": json.dumps(big_policy(10300))}, "inline policy", 10240),
        (
            ROLE,
            {"assumeRolePolicy": json.dumps({**TRUST, "Statement": [TRUST["Statement"][0]] * 8})},
            "trust policy",
            2048,
        ),
    ],
    ids=["managed", "inline", "trust"],
)
def test_documents_over_the_limits_fail(type_token, props, what, limit):
    [message] = check("iam-policy-size-limits", type_token, props)
    assert f"the {what} has " in message
    assert f"characters, over IAM's limit of {limit}." in message
    assert "Remediation: split the document" in message


def test_a_roles_inline_policies_together_fit_the_limit():
    role = resource(ROLE, "app-role", {"name": "app", "arn": "arn:aws:iam::123456789012:role/app"})
    by_dependency = resource(
        ROLE_POLICY,
        "a",
        {"role": UNKNOWN, "policy": json.dumps(big_policy(5000))},
        property_dependencies={"role": [role]},
    )
    assert check_stack("iam-role-inline-policies-size", [role, by_dependency]) == []
    by_name = resource(ROLE_POLICY, "b", {"role": "app", "policy": json.dumps(big_policy(5500))})
    [(message, urn)] = check_stack("iam-role-inline-policies-size", [role, by_dependency, by_name])
    assert "the role's inline policies have " in message
    assert "characters together, over IAM's limit of 10240." in message
    assert urn == role.urn
    unknown = resource(ROLE_POLICY, "c", {"role": "app", "policy": UNKNOWN})
    assert check_stack("iam-role-inline-policies-size", [role, by_dependency, by_name, unknown]) == []


# --- administrator access by other means -------------------------------------------------------------------

ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn", str),
    "aws:iam/policyAttachment:PolicyAttachment": ("policyArn", str),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": ("policyArn", str),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": ("policyArn", str),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("policyArns", list),
    ROLE: ("managedPolicyArns", list),
}
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def attachment(type_token: str, arn: str) -> dict:
    key, shape = ATTACHMENTS[type_token]
    return {key: arn if shape is str else ["arn:aws:iam::aws:policy/ReadOnlyAccess", arn]}


@pytest.mark.parametrize("type_token", list(ATTACHMENTS), ids=lambda t: t.rsplit(":", 1)[-1])
def test_attaching_administrator_access_fails(type_token):
    scoped = f"arn:aws:iam::{'1' * 12}:policy/eks-platform-prod-app"
    assert check("iam-no-admin-wildcard", type_token, attachment(type_token, scoped)) == []
    assert check("iam-no-admin-wildcard", type_token, attachment(type_token, UNKNOWN)) == []
    [message] = check("iam-no-admin-wildcard", type_token, attachment(type_token, ADMIN_ARN))
    assert message.startswith(f"attaches the AWS-managed {ADMIN_ARN} (administrator access).")
    assert "Remediation: grant the actions and resources the workload needs" in message
    gov = ADMIN_ARN.replace("arn:aws:", "arn:aws-us-gov:")
    assert check("iam-no-admin-wildcard", type_token, attachment(type_token, gov)) != []
    config = {"allowedResources": ["break-glass"]}
    props = attachment(type_token, ADMIN_ARN)
    assert check("iam-no-admin-wildcard", type_token, props, config=config, logical_name="break-glass") == []


NOT_ACTION = {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "NotAction": ["s3:GetObject"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": UNKNOWN},
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"},
    ],
    ids=["deny", "scoped-resource", "unknown-resource", "scoped-action-not-resource"],
)
def test_not_action_and_not_resource_on_scoped_grants_pass(statement):
    assert check("iam-no-admin-wildcard", POLICY, {"policy": json.dumps(iam.document(statement))}) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (NOT_ACTION, "allows every action but 'iam:*', 'organizations:*' (NotAction) on Resource '*'."),
        (
            {**NOT_ACTION, "NotAction": [], "Resource": ["*"]},
            "allows every action but nothing (NotAction) on Resource '*'.",
        ),
        (
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:role/x"},
            "allows Action '*' on every resource but a few (NotResource).",
        ),
    ],
    ids=["not-action", "not-action-empty", "not-resource"],
)
def test_not_action_on_every_resource_counts_as_admin(statement, expected):
    for props in ({"policy": json.dumps(iam.document(statement))}, {"policy": iam.document(statement)}):
        [message] = check("iam-no-admin-wildcard", POLICY, props)
        assert message.startswith(f"policy statement 0 {expected}\nRemediation: grant the actions")


# --- documents as objects, holding unknowns ----------------------------------------------------------------


def test_object_documents_with_unknowns_are_not_judged_yet():
    partly_unknown = iam.document({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": UNKNOWN})
    for type_token, props in (
        (POLICY, {"policy": partly_unknown}),
        (ROLE_POLICY, {"policy": {"Version": "2012-10-17", "Statement": [UNKNOWN]}}),
        (ROLE, {"assumeRolePolicy": {**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": UNKNOWN}]}}),
        (ROLE, {"inlinePolicies": [{"name": UNKNOWN, "policy": partly_unknown}]}),
    ):
        for name in ("iam-policy-size-limits", "iam-no-admin-wildcard", "irsa-trust-scoped"):
            assert check(name, type_token, props) == [], (name, props)
    unknown_condition = {**TRUST["Statement"][0], "Condition": {"StringEquals": UNKNOWN}}
    assert check("irsa-trust-scoped", ROLE, {"assumeRolePolicy": {**TRUST, "Statement": [unknown_condition]}}) == []
    role = resource(ROLE, "app-role", {"name": "app", "inlinePolicies": [{"name": "x", "policy": partly_unknown}]})
    assert check_stack("iam-role-inline-policies-size", [role]) == []
    # A known object document is still judged.
    assert check("iam-policy-size-limits", POLICY, {"policy": big_policy(6200)}) != []


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/eks-platform-prod-permissions-boundary"


def boundary_ctx(boundary: str | None):
    from policies.settings import PackContext

    settings = {"region": "us-west-2", **({"permissionsBoundaryArn": boundary} if boundary else {})}
    return PackContext(
        "eks-platform", "prod", production=True, stack_config={"eks-platform:settings": json.dumps(settings)}
    )


def test_a_role_with_the_stacks_boundary_passes():
    role = {"name": "r", "permissionsBoundary": BOUNDARY}
    assert check("iam-role-permissions-boundary", ROLE, role, ctx=boundary_ctx(BOUNDARY)) == []
    # Unknown in a preview (a boundary from an Output): no verdict.
    assert (
        check("iam-role-permissions-boundary", ROLE, {"permissionsBoundary": UNKNOWN}, ctx=boundary_ctx(BOUNDARY)) == []
    )
    # A stack whose settings name no boundary requires none.
    assert check("iam-role-permissions-boundary", ROLE, {"name": "r"}, ctx=boundary_ctx(None)) == []


@pytest.mark.parametrize("boundary", [None, f"arn:aws:iam::{ACCOUNT}:policy/eks-platform-dev-permissions-boundary"])
def test_a_role_without_the_stacks_boundary_is_refused(boundary):
    role = {"name": "r", **({"permissionsBoundary": boundary} if boundary else {})}
    (message,) = check("iam-role-permissions-boundary", ROLE, role, ctx=boundary_ctx(BOUNDARY))
    assert f"the stack's settings require {BOUNDARY}" in message


def test_every_role_of_both_stacks_carries_its_boundary():
    from tools.harness import run_program

    for stack, account in (("dev", "111122223333"), ("prod", "444455556666")):
        roles = run_program(stack, "update").by_type(ROLE)
        assert len(roles) >= 8
        expected = f"arn:aws:iam::{account}:policy/eks-platform-{stack}-permissions-boundary"
        assert {r.name: r.inputs.get("permissionsBoundary") for r in roles} == dict.fromkeys(
            (r.name for r in roles), expected
        )
