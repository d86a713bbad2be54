"""The platform stacks name what the bootstrap creates: its CI roles, its permissions boundary, its role globs.

A mismatch fails only at `pulumi up` (an access entry for a role that does not exist; AccessDenied on CreateRole
without the boundary the deploy role's conditions require), so it is checked here, for every stack file.
"""

import fnmatch

import pytest
import yaml

from bootstrap.bootstrap_plan import ci_role_name, permissions_boundary_arn, platform_role_globs, platform_user_glob
from tools.delivery_check import load_stacks
from tools.harness import REPO_ROOT, run_program

STACKS = load_stacks(REPO_ROOT)


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
    settings = STACKS[stack]
    globs = platform_role_globs(
        project="eks-platform", environment=stack, service_role_name_pattern=settings.service_role_name_pattern
    )
    names = [r.inputs["name"] for r in run_program(stack, "update").by_type("aws:iam/role:Role")]
    assert names
    assert [name for name in names if not any(fnmatch.fnmatchcase(name, glob) for glob in globs)] == []


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
