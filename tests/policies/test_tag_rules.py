"""Tag policies: required tags on taggable AWS resources (provider defaults count), and on what nodes launch."""

import pytest
from pulumi_policy import EnforcementLevel

from components.tagging import REQUIRED_TAG_KEYS, required_tags
from policies.tag_rules import taggable_types
from tests.policies.support import DEV, PROD, UNKNOWN, aws_provider, check

VPC = "aws:ec2/vpc:Vpc"
TAGS = required_tags(project="eks-platform", environment="prod", owner="platform-team", cost_center="CC-1")


def test_the_provider_default_tags_satisfy_a_taggable_resource():
    assert (
        check("aws-required-tags", VPC, {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "x"}}, provider=aws_provider())
        == []
    )


def test_a_missing_cost_center_fails():
    provider = aws_provider({k: v for k, v in TAGS.items() if k != "CostCenter"})
    [message] = check("aws-required-tags", VPC, {"cidrBlock": "10.0.0.0/16"}, provider=provider)
    assert message.startswith("missing or empty required tags: CostCenter.")
    assert "Remediation: create the resource through the stack's AWS provider" in message


def test_explicit_tags_complete_the_defaults_and_blank_values_count_as_missing():
    provider = aws_provider({k: v for k, v in TAGS.items() if k != "Owner"})
    assert check("aws-required-tags", VPC, {"tags": {"Owner": "team-a"}}, provider=provider) == []
    [message] = check("aws-required-tags", VPC, {"tags": {"Owner": "  "}}, provider=provider)
    assert "missing or empty required tags: Owner" in message


def test_environment_must_be_the_stack():
    [message] = check("aws-required-tags", VPC, {}, provider=aws_provider(), ctx=DEV)
    assert "tag Environment='prod' does not match the stack 'dev'" in message


def test_computed_tags_all_counts_without_a_provider():
    assert check("aws-required-tags", VPC, {"tagsAll": TAGS}) == []
    [message] = check("aws-required-tags", VPC, {"tags": {"Name": "x"}})
    assert f"missing or empty required tags: {', '.join(REQUIRED_TAG_KEYS)}" in message


def test_untaggable_types_and_unknown_tags_are_skipped():
    assert "aws:iam/rolePolicyAttachment:RolePolicyAttachment" not in taggable_types()
    assert check("aws-required-tags", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", {}) == []
    assert check("aws-required-tags", VPC, {"tags": UNKNOWN}, provider=aws_provider()) == []
    assert check("aws-required-tags", "kubernetes:core/v1:Namespace", {}) == []


def test_required_keys_are_configurable():
    config = {"requiredKeys": ["Project", "DataClass"]}
    [message] = check("aws-required-tags", VPC, {}, provider=aws_provider(), config=config)
    assert "missing or empty required tags: DataClass" in message


# --- launched-resources-tagged -----------------------------------------------------------------------------

LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def launch_template(*kinds: str) -> dict:
    return {"tagSpecifications": [{"resourceType": kind, "tags": {**TAGS, "Name": "n"}} for kind in kinds]}


def test_launch_template_tagging_instances_and_volumes_passes():
    assert check("launched-resources-tagged", LT, launch_template("instance", "volume", "network-interface")) == []


def test_launch_template_without_volume_tags_fails():
    [message] = check("launched-resources-tagged", LT, launch_template("instance"))
    assert message.startswith(f"volume: missing or empty required tags: {', '.join(REQUIRED_TAG_KEYS)}.")
    assert "provider default_tags never reach launched instances" in message


def test_ec2_node_class_tags_are_checked():
    assert check("launched-resources-tagged", NODE_CLASS, {"spec": {"tags": TAGS}}) == []
    [message] = check("launched-resources-tagged", NODE_CLASS, {"spec": {"tags": {**TAGS, "Environment": "dev"}}})
    assert message.startswith("spec.tags: tag Environment='dev' does not match the stack 'prod'")


@pytest.mark.parametrize("ctx", [DEV, PROD], ids=["dev", "prod"])
def test_tag_policies_are_mandatory_on_every_stack(ctx):
    from tests.policies.support import policy

    for name in ("aws-required-tags", "launched-resources-tagged"):
        assert policy(name, ctx).enforcement_level == EnforcementLevel.MANDATORY
