"""GuardDuty (detector create/adopt/none, who installs the agent) and email settings: defaults and refusals."""

import pytest

from components.limits import AWS_REGIONS, SES_REGIONS
from config import AgentManagement, DetectorMode, deprecation_warnings
from tests.config.test_settings import KEY, error_of, parse, stack_settings

BASE = {"region": "eu-west-1", "owner": "o", "costCenter": "c"}
DETECTOR_ID = "0123456789abcdef0123456789abcdef"


def guard(**guard_duty: object):
    return parse({**BASE, "guardDuty": guard_duty}).guard_duty


def guard_error(**guard_duty: object) -> str:
    return error_of({**BASE, "guardDuty": guard_duty})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_keep_their_detector_and_guardduty_managed_agent(stack):
    settings = parse(stack_settings(stack), stack).guard_duty
    assert settings.detector_mode is DetectorMode.CREATE
    assert settings.agent_management is AgentManagement.GUARDDUTY
    assert settings.adopted_detector_id is None


def test_the_default_creates_a_detector_and_lets_guardduty_manage_the_agent():
    settings = guard()
    assert (settings.detector_mode, settings.agent_management) == (DetectorMode.CREATE, AgentManagement.GUARDDUTY)


def test_adopt_takes_a_detector_id_and_the_deprecated_spelling_still_works():
    adopted = guard(detector="adopt", detectorId=DETECTOR_ID)
    assert (adopted.detector_mode, adopted.adopted_detector_id) == (DetectorMode.ADOPT, DETECTOR_ID)
    deprecated = guard(adoptDetectorId=DETECTOR_ID)
    assert (deprecated.detector_mode, deprecated.adopted_detector_id) == (DetectorMode.ADOPT, DETECTOR_ID)
    assert guard(detector="adopt", adoptDetectorId=DETECTOR_ID).adopted_detector_id == DETECTOR_ID
    assert deprecation_warnings(parse({**BASE, "guardDuty": {"adoptDetectorId": DETECTOR_ID}})) == [
        ".guardDuty.adoptDetectorId: deprecated; write `detector: adopt` and `detectorId` instead"
    ]
    assert deprecation_warnings(parse({**BASE, "guardDuty": {"detector": "adopt", "detectorId": DETECTOR_ID}})) == []


def test_a_central_security_account_defaults_to_the_stacks_agent():
    settings = guard(detector="none")
    assert (settings.detector_mode, settings.agent_management) == (DetectorMode.NONE, AgentManagement.STACK)
    # The central account's automated agent configuration installs it instead: the stack then installs nothing.
    assert guard(detector="none", agent="guardduty").agent_management is AgentManagement.GUARDDUTY
    assert guard(agent="stack").agent_management is AgentManagement.STACK


@pytest.mark.parametrize(
    ("guard_duty", "message"),
    [
        ({"detector": "adopt"}, "guardDuty.detectorId: detector: adopt needs the id of the account's existing"),
        ({"detectorId": DETECTOR_ID}, "guardDuty.detectorId: set while detector is create (the default)"),
        ({"detector": "none", "detectorId": DETECTOR_ID}, "guardDuty.detectorId: set while detector is none"),
        ({"detector": "create", "adoptDetectorId": DETECTOR_ID}, "guardDuty.adoptDetectorId: adopts a detector"),
        ({"detector": "none", "adoptDetectorId": DETECTOR_ID}, "guardDuty.adoptDetectorId: adopts a detector"),
        (
            {"detector": "adopt", "detectorId": DETECTOR_ID, "adoptDetectorId": DETECTOR_ID},
            "guardDuty.adoptDetectorId: deprecated spelling of detectorId",
        ),
        (
            {"detector": "none", "findingsExport": {"bucketArn": "arn:aws:s3:::findings", "kmsKeyArn": "x"}},
            "guardDuty.findingsExport",  # the KMS ARN is refused too; the field is named first either way
        ),
        ({"detector": "none", "findingPublishingFrequency": "ONE_HOUR"}, "guardDuty.findingPublishingFrequency: with"),
        ({"detector": "none", "runtimeMonitoring": True}, "guardDuty.runtimeMonitoring: with detector: none"),
        ({"agent": "stack", "runtimeMonitoring": False}, "guardDuty.agent: the stack installs the runtime agent"),
        ({"detector": "central"}, "guardDuty.detector: Input should be 'create', 'adopt' or 'none'"),
        ({"agent": "helm"}, "guardDuty.agent: Input should be 'guardduty' or 'stack'"),
    ],
)
def test_inconsistent_guardduty_settings_are_refused_naming_the_field(guard_duty, message):
    assert f"{KEY}.{message}" in guard_error(**guard_duty)


def test_detector_none_refuses_a_findings_export():
    export = {"bucketArn": "arn:aws:s3:::findings", "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc"}
    assert guard_error(detector="none", findingsExport=export) == (
        f"Pulumi.dev.yaml: {KEY}.guardDuty.findingsExport: with detector: none the delegated administrator manages "
        "the detector, its features and its findings export; remove it"
    )


# --- email ------------------------------------------------------------------------------------------------------------


def email(**settings: object):
    return parse({**BASE, "email": settings}).email


def test_email_is_off_by_default_and_the_stacks_have_none():
    assert parse(BASE).email is None
    assert parse(stack_settings("dev")).email is None
    assert parse(stack_settings("prod"), "prod").email is None


def test_email_defaults_to_identities_and_an_smtp_user_without_configuration_set():
    settings = email(domains=["example.com", "mail.example.org"], addresses=["Alerts+ops@example.com"])
    assert settings is not None
    assert settings.domains == ["example.com", "mail.example.org"]
    assert settings.addresses == ["Alerts+ops@example.com"]
    assert settings.smtp_user
    assert not settings.configuration_set


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "email.domains: email lists no domain and no address to send from"),
        ({"domains": ["Example.com"]}, "email.domains: not lowercase DNS domain names: 'Example.com'"),
        ({"domains": ["example"]}, "email.domains: not lowercase DNS domain names: 'example'"),
        ({"domains": ["-a.example.com"]}, "email.domains: not lowercase DNS domain names"),
        ({"domains": ["a.com", "a.com"]}, "email.domains: lists a domain twice"),
        ({"addresses": ["no-at-sign.example.com"]}, "email.addresses: not email addresses"),
        ({"addresses": ["a@b@example.com"]}, "email.addresses: not email addresses"),
        ({"addresses": [f"{'x' * 65}@example.com"]}, "email.addresses: not email addresses"),
        ({"addresses": ["a@example.com", "A@example.com"]}, "email.addresses: lists an address twice"),
        ({"domains": ["example.com"], "smtpUser": "yes"}, "email.smtpUser: Input should be a valid boolean"),
    ],
)
def test_bad_email_settings_are_refused_naming_the_field(settings, message):
    assert f"{KEY}.{message}" in error_of({**BASE, "email": settings})


def test_email_is_refused_where_ses_is_not_offered():
    message = error_of({**BASE, "region": "ap-east-1", "email": {"domains": ["example.com"]}})
    assert message == (
        f"Pulumi.dev.yaml: {KEY}.email: Amazon SES is not offered in ap-east-1 (components/limits.py SES_REGIONS)"
    )


def test_ses_regions_are_those_botocore_knows_an_ses_endpoint_in():
    botocore_session = pytest.importorskip("botocore.session")  # boto3 comes with parliament (dev group)
    session = botocore_session.get_session()
    known = {
        region
        for partition in ("aws", "aws-us-gov", "aws-cn")
        for service in ("ses", "sesv2")
        for region in session.get_available_regions(service, partition)
    }
    assert known & AWS_REGIONS == SES_REGIONS


def test_the_guardduty_data_endpoint_is_declared_once():
    from tests.config.test_settings import KEY, error_of, stack_settings

    raw = stack_settings("prod")
    raw["guardDuty"] = {"detector": "none", "agent": "stack"}
    raw["vpc"]["interfaceEndpoints"] = ["guardduty-data"]
    assert f"{KEY}.vpc.interfaceEndpoints: guardduty-data is the GuardDuty agent's endpoint" in error_of(raw, "prod")
