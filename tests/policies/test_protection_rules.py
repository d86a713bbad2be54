"""Protection policy: stateful resources of production stacks carry protect=True."""

import pytest
from pulumi_policy import EnforcementLevel

from tests.policies.support import DEV, check, policy

STATEFUL = [
    "aws:eks/cluster:Cluster",
    "aws:kms/key:Key",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:guardduty/detector:Detector",
]


@pytest.mark.parametrize("type_token", STATEFUL)
def test_protected_stateful_resources_pass_and_unprotected_fail_in_prod(type_token):
    assert check("stateful-resources-protected", type_token, {}, protect=True) == []
    [message] = check("stateful-resources-protected", type_token, {}, protect=False)
    assert message.startswith("this stateful resource of a production stack is not protected.")
    assert "Remediation: pass opts=ResourceOptions(protect=True)" in message


def test_other_types_and_other_stacks_are_not_checked():
    assert check("stateful-resources-protected", "aws:ec2/vpc:Vpc", {}) == []
    assert check("stateful-resources-protected", STATEFUL[0], {}, ctx=DEV) == []
    assert policy("stateful-resources-protected", DEV).enforcement_level == EnforcementLevel.ADVISORY
    assert policy("stateful-resources-protected").enforcement_level == EnforcementLevel.MANDATORY


def test_the_types_are_configurable():
    config = {"types": ["aws:ec2/vpc:Vpc"]}
    assert check("stateful-resources-protected", "aws:ec2/vpc:Vpc", {}, config=config)
    assert check("stateful-resources-protected", STATEFUL[0], {}, config=config) == []
