"""The bootstrap project (state bucket, secrets key, GitHub OIDC roles) under the same offline harness."""

import json

import pytest

from tools.harness import MODES, REPO_ROOT, UNKNOWN, ConfigurationError, Plan, run_program

PROJECT_DIR = REPO_ROOT / "bootstrap"
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_program("admin", request.param, project_dir=PROJECT_DIR)


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(plan):
    bucket = plan.one("aws:s3/bucket:Bucket", "state")
    assert bucket.protect
    assert plan.one("aws:s3/bucketVersioning:BucketVersioning", "state-versioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    (rule,) = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "state-encryption"
    ).inputs["rules"]
    key = plan.one("aws:kms/key:Key", "secrets-key")
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "state-public-access").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "state-tls-only").inputs["policy"]
    if plan.mode == "update":
        statements = json.loads(policy)["Statement"]
        assert statements[0]["Effect"] == "Deny"
        assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_secrets_key_rotates_and_is_protected(plan):
    key = plan.one("aws:kms/key:Key", "secrets-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect
    assert plan.outputs["secretsProvider"] == "awskms://alias/eks-platform-pulumi-secrets?region=us-west-2"
    assert plan.outputs["stateBackend"] == "s3://example-org-eks-platform-state"


def trust_conditions(plan: Plan, name: str) -> dict | None:
    """The trust's conditions; None in a preview, where the trust names the OIDC provider's unknown ARN."""
    role = plan.one("aws:iam/role:Role", name)
    if plan.mode == "preview":
        assert role.inputs["assumeRolePolicy"] == UNKNOWN
        return None
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    return statement["Condition"]


def test_pull_requests_get_a_read_only_role(plan):
    conditions = trust_conditions(plan, "preview-role")
    assert conditions is None or conditions == (
        {"StringEquals": {AUD: "sts.amazonaws.com", SUB: "repo:example-org/eks-platform:pull_request"}}
    )
    attached = {
        r.inputs["policyArn"]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("preview-")
    }
    assert attached == {"arn:aws:iam::aws:policy/ReadOnlyAccess"}
    if plan.mode == "update":
        state = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "preview-state").inputs["policy"])
        write = next(s for s in state["Statement"] if s["Sid"] == "WriteState")
        assert write["Resource"].endswith("/.pulumi/locks/*")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_environment_deploys_with_its_own_role(plan, environment):
    conditions = trust_conditions(plan, f"deploy-{environment}-role")
    assert (
        conditions is None
        or conditions["StringEquals"][SUB] == f"repo:example-org/eks-platform:environment:{environment}"
    )
    iam = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", f"deploy-{environment}-platform-iam").inputs["policy"])
    owned = iam["Statement"][0]["Resource"]
    assert f"arn:aws:iam::123456789012:role/eks-platform-{environment}*" in owned
    assert not any(resource.endswith(":role/*") for resource in owned)


def test_github_oidc_provider(plan):
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider.protect


def test_bad_settings_are_one_line():
    settings = {
        "region": "us-west-2",
        "owner": "o",
        "costCenter": "c",
        "stateBucketName": "b-1",
        "githubRepository": "not a repository",
        "environments": ["dev"],
    }
    with pytest.raises(ConfigurationError) as caught:
        run_program("admin", project_dir=PROJECT_DIR, config_overrides={"settings": settings})
    assert str(caught.value).startswith("Pulumi.admin.yaml: eks-platform-bootstrap:settings.githubRepository: ")
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}
