"""Email under mocks: SES identities with Easy DKIM, the configuration set, the SMTP user and its secret keys."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.context import AwsContext
from components.email import Email, EmailArgs, dkim_records, smtp_endpoint
from components.iam_documents import ses_smtp_send_policy
from components.naming import NamingContext
from tools.harness import MODES, SECRET_SIG_KEY, SECRET_SIG_VALUE, Mode, Plan, run_callable

ACCOUNT_ID = "123456789012"
NAMING = NamingContext("eks-platform", "test")
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/eks-platform-test-permissions-boundary"
ACCOUNT = AwsContext(account_id=ACCOUNT_ID, partition="aws", region="eu-west-1", tags={}, permissions_boundary=BOUNDARY)
IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
CONFIGURATION_SET = "aws:sesv2/configurationSet:ConfigurationSet"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"


def email_plan(mode: Mode, **changes: object) -> Plan:
    args = EmailArgs(naming=NAMING, account=ACCOUNT, **changes)  # type: ignore[arg-type]

    def body() -> None:
        provider = aws.Provider("aws", region="eu-west-1")
        mail = Email("email", args, pulumi.ResourceOptions(providers=[provider]))
        pulumi.export("dkim", mail.dkim_records)
        pulumi.export("endpoint", mail.smtp_endpoint)
        if mail.smtp_username is not None:
            pulumi.export("username", mail.smtp_username)
            pulumi.export("password", mail.smtp_password)

    return run_callable(body, mode=mode)


def is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return email_plan(request.param, domains=["example.com"], addresses=["alerts@example.org"], configuration_set=True)


def test_a_domain_gets_easy_dkim_and_an_address_none(plan):
    domain = plan.one(IDENTITY, "email-identity-example.com").inputs
    assert domain["emailIdentity"] == "example.com"
    assert domain["dkimSigningAttributes"] == {"nextSigningKeyLength": "RSA_2048_BIT"}
    address = plan.one(IDENTITY, "email-identity-alerts@example.org").inputs
    assert address["emailIdentity"] == "alerts@example.org"
    assert "dkimSigningAttributes" not in address


def test_the_configuration_set_requires_tls_and_the_identities_send_with_it(plan):
    registered = plan.one(CONFIGURATION_SET, "email-configuration-set")
    configuration_set = registered.inputs
    assert configuration_set["configurationSetName"] == "eks-platform-test-email"
    assert configuration_set["deliveryOptions"] == {"tlsPolicy": "REQUIRE"}
    assert configuration_set["reputationOptions"] == {"reputationMetricsEnabled": True}
    for identity in plan.by_type(IDENTITY):  # the set's output: the identities wait for it
        assert identity.inputs["configurationSetName"] == "eks-platform-test-email"
        assert identity.property_dependencies["configurationSetName"] == [registered.urn]


def test_the_smtp_user_carries_the_boundary_and_may_only_send_raw_email_from_the_identities(plan):
    user = plan.one(USER, "email-smtp-user").inputs
    assert user["name"] == "eks-platform-test-smtp"
    assert user["permissionsBoundary"] == BOUNDARY
    policy = plan.one(USER_POLICY, "email-smtp-send").inputs
    assert policy["user"] == "eks-platform-test-smtp"
    document = json.loads(policy["policy"])  # built from the settings: known in a preview too
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SmtpSendFromOwnIdentities",
                "Effect": "Allow",
                "Action": "ses:SendRawEmail",
                "Resource": [
                    f"arn:aws:ses:eu-west-1:{ACCOUNT_ID}:configuration-set/eks-platform-test-email",
                    f"arn:aws:ses:eu-west-1:{ACCOUNT_ID}:identity/alerts@example.org",
                    f"arn:aws:ses:eu-west-1:{ACCOUNT_ID}:identity/example.com",
                ],
            }
        ],
    }
    if plan.mode == "update":  # the ARNs the policy names are the identities' own
        identity_arns = {r.outputs["arn"] for r in plan.by_type(IDENTITY)}
        assert identity_arns <= set(document["Statement"][0]["Resource"])


def test_the_smtp_credentials_leave_only_as_secrets(plan):
    key = plan.one(ACCESS_KEY, "email-smtp-key")
    assert key.inputs["user"] == "eks-platform-test-smtp"
    assert {"secret", "sesSmtpPasswordV4"} <= set(key.additional_secret_outputs)  # the SDK's own marking
    assert "pgpKey" not in key.inputs
    assert is_secret(plan.outputs["username"])
    assert is_secret(plan.outputs["password"])
    if plan.mode == "update":
        assert plan.outputs["username"]["value"] == key.id
        assert plan.outputs["password"]["value"] == key.outputs["sesSmtpPasswordV4"]
        assert key.outputs["sesSmtpPasswordV4"] not in json.dumps(plan.redact(plan.to_json()))


def test_the_dkim_records_a_dns_owner_publishes(plan):
    assert plan.outputs["endpoint"] == "email-smtp.eu-west-1.amazonaws.com" == smtp_endpoint("eu-west-1")
    if plan.mode == "update":
        tokens = plan.one(IDENTITY, "email-identity-example.com").outputs["dkimSigningAttributes"]["tokens"]
        assert plan.outputs["dkim"] == {"example.com": dkim_records("example.com", tokens)}
        assert len(plan.outputs["dkim"]["example.com"]) == 3


def test_dkim_records_follow_the_ses_format():
    # SES API Reference, VerifyDomainDkim: token._domainkey.example.com CNAME token.dkim.amazonses.com.
    assert dkim_records("example.com", ["abc"]) == [
        {"name": "abc._domainkey.example.com", "type": "CNAME", "value": "abc.dkim.amazonses.com"}
    ]


@pytest.mark.parametrize("mode", MODES)
def test_identities_only_without_the_smtp_user(mode):
    plan = email_plan(mode, domains=["example.com"], smtp_user=False)
    assert plan.by_type(USER) == plan.by_type(ACCESS_KEY) == plan.by_type(USER_POLICY) == []
    assert plan.by_type(CONFIGURATION_SET) == []
    assert "configurationSetName" not in plan.one(IDENTITY, "email-identity-example.com").inputs
    assert "username" not in plan.outputs


def test_the_send_policy_without_a_configuration_set_names_the_identities_only():
    arn = f"arn:aws:ses:eu-west-1:{ACCOUNT_ID}:identity/example.com"
    assert ses_smtp_send_policy([arn])["Statement"][0]["Resource"] == [arn]


def test_an_email_without_identities_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        EmailArgs(naming=NAMING, account=ACCOUNT)


@pytest.mark.parametrize("mode", MODES)
def test_addresses_only_have_no_dkim_records_and_still_send(mode):
    # Output.all() without keywords answers a list: a dict of records built from it failed here before.
    plan = email_plan(mode, addresses=["alerts@example.org"])
    assert plan.outputs["dkim"] == {}
    policy = json.loads(plan.one(USER_POLICY, "email-smtp-send").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == [f"arn:aws:ses:eu-west-1:{ACCOUNT_ID}:identity/alerts@example.org"]
