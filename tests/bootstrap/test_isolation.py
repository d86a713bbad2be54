"""Per-environment isolation of the bootstrap, proven with tools.iam_eval on the documents the plan renders.

The CI roles carry the real PowerUserAccess / ReadOnlyAccess documents (s3:* and kms:* on everything for the
deploy roles), so every "cannot" below rests on an explicit deny or on a key policy that does not delegate to IAM.
Where two layers guard the same thing (bucket policy and identity policy, key policy and identity policy), each
layer is also checked on its own.
"""

from __future__ import annotations

import json

import pytest

from bootstrap.bootstrap_plan import (
    BOUNDED_ROLE_ACTIONS,
    BOUNDED_USER_ACTIONS,
    permissions_boundary_arn,
    permissions_boundary_name,
)
from components.iam_documents import (
    INLINE_ROLE_POLICIES_MAX_CHARS,
    MANAGED_POLICY_MAX_CHARS,
    compact_length,
    ses_smtp_send_policy,
)
from tests.bootstrap.account import POLICY, ROLE_POLICY, Account, denied_all
from tests.bootstrap.managed_documents import require_documents
from tools.harness import REPO_ROOT, Plan, run_program
from tools.iam_eval import Outcome

PROJECT_DIR = REPO_ROOT / "bootstrap"
ENVIRONMENTS = ("dev", "prod")
PAIRS = [(env, other) for env in ENVIRONMENTS for other in ENVIRONMENTS if env != other]
REPOSITORY = "example-org/eks-platform"
RUNNER = "arn:aws:iam::123456789012:role/eks-platform-bootstrap-github-deploy-admin"  # the harness's session issuer
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"

WRITES = ["s3:PutObject", "s3:DeleteObject"]
CRYPTO = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
KEY_USE = [*CRYPTO, "kms:DescribeKey"]
KEY_ADMIN = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant", "kms:UpdateAlias"]
IAM_MUTATIONS = [
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRole",
    "iam:UntagRole",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PassRole",
]
BUCKET_ADMIN = [
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:DeleteBucket",
]


def state_files(stack: str, project: str = "eks-platform") -> list[str]:
    """Object keys of one stack as the DIY backend writes them (pulumi/pulumi pkg/backend/diy state.go, lock.go)."""
    return [
        f".pulumi/stacks/{project}/{stack}.json",
        f".pulumi/stacks/{project}/{stack}.json.bak",
        f".pulumi/stacks/{project}/{stack}.json.gz",
        f".pulumi/stacks/{project}/{stack}.pulumi-tags",
        f".pulumi/history/{project}/{stack}/{stack}-1754000000000000000.history.json",
        f".pulumi/history/{project}/{stack}/{stack}-1754000000000000000.checkpoint.json",
        f".pulumi/backups/{project}/{stack}/{stack}.1754000000000000000.json",
    ]


def lock_files(stack: str, project: str = "eks-platform") -> list[str]:
    return [f".pulumi/locks/organization/{project}/{stack}/0b6f1f6c-5c1e-4b0e-9d4c-6d1f3f4c2a11.json"]


BOOTSTRAP_STATE = state_files("admin", "eks-platform-bootstrap") + lock_files("admin", "eks-platform-bootstrap")
META = ".pulumi/meta.yaml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program("admin", "update", project_dir=PROJECT_DIR)


@pytest.fixture(scope="module")
def account(plan) -> Account:
    return Account.of(plan, require_documents())


def ci_roles(account: Account) -> list[str]:
    return [account.ci(kind, env) for kind in ("deploy", "preview") for env in ENVIRONMENTS]


# --- state ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_cannot_write_another_stacks_state_or_locks(account, env, other):
    deploy = account.ci("deploy", env)
    others = [account.object(key) for key in state_files(other) + lock_files(other)]
    assert denied_all(account, deploy, WRITES, others) == []
    assert denied_all(account.managed_only(), deploy, WRITES, others) == [], "the bucket policy alone must hold"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_ci_role_writes_meta_yaml_or_the_bootstraps_state(account, env):
    shared = [account.object(key) for key in [META, *BOOTSTRAP_STATE]]
    for role in (account.ci("deploy", env), account.ci("preview", env)):
        assert denied_all(account, role, WRITES, shared) == []
        assert denied_all(account.managed_only(), role, WRITES, shared) == [], "the bucket policy alone must hold"
        assert denied_all(account.without_bucket_policy(), role, WRITES, shared) == [], "identity denies alone"
        assert denied_all(account, role, ["s3:GetObject"], [account.object(BOOTSTRAP_STATE[0])]) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_deploy_role_writes_its_own_state_and_locks(account, env):
    deploy = account.ci("deploy", env)
    for key in state_files(env) + lock_files(env):
        for action in [*WRITES, "s3:GetObject"]:
            assert account.can(deploy, action, account.object(key)), (action, key)
    assert account.can(deploy, "s3:GetObject", account.object(META))
    assert account.can(deploy, "s3:ListBucket", account.bucket_arn)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_deploy_role_writes_nothing_else_in_the_bucket(account, env):
    elsewhere = ["notes.txt", ".pulumi/stacks/other-project/dev.json", f".pulumi/stacks/eks-platform/{env}2.json"]
    elsewhere += [f".pulumi/locks/organization/eks-platform/{env}2/x.json", f".pulumi/history/eks-platform/{env}2/x"]
    objects = [account.object(key) for key in elsewhere]
    assert denied_all(account, account.ci("deploy", env), WRITES, objects) == []


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_preview_role_reads_its_own_stack_and_writes_only_its_locks(account, env, other):
    preview = account.ci("preview", env)
    for key in state_files(env):
        assert account.can(preview, "s3:GetObject", account.object(key)), key
    assert denied_all(account, preview, WRITES, [account.object(key) for key in state_files(env)]) == []
    for key in lock_files(env):
        assert all(account.can(preview, action, account.object(key)) for action in WRITES), key
    others = [account.object(key) for key in state_files(other) + lock_files(other)]
    assert denied_all(account, preview, [*WRITES, "s3:GetObject"], others) == []


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_cannot_read_another_stacks_state(account, env, other):
    others = [account.object(key) for key in state_files(other)]
    assert denied_all(account, account.ci("deploy", env), ["s3:GetObject", "s3:GetObjectVersion"], others) == []


def test_ci_roles_cannot_reconfigure_the_bucket_or_rewrite_history(account):
    old_versions = [account.object(key) for env in ENVIRONMENTS for key in state_files(env)]
    for role in ci_roles(account):
        assert denied_all(account, role, BUCKET_ADMIN, [account.bucket_arn]) == []
        assert denied_all(account.managed_only(), role, BUCKET_ADMIN, [account.bucket_arn]) == []
        assert denied_all(account.without_bucket_policy(), role, BUCKET_ADMIN, [account.bucket_arn]) == []
        assert denied_all(account, role, ["s3:DeleteObjectVersion", "s3:PutObjectRetention"], old_versions) == []
    # The administrators (the runner among them) still can: the bootstrap's next `pulumi up` must work.
    for admin in (ADMIN, RUNNER):
        assert all(account.can(admin, action, account.bucket_arn) for action in BUCKET_ADMIN)
        assert account.can(admin, "s3:PutObject", account.object(META))


def test_other_principals_of_the_account_cannot_write_any_stack(account):
    # Anyone else with s3:* (an application role, a human with PowerUserAccess) is held off by the bucket policy.
    stranger = account.role("some-team-poweruser")
    objects = [account.object(key) for env in ENVIRONMENTS for key in state_files(env) + lock_files(env)]
    objects += [account.object(key) for key in [META, *BOOTSTRAP_STATE]]
    assert denied_all(account, stranger, WRITES, objects) == []
    assert denied_all(account, stranger, BUCKET_ADMIN, [account.bucket_arn]) == []


def test_an_operator_writes_its_environments_state_only(account):
    # Pulumi.admin.yaml: platform-admin operates dev (and administers, which lets it repair any state).
    assert account.can(ADMIN, "s3:PutObject", account.object(state_files("prod")[0]))
    assert account.can(ADMIN, "kms:Decrypt", account.keys["dev"])
    assert not account.can(ADMIN, "kms:Decrypt", account.keys["prod"])


# --- secrets keys ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_each_environments_roles_use_only_its_own_key(account, env, other):
    for role in (account.ci("deploy", env), account.ci("preview", env)):
        assert [action for action in KEY_USE if account.can(role, action, account.keys[env])] == KEY_USE
        assert denied_all(account, role, KEY_USE, [account.keys[other]]) == []
        assert denied_all(account.managed_only(), role, KEY_USE, [account.keys[other]]) == [], "key policy alone"
        assert denied_all(account.with_delegating_key_policies(), role, KEY_USE, [account.keys[other]]) == [], (
            "identity denies alone"
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_ci_role_administers_a_key(account, env):
    keys = [*account.keys.values(), account.state_key]
    for role in (account.ci("deploy", env), account.ci("preview", env)):
        assert denied_all(account, role, KEY_ADMIN, keys) == []
        assert denied_all(account.managed_only(), role, KEY_ADMIN, keys) == [], "the key policies alone must hold"
        assert denied_all(account.with_delegating_key_policies(), role, KEY_ADMIN, keys) == [], "identity alone"


def test_the_runner_passes_kmss_lockout_check_and_uses_no_secrets_key(account):
    # CreateKey/PutKeyPolicy refuse a policy that would not let the caller call PutKeyPolicy again.
    for key in [*account.keys.values(), account.state_key]:
        assert account.can(RUNNER, "kms:PutKeyPolicy", key)
        assert account.can(ADMIN, "kms:PutKeyPolicy", key)
    assert denied_all(account, RUNNER, CRYPTO, list(account.keys.values())) == []
    # ... but writes meta.yaml (and, once migrated, its own state) through S3 with the bucket's key.
    assert account.can(RUNNER, "kms:GenerateDataKey", account.state_key)


def test_the_state_key_serves_every_ci_role_through_s3_only(account):
    statement = next(
        s for s in account.key_policies[account.state_key]["Statement"] if s["Sid"] == "StateObjectsThroughS3"
    )
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
    assert set(ci_roles(account)) | {RUNNER, ADMIN} == set(statement["Principal"]["AWS"])


# --- trust --------------------------------------------------------------------------------------------------------


def test_pull_requests_reach_only_opted_in_preview_roles(account):
    assert account.trusting(f"repo:{REPOSITORY}:pull_request") == [account.ci("preview", "dev")]


def test_pull_request_role_cannot_reach_prods_secrets_or_state(account):
    (role,) = account.trusting(f"repo:{REPOSITORY}:pull_request")
    assert not account.can(role, "kms:Decrypt", account.keys["prod"])
    prod = [account.object(key) for key in state_files("prod") + lock_files("prod")]
    assert denied_all(account, role, ["s3:GetObject", *WRITES], prod) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_role_trusts_exactly_its_github_environment(account, env):
    expected_preview = {f"repo:{REPOSITORY}:environment:{env}-preview"}
    if env == "dev":
        expected_preview.add(f"repo:{REPOSITORY}:pull_request")
    assert account.trust[account.ci("preview", env)] == expected_preview
    assert account.trust[account.ci("deploy", env)] == {f"repo:{REPOSITORY}:environment:{env}"}


# --- IAM ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_deploy_role_can_change_a_ci_role_or_the_github_provider(account, env):
    deploy = account.ci("deploy", env)
    targets = ci_roles(account)  # itself included
    assert deploy in targets
    assert denied_all(account, deploy, IAM_MUTATIONS, targets) == []
    provider = f"arn:aws:iam::{account.account_id}:oidc-provider/token.actions.githubusercontent.com"
    provider_changes = [
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
        "iam:AddClientIDToOpenIDConnectProvider",
        "iam:TagOpenIDConnectProvider",
    ]
    assert denied_all(account, deploy, provider_changes, [provider]) == []
    for preview in (account.ci("preview", e) for e in ENVIRONMENTS):
        assert denied_all(account, preview, IAM_MUTATIONS, targets) == []


def bounded(account: Account, env: str) -> dict[str, str]:
    """The request context of a role request that sets (or a role that carries) ``env``'s permissions boundary."""
    return {"iam:PermissionsBoundary": account.boundary(env)}


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_manages_its_own_environments_roles_only(account, env, other):
    deploy = account.ci("deploy", env)
    mine = [account.role(f"eks-platform-{env}-node"), account.role(f"eks-platform-{env}-vault-bound-role")]
    theirs = [account.role(f"eks-platform-{other}-node"), account.role(f"eks-platform-{other}-karpenter-controller")]
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PassRole"):
        assert all(account.can(deploy, action, role, bounded(account, env)) for role in mine), action
    for context in (bounded(account, env), bounded(account, other)):
        assert (
            denied_all(account, deploy, ["iam:CreateRole", "iam:PutRolePolicy", "iam:PassRole"], theirs, context) == []
        )
    policy = f"arn:aws:iam::{account.account_id}:policy/eks-platform-{other}-karpenter-controller-core"
    assert not account.can(deploy, "iam:CreatePolicyVersion", policy)


def test_service_role_patterns_are_per_environment(account):
    # Pulumi.dev.yaml's serviceRoleNamePattern is eks-{service}-{env}; prod keeps the default {cluster}-{service}.
    dev, prod = account.ci("deploy", "dev"), account.ci("deploy", "prod")
    dev_bounded, prod_bounded = bounded(account, "dev"), bounded(account, "prod")
    assert account.can(dev, "iam:CreateRole", account.role("eks-daft-dev"), dev_bounded)
    assert not account.can(prod, "iam:CreateRole", account.role("eks-daft-dev"), prod_bounded)
    assert not account.can(prod, "iam:CreateRole", account.role("eks-daft-prod"), prod_bounded)
    assert account.can(prod, "iam:CreateRole", account.role("eks-platform-prod-daft"), prod_bounded)


# --- IAM: the permissions boundary on every role a deploy role creates or changes -------------------------------
# In one account, a deploy role that could create an unbounded role in its own namespace could give it iam:*,
# assume it and rewrite the other environment's deploy role. The boundary closes that: the deploy role creates and
# changes roles only with its environment's boundary on them, and a role under it gets past none of the deploy
# role's limits (no CI role, no other environment's role, no boundary, no user, no state, no bootstrap key).

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def other_boundaries(account: Account, env: str, other: str) -> list[dict[str, str] | None]:
    """What a request may set (or a role carry) instead of ``env``'s boundary: nothing, the other environment's, a
    policy of ``env``'s own namespace (``policy/<project>-<env>-*``, which its deploy role may create), an AWS one."""
    return [
        None,
        bounded(account, other),
        {"iam:PermissionsBoundary": f"arn:aws:iam::{account.account_id}:policy/eks-platform-{env}-x"},
        {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ]


def under_boundary(account: Account, env: str) -> tuple[Account, str]:
    """The account with ``eks-platform-<env>-x``: ``Allow *``, under ``env``'s boundary (the worst the deploy role
    can make: it may attach AdministratorAccess to its roles)."""
    role = account.role(f"eks-platform-{env}-x")
    return account.with_role(role, [ALLOW_ALL], account.boundary(env)), role


def test_the_one_account_takeover_is_closed(account):
    # Dev's deploy role creates eks-platform-dev-x, gives it iam:* and rewrites prod's deploy role as that role.
    dev, role, prod = account.ci("deploy", "dev"), account.role("eks-platform-dev-x"), account.ci("deploy", "prod")
    assert not account.can(dev, "iam:CreateRole", role)  # without a boundary: refused
    assert account.can(dev, "iam:CreateRole", role, bounded(account, "dev"))  # with dev's: allowed ...
    assert account.can(dev, "iam:AttachRolePolicy", role, bounded(account, "dev"))  # ... AdministratorAccess too
    grown, _ = under_boundary(account, "dev")
    for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy"):
        decision = grown.decide(role, action, prod)
        assert decision.outcome is Outcome.EXPLICIT_DENY, (action, decision)  # ... but the boundary holds


def test_one_boundary_per_environment_named_as_the_platform_expects(plan, account):
    assert sorted(account.policies) == sorted(account.boundary(env) for env in ENVIRONMENTS)
    assert plan.outputs["permissionsBoundaryArns"] == {env: account.boundary(env) for env in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        policy = plan.one(POLICY, f"permissions-boundary-{env}")
        assert (
            policy.inputs["name"]
            == permissions_boundary_name("eks-platform", env)
            == f"eks-platform-{env}-permissions-boundary"
        )
        assert policy.inputs["path"] == "/"
        assert permissions_boundary_arn("aws", account.account_id, "eks-platform", env) == account.boundary(env)


def test_the_boundaries_and_the_ci_roles_policies_fit_iams_limits(plan, account):
    for env in ENVIRONMENTS:
        document = account.policies[account.boundary(env)]
        assert compact_length(document) <= MANAGED_POLICY_MAX_CHARS, env
        assert plan.one(POLICY, f"permissions-boundary-{env}").inputs["policy"] == json.dumps(
            document, separators=(",", ":")
        )  # sent compact
    for kind in ("deploy", "preview"):
        for env in ENVIRONMENTS:
            inline = [r for r in plan.by_type(ROLE_POLICY) if r.name.startswith(f"{kind}-{env}-")]
            size = sum(compact_length(json.loads(r.inputs["policy"])) for r in inline)
            assert size <= INLINE_ROLE_POLICIES_MAX_CHARS, (kind, env, size)


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_creates_and_changes_its_roles_only_with_its_boundary(account, env, other):
    deploy = account.ci("deploy", env)
    role = account.role(f"eks-platform-{env}-x")
    for action in BOUNDED_ROLE_ACTIONS:
        assert account.can(deploy, action, role, bounded(account, env)), action
        for context in other_boundaries(account, env, other):
            assert not account.can(deploy, action, role, context), (action, context)
    # Tags, deletion, reads and passing the role stay as they were: they grant the role nothing.
    for action in ("iam:TagRole", "iam:UntagRole", "iam:DeleteRole", "iam:GetRole", "iam:PassRole"):
        assert account.can(deploy, action, role), action


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_deploy_role_cannot_remove_a_boundary_or_change_a_boundary_policy(account, env):
    deploy = account.ci("deploy", env)
    roles = [account.role(f"eks-platform-{e}-x") for e in ENVIRONMENTS]
    for context in (None, bounded(account, env)):
        for role in roles:
            decision = account.decide(deploy, "iam:DeleteRolePermissionsBoundary", role, context)
            assert decision.outcome is Outcome.EXPLICIT_DENY, decision
    changes = ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"]
    changes += ["iam:CreatePolicy", "iam:TagPolicy"]
    for boundary in (account.boundary(e) for e in ENVIRONMENTS):
        for action in changes:
            decision = account.decide(deploy, action, boundary)
            assert decision.outcome is Outcome.EXPLICIT_DENY, (action, boundary, decision)  # its own matches its glob
    assert account.can(
        deploy, "iam:CreatePolicyVersion", f"arn:aws:iam::{account.account_id}:policy/eks-platform-{env}-x"
    )


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_role_under_the_boundary_cannot_touch_the_ci_roles_or_the_other_environments(account, env, other):
    account, _ = under_boundary(account, env)
    role = account.role(f"eks-platform-{env}-x")
    targets = [*ci_roles(account), account.role(f"eks-platform-{other}-node"), account.role(f"eks-platform-{other}-x")]
    targets += [ADMIN, RUNNER, account.role("some-team-poweruser")]
    for context in (None, bounded(account, env), bounded(account, other)):
        assert denied_all(account, role, [*IAM_MUTATIONS, "iam:TagRole", "iam:CreateRole"], targets, context) == []
    provider = f"arn:aws:iam::{account.account_id}:oidc-provider/token.actions.githubusercontent.com"
    changes = [
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
        "iam:TagOpenIDConnectProvider",
    ]
    assert denied_all(account, role, [*changes, "iam:AddClientIDToOpenIDConnectProvider"], [provider]) == []


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_role_under_the_boundary_creates_no_unbounded_principal(account, env, other):
    account, role = under_boundary(account, env)
    mine = account.role(f"eks-platform-{env}-y")
    for action in BOUNDED_ROLE_ACTIONS:
        for context in other_boundaries(account, env, other):
            assert not account.can(role, action, mine, context), (action, context)
    assert account.can(role, "iam:CreateRole", mine, bounded(account, env))  # what the boundary caps, it may create
    assert denied_all(account, role, ["iam:DeleteRolePermissionsBoundary"], [mine, role], bounded(account, env)) == []
    users = [f"arn:aws:iam::{account.account_id}:user/{name}" for name in ("x", "admin")]
    user_actions = ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:AttachUserPolicy"]
    assert denied_all(account, role, [*user_actions, "iam:PutUserPolicy"], users) == []
    group = f"arn:aws:iam::{account.account_id}:group/admins"
    assert (
        denied_all(account, role, ["iam:AddUserToGroup", "iam:AttachGroupPolicy", "iam:PutGroupPolicy"], [group]) == []
    )


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_role_under_the_boundary_cannot_change_a_boundary_or_another_environments_policy(account, env, other):
    account, role = under_boundary(account, env)
    changes = ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"]
    iam = f"arn:aws:iam::{account.account_id}"
    policies = [account.boundary(env), account.boundary(other), f"{iam}:policy/eks-platform-{other}-x"]
    policies.append(f"{iam}:policy/platform-admin-extra")
    assert denied_all(account, role, changes, policies) == []
    assert account.can(role, "iam:CreatePolicyVersion", f"{iam}:policy/eks-platform-{env}-x")


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_role_under_the_boundary_reaches_no_state_and_no_bootstrap_key(account, env, other):
    account, role = under_boundary(account, env)
    stacks = [account.object(key) for e in ENVIRONMENTS for key in state_files(e) + lock_files(e)]
    shared = [account.object(key) for key in [META, *BOOTSTRAP_STATE]]
    keys = [*account.keys.values(), account.state_key]
    assert denied_all(account, role, [*WRITES, "s3:GetObject"], stacks + shared) == []
    assert denied_all(account, role, BUCKET_ADMIN, [account.bucket_arn]) == []
    assert denied_all(account, role, [*KEY_USE, *KEY_ADMIN], keys) == []
    # Each layer on its own: the bucket and key policies (without the boundary), and the boundary (without them).
    theirs = [account.object(key) for key in state_files(other) + lock_files(other)]
    assert denied_all(account.without_boundaries(), role, WRITES, theirs) == [], "the bucket policy alone"
    assert denied_all(account.without_boundaries(), role, KEY_USE, [account.keys[other]]) == [], "the key policy alone"
    boundary_only = account.without_bucket_policy().with_delegating_key_policies()
    assert denied_all(boundary_only, role, [*WRITES, "s3:GetObject"], theirs) == [], "the boundary alone"
    assert denied_all(boundary_only, role, [*KEY_USE, *KEY_ADMIN], keys) == [], "the boundary alone"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_role_under_the_boundary_still_gets_what_its_policies_grant(account, env):
    account, role = under_boundary(account, env)
    iam = f"arn:aws:iam::{account.account_id}"
    for action, resource in [
        ("ec2:RunInstances", "*"),
        ("eks:DescribeCluster", f"arn:aws:eks:us-west-2:{account.account_id}:cluster/eks-platform-{env}"),
        ("s3:GetObject", "arn:aws:s3:::some-other-bucket/x"),
        ("iam:PassRole", f"{iam}:role/eks-platform-{env}-node"),
        ("iam:CreateInstanceProfile", f"{iam}:instance-profile/eks-platform-{env}_123"),
        ("iam:CreateServiceLinkedRole", f"{iam}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"),
    ]:
        assert account.can(role, action, resource), (action, resource)
    # ... and nothing its own policies do not grant: the boundary only caps.
    capped = account.with_role(role, [], account.boundary(env))
    assert not capped.can(role, "ec2:RunInstances", "*")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_ci_role_and_no_bounded_role_can_assume_a_person(account, env):
    # PowerUserAccess allows sts:* on "*": a person's role whose trust names the account root would be open to the CI
    # roles and to every role the platform creates, unless they are denied assuming it.
    bounded_account, bounded_role = under_boundary(account, env)
    people = [ADMIN, RUNNER]
    for principal in (account.ci("deploy", env), account.ci("preview", env)):
        for action in ("sts:AssumeRole", "sts:TagSession"):
            assert not [p for p in people if account.can(principal, action, p)], (principal, action)
    assert not [p for p in people if bounded_account.can(bounded_role, "sts:AssumeRole", p)]
    # The roles the environment runs on stay assumable: the deny names people only.
    assert account.can(account.ci("deploy", env), "sts:AssumeRole", account.role(f"eks-platform-{env}-node"))


# --- IAM users: the SMTP user of `email`, created only with the boundary, and what it can do --------------------------


def user(account: Account, name: str) -> str:
    return f"arn:aws:iam::{account.account_id}:user/{name}"


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_creates_its_users_only_with_its_boundary(account, env, other):
    deploy, mine = account.ci("deploy", env), user(account, f"eks-platform-{env}-smtp")
    # A real CreateUser: with the environment's boundary in the request allowed, without it (or another) denied.
    assert account.can(deploy, "iam:CreateUser", mine, bounded(account, env))
    for context in other_boundaries(account, env, other):
        for action in BOUNDED_USER_ACTIONS:
            assert not account.can(deploy, action, mine, context), (action, context)
    for action in BOUNDED_USER_ACTIONS:
        assert account.can(deploy, action, mine, bounded(account, env)), action
    # What the SMTP user's key, tags and deletion need: no boundary in those requests.
    for action in ("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:TagUser", "iam:DeleteUser"):
        assert account.can(deploy, action, mine), action
    # Never an attached (managed) policy, nor a boundary removed.
    assert not account.can(deploy, "iam:AttachUserPolicy", mine, bounded(account, env))
    decision = account.decide(deploy, "iam:DeleteUserPermissionsBoundary", mine, bounded(account, env))
    assert decision.outcome is Outcome.EXPLICIT_DENY, decision


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_a_deploy_role_touches_no_other_user(account, env, other):
    deploy = account.ci("deploy", env)
    theirs = [user(account, name) for name in (f"eks-platform-{other}-smtp", "admin", "ci-bot", "eks-platform-smtp")]
    actions = [*BOUNDED_USER_ACTIONS, "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteUser", "iam:TagUser"]
    for context in (None, bounded(account, env), bounded(account, other)):
        assert denied_all(account, deploy, actions, theirs, context) == []
    preview = account.ci("preview", env)
    assert (
        denied_all(account, preview, actions, [user(account, f"eks-platform-{env}-smtp")], bounded(account, env)) == []
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_preview_role_reads_the_users_and_ses(account, env):
    preview, mine = account.ci("preview", env), user(account, f"eks-platform-{env}-smtp")
    for action in ("iam:GetUser", "iam:GetUserPolicy", "iam:ListAccessKeys", "iam:ListUserTags"):
        assert account.can(preview, action, mine), action  # ReadOnlyAccess
    identity = f"arn:aws:ses:us-west-2:{account.account_id}:identity/example.com"
    for action in ("ses:GetEmailIdentity", "ses:GetConfigurationSet", "ses:ListTagsForResource"):
        assert account.can(preview, action, identity), action
    assert not account.can(preview, "ses:CreateEmailIdentity", identity)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_deploy_role_manages_ses_identities_the_guardduty_agent_and_its_endpoint(account, env):
    # PowerUserAccess grants SES, EC2 and EKS: the bootstrap adds nothing for them (and denies none).
    deploy = account.ci("deploy", env)
    region = f"arn:aws:ses:us-west-2:{account.account_id}"
    for action, resource in [
        ("ses:CreateEmailIdentity", f"{region}:identity/example.com"),
        ("ses:PutEmailIdentityDkimSigningAttributes", f"{region}:identity/example.com"),
        ("ses:DeleteEmailIdentity", f"{region}:identity/example.com"),
        ("ses:CreateConfigurationSet", f"{region}:configuration-set/eks-platform-{env}-email"),
        ("ses:TagResource", f"{region}:identity/example.com"),
        ("ec2:CreateVpcEndpoint", "*"),
        ("eks:CreateAddon", f"arn:aws:eks:us-west-2:{account.account_id}:cluster/eks-platform-{env}"),
    ]:
        assert account.can(deploy, action, resource), action


@pytest.mark.parametrize(("env", "other"), PAIRS)
def test_the_smtp_user_under_the_boundary_sends_email_and_does_nothing_else(account, env, other):
    smtp = user(account, f"eks-platform-{env}-smtp")
    identity = f"arn:aws:ses:us-west-2:{account.account_id}:identity/example.com"
    account = account.with_role(smtp, [ses_smtp_send_policy([identity])], account.boundary(env))  # components/email.py
    assert account.can(smtp, "ses:SendRawEmail", identity)
    assert not account.can(smtp, "ses:SendRawEmail", identity.replace("example.com", "other.example"))
    assert not account.can(smtp, "ses:SendEmail", identity)
    assert not account.can(smtp, "iam:CreateUser", user(account, f"eks-platform-{env}-x"), bounded(account, env))
    stacks = [account.object(key) for key in state_files(other) + lock_files(other)]
    assert denied_all(account, smtp, [*WRITES, "s3:GetObject"], stacks) == []
    # Even given everything, the boundary keeps a key-holding user off IAM users, the state and other roles.
    grown = account.with_role(smtp, [ALLOW_ALL], account.boundary(env))
    assert denied_all(grown, smtp, ["iam:CreateAccessKey", "iam:CreateUser"], [user(account, "admin")]) == []
    assert denied_all(grown, smtp, IAM_MUTATIONS, [account.ci("deploy", other)]) == []
