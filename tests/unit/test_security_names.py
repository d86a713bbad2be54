"""Names of the email and GuardDuty resources: SMTP user (IAM, 64), configuration set (SES, 64), the endpoint."""

import pytest

from components.guard_duty import agent_endpoint_service_name
from components.limits import MAX_LENGTH, name_problem
from components.naming import NamingContext

LONG = NamingContext("a-very-long-project-name-for-a-platform", "staging-eu-central-and-then-some")


def test_the_smtp_user_is_project_stack_smtp_and_fits_iams_64_characters():
    assert NamingContext("eks-platform", "dev").platform_user("smtp") == "eks-platform-dev-smtp"
    long = LONG.platform_user("smtp")
    assert len(long) == MAX_LENGTH["iam_user"] == 64
    assert long.startswith("a-very-long-project-name-for-a-platform-staging-")  # the bootstrap's user glob holds
    assert name_problem(long, "iam_user") is None


def test_only_the_platforms_own_users_are_named():
    with pytest.raises(ValueError, match="not one of the platform users"):
        NamingContext("eks-platform", "dev").platform_user("admin")


@pytest.mark.parametrize(
    ("name", "kind", "problem"),
    [
        ("u" * 65, "iam_user", "is 65 characters long, over the limit of 64"),
        ("smtp user", "iam_user", "is not a valid IAM user name"),
        ("s" * 65, "ses_configuration_set", "is 65 characters long, over the limit of 64"),
        ("email.set", "ses_configuration_set", "is not a valid SES configuration set name"),
    ],
)
def test_iam_user_and_configuration_set_names_follow_the_service_rules(name, kind, problem):
    found = name_problem(name, kind)
    assert found is not None
    assert found.startswith(problem)


def test_the_configuration_set_name_fits_and_is_valid_for_long_stacks():
    name = LONG.name("email", "ses_configuration_set")
    assert len(name) <= 64
    assert name_problem(name, "ses_configuration_set") is None


def test_the_agent_endpoint_is_the_regions_guardduty_data_service():
    # GuardDuty User Guide, "Creating an Amazon VPC endpoint manually": com.amazonaws.<region>.guardduty-data.
    assert agent_endpoint_service_name("eu-west-1") == "com.amazonaws.eu-west-1.guardduty-data"
