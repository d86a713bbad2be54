"""Account bootstrap: the S3 state bucket, per environment a secrets key, GitHub OIDC roles and a permissions boundary.

See docs/bootstrap.md: what each role may do, how the bootstrap's own state moves into the bucket, and the
cross-account layout (one bootstrap stack per account).
"""

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
    BUCKET_POLICY_MAX_BYTES,
    GITHUB_AUDIENCE,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    META_CONTENT,
    META_KEY,
    BootstrapSettings,
    CiRole,
    Document,
    Principals,
    StateObjects,
    ci_role_name,
    ci_secrets_policy,
    ci_state_policy,
    ci_subjects,
    environment_role_globs,
    github_trust,
    permissions_boundary_name,
    permissions_boundary_policy,
    platform_iam_policy,
    policy_size,
    role_glob_problems,
    runner_problems,
    secrets_alias,
    secrets_key_policy,
    secrets_provider_url,
    settings_problems,
    state_bucket_policy,
    state_key_alias,
    state_key_policy,
)
from components.tagging import required_tags
from config import format_error

project, stack = pulumi.get_project(), pulumi.get_stack()
stack_file = f"Pulumi.{stack}.yaml"
try:
    settings = BootstrapSettings.model_validate(pulumi.Config().require_object("settings"))
except ValidationError as err:
    raise pulumi.RunError(format_error(err, stack_file=stack_file, key=f"{project}:settings")) from None
where = f"{stack_file}: {project}:settings"
if problems := settings_problems(settings):
    count = f" ({len(problems)} errors)" if len(problems) > 1 else ""
    raise pulumi.RunError(f"{stack_file}: " + "; ".join(f"{project}:settings{problem}" for problem in problems) + count)

tags = required_tags(project=project, environment=stack, owner=settings.owner, cost_center=settings.cost_center)
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags={"tags": tags},
    allowed_account_ids=[settings.account_id] if settings.account_id else None,
)
on_aws = pulumi.ResourceOptions(provider=provider)
stateful = pulumi.ResourceOptions(provider=provider, protect=True)
invoke = pulumi.InvokeOptions(provider=provider)
caller = aws.get_caller_identity(opts=invoke)
account_id = caller.account_id
partition_info = aws.get_partition(opts=invoke)
partition = partition_info.partition

# --- who administers: the named roles, and whoever runs this (KMS's lockout check) -------------------------------
# CreateKey and PutKeyPolicy refuse a policy that would not let the caller call PutKeyPolicy again, so the role
# behind this session (with its path) administers too. A root or CI caller would turn that into delegation.
runner = aws.iam.get_session_context(arn=caller.arn, opts=invoke).issuer_arn
problems = [f"{where}: {problem}" for problem in runner_problems(runner, settings.project)]
problems += [f"{where}{problem}" for problem in role_glob_problems(settings, [runner])]
problems += [
    f"{where}.environments.{name}.accountId: {env.account_id} is not the caller's account {account_id}; run the "
    "bootstrap for it in its own account (docs/bootstrap.md)"
    for name, env in sorted(settings.environments.items())
    if env.account_id and env.account_id != account_id
]
problems += [
    f"{where}.{field}: {arn} is not in the caller's account {account_id}"
    for field, arns in [("keyAdministratorArns", settings.key_administrator_arns)]
    + [(f"environments.{name}.operatorArns", env.operator_arns) for name, env in sorted(settings.environments.items())]
    for arn in arns
    if arn.split(":")[4] != account_id
]
if problems:
    raise pulumi.RunError("; ".join(problems))

principals = Principals.of(
    settings, partition=partition, account_id=account_id, admins=[*settings.key_administrator_arns, runner]
)
# Administrators and operators: no CI role, and no role under a boundary, may assume them (PowerUserAccess allows
# sts:AssumeRole on "*": a person's role that trusts the account root would otherwise be open to them).
people = sorted({*principals.admins, *(arn for arns in principals.operators.values() for arn in arns)})
objects = StateObjects(f"arn:{partition}:s3:::{settings.state_bucket_name}")
bucket_policy = state_bucket_policy(objects=objects, principals=principals, bootstrap_project=project)
if policy_size(bucket_policy) > BUCKET_POLICY_MAX_BYTES:
    raise pulumi.RunError(
        f"{where}.environments: the state bucket policy for {len(principals.environments)} environments is "
        f"{policy_size(bucket_policy)} bytes, over S3's {BUCKET_POLICY_MAX_BYTES}: split them over bootstrap stacks "
        "with a bucket each (docs/bootstrap.md)"
    )

# --- GitHub Actions roles, one deploy and one preview role per environment --------------------------------------------
if settings.create_github_oidc_provider:
    github = aws.iam.OpenIdConnectProvider(
        "github-oidc", url=GITHUB_OIDC_URL, client_id_lists=[GITHUB_AUDIENCE], opts=stateful
    )
    github_arn: pulumi.Output[str] = github.arn
else:
    github_arn = pulumi.Output.from_input(f"arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}")

MANAGED: dict[CiRole, str] = {"deploy": "PowerUserAccess", "preview": "ReadOnlyAccess"}


def ci_role(kind: CiRole, environment: str) -> aws.iam.Role:
    """``<project>-github-<kind>-<env>``, trusting exactly the OIDC subjects `ci_subjects` names."""
    subjects = ci_subjects(settings.github_repository, kind, environment, settings.environments[environment])
    role = aws.iam.Role(
        f"{kind}-{environment}-role",
        name=ci_role_name(settings.project, kind, environment),
        assume_role_policy=github_arn.apply(lambda arn: json.dumps(github_trust(provider_arn=arn, subjects=subjects))),
        max_session_duration=3600,
        opts=on_aws,
    )
    aws.iam.RolePolicyAttachment(
        f"{kind}-{environment}-{MANAGED[kind]}",
        role=role.name,
        policy_arn=f"arn:{partition}:iam::aws:policy/{MANAGED[kind]}",
        opts=on_aws,
    )
    aws.iam.RolePolicy(
        f"{kind}-{environment}-state",
        role=role.id,
        policy=json.dumps(
            ci_state_policy(
                objects=objects, project=settings.project, environment=environment, kind=kind, bootstrap_project=project
            )
        ),
        opts=on_aws,
    )
    return role


roles = {(kind, env): ci_role(kind, env) for env in principals.environments for kind in MANAGED}
# KMS checks that every principal of a key policy exists: the keys wait for the roles.
after_roles = pulumi.ResourceOptions(provider=provider, protect=True, depends_on=list(roles.values()))

# --- keys: the state bucket's, and one secrets key per environment ---------------------------------------------------
state_key = aws.kms.Key(
    "state-key",
    description=f"SSE-KMS of the {settings.project} state bucket (used through S3 only)",
    enable_key_rotation=True,
    deletion_window_in_days=30,
    policy=json.dumps(
        state_key_policy(
            admins=principals.admins,
            users=principals.state_users,
            region=settings.region,
            dns_suffix=partition_info.dns_suffix,
        )
    ),
    opts=after_roles,
)
aws.kms.Alias("state-key-alias", name=state_key_alias(settings.project), target_key_id=state_key.key_id, opts=on_aws)
secrets_keys: dict[str, aws.kms.Key] = {}
for env in principals.environments:
    secrets_keys[env] = aws.kms.Key(
        f"secrets-key-{env}",
        description=f"Pulumi secrets provider of the {settings.project} stack {env}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=json.dumps(
            secrets_key_policy(
                admins=principals.admins,
                users=[principals.deploy[env], principals.preview[env], *principals.operators[env]],
            )
        ),
        opts=after_roles,
    )
    aws.kms.Alias(
        f"secrets-key-{env}-alias",
        name=secrets_alias(settings.project, env),
        target_key_id=secrets_keys[env].key_id,
        opts=on_aws,
    )

# --- state bucket -----------------------------------------------------------------------------------------------
bucket = aws.s3.Bucket("state", bucket=settings.state_bucket_name, opts=stateful)
ownership = aws.s3.BucketOwnershipControls(
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
encryption = aws.s3.BucketServerSideEncryptionConfiguration(
    "state-encryption",
    bucket=bucket.id,
    rules=[
        {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": state_key.arn},
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
    "state-policy",
    bucket=bucket.id,
    policy=json.dumps(bucket_policy, separators=(",", ":")),
    opts=pulumi.ResourceOptions(provider=provider, aliases=[pulumi.Alias(name="state-tls-only")]),
)
# The DIY backend's metadata, written here so that no CI role needs to write outside its own stack (meta.go).
aws.s3.BucketObjectv2(
    "state-meta",
    bucket=bucket.id,
    key=META_KEY,
    content=META_CONTENT,
    content_type="application/yaml",
    server_side_encryption="aws:kms",
    kms_key_id=state_key.arn,
    bucket_key_enabled=True,
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[encryption, ownership]),
)

# --- the CI roles' own policies: their state, their key, and (deploy) the platform's IAM -----------------------------
all_key_arns = pulumi.Output.all(*[secrets_keys[e].arn for e in principals.environments], state_key.arn)
alias_arns = [
    f"arn:{partition}:kms:{settings.region}:{account_id}:{alias}"
    for alias in [state_key_alias(settings.project)]
    + [secrets_alias(settings.project, e) for e in principals.environments]
]

# --- permissions boundaries: every role a deploy role creates or changes carries its environment's ---------------
role_globs = {env: environment_role_globs(settings, env) for env in principals.environments}


def boundary_document(env: str, key_arns: list[str]) -> Document:
    """`permissions_boundary_policy` of ``env`` in this account."""
    return permissions_boundary_policy(
        account_id=account_id,
        partition=partition,
        project=settings.project,
        environment=env,
        role_globs=role_globs[env],
        bucket_arn=objects.bucket_arn,
        key_arns=key_arns,
        alias_arns=alias_arns,
        people=people,
    )


def boundary_policy(env: str) -> aws.iam.Policy:
    """``<project>-<env>-permissions-boundary`` (path ``/``: its ARN is `permissions_boundary_arn`)."""
    return aws.iam.Policy(
        f"permissions-boundary-{env}",
        name=permissions_boundary_name(settings.project, env),
        path="/",
        description=f"Permissions boundary of every IAM role of the {settings.project} stack {env}",
        policy=all_key_arns.apply(lambda arns: json.dumps(boundary_document(env, list(arns)), separators=(",", ":"))),
        opts=on_aws,
    )


boundaries = {env: boundary_policy(env) for env in principals.environments}

for (kind, env), role in roles.items():
    own = secrets_keys[env].arn
    aws.iam.RolePolicy(
        f"{kind}-{env}-secrets",
        role=role.id,
        policy=pulumi.Output.all(own, all_key_arns).apply(
            lambda values: json.dumps(
                ci_secrets_policy(
                    own_key_arn=values[0],
                    other_key_arns=[arn for arn in values[1] if arn != values[0]],
                    alias_arns=alias_arns,
                )
            )
        ),
        opts=on_aws,
    )
    if kind == "deploy":
        aws.iam.RolePolicy(
            f"deploy-{env}-platform-iam",
            role=role.id,
            policy=json.dumps(
                platform_iam_policy(
                    account_id=account_id,
                    partition=partition,
                    project=settings.project,
                    environment=env,
                    role_globs=role_globs[env],
                    tag_project=project,
                    people=people,
                )
            ),
            opts=on_aws,
        )

# --- what GitHub and the stack files need ---------------------------------------------------------------------------
backend_url = bucket.bucket.apply(lambda name: f"s3://{name}")
providers = {
    e: secrets_provider_url(secrets_alias(settings.project, e), settings.region) for e in principals.environments
}
pulumi.export("stateBackend", backend_url)
pulumi.export("secretsProviders", providers)
pulumi.export("deployRoleArns", {e: roles["deploy", e].arn for e in principals.environments})
pulumi.export("previewRoleArns", {e: roles["preview", e].arn for e in principals.environments})
pulumi.export(
    "pullRequestPreviewRoleArns",
    {e: roles["preview", e].arn for e in principals.environments if settings.environments[e].pull_request_previews},
)
pulumi.export("keyAdministratorArns", list(principals.admins))
# The platform sets its environment's boundary on every role (permissions_boundary_arn: policy/<project>-<env>-...).
pulumi.export("permissionsBoundaryArns", {e: boundaries[e].arn for e in principals.environments})
pulumi.export(
    "githubEnvironments",
    {
        **{
            e: {
                "AWS_DEPLOY_ROLE_ARN": roles["deploy", e].arn,
                "AWS_REGION": settings.region,
                "PULUMI_BACKEND_URL": backend_url,
            }
            for e in principals.environments
        },
        **{
            f"{e}-preview": {
                "AWS_PREVIEW_ROLE_ARN": roles["preview", e].arn,
                "AWS_REGION": settings.region,
                "PULUMI_BACKEND_URL": backend_url,
            }
            for e in principals.environments
        },
    },
)
