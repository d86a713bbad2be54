"""The stack config reaches the policy pack in one environment variable (PULUMI_CONFIG), as under the CLI.

Linux refuses a single environment string over 128 KiB (``MAX_ARG_STRLEN``, E2BIG at exec): a stack with a
thousand roles inline cannot start the pack, offline or under the real CLI (pulumi/pulumi#20402). Roster files
keep the config small.
"""

import json

import pytest

from tools.harness import REPO_ROOT
from tools.policy_runner import PolicyRunError, RunningPack
from tools.stack_config import load_stack_config

MAX_ARG_STRLEN = 128 * 1024


def inline_roster(size: int) -> dict:
    config, _ = load_stack_config(REPO_ROOT, "dev")
    settings = json.loads(config["eks-platform:settings"])
    settings["appRoles"] = {f"svc-{i:04d}": {"namespace": f"svc-{i:04d}", "serviceAccount": "app"} for i in range(size)}
    settings["vault"]["users"] = {f"user-{i:04d}@example.com": ["arn:aws:iam::1:role/r"] for i in range(size)}
    config["eks-platform:settings"] = json.dumps(settings)
    return config


def test_a_thousand_inline_roles_cannot_start_the_pack_and_the_error_says_why():
    config = inline_roster(1000)
    assert len(json.dumps(config).encode()) > MAX_ARG_STRLEN
    with pytest.raises(PolicyRunError) as caught:
        RunningPack(project="eks-platform", stack="dev", stack_config=config)
    assert "Argument list too long" in str(caught.value)
    assert "move large rosters into appRolesFiles / vault.usersFiles" in str(caught.value)


def test_a_hundred_inline_roles_still_fit():
    config = inline_roster(100)
    assert len(json.dumps(config).encode()) < MAX_ARG_STRLEN
    with RunningPack(project="eks-platform", stack="dev", stack_config=config) as pack:
        assert pack is not None
