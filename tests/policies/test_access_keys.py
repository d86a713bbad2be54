"""IAM users: the permissions boundary (iam-role-permissions-boundary) and access keys only for an SES SMTP sender."""

import json

import pytest
from pulumi_policy import EnforcementLevel, PolicyResource

from tests.policies.support import ACCOUNT, DEV, PROD, UNKNOWN, check, check_stack, policy, resource
from tests.policies.test_iam_rules import BOUNDARY, boundary_ctx

USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
IDENTITY_ARN = f"arn:aws:ses:us-west-2:{ACCOUNT}:identity/example.com"
SEND = {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": [IDENTITY_ARN]}


def test_a_user_with_the_stacks_boundary_passes():
    user = {"name": "eks-platform-prod-smtp", "permissionsBoundary": BOUNDARY}
    assert check("iam-role-permissions-boundary", USER, user, ctx=boundary_ctx(BOUNDARY)) == []


@pytest.mark.parametrize("boundary", [None, f"arn:aws:iam::{ACCOUNT}:policy/eks-platform-dev-permissions-boundary"])
def test_a_user_without_the_stacks_boundary_is_refused(boundary):
    user = {"name": "eks-platform-prod-smtp", **({"permissionsBoundary": boundary} if boundary else {})}
    (message,) = check("iam-role-permissions-boundary", USER, user, ctx=boundary_ctx(BOUNDARY))
    assert message.startswith("IAM user has ")
    assert f"the stack's settings require {BOUNDARY}" in message


def smtp_graph(*statements: dict, extra: list[PolicyResource] | None = None) -> list[PolicyResource]:
    """An SMTP user as components/email.py declares it: user, inline policy and access key naming it."""
    user = resource(USER, "email-smtp-user", {"name": "eks-platform-prod-smtp", "permissionsBoundary": BOUNDARY})
    document = {"Version": "2012-10-17", "Statement": list(statements or [SEND])}
    policy = resource(
        USER_POLICY,
        "email-smtp-send",
        {"user": "eks-platform-prod-smtp", "policy": json.dumps(document)},
        property_dependencies={"user": [user]},
    )
    key = resource(
        ACCESS_KEY, "email-smtp-key", {"user": "eks-platform-prod-smtp"}, property_dependencies={"user": [user]}
    )
    return [user, policy, key, *(extra or [])]


def test_the_smtp_user_of_components_email_passes():
    assert check_stack("iam-access-key-smtp-only", smtp_graph()) == []
    assert check_stack("iam-access-key-smtp-only", smtp_graph(), ctx=DEV) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({**SEND, "Action": ["ses:SendRawEmail", "ses:SendEmail"]}, "allows 'ses:SendEmail' besides ses:SendRawEmail"),
        ({**SEND, "Action": "s3:*"}, "allows 's3:*' besides ses:SendRawEmail"),
        ({**SEND, "Resource": "*"}, "allows ses:SendRawEmail on every identity ('*'), not the stack's"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "uses NotAction/NotResource"),
    ],
    ids=["send-email", "s3", "every-identity", "not-action"],
)
def test_a_keyed_user_allowed_more_than_raw_email_on_its_identities_fails(statement, expected):
    [(message, at)] = check_stack("iam-access-key-smtp-only", smtp_graph(statement))
    assert message.startswith(f"the inline policy of a user with an access key: statement 0 {expected}.")
    assert "Remediation: use IAM roles (IRSA) for workloads" in message
    assert at is not None
    assert at.endswith("::email-smtp-send")


def test_a_deny_next_to_the_send_grant_is_fine():
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert check_stack("iam-access-key-smtp-only", smtp_graph(SEND, deny)) == []


@pytest.mark.parametrize(
    "grant",
    [
        ("aws:iam/userPolicyAttachment:UserPolicyAttachment", {"user": "eks-platform-prod-smtp", "policyArn": "x"}),
        ("aws:iam/userGroupMembership:UserGroupMembership", {"user": "eks-platform-prod-smtp", "groups": ["g"]}),
        ("aws:iam/userLoginProfile:UserLoginProfile", {"user": "eks-platform-prod-smtp"}),
    ],
    ids=["attachment", "group", "console-password"],
)
def test_a_keyed_user_with_other_grants_fails(grant):
    type_token, props = grant
    extra = resource(type_token, "grant", props)
    [(message, at)] = check_stack("iam-access-key-smtp-only", smtp_graph(extra=[extra]))
    assert message.startswith(
        f"IAM user 'eks-platform-prod-smtp' has an access key and a {type_token.rsplit(':')[-1]}."
    )
    assert at == extra.urn


def test_an_access_key_for_a_user_the_stack_does_not_declare_fails():
    key = resource(ACCESS_KEY, "admin-key", {"user": "admin"})
    [(message, at)] = check_stack("iam-access-key-smtp-only", [key])
    assert message.startswith("access key for IAM user 'admin', which the stack does not declare.")
    assert at == key.urn
    # Unknown during a preview: no verdict.
    assert check_stack("iam-access-key-smtp-only", [resource(ACCESS_KEY, "k", {"user": UNKNOWN})]) == []


def test_the_policy_follows_the_stacks_level():
    assert policy("iam-access-key-smtp-only", PROD).enforcement_level is EnforcementLevel.MANDATORY
    assert policy("iam-access-key-smtp-only", DEV).enforcement_level is EnforcementLevel.ADVISORY
