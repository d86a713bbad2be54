"""The bootstrap project (state bucket, secrets keys, GitHub OIDC roles) under the same offline harness.

What the rendered policies allow is proven in test_isolation.py; this file holds the resources' shape in both
modes, the settings and the outputs.
"""

import copy
import json

import pytest
import yaml

from bootstrap.bootstrap_plan import (
    BOUNDED_ROLE_ACTIONS,
    MAX_ROLE_NAME_PATTERNS,
    META_CONTENT,
    permissions_boundary_policy,
    platform_role_globs,
    runner_problems,
)
from components.iam_documents import MANAGED_POLICY_MAX_CHARS, compact_length
from tools.harness import MODES, REPO_ROOT, UNKNOWN, ConfigurationError, Plan, run_program

PROJECT_DIR = REPO_ROOT / "bootstrap"
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ENVIRONMENTS = ("dev", "prod")
REPOSITORY = "example-org/eks-platform"
SETTINGS = yaml.safe_load((PROJECT_DIR / "Pulumi.admin.yaml").read_text())["config"]["eks-platform-bootstrap:settings"]


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_program("admin", request.param, project_dir=PROJECT_DIR)


@pytest.fixture(scope="module")
def update() -> Plan:
    return run_program("admin", "update", project_dir=PROJECT_DIR)


def with_settings(**changes) -> dict:
    settings = copy.deepcopy(SETTINGS)
    settings.update(changes)
    return settings


def run_with(settings: dict, mode="update") -> Plan:
    return run_program("admin", mode, project_dir=PROJECT_DIR, config_overrides={"settings": settings})


def refused(settings: dict) -> str:
    with pytest.raises(ConfigurationError) as caught:
        run_with(settings)
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack", "pulumi:providers:aws"}
    return str(caught.value)


# --- bucket ---------------------------------------------------------------------------------------------------------


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(plan):
    bucket = plan.one("aws:s3/bucket:Bucket", "state")
    assert bucket.protect
    assert plan.one("aws:s3/bucketVersioning:BucketVersioning", "state-versioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    (rule,) = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "state-encryption"
    ).inputs["rules"]
    key = plan.one(KEY, "state-key")
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": plan.seen(key, "arn"),
    }
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "state-public-access").inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    # The bucket policy names no created resource: it is known in a preview too.
    policy = plan.one("aws:s3/bucketPolicy:BucketPolicy", "state-policy")
    assert [alias["spec"]["name"] for alias in policy.aliases] == ["state-tls-only"]  # the old name: no replacement
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements[0]["Effect"] == "Deny"
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len({s["Sid"] for s in statements}) == len(statements)


def test_the_backend_metadata_is_written_by_the_bootstrap(plan):
    # pulumi/pulumi pkg/backend/diy/meta.go: the CLI writes .pulumi/meta.yaml into an empty bucket at login.
    meta = plan.one("aws:s3/bucketObjectv2:BucketObjectv2", "state-meta").inputs
    assert meta["key"] == ".pulumi/meta.yaml"
    assert meta["content"] == META_CONTENT == "version: 1\n"
    assert meta["serverSideEncryption"] == "aws:kms"
    encryption = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "state-encryption"
    )
    assert encryption.urn in plan.one("aws:s3/bucketObjectv2:BucketObjectv2", "state-meta").dependencies


# --- keys -----------------------------------------------------------------------------------------------------------


def test_one_secrets_key_per_environment_rotates_and_is_protected(plan):
    names = sorted(r.name for r in plan.by_type(KEY))
    assert names == ["secrets-key-dev", "secrets-key-prod", "state-key"]
    roles = [r.urn for r in plan.by_type(ROLE)]
    for key in plan.by_type(KEY):
        assert key.inputs["enableKeyRotation"] is True
        assert key.protect
        assert set(roles) <= set(key.dependencies)  # KMS refuses a key policy naming a role that does not exist
    aliases = {r.name: r.inputs["name"] for r in plan.by_type("aws:kms/alias:Alias")}
    assert aliases == {
        "secrets-key-dev-alias": "alias/eks-platform-dev-pulumi-secrets",
        "secrets-key-prod-alias": "alias/eks-platform-prod-pulumi-secrets",
        "state-key-alias": "alias/eks-platform-pulumi-state",
    }
    assert plan.outputs["secretsProviders"] == {
        env: f"awskms://alias/eks-platform-{env}-pulumi-secrets?region=us-west-2" for env in ENVIRONMENTS
    }
    assert plan.outputs["stateBackend"] == "s3://example-org-eks-platform-state"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_policies_name_the_environments_roles_and_never_the_account(plan, env):
    policy = json.loads(plan.one(KEY, f"secrets-key-{env}").inputs["policy"])  # known in a preview too
    principals = {s["Sid"]: s["Principal"]["AWS"] for s in policy["Statement"]}
    assert "arn:aws:iam::123456789012:root" not in json.dumps(policy)
    deploy = f"arn:aws:iam::123456789012:role/eks-platform-github-deploy-{env}"
    preview = f"arn:aws:iam::123456789012:role/eks-platform-github-preview-{env}"
    operators = ["arn:aws:iam::123456789012:role/platform-admin"] if env == "dev" else []
    assert principals["StackSecrets"] == [deploy, preview, *operators]
    assert principals["KeyAdministration"] == [
        "arn:aws:iam::123456789012:role/platform-admin",
        "arn:aws:iam::123456789012:role/eks-platform-bootstrap-github-deploy-admin",  # the runner
    ]
    assert plan.outputs["keyAdministratorArns"] == principals["KeyAdministration"]


# --- roles ----------------------------------------------------------------------------------------------------------


def trust_conditions(plan: Plan, name: str) -> dict | None:
    """The trust's conditions; None in a preview, where the trust names the OIDC provider's unknown ARN."""
    role = plan.one(ROLE, name)
    if plan.mode == "preview":
        assert role.inputs["assumeRolePolicy"] == UNKNOWN
        return None
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
    return statement["Condition"]


def test_preview_roles_are_per_environment_and_read_only(plan):
    assert trust_conditions(plan, "preview-dev-role") in (
        None,
        {
            "StringEquals": {
                AUD: "sts.amazonaws.com",
                SUB: [f"repo:{REPOSITORY}:environment:dev-preview", f"repo:{REPOSITORY}:pull_request"],
            }
        },
    )
    assert trust_conditions(plan, "preview-prod-role") in (
        None,
        {"StringEquals": {AUD: "sts.amazonaws.com", SUB: f"repo:{REPOSITORY}:environment:prod-preview"}},
    )
    for env in ENVIRONMENTS:
        assert plan.one(ROLE, f"preview-{env}-role").inputs["name"] == f"eks-platform-github-preview-{env}"
        attached = {
            r.inputs["policyArn"]
            for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if r.name.startswith(f"preview-{env}-")
        }
        assert attached == {"arn:aws:iam::aws:policy/ReadOnlyAccess"}
        state = json.loads(plan.one(ROLE_POLICY, f"preview-{env}-state").inputs["policy"])
        write = next(s for s in state["Statement"] if s["Sid"] == "WriteState")
        assert write["Resource"] == [
            f"arn:aws:s3:::example-org-eks-platform-state/.pulumi/locks/organization/eks-platform/{env}/*"
        ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_deploys_with_its_own_role(plan, env):
    conditions = trust_conditions(plan, f"deploy-{env}-role")
    assert conditions is None or conditions["StringEquals"][SUB] == f"repo:{REPOSITORY}:environment:{env}"
    assert plan.one(ROLE, f"deploy-{env}-role").inputs["name"] == f"eks-platform-github-deploy-{env}"
    iam = json.loads(plan.one(ROLE_POLICY, f"deploy-{env}-platform-iam").inputs["policy"])  # known in a preview
    owned = iam["Statement"][0]["Resource"]
    assert f"arn:aws:iam::123456789012:role/eks-platform-{env}-*" in owned
    assert not any(resource.endswith(":role/*") for resource in owned)
    assert ("arn:aws:iam::123456789012:role/eks-*-dev" in owned) is (env == "dev")  # Pulumi.dev.yaml's pattern
    denied = next(s for s in iam["Statement"] if s["Sid"] == "DenyCiChanges")["Resource"]
    assert "arn:aws:iam::123456789012:role/eks-platform-github-*" in denied


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_permissions_boundary_per_environment(plan, env):
    boundary = plan.one(POLICY, f"permissions-boundary-{env}")
    assert boundary.inputs["name"] == f"eks-platform-{env}-permissions-boundary"
    assert boundary.inputs["path"] == "/"  # the ARN the platform sets: policy/eks-platform-<env>-permissions-boundary
    assert len(plan.by_type(POLICY)) == len(ENVIRONMENTS)
    if plan.mode == "preview":
        assert boundary.inputs["policy"] == UNKNOWN  # it names the keys' ARNs
    else:
        assert plan.outputs["permissionsBoundaryArns"][env] == (
            f"arn:aws:iam::123456789012:policy/eks-platform-{env}-permissions-boundary"
        )
    # The deploy role's platform IAM (known in a preview) requires that very boundary.
    iam = json.loads(plan.one(ROLE_POLICY, f"deploy-{env}-platform-iam").inputs["policy"])
    bounded = next(s for s in iam["Statement"] if s["Sid"] == "ManageOwnRolesWithBoundary")
    assert bounded["Action"] == BOUNDED_ROLE_ACTIONS
    assert bounded["Condition"] == {
        "StringEquals": {
            "iam:PermissionsBoundary": f"arn:aws:iam::123456789012:policy/eks-platform-{env}-permissions-boundary"
        }
    }
    unconditioned = {
        a for s in iam["Statement"] if s["Effect"] == "Allow" and "Condition" not in s for a in s["Action"]
    }
    assert not unconditioned & set(BOUNDED_ROLE_ACTIONS)


def test_the_largest_boundary_fits_a_managed_policy():
    # The longest names settings allow: a 63-character project, a pattern glob of 64, six environments' keys, a
    # 100-character clusterName and the most 64-character roleNamePatterns settings allow.
    project, env = "p" * 63, "e" * 20
    document = permissions_boundary_policy(
        account_id="123456789012",
        partition="aws-us-gov",
        project=project,
        environment=env,
        role_globs=platform_role_globs(
            project=project,
            environment=env,
            service_role_name_pattern="x" * 55 + "-{env}",
            cluster_name="c" * 100,
            role_name_patterns=[f"{index:02}" + "n" * 62 for index in range(MAX_ROLE_NAME_PATTERNS)],
        ),
        bucket_arn="arn:aws-us-gov:s3:::" + "b" * 63,
        key_arns=[f"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-{'0' * 32}"] * 7,
        alias_arns=[f"arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/{project}-{env}-pulumi-secrets"] * 7,
    )
    assert compact_length(document) <= MANAGED_POLICY_MAX_CHARS


def test_policies_without_created_resources_are_known_in_a_preview(update):
    preview = run_program("admin", "preview", project_dir=PROJECT_DIR)
    for type_token, names in [
        (ROLE_POLICY, [f"{kind}-{env}-state" for kind in ("deploy", "preview") for env in ENVIRONMENTS]),
        (ROLE_POLICY, [f"deploy-{env}-platform-iam" for env in ENVIRONMENTS]),
        (KEY, ["state-key", *[f"secrets-key-{env}" for env in ENVIRONMENTS]]),
        ("aws:s3/bucketPolicy:BucketPolicy", ["state-policy"]),
    ]:
        for name in names:
            assert preview.one(type_token, name).inputs["policy"] == update.one(type_token, name).inputs["policy"]
    # The secrets policies name the keys' ARNs, which a preview does not know yet.
    assert preview.one(ROLE_POLICY, "deploy-dev-secrets").inputs["policy"] == UNKNOWN


def test_github_oidc_provider(plan):
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider.protect


def test_outputs_are_what_the_github_environments_need(update):
    environments = update.outputs["githubEnvironments"]
    assert sorted(environments) == ["dev", "dev-preview", "prod", "prod-preview"]
    assert environments["prod"] == {
        "AWS_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/eks-platform-github-deploy-prod",
        "AWS_REGION": "us-west-2",
        "PULUMI_BACKEND_URL": "s3://example-org-eks-platform-state",
    }
    assert environments["prod-preview"]["AWS_PREVIEW_ROLE_ARN"] == (
        "arn:aws:iam::123456789012:role/eks-platform-github-preview-prod"
    )
    assert update.outputs["pullRequestPreviewRoleArns"] == {
        "dev": "arn:aws:iam::123456789012:role/eks-platform-github-preview-dev"
    }


# --- settings -------------------------------------------------------------------------------------------------------


def test_bad_settings_are_one_line():
    message = refused(with_settings(githubRepository="not a repository"))
    assert message.startswith("Pulumi.admin.yaml: eks-platform-bootstrap:settings.githubRepository: ")
    assert "\n" not in message


def test_environments_are_a_mapping_now():
    message = refused(with_settings(environments=["dev", "prod"]))
    assert message.startswith("Pulumi.admin.yaml: eks-platform-bootstrap:settings.environments: ")
    assert "a mapping of environment name to its settings" in message


def test_pull_request_previews_default_to_off():
    plan = run_with(with_settings(environments={"dev": None, "prod": {}}))
    (statement,) = json.loads(plan.one(ROLE, "preview-dev-role").inputs["assumeRolePolicy"])["Statement"]
    assert statement["Condition"]["StringEquals"][SUB] == f"repo:{REPOSITORY}:environment:dev-preview"
    assert plan.outputs["pullRequestPreviewRoleArns"] == {}


@pytest.mark.parametrize(
    ("environments", "expected"),
    [
        ({"Dev": {}}, ".environments.Dev: an environment name is a stack name"),
        ({"dev_1": {}}, ".environments.dev_1: an environment name is a stack name"),
        ({"github": {}}, ".environments.github: eks-platform-github-* would name the CI roles"),
        ({"github-x": {}}, ".environments.github-x: eks-platform-github-x-* would name the CI roles"),
        ({"dev": {}, "dev-eu": {}}, ".environments.dev: its role names would also match environment dev-eu's"),
        ({"dev": {}, "eu-dev": {}}, ".environments.dev: its role names would also match environment eu-dev's"),
        (
            {"a" * 40: {}},
            f".environments.{'a' * 40}: the deploy role eks-platform-github-deploy-{'a' * 40} is 67 characters long",
        ),
        ({"dev": {"pullRequestPreview": True}}, ".environments.dev.pullRequestPreview: Extra inputs"),
        ({"dev": {"serviceRoleNamePattern": "{service}"}}, ".environments.dev.serviceRoleNamePattern: "),
        ({"dev": {"operatorArns": ["platform-admin"]}}, ".environments.dev.operatorArns: "),
        ({}, ".environments: Dictionary should have at least 1 item"),
    ],
    ids=[
        "uppercase",
        "underscore",
        "github",
        "github-prefix",
        "prefix",
        "suffix",
        "too-long",
        "typo",
        "glob",
        "operator",
        "empty",
    ],
)
def test_environment_names_and_settings_are_checked(environments, expected):
    assert f"eks-platform-bootstrap:settings{expected}" in refused(with_settings(environments=environments))


@pytest.mark.parametrize(
    ("admins", "expected"),
    [
        ([], "keyAdministratorArns: List should have at least 1 item"),
        (["arn:aws:iam::123456789012:user/alice"], "keyAdministratorArns: not IAM role ARNs"),
        (["arn:aws:iam::123456789012:root"], "keyAdministratorArns: not IAM role ARNs"),
        (
            ["arn:aws:iam::123456789012:role/eks-platform-github-deploy-dev"],
            "keyAdministratorArns: arn:aws:iam::123456789012:role/eks-platform-github-deploy-dev: a CI role",
        ),
        (["arn:aws:iam::444455556666:role/platform-admin"], "is not in the caller's account 123456789012"),
    ],
    ids=["none", "user", "root", "ci-role", "other-account"],
)
def test_key_administrators_are_checked(admins, expected):
    assert expected in refused(with_settings(keyAdministratorArns=admins))


def test_key_administrators_are_required():
    settings = with_settings()
    del settings["keyAdministratorArns"]
    assert "keyAdministratorArns: Field required" in refused(settings)


def test_the_bootstrap_does_not_run_as_a_role_it_manages():
    # The harness's caller is <bootstrap project>-github-deploy-admin: make that a CI role of the settings' project.
    message = refused(with_settings(project="eks-platform-bootstrap"))
    assert "cannot run as one of the CI roles it manages" in message
    assert runner_problems("arn:aws:iam::123456789012:root", "eks-platform")[0].startswith("run the bootstrap as")
    assert runner_problems("arn:aws:iam::123456789012:role/platform-admin", "eks-platform") == []


def test_one_bootstrap_stack_per_account():
    environments: dict[str, dict] = {"dev": {"accountId": "111122223333"}, "prod": {"accountId": "444455556666"}}
    message = refused(with_settings(environments=environments))
    assert "settings.environments: one bootstrap stack per account (dev 111122223333, prod 444455556666)" in message


def test_an_account_per_stack_file_pins_the_provider():
    admin = "arn:aws:iam::444455556666:role/platform-admin"
    settings = with_settings(environments={"prod": {"accountId": "444455556666"}}, keyAdministratorArns=[admin])
    plan = run_with(settings)
    assert json.loads(plan.one("pulumi:providers:aws", "aws").inputs["allowedAccountIds"]) == ["444455556666"]
    assert plan.outputs["deployRoleArns"] == {"prod": "arn:aws:iam::444455556666:role/eks-platform-github-deploy-prod"}
    assert [r.name for r in plan.by_type(KEY)] == ["secrets-key-prod", "state-key"]


def test_too_many_environments_for_one_bucket_policy():
    environments: dict[str, dict] = {f"env{index}": {} for index in range(12)}
    message = refused(with_settings(environments=environments))
    assert "the state bucket policy for 12 environments is" in message
    assert "over S3's 20480" in message
