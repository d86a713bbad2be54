"""Settings and policy documents of the bootstrap project. Pure: no Pulumi resources.

Every environment gets its own CI roles and its own secrets key, and may touch only its own stack's state:

* ``<project>-github-deploy-<env>`` (GitHub environment ``<env>``) writes its stack's state and locks;
* ``<project>-github-preview-<env>`` (GitHub environment ``<env>-preview``, and pull requests when the environment
  opts in) reads its stack's state and writes its locks only;
* ``alias/<project>-<env>-pulumi-secrets`` encrypts the stack's secrets; its key policy lets those two roles use it
  and the named administrators administer it. No statement delegates to the account root: PowerUserAccess grants
  ``kms:*``, so with delegation any deploy role could decrypt every key or rewrite its policy.
* ``policy/<project>-<env>-permissions-boundary`` is the permissions boundary of every role the stack creates: the
  deploy role creates and changes its roles only with it on them (condition key ``iam:PermissionsBoundary``), and a
  role under it gets past none of the deploy role's limits (no CI role, no other environment's roles, no boundary,
  no user, no state, no bootstrap key), so creating a role with ``iam:*`` gains a deploy role nothing of that.

PowerUserAccess also grants ``s3:*``, so allowing is not enough: the bucket policy denies writes to a stack's
objects to every principal but that environment's roles, its operators and the administrators (``Principal: *``
with ``aws:PrincipalArn`` conditions: a deleted and recreated role is still matched by ARN, and the document is
known before any role exists). The roles' own policies deny the shared objects, bucket administration, the keys'
administration and every change to the CI roles themselves (defence in depth).

The DIY backend's object layout, from pulumi/pulumi ``pkg/backend/diy`` (read at commit 1b5949891b3c, 2026-08-21),
for project-mode state (``meta.yaml`` version 1):

* ``.pulumi/meta.yaml``: ``meta.go`` ``ensurePulumiMeta``, called by ``New`` (``backend.go``) at every login, reads
  it; only when it is missing does the CLI list ``.pulumi/stacks/`` and write it (``pulumiMeta.WriteTo``: the
  yaml.v3 encoding of ``pulumiMeta{Version: 1}``, i.e. ``version: 1`` and a newline). The bootstrap writes that
  object itself, so no CI role ever needs to write outside its own stack.
* stack files: ``store.go`` ``projectReferenceStore.StackBasePath`` is ``.pulumi/stacks/<project>/<stack>``;
  ``state.go`` ``stackPath``/``saveCheckpoint`` add ``.json``, ``.json.gz`` or ``.json.zst``, ``backupTarget``
  keeps ``<file>.bak``, ``PULUMI_RETAIN_CHECKPOINTS`` writes ``<file>.<unix nanos>``; ``stack_tags.go``
  ``stackTagsPath`` is ``<base>.pulumi-tags``. All of them: ``.pulumi/stacks/<project>/<stack>.*``.
* history: ``store.go`` ``HistoryDir`` is ``.pulumi/history/<project>/<stack>/``; ``state.go`` ``addToHistory``
  writes ``<stack>-<nanos>.history.json`` and copies the checkpoint to ``<stack>-<nanos>.checkpoint.json``.
* backups: ``store.go`` ``BackupDir`` is ``.pulumi/backups/<project>/<stack>/``; ``state.go`` ``backupStack``
  writes ``<stack>.<nanos>.json``.
* locks: ``lock.go`` ``lockPath`` is ``stackLockDir(FullyQualifiedName)/<lock id>.json`` under ``.pulumi/locks/``,
  and ``backend.go`` ``FullyQualifiedName`` is ``organization/<project>/<stack>`` (``fsutil.QnamePath`` keeps the
  slashes): ``.pulumi/locks/organization/<project>/<stack>/<lock id>.json``.

A stack name may hold dots, an environment name here may not, so ``<env>.*`` never reaches another environment's
files; the directories end in ``/``, so ``dev/`` never reaches ``dev2/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from components.iam_documents import KMS_KEY_ADMIN_ACTIONS
from components.limits import MAX_LENGTH, PATTERNS, is_iam_role_arn, name_problem
from components.naming import (
    PLATFORM_ROLES,
    SERVICE_ROLE_PLACEHOLDERS,
    STACK_PLACEHOLDERS,
    NamingContext,
    fit,
    pattern_placeholders,
)

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
GITHUB_OIDC_HOST = GITHUB_OIDC_URL.removeprefix("https://")

#: ``meta.go``: the file the CLI reads at login, and what it would write into an empty bucket.
META_KEY = ".pulumi/meta.yaml"
META_CONTENT = "version: 1\n"
#: ``backend.go`` ``FullyQualifiedName``: the DIY backend's one organization.
DIY_ORGANIZATION = "organization"
#: S3's hard limit on a bucket policy.
BUCKET_POLICY_MAX_BYTES = 20 * 1024

#: What a stack's roles do with its secrets key (``pulumi stack init``: Encrypt; every run: Decrypt).
KEY_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
#: Key administration without use (the console's "key administrators" set).
KEY_ADMIN_ACTIONS = list(KMS_KEY_ADMIN_ACTIONS)
#: Every request that creates, changes or deletes an object (CopyObject and multipart uploads are PutObject).
OBJECT_WRITE_ACTIONS = [
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:BypassGovernanceRetention",
]
OBJECT_READ_ACTIONS = ["s3:GetObject*"]
#: Object requests that rewrite history (old versions, retention) rather than the current state.
OBJECT_HISTORY_ACTIONS = [
    "s3:DeleteObjectVersion*",
    "s3:PutObjectVersion*",
    "s3:PutObjectAcl",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
]
#: What anyone but an administrator may do to the bucket itself (not its objects).
BUCKET_READ_ACTIONS = ["s3:Get*", "s3:List*"]
#: IAM reads; everything else on a CI role or the GitHub OIDC provider is denied to the deploy roles.
IAM_READ_ACTIONS = ["iam:Get*", "iam:List*"]
#: Role actions whose request carries ``iam:PermissionsBoundary`` (Service Authorization Reference, IAM): the
#: boundary the request sets (CreateRole, PutRolePermissionsBoundary) or the one the role carries (the others).
BOUNDED_ROLE_ACTIONS = [
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
]
#: User actions whose request carries ``iam:PermissionsBoundary`` (Service Authorization Reference, IAM; parliament's
#: iam_definition.json lists it for these): the boundary CreateUser and PutUserPermissionsBoundary set, the one the
#: user carries for the policy writes. The SMTP user (components/email.py) needs these and no attached policy.
BOUNDED_USER_ACTIONS = [
    "iam:CreateUser",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
]
#: What `pulumi up` does with the environment's users beyond that: reads, tags, its access key, deletion.
USER_ACTIONS = [
    "iam:GetUser",
    "iam:DeleteUser",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:ListUserTags",
    "iam:GetUserPolicy",
    "iam:ListUserPolicies",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:UpdateAccessKey",
    "iam:ListAccessKeys",
]
#: Every request that creates, changes, deletes or passes a role (a boundary keeps them to the environment's own).
ROLE_WRITE_ACTIONS = [
    *BOUNDED_ROLE_ACTIONS,
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:PassRole",
]
#: Requests that change what a customer-managed policy grants (or remove it).
POLICY_WRITE_ACTIONS = [
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:DeletePolicy",
]

#: An IAM role ARN, path included.
_ENV_NAME = PATTERNS["dns_label"]
_RESERVED_ENV = "github"

Document = dict[str, Any]
CiRole = Literal["deploy", "preview"]


def ci_role_name(project: str, kind: CiRole, environment: str) -> str:
    """``<project>-github-<kind>-<env>``: the role GitHub Actions assumes for one environment."""
    return f"{project}-github-{kind}-{environment}"


def ci_role_prefix(project: str) -> str:
    """The name prefix every CI role shares (and no platform role has)."""
    return f"{project}-github-"


def permissions_boundary_name(project: str, environment: str) -> str:
    """``<project>-<env>-permissions-boundary``: the boundary policy (path ``/``) of the environment's platform roles.

    Every role the platform stack ``environment`` creates carries it (``permissions_boundary``); the environment's
    deploy role creates and changes roles only with it (`platform_iam_policy`).
    """
    return f"{project}-{environment}-permissions-boundary"


def permissions_boundary_arn(partition: str, account_id: str, project: str, environment: str) -> str:
    """``arn:<partition>:iam::<account>:policy/<project>-<env>-permissions-boundary``: what the platform sets."""
    return f"arn:{partition}:iam::{account_id}:policy/{permissions_boundary_name(project, environment)}"


def permissions_boundary_glob(partition: str, account_id: str, project: str) -> str:
    """Every environment's permissions boundary policy: ``policy/<project>-*-permissions-boundary``."""
    return permissions_boundary_arn(partition, account_id, project, "*")


def secrets_alias(project: str, environment: str) -> str:
    """``alias/<project>-<env>-pulumi-secrets``: the environment's secrets provider key."""
    return f"alias/{project}-{environment}-pulumi-secrets"


def state_key_alias(project: str) -> str:
    """``alias/<project>-pulumi-state``: the state bucket's SSE-KMS key."""
    return f"alias/{project}-pulumi-state"


def secrets_provider_url(alias: str, region: str) -> str:
    """The ``secretsprovider:`` value of a stack file: ``awskms://alias/...?region=<region>``."""
    return f"awskms://{alias}?region={region}"


def sid_part(environment: str) -> str:
    """An environment name as part of a statement id (Sids hold letters and digits only): ``eu-west`` -> ``EuWest``."""
    return "".join(part[:1].upper() + part[1:] for part in environment.split("-"))


def role_name_glob(pattern: str, *, project: str, environment: str, cluster: str | None = None) -> str:
    """The IAM role names a ``serviceRoleNamePattern`` yields in ``environment``, any service: ``{service}`` -> ``*``.

    ``{cluster}`` is the platform's cluster name (``naming.NamingContext.cluster_name``): ``cluster`` (the stack's
    ``cluster.name``, the environment's ``clusterName`` here) or ``<project>-<env>``.
    """
    cluster = cluster or fit(f"{project}-{environment}", MAX_LENGTH["eks_cluster"])
    return pattern.format(cluster=cluster, project=project, env=environment, service="*")


#: Placeholders of a ``roleNamePatterns`` entry: the stack's (``naming.role``, ``naming.roles``) and ``{role}``.
ROLE_NAME_PLACEHOLDERS = STACK_PLACEHOLDERS | {"role"}


def platform_role_name_glob(pattern: str, *, project: str, environment: str, cluster: str | None = None) -> str:
    """The IAM role names a stack's ``naming.role`` pattern (or ``naming.roles`` name) yields: ``{role}`` -> ``*``.

    Rendered as the program renders them (``naming.NamingContext.render``: ``{project}``, ``{env}``, ``{prefix}``,
    ``{cluster}``); an exact name stays one name.
    """
    return NamingContext(project, environment, cluster).render(pattern, role="*")


def role_name_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a ``roleNamePatterns`` entry (unknown placeholders, braces), None if it can."""
    try:
        used = pattern_placeholders(pattern)
    except ValueError:
        return f"{pattern!r} is not a name pattern (unbalanced braces)"
    unknown = sorted(used - ROLE_NAME_PLACEHOLDERS)
    if unknown:
        return f"{pattern!r} uses unknown placeholders {unknown} (allowed: {', '.join(sorted(ROLE_NAME_PLACEHOLDERS))})"
    return None


def globs_intersect(first: str, second: str) -> bool:
    """Whether some name matches both IAM globs (``*``: any characters, possibly none; no ``?`` in role names).

    A search over pairs of positions, one in each glob: a ``*`` may match nothing (step past it) or the other glob's
    next character (stay on it); two literals must be the same character.
    """
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(first) and j == len(second):
            return True
        a = first[i] if i < len(first) else None
        b = second[j] if j < len(second) else None
        if a == "*":
            todo.append((i + 1, j))
        if b == "*":
            todo.append((i, j + 1))
        if a is not None and b is not None:
            if a == "*" and b != "*":
                todo.append((i, j + 1))
            elif b == "*" and a != "*":
                todo.append((i + 1, j))
            elif a == b:
                todo.append((i + 1, j + 1))
    return False


#: At most this many ``roleNamePatterns`` per environment: each adds a role glob to the permissions boundary, which
#: is one managed policy (6,144 characters); with 12 globs of the longest names settings allow it still fits
#: (tests/bootstrap/test_bootstrap.py). A pattern with ``{role}`` covers every platform role at once, so exact names
#: for each of the platform's roles are not needed (``naming.role`` rather than one ``naming.roles`` entry each).
MAX_ROLE_NAME_PATTERNS: Final = 12


class EnvironmentSettings(BaseModel):
    """One environment (stack) deployed from GitHub: ``environments.<name>``."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    pull_request_previews: bool = Field(
        default=False,
        description="Let pull requests (OIDC subject repo:<repo>:pull_request) assume this environment's preview role.",
    )
    account_id: str | None = Field(
        default=None, pattern=r"^\d{12}$", description="The AWS account of this environment; checked if set."
    )
    service_role_name_pattern: str = Field(
        default="{cluster}-{service}",
        description="The stack's serviceRoleNamePattern: the deploy role may manage the IAM roles it yields.",
    )
    operator_arns: list[str] = Field(
        default_factory=list,
        description="IAM roles of the people who run `pulumi stack init`, `config set --secret` or `cancel` by hand.",
    )
    cluster_name: str | None = Field(
        default=None,
        description=(
            "The stack's cluster.name (default <project>-<env>): {cluster} of the role globs, and the deploy role "
            "manages <clusterName>-* and <clusterName>_* roles too."
        ),
    )
    role_name_patterns: list[str] = Field(
        default_factory=list,
        max_length=MAX_ROLE_NAME_PATTERNS,
        description=(
            "The stack's naming.role pattern and/or naming.roles names: the deploy role may manage the roles they "
            "yield ({role}: any role)."
        ),
    )

    @field_validator("operator_arns")
    @classmethod
    def _role_arns(cls, arns: list[str]) -> list[str]:
        return _check_role_arns(arns)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, name: str | None) -> str | None:
        problem = name_problem(name, "eks_cluster") if name is not None else None
        if problem:
            msg = f"{name!r} {problem}"
            raise ValueError(msg)
        return name

    @field_validator("role_name_patterns")
    @classmethod
    def _role_name_patterns(cls, patterns: list[str]) -> list[str]:
        problems = [problem for pattern in patterns if (problem := role_name_pattern_problem(pattern))]
        if problems:
            raise ValueError("; ".join(problems))
        if len(set(patterns)) != len(patterns):
            msg = "lists a pattern twice"
            raise ValueError(msg)
        return patterns

    @field_validator("service_role_name_pattern")
    @classmethod
    def _pattern(cls, pattern: str) -> str:
        placeholders = pattern_placeholders(pattern)
        unknown = placeholders - SERVICE_ROLE_PLACEHOLDERS
        if unknown:
            allowed = ", ".join(sorted(SERVICE_ROLE_PLACEHOLDERS))
            msg = f"unknown placeholder(s) {', '.join(sorted(unknown))} (allowed: {allowed})"
            raise ValueError(msg)
        if not placeholders & {"env", "cluster"}:
            msg = "must hold {env} or {cluster}: without either, every environment's deploy role would share its roles"
            raise ValueError(msg)
        return pattern


def _check_role_arns(arns: list[str]) -> list[str]:
    bad = [arn for arn in arns if not is_iam_role_arn(arn)]
    if bad:
        msg = f"not IAM role ARNs: {', '.join(bad)}"
        raise ValueError(msg)
    if len(set(arns)) != len(arns):
        msg = "lists a role twice"
        raise ValueError(msg)
    return arns


class BootstrapSettings(BaseModel):
    """The value of `eks-platform-bootstrap:settings`."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region of the state bucket.")
    owner: str = Field(min_length=1, description="Owner tag.")
    cost_center: str = Field(min_length=1, description="CostCenter tag.")
    state_bucket_name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", description="Globally unique name of the state bucket."
    )
    github_repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name of the GitHub repository.")
    environments: dict[str, EnvironmentSettings] = Field(
        min_length=1, description="Stacks deployed from GitHub environments <name> and <name>-preview."
    )
    key_administrator_arns: list[str] = Field(
        min_length=1,
        description="IAM roles that administer the keys and the bucket (the bootstrap's runner is added to them).",
    )
    create_github_oidc_provider: bool = Field(
        default=True, description="Create the account's GitHub OIDC provider (one per account): false to adopt one."
    )
    project: str = Field(
        default="eks-platform",
        pattern=PATTERNS["dns_label"].pattern,
        description="The platform project whose stacks and roles the CI roles manage.",
    )
    noncurrent_version_days: int = Field(default=90, ge=1, description="Keep old state versions this long.")

    @field_validator("environments", mode="before")
    @classmethod
    def _mapping(cls, value: object) -> object:
        if isinstance(value, list):
            msg = "a mapping of environment name to its settings (`dev: {}`), not a list"
            raise ValueError(msg)  # noqa: TRY004 - pydantic turns ValueError into the validation message
        if isinstance(value, Mapping):  # `prod:` with nothing after it is an environment with default settings
            return {name: {} if settings is None else settings for name, settings in value.items()}
        return value

    @field_validator("key_administrator_arns")
    @classmethod
    def _admins(cls, arns: list[str]) -> list[str]:
        return _check_role_arns(arns)

    @property
    def account_id(self) -> str | None:
        """The one account the environments name, if any do."""
        return next((env.account_id for env in self.environments.values() if env.account_id), None)


def settings_problems(settings: BootstrapSettings) -> list[str]:
    """What the settings get wrong across fields, one ``.<field path>: <message>`` each (empty: nothing).

    Environment names (see `environment_name_problems`), CI roles listed as administrators or operators, role globs
    of ``clusterName`` and ``roleNamePatterns`` that reach too far (`role_glob_problems`), and environments of more
    than one account in one stack file.
    """
    problems = [
        f".environments.{name}: {problem}"
        for name in sorted(settings.environments)
        for problem in environment_name_problems(name, settings.project, sorted(settings.environments))
    ]
    prefix = ci_role_prefix(settings.project)
    listed = [("keyAdministratorArns", settings.key_administrator_arns)] + [
        (f"environments.{name}.operatorArns", env.operator_arns) for name, env in sorted(settings.environments.items())
    ]
    for where, arns in listed:
        ci = [arn for arn in arns if arn.rsplit("/", 1)[-1].startswith(prefix)]
        if ci:
            problems.append(f".{where}: {', '.join(ci)}: a CI role ({prefix}*) cannot be an administrator or operator")
    people = [
        *settings.key_administrator_arns,
        *(arn for env in settings.environments.values() for arn in env.operator_arns),
    ]
    problems += role_glob_problems(settings, list(dict.fromkeys(people)))
    accounts = {env.account_id for env in settings.environments.values() if env.account_id}
    if len(accounts) > 1:
        named = ", ".join(f"{n} {e.account_id}" for n, e in sorted(settings.environments.items()) if e.account_id)
        problems.append(f".environments: one bootstrap stack per account ({named}): see docs/bootstrap.md")
    return problems


def environment_name_problems(name: str, project: str, names: Sequence[str]) -> list[str]:
    """Why ``name`` cannot be an environment next to ``names`` (each problem a phrase, no path)."""
    if not _ENV_NAME.fullmatch(name):
        return ["an environment name is a stack name: lowercase letters, digits and inner hyphens"]
    problems = []
    if name == _RESERVED_ENV or name.startswith(f"{_RESERVED_ENV}-"):
        problems.append(f"{project}-{name}-* would name the CI roles ({ci_role_prefix(project)}*)")
    for kind in ("deploy", "preview"):
        problem = name_problem(ci_role_name(project, kind, name), "iam_role")
        if problem:
            problems.append(f"the {kind} role {ci_role_name(project, kind, name)} {problem}")
    alias_problem = name_problem(secrets_alias(project, name), "kms_alias")
    if alias_problem:
        problems.append(f"the key alias {secrets_alias(project, name)} {alias_problem}")
    for other in names:
        if other != name and (other.startswith(f"{name}-") or other.endswith(f"-{name}")):
            problems.append(f"its role names would also match environment {other}'s ({project}-{other}-...)")
        elif other < name and sid_part(other) == sid_part(name):
            problems.append(f"reads the same as environment {other} in statement ids")
    return problems


def runner_problems(runner_arn: str, project: str) -> list[str]:
    """Why the role behind the bootstrap's session (``getSessionContext``'s issuer) cannot be a key administrator.

    The runner is added to the administrators (KMS's lockout check): the account root there would delegate every
    key to IAM policies (PowerUserAccess: ``kms:*``), and a CI role would administer the keys it must not.
    """
    if runner_arn.endswith(":root"):
        return [
            (
                f"run the bootstrap as an IAM role, not the account root user ({runner_arn}): the runner becomes a "
                "key administrator, and a root principal in a key policy hands the keys to every IAM policy"
            )
        ]
    if runner_arn.rsplit("/", 1)[-1].startswith(ci_role_prefix(project)):
        return [f"the bootstrap cannot run as one of the CI roles it manages ({runner_arn})"]
    return []


# --- principals and objects ---------------------------------------------------------------------------------------


def role_arn(partition: str, account_id: str, name: str) -> str:
    """An IAM role's ARN (path ``/``)."""
    return f"arn:{partition}:iam::{account_id}:role/{name}"


@dataclass(frozen=True)
class Principals:
    """Who is who: CI roles per environment, operators per environment, administrators. All role ARNs."""

    partition: str
    account_id: str
    project: str
    deploy: Mapping[str, str]
    preview: Mapping[str, str]
    operators: Mapping[str, tuple[str, ...]]
    admins: tuple[str, ...]

    @classmethod
    def of(cls, settings: BootstrapSettings, *, partition: str, account_id: str, admins: Iterable[str]) -> Principals:
        """The principals ``settings`` describe in ``account_id``; ``admins`` deduplicated, in order."""
        names = sorted(settings.environments)
        return cls(
            partition=partition,
            account_id=account_id,
            project=settings.project,
            deploy={e: role_arn(partition, account_id, ci_role_name(settings.project, "deploy", e)) for e in names},
            preview={e: role_arn(partition, account_id, ci_role_name(settings.project, "preview", e)) for e in names},
            operators={e: tuple(settings.environments[e].operator_arns) for e in names},
            admins=tuple(dict.fromkeys(admins)),
        )

    @property
    def environments(self) -> list[str]:
        """The environment names, sorted."""
        return sorted(self.deploy)

    @property
    def ci_roles_glob(self) -> str:
        """``arn:<partition>:iam::<account>:role/<project>-github-*``: every CI role."""
        return role_arn(self.partition, self.account_id, f"{ci_role_prefix(self.project)}*")

    @property
    def ci_roles(self) -> list[str]:
        """Every CI role's ARN."""
        return [self.deploy[e] for e in self.environments] + [self.preview[e] for e in self.environments]

    @property
    def state_users(self) -> list[str]:
        """Who reads and writes state objects (through S3, with the bucket's key): CI roles, operators, admins."""
        operators = [arn for e in self.environments for arn in self.operators[e]]
        return list(dict.fromkeys([*self.ci_roles, *operators, *self.admins]))


@dataclass(frozen=True)
class StateObjects:
    """Object ARN patterns of the DIY backend layout in one bucket (see the module docstring)."""

    bucket_arn: str

    def stack(self, project: str, stack: str) -> list[str]:
        """A stack's state: its stack files, history and backups."""
        root = f"{self.bucket_arn}/.pulumi"
        return [
            f"{root}/stacks/{project}/{stack}.*",
            f"{root}/history/{project}/{stack}/*",
            f"{root}/backups/{project}/{stack}/*",
        ]

    def locks(self, project: str, stack: str) -> list[str]:
        """A stack's lock files."""
        return [f"{self.bucket_arn}/.pulumi/locks/{DIY_ORGANIZATION}/{project}/{stack}/*"]

    def project(self, project: str) -> list[str]:
        """Every stack of a project: state and locks."""
        root = f"{self.bucket_arn}/.pulumi"
        return [f"{root}/{kind}/{project}/*" for kind in ("stacks", "history", "backups")] + [
            f"{root}/locks/{DIY_ORGANIZATION}/{project}/*"
        ]

    @property
    def meta(self) -> str:
        """``.pulumi/meta.yaml``."""
        return f"{self.bucket_arn}/{META_KEY}"

    @property
    def objects(self) -> str:
        """Every object."""
        return f"{self.bucket_arn}/*"


# --- trust ----------------------------------------------------------------------------------------------------------


def ci_subjects(repository: str, kind: CiRole, environment: str, settings: EnvironmentSettings) -> list[str]:
    """The OIDC subjects a CI role trusts: its GitHub environment, and pull requests for an opted-in preview role."""
    if kind == "deploy":
        return [f"repo:{repository}:environment:{environment}"]
    subjects = [f"repo:{repository}:environment:{environment}-preview"]
    if settings.pull_request_previews:
        subjects.append(f"repo:{repository}:pull_request")
    return subjects


def github_trust(*, provider_arn: str, subjects: Sequence[str]) -> Document:
    """Trust for GitHub Actions OIDC: exact audience and exact subjects (no wildcard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": GITHUB_AUDIENCE,
                        "token.actions.githubusercontent.com:sub": subjects[0]
                        if len(subjects) == 1
                        else list(subjects),
                    }
                },
            }
        ],
    }


# --- resource policies ------------------------------------------------------------------------------------------------


def _principal_arn(operator: str, arns: Sequence[str]) -> dict[str, dict[str, str | list[str]]]:
    return {operator: {"aws:PrincipalArn": arns[0] if len(arns) == 1 else list(arns)}}


def state_bucket_policy(*, objects: StateObjects, principals: Principals, bootstrap_project: str) -> Document:
    """TLS only; each stack's objects written only by its environment's roles, its operators and administrators.

    ``Principal: *`` with ``aws:PrincipalArn`` conditions, so the document needs no role to exist and keeps
    matching a role that is deleted and created again. The bucket itself, old object versions, ``meta.yaml`` and
    the bootstrap's own state are the administrators' alone; a CI role reads no other environment's state.
    """
    bucket, admins, project = objects.bucket_arn, list(principals.admins), principals.project
    statements: list[Document] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, objects.objects],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOldTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, objects.objects],
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
        {
            "Sid": "DenyBucketAdministration",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": BUCKET_READ_ACTIONS,
            "Resource": bucket,
            "Condition": _principal_arn("ArnNotEquals", admins),
        },
        {
            "Sid": "DenyHistoryRewrites",
            "Effect": "Deny",
            "Principal": "*",
            "Action": OBJECT_HISTORY_ACTIONS,
            "Resource": objects.objects,
            "Condition": _principal_arn("ArnNotEquals", admins),
        },
        {
            "Sid": "DenySharedWrites",
            "Effect": "Deny",
            "Principal": "*",
            "Action": OBJECT_WRITE_ACTIONS,
            "Resource": [objects.meta, *objects.project(bootstrap_project)],
            "Condition": _principal_arn("ArnNotEquals", admins),
        },
        {
            "Sid": "DenyBootstrapStateToCi",
            "Effect": "Deny",
            "Principal": "*",
            "Action": OBJECT_READ_ACTIONS,
            "Resource": objects.project(bootstrap_project),
            "Condition": _principal_arn("ArnLike", [principals.ci_roles_glob]),
        },
    ]
    for env in principals.environments:
        deploy, preview, operators = principals.deploy[env], principals.preview[env], list(principals.operators[env])
        state, locks, sid = objects.stack(project, env), objects.locks(project, env), sid_part(env)
        statements += [
            {
                "Sid": f"Deny{sid}StateWrites",
                "Effect": "Deny",
                "Principal": "*",
                "Action": OBJECT_WRITE_ACTIONS,
                "Resource": state,
                "Condition": _principal_arn("ArnNotEquals", [deploy, *operators, *admins]),
            },
            {
                "Sid": f"Deny{sid}LockWrites",
                "Effect": "Deny",
                "Principal": "*",
                "Action": OBJECT_WRITE_ACTIONS,
                "Resource": locks,
                "Condition": _principal_arn("ArnNotEquals", [deploy, preview, *operators, *admins]),
            },
            {
                "Sid": f"Deny{sid}StateToOtherCi",
                "Effect": "Deny",
                "Principal": "*",
                "Action": OBJECT_READ_ACTIONS,
                "Resource": state + locks,
                "Condition": {
                    **_principal_arn("ArnLike", [principals.ci_roles_glob]),
                    **_principal_arn("ArnNotEquals", [deploy, preview]),
                },
            },
            {
                "Sid": f"Deny{sid}DeployWritesElsewhere",
                "Effect": "Deny",
                "Principal": "*",
                "Action": OBJECT_WRITE_ACTIONS,
                "NotResource": state + locks,
                "Condition": _principal_arn("ArnEquals", [deploy]),
            },
            {
                "Sid": f"Deny{sid}PreviewWritesElsewhere",
                "Effect": "Deny",
                "Principal": "*",
                "Action": OBJECT_WRITE_ACTIONS,
                "NotResource": locks,
                "Condition": _principal_arn("ArnEquals", [preview]),
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def policy_size(document: Document) -> int:
    """The size of ``document`` as the bootstrap sends it (compact JSON)."""
    return len(json.dumps(document, separators=(",", ":")))


def _key_administration(admins: Sequence[str]) -> Document:
    return {
        "Sid": "KeyAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": list(admins)},
        "Action": KEY_ADMIN_ACTIONS,
        "Resource": "*",
    }


def secrets_key_policy(*, admins: Sequence[str], users: Sequence[str]) -> Document:
    """One environment's secrets key: used by ``users`` (its CI roles and operators), administered by ``admins``.

    No statement names the account root: identity policies (PowerUserAccess's ``kms:*``) grant nothing on this key.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            _key_administration(admins),
            {
                "Sid": "StackSecrets",
                "Effect": "Allow",
                "Principal": {"AWS": list(users)},
                "Action": KEY_USE_ACTIONS,
                "Resource": "*",
            },
        ],
    }


def state_key_policy(*, admins: Sequence[str], users: Sequence[str], region: str, dns_suffix: str) -> Document:
    """The bucket's SSE-KMS key: ``users`` may use it through S3 only (``kms:ViaService``), ``admins`` administer it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            _key_administration(admins),
            {
                "Sid": "StateObjectsThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": list(users)},
                "Action": KEY_USE_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.{dns_suffix}"}},
            },
        ],
    }


# --- identity policies ----------------------------------------------------------------------------------------------


def ci_state_policy(
    *, objects: StateObjects, project: str, environment: str, kind: CiRole, bootstrap_project: str
) -> Document:
    """A CI role's state access: list, read its stack, write its stack (deploy) or only its locks (preview).

    The denies repeat the bucket policy's for the objects every environment shares, and keep the bucket's
    configuration away from PowerUserAccess's ``s3:*``.
    """
    state, locks = objects.stack(project, environment), objects.locks(project, environment)
    writable = state + locks if kind == "deploy" else locks
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListState",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": objects.bucket_arn,
            },
            {
                "Sid": "ReadState",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [objects.meta, *state, *locks],
            },
            {
                "Sid": "WriteState",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": writable,
            },
            {
                "Sid": "DenySharedWrites",
                "Effect": "Deny",
                "Action": OBJECT_WRITE_ACTIONS,
                "Resource": [objects.meta, *objects.project(bootstrap_project)],
            },
            {
                "Sid": "DenyHistoryRewrites",
                "Effect": "Deny",
                "Action": OBJECT_HISTORY_ACTIONS,
                "Resource": objects.objects,
            },
            {
                "Sid": "DenyBucketAdministration",
                "Effect": "Deny",
                "NotAction": BUCKET_READ_ACTIONS,
                "Resource": objects.bucket_arn,
            },
        ],
    }


def ci_secrets_policy(*, own_key_arn: str, other_key_arns: Sequence[str], alias_arns: Sequence[str]) -> Document:
    """Use of the environment's own secrets key; no administration of any bootstrap key or alias, no other key.

    The key policies alone already decide (they do not delegate to IAM); these denies hold even if one ever did.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StackSecrets", "Effect": "Allow", "Action": KEY_USE_ACTIONS, "Resource": own_key_arn},
            {
                "Sid": "DenyKeyAdministration",
                "Effect": "Deny",
                "NotAction": KEY_USE_ACTIONS,
                "Resource": [own_key_arn, *other_key_arns],
            },
            {"Sid": "DenyOtherSecretsKeys", "Effect": "Deny", "Action": "kms:*", "Resource": list(other_key_arns)},
            {
                "Sid": "DenyAliasChanges",
                "Effect": "Deny",
                "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                "Resource": list(alias_arns),
            },
        ],
    }


def platform_role_globs(
    *,
    project: str,
    environment: str,
    service_role_name_pattern: str,
    cluster_name: str | None = None,
    role_name_patterns: Sequence[str] = (),
) -> list[str]:
    """Role names the platform's stack ``environment`` creates.

    ``<project>-<env>-*``: the platform's own roles and the Vault bound role (``naming.NamingContext``: every name
    starts ``{project}-{stack}-`` and ``fit`` keeps that prefix), and service roles of the default pattern
    ``{cluster}-{service}``; ``<project>-<env>_*`` (service roles named ``{cluster}_<name>``); plus what the stack's
    ``serviceRoleNamePattern`` yields (``eks-{service}-{env}`` in
    Pulumi.dev.yaml: ``eks-*-dev``). A pattern whose names ``fit`` has to cut loses its suffix: keep names short.

    A stack with its own ``cluster.name`` (``cluster_name``) names its service roles, the Vault bound role and
    ``{cluster}_<name>`` roles after it: ``<cluster>-*`` and ``<cluster>_*``, and ``{cluster}`` in the patterns is
    that name. A stack's ``naming.role`` / ``naming.roles`` (``role_name_patterns``) add what they yield
    (`platform_role_name_glob`). `role_glob_problems` keeps all of these away from the CI roles, the people and the
    other environments' roles. A glob already covered by an earlier one is left out.
    """
    # ``{cluster}_<name>`` too (Pulumi.dev.yaml's ``{cluster}_DaftRole``): no environment name holds ``_``, so this
    # matches no other environment's roles.
    globs = [f"{project}-{environment}-*", f"{project}-{environment}_*"]
    extras = [f"{cluster_name}-*", f"{cluster_name}_*"] if cluster_name else []
    extras.append(
        role_name_glob(service_role_name_pattern, project=project, environment=environment, cluster=cluster_name)
    )
    extras += [
        platform_role_name_glob(pattern, project=project, environment=environment, cluster=cluster_name)
        for pattern in role_name_patterns
    ]
    for extra in extras:
        if not any(_covers(glob, extra) for glob in globs):
            globs.append(extra)
    return globs


def _covers(glob: str, other: str) -> bool:
    """Whether every name ``other`` matches, ``glob`` matches too (sure only for ``<literal>*`` and equal globs)."""
    if glob == other:
        return True
    stem = glob.removesuffix("*")
    return glob.endswith("*") and "*" not in stem and other.startswith(stem)


def environment_role_globs(settings: BootstrapSettings, environment: str) -> list[str]:
    """`platform_role_globs` of ``environment`` as the bootstrap settings describe it."""
    env = settings.environments[environment]
    return platform_role_globs(
        project=settings.project,
        environment=environment,
        service_role_name_pattern=env.service_role_name_pattern,
        cluster_name=env.cluster_name,
        role_name_patterns=env.role_name_patterns,
    )


def role_glob_problems(settings: BootstrapSettings, people: Sequence[str]) -> list[str]:
    """Why an environment's ``clusterName`` or ``roleNamePatterns`` would reach roles its deploy role must not manage.

    Each glob they add (beyond `platform_role_globs` without them, whose reach is unchanged) may match no CI role
    (``<project>-github-*``: denied anyway, refused so that nothing there even looks manageable), no role of
    ``people`` (administrators, operators, the runner: ``DeleteRole`` and ``PassRole`` on them take no boundary) and
    no name another environment's globs match (its deploy role could delete or pass that environment's roles).
    The names a ``roleNamePatterns`` entry yields must also be role names IAM accepts, as the program checks them.
    """
    problems = []
    project = settings.project
    ci_glob = f"{ci_role_prefix(project)}*"
    globs = {name: environment_role_globs(settings, name) for name in settings.environments}
    for name, env in sorted(settings.environments.items()):
        base = platform_role_globs(
            project=project, environment=name, service_role_name_pattern=env.service_role_name_pattern
        )
        clustered = platform_role_globs(
            project=project,
            environment=name,
            service_role_name_pattern=env.service_role_name_pattern,
            cluster_name=env.cluster_name,
        )
        for glob in globs[name]:
            if glob in base:
                continue
            where = f".environments.{name}.{'clusterName' if glob in clustered else 'roleNamePatterns'}"
            reach = []
            if globs_intersect(glob, ci_glob):
                reach.append(f"the CI roles ({ci_glob})")
            reach += [
                f"{arn} (an administrator, operator or the runner)"
                for arn in people
                if globs_intersect(glob, arn.split(":role/", 1)[-1])
            ]
            for other in sorted(globs):
                theirs = [their for their in globs[other] if other != name and globs_intersect(glob, their)]
                if theirs:
                    reach.append(f"environment {other}'s roles ({', '.join(theirs)})")
            if reach:
                problems.append(f"{where}: the role glob {glob} would also match {', '.join(reach)}")
        naming = NamingContext(project, name, env.cluster_name)
        for pattern in env.role_name_patterns:
            members = sorted(PLATFORM_ROLES) if "role" in pattern_placeholders(pattern) else [""]
            for member in members:
                rendered = naming.render(pattern, role=member)
                problem = name_problem(rendered, "iam_role")
                if problem:
                    problems.append(
                        f".environments.{name}.roleNamePatterns: {pattern!r} gives {rendered!r}, which {problem}"
                    )
                    break
    return problems


#: Assuming a role: what a principal with PowerUserAccess (``sts:*`` on ``*``) could do to any role whose trust names
#: the account root.
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")


def deny_assuming(role_arns: Sequence[str]) -> list[Document]:
    """A Deny of assuming ``role_arns`` (the administrators and operators), or nothing when there are none."""
    if not role_arns:
        return []
    return [
        {"Sid": "DenyAssumingPeople", "Effect": "Deny", "Action": list(ASSUME_ACTIONS), "Resource": sorted(role_arns)}
    ]


def platform_user_glob(project: str, environment: str) -> str:
    """``<project>-<env>-*``: every IAM user the platform stack ``environment`` creates."""
    return f"{project}-{environment}-*"


def platform_iam_policy(
    *,
    account_id: str,
    partition: str,
    project: str,
    environment: str,
    role_globs: Sequence[str],
    tag_project: str,
    people: Sequence[str] = (),
) -> Document:
    """IAM the platform's `pulumi up` needs, limited to its own roles, policies and OIDC providers, and never the CI.

    PowerUserAccess (attached too) excludes IAM; this adds back only what the program manages. Every role and user it
    creates or whose permissions, trust or boundary it changes must carry the environment's permissions boundary
    (`permissions_boundary_arn`, condition key ``iam:PermissionsBoundary``), which it can neither remove nor edit:
    a role or user it creates cannot do more than the boundary lets it (`permissions_boundary_policy`). Users are
    ``user/<project>-<env>-*`` only (the SMTP user, with its access key).

    A role glob such as ``eks-*-dev`` also matches ``eks-platform-github-deploy-dev``, the deploy role itself: the
    explicit denies keep every CI role (by name, and by the bootstrap's ``Project`` tag) and the GitHub OIDC provider
    read-only, so a deploy role cannot rewrite its own policies or trust, nor another environment's.
    """
    iam = f"arn:{partition}:iam::{account_id}"
    roles = [f"{iam}:role/{glob}" for glob in role_globs]
    users = f"{iam}:user/{platform_user_glob(project, environment)}"
    ci = [f"{iam}:role/{ci_role_prefix(project)}*", f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}"]
    boundary = permissions_boundary_arn(partition, account_id, project, environment)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManageOwnRoles",
                "Effect": "Allow",
                "Action": [
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:UpdateRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:GetRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                    "iam:PassRole",
                ],
                "Resource": roles,
            },
            {
                "Sid": "ManageOwnRolesWithBoundary",
                "Effect": "Allow",
                "Action": BOUNDED_ROLE_ACTIONS,
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {"Sid": "ManageOwnUsers", "Effect": "Allow", "Action": USER_ACTIONS, "Resource": users},
            {
                "Sid": "ManageOwnUsersWithBoundary",
                "Effect": "Allow",
                "Action": BOUNDED_USER_ACTIONS,
                "Resource": users,
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {
                "Sid": "ManageOwnPolicies",
                "Effect": "Allow",
                "Action": [
                    "iam:CreatePolicy",
                    "iam:DeletePolicy",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                ],
                "Resource": f"{iam}:policy/{project}-{environment}-*",
            },
            {
                "Sid": "ManageClusterOidcProviders",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateOpenIDConnectProvider",
                    "iam:DeleteOpenIDConnectProvider",
                    "iam:GetOpenIDConnectProvider",
                    "iam:TagOpenIDConnectProvider",
                    "iam:UpdateOpenIDConnectProviderThumbprint",
                    "iam:AddClientIDToOpenIDConnectProvider",
                ],
                "Resource": f"{iam}:oidc-provider/oidc.eks.*",
            },
            {
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"{iam}:role/aws-service-role/*",
                "Condition": {
                    "StringEquals": {
                        "iam:AWSServiceName": [
                            "eks.amazonaws.com",
                            "eks-nodegroup.amazonaws.com",
                            "autoscaling.amazonaws.com",
                            "spot.amazonaws.com",
                            "guardduty.amazonaws.com",
                            "malware-protection.guardduty.amazonaws.com",
                        ]
                    }
                },
            },
            {"Sid": "DenyCiChanges", "Effect": "Deny", "NotAction": IAM_READ_ACTIONS, "Resource": ci},
            {
                "Sid": "DenyTaggedCiChanges",
                "Effect": "Deny",
                "NotAction": IAM_READ_ACTIONS,
                "Resource": f"{iam}:role/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/Project": tag_project}},
            },
            {
                "Sid": "DenyBoundaryRemoval",
                "Effect": "Deny",
                "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
                "Resource": "*",
            },
            {
                "Sid": "DenyBoundaryPolicyChanges",
                "Effect": "Deny",
                "NotAction": IAM_READ_ACTIONS,
                "Resource": permissions_boundary_glob(partition, account_id, project),
            },
            *deny_assuming(people),
        ],
    }


def permissions_boundary_policy(
    *,
    account_id: str,
    partition: str,
    project: str,
    environment: str,
    role_globs: Sequence[str],
    bucket_arn: str,
    key_arns: Sequence[str],
    alias_arns: Sequence[str],
    people: Sequence[str] = (),
) -> Document:
    """The permissions boundary of every role the platform's stack ``environment`` creates.

    ``Allow *`` caps nothing by itself (the roles' own policies grant); the denies keep a role under this boundary
    away from everything the environment's deploy role must not reach, so that creating one gets around none of it:

    * IAM: no change to any CI role or the GitHub OIDC provider; role writes (``PassRole`` included) only on the
      environment's own roles (``role_globs``), and creating or changing one only with this very boundary on it;
      no removal of any boundary and no change to any boundary policy; policy writes only on the environment's own
      policies; nothing on IAM users and groups (an access key is a principal without a boundary);
    * the state bucket (every stack's state, and its configuration) and every bootstrap key and alias: platform
      workloads never need them.

    Keep it under IAM's 6,144 characters for a managed policy (``components.iam_documents.MANAGED_POLICY_MAX_CHARS``).
    """
    iam = f"arn:{partition}:iam::{account_id}"
    own_roles = [f"{iam}:role/{glob}" for glob in role_globs]
    boundary = permissions_boundary_arn(partition, account_id, project, environment)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CapOnly", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Sid": "DenyCiChanges",
                "Effect": "Deny",
                "NotAction": IAM_READ_ACTIONS,
                "Resource": [f"{iam}:role/{ci_role_prefix(project)}*", f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}"],
            },
            {"Sid": "DenyOtherRoles", "Effect": "Deny", "Action": ROLE_WRITE_ACTIONS, "NotResource": own_roles},
            {
                "Sid": "DenyRolesWithoutThisBoundary",
                "Effect": "Deny",
                "Action": BOUNDED_ROLE_ACTIONS,
                "Resource": "*",
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}},
            },
            {
                "Sid": "DenyBoundaryRemoval",
                "Effect": "Deny",
                "Action": "iam:DeleteRolePermissionsBoundary",
                "Resource": "*",
            },
            {
                "Sid": "DenyBoundaryPolicyChanges",
                "Effect": "Deny",
                "NotAction": IAM_READ_ACTIONS,
                "Resource": permissions_boundary_glob(partition, account_id, project),
            },
            {
                "Sid": "DenyOtherPolicies",
                "Effect": "Deny",
                "Action": POLICY_WRITE_ACTIONS,
                "NotResource": f"{iam}:policy/{project}-{environment}-*",
            },
            {
                "Sid": "DenyUsersAndGroups",
                "Effect": "Deny",
                "Action": "iam:*",
                "Resource": [f"{iam}:user/*", f"{iam}:group/*"],
            },
            {"Sid": "DenyState", "Effect": "Deny", "Action": "s3:*", "Resource": [bucket_arn, f"{bucket_arn}/*"]},
            {"Sid": "DenyBootstrapKeys", "Effect": "Deny", "Action": "kms:*", "Resource": [*key_arns, *alias_arns]},
            *deny_assuming(people),
        ],
    }
