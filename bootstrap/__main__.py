"""Account bootstrap: the S3 state bucket, the KMS key of the secrets provider, GitHub OIDC deploy roles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
from pydantic import ValidationError

# The naming and tagging modules of the platform are the one source of truth: import them from the repo root.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from bootstrap.bootstrap_plan import (
    GITHUB_AUDIENCE,
    GITHUB_OIDC_URL,
    BootstrapSettings,
    github_trust,
    platform_iam_policy,
    state_access_policy,
    tls_only_bucket_policy,
)
from components.limits import MAX_LENGTH
from components.naming import fit
from components.tagging import required_tags
from config import format_error

project, stack = pulumi.get_project(), pulumi.get_stack()
try:
    settings = BootstrapSettings.model_validate(pulumi.Config().require_object("settings"))
except ValidationError as err:
    raise pulumi.RunError(format_error(err, stack_file=f"Pulumi.{stack}.yaml", key=f"{project}:settings")) from None

tags = required_tags(project=project, environment=stack, owner=settings.owner, cost_center=settings.cost_center)
provider = aws.Provider("aws", region=settings.region, default_tags={"tags": tags})
on_aws = pulumi.ResourceOptions(provider=provider)
stateful = pulumi.ResourceOptions(provider=provider, protect=True)
invoke = pulumi.InvokeOptions(provider=provider)
account_id = aws.get_caller_identity(opts=invoke).account_id
partition = aws.get_partition(opts=invoke).partition

# --- secrets provider key ---------------------------------------------------------------------------
key = aws.kms.Key(
    "secrets-key",
    description="Pulumi secrets provider of the eks-platform stacks",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    ),
    opts=stateful,
)
alias = aws.kms.Alias(
    "secrets-key-alias", name=f"alias/{settings.project}-pulumi-secrets", target_key_id=key.key_id, opts=on_aws
)

# --- state bucket -----------------------------------------------------------------------------------
bucket = aws.s3.Bucket("state", bucket=settings.state_bucket_name, opts=stateful)
aws.s3.BucketOwnershipControls(
    "state-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=on_aws
)
aws.s3.BucketPublicAccessBlock(
    "state-public-access",
    bucket=bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
    opts=on_aws,
)
aws.s3.BucketVersioning(
    "state-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=on_aws
)
aws.s3.BucketServerSideEncryptionConfiguration(
    "state-encryption",
    bucket=bucket.id,
    rules=[
        {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
            "bucket_key_enabled": True,
        }
    ],
    opts=on_aws,
)
aws.s3.BucketLifecycleConfiguration(
    "state-lifecycle",
    bucket=bucket.id,
    rules=[
        {
            "id": "expire-old-state-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": settings.noncurrent_version_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    ],
    opts=on_aws,
)
aws.s3.BucketPolicy(
    "state-tls-only",
    bucket=bucket.id,
    policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
    opts=on_aws,
)

# --- GitHub Actions deploy roles ----------------------------------------------------------------------
if settings.create_github_oidc_provider:
    github = aws.iam.OpenIdConnectProvider(
        "github-oidc", url=GITHUB_OIDC_URL, client_id_lists=[GITHUB_AUDIENCE], opts=stateful
    )
    github_arn: pulumi.Output[str] = github.arn
else:
    github_arn = pulumi.Output.from_input(
        f"arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_URL.removeprefix('https://')}"
    )


def deploy_role(role: str, subject: str, *, managed: list[str], read_only_state: bool) -> aws.iam.Role:
    """A role GitHub Actions assumes for ``subject`` (``pull_request`` or ``environment:<env>``)."""
    created = aws.iam.Role(
        f"{role}-role",
        name=fit(f"{settings.project}-github-{role}", MAX_LENGTH["iam_role"]),
        assume_role_policy=github_arn.apply(
            lambda arn: json.dumps(
                github_trust(provider_arn=arn, repository=settings.github_repository, subject=subject)
            )
        ),
        max_session_duration=3600,
        opts=on_aws,
    )
    for policy in managed:
        aws.iam.RolePolicyAttachment(
            f"{role}-{policy}", role=created.name, policy_arn=f"arn:{partition}:iam::aws:policy/{policy}", opts=on_aws
        )
    aws.iam.RolePolicy(
        f"{role}-state",
        role=created.id,
        policy=pulumi.Output.all(bucket.arn, key.arn).apply(
            lambda arns: json.dumps(
                state_access_policy(bucket_arn=arns[0], key_arn=arns[1], read_only_state=read_only_state)
            )
        ),
        opts=on_aws,
    )
    return created


preview = deploy_role("preview", "pull_request", managed=["ReadOnlyAccess"], read_only_state=True)
deployers = {}
for environment in settings.environments:
    deployers[environment] = deploy_role(
        f"deploy-{environment}", f"environment:{environment}", managed=["PowerUserAccess"], read_only_state=False
    )
    aws.iam.RolePolicy(
        f"deploy-{environment}-platform-iam",
        role=deployers[environment].id,
        policy=json.dumps(
            platform_iam_policy(
                account_id=account_id, partition=partition, project=settings.project, environment=environment
            )
        ),
        opts=on_aws,
    )

pulumi.export("stateBackend", bucket.bucket.apply(lambda name: f"s3://{name}"))
pulumi.export("secretsProvider", alias.name.apply(lambda name: f"awskms://{name}?region={settings.region}"))
pulumi.export("previewRoleArn", preview.arn)
pulumi.export("deployRoleArns", {env: role.arn for env, role in deployers.items()})
