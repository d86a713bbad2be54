"""The platform stacks name what the bootstrap creates: its CI roles, its permissions boundary, its role globs.

A mismatch fails only at `pulumi up` (an access entry for a role that does not exist; AccessDenied on CreateRole
without the boundary the deploy role's conditions require), so it is checked here, for every stack file.
"""

import fnmatch

import pytest
import yaml

from bootstrap.bootstrap_plan import (
    BootstrapSettings,
    ci_role_name,
    permissions_boundary_arn,
    platform_role_globs,
    platform_user_glob,
    settings_problems,
)
from config import Settings
from tools.delivery_check import load_stacks
from tools.harness import REPO_ROOT, run_program

STACKS = load_stacks(REPO_ROOT)
SEEDS_DIR = REPO_ROOT / "examples" / "seeds"
SEEDS = sorted(path.stem for path in SEEDS_DIR.glob("*.yaml"))
BOOTSTRAP = yaml.safe_load((REPO_ROOT / "bootstrap" / "Pulumi.admin.yaml").read_text())["config"]
BOOTSTRAP_SETTINGS = BOOTSTRAP["eks-platform-bootstrap:settings"]


def bootstrap_environment(settings: Settings) -> dict[str, object]:
    """``environments.<env>`` of the bootstrap settings for a stack: what docs/bootstrap.md says to copy over."""
    environment: dict[str, object] = {"serviceRoleNamePattern": settings.service_role_name_pattern}
    if settings.cluster.name:
        environment["clusterName"] = settings.cluster.name
    patterns = ([settings.naming.role] if settings.naming.role else []) + list(settings.naming.roles.values())
    if patterns:
        environment["roleNamePatterns"] = patterns
    return environment


def role_globs(stack: str, environment: dict) -> list[str]:
    return platform_role_globs(
        project="eks-platform",
        environment=stack,
        service_role_name_pattern=environment["serviceRoleNamePattern"],
        cluster_name=environment.get("clusterName"),
        role_name_patterns=environment.get("roleNamePatterns", ()),
    )


def unmanageable(names: list[str], globs: list[str]) -> list[str]:
    return [name for name in names if not any(fnmatch.fnmatchcase(name, glob) for glob in globs)]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_stack_names_the_bootstraps_roles_and_boundary(stack):
    settings = STACKS[stack]
    (account,) = settings.allowed_account_ids
    iam = f"arn:aws:iam::{account}"
    assert f"{iam}:role/{ci_role_name('eks-platform', 'deploy', stack)}" in settings.cluster.admin_role_arns
    assert f"{iam}:role/{ci_role_name('eks-platform', 'preview', stack)}" in settings.cluster.viewer_role_arns
    assert settings.permissions_boundary_arn == permissions_boundary_arn("aws", account, "eks-platform", stack)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_role_the_stack_creates_is_one_its_deploy_role_may_manage(stack):
    globs = role_globs(stack, bootstrap_environment(STACKS[stack]))
    names = [r.inputs["name"] for r in run_program(stack, "update").by_type("aws:iam/role:Role")]
    assert names
    assert unmanageable(names, globs) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_role_a_seed_creates_is_one_its_deploy_role_may_manage(seed):
    # The seeds plan as prod (tests/program/test_seed_platforms.py); their cluster.name and naming put roles outside
    # eks-platform-prod-*: the bootstrap's clusterName and roleNamePatterns let the deploy role manage them.
    raw = yaml.safe_load((SEEDS_DIR / f"{seed}.yaml").read_text())["eks-platform:settings"]
    environment = bootstrap_environment(Settings.model_validate(raw))
    names = [
        r.inputs["name"]
        for r in run_program("prod", "update", config_overrides={"eks-platform:settings": raw}).by_type(
            "aws:iam/role:Role"
        )
    ]
    assert names
    assert unmanageable(names, role_globs("prod", environment)) == []
    bootstrap = BootstrapSettings.model_validate(
        {**BOOTSTRAP_SETTINGS, "environments": {"dev": {}, "prod": environment}}
    )
    assert settings_problems(bootstrap) == []


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_user_the_stack_creates_is_one_its_deploy_role_may_manage(stack):
    settings = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["eks-platform:settings"]
    settings["email"] = {"domains": ["example.com"]}  # the SMTP user (email.smtpUser, default on)
    plan = run_program(stack, "update", config_overrides={"eks-platform:settings": settings})
    users = plan.by_type("aws:iam/user:User")
    assert [u.inputs["name"] for u in users] == [f"eks-platform-{stack}-smtp"]
    glob = platform_user_glob("eks-platform", stack)
    assert all(fnmatch.fnmatchcase(u.inputs["name"], glob) for u in users)
    boundary = permissions_boundary_arn("aws", STACKS[stack].allowed_account_ids[0], "eks-platform", stack)
    assert {u.inputs["permissionsBoundary"] for u in users} == {boundary}  # CreateUser's condition
