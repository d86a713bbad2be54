"""The Pulumi CLI's config rules, as the offline loader enforces them before the program runs.

Source: pulumi/pulumi ``pkg/workspace/config.go`` (``mergeConfig``, run by ``pulumi preview`` and ``up`` as
"validating stack config: ..."): a key declared in ``Pulumi.yaml`` without a default must be set by every stack
("Stack 'dev' is missing configuration value 'x'"); an explicitly typed key declared ``secret: true`` must be
encrypted ("... must be encrypted as it's secret"). The program adds its own rule: the secrets a stack's settings
need (Vault, Argo SSO) are set, and set as secrets, before anything registers.
"""

import copy
import textwrap
from pathlib import Path

import pytest

from config import required_secrets
from tests.config.test_settings import parse, stack_settings
from tools.harness import REPO_ROOT, ConfigurationError, run_program
from tools.stack_config import StackConfigError, load_stack_config, project_declarations

KEY = "eks-platform:settings"


def project(tmp_path: Path, declarations: str, stack_config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: proj\nruntime: python\nconfig:\n" + textwrap.indent(declarations, "  ")
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + textwrap.indent(stack_config, "  "))
    return tmp_path


def test_a_declared_key_without_default_must_be_set(tmp_path):
    root = project(tmp_path, "token:\n  type: string\n  secret: true\nregion: us-west-2\n", "proj:other: x\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(root, "dev")
    assert str(caught.value) == "validating stack config: Stack 'dev' is missing configuration value 'token'"


def test_several_missing_keys_are_listed_as_the_cli_lists_them(tmp_path):
    root = project(tmp_path, "b:\n  type: string\na:\n  type: string\nc:\n  type: string\n", "proj:x: 1\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(root, "dev")
    assert str(caught.value).endswith("is missing configuration values 'a', 'b' and 'c'")


def test_a_typed_secret_in_plain_text_is_refused(tmp_path):
    root = project(tmp_path, "token:\n  type: string\n  secret: true\n", "proj:token: hunter2\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(root, "dev")
    assert str(caught.value) == (
        "validating stack config: Stack 'dev' with configuration key 'token' must be encrypted as it's secret"
    )
    encrypted = project(tmp_path, "token:\n  type: string\n  secret: true\n", "proj:token:\n  secure: v1:abc\n")
    config, secrets = load_stack_config(encrypted, "dev")
    assert secrets == {"proj:token"}
    assert config["proj:token"] != "v1:abc"  # offline: a placeholder, never the ciphertext


def test_defaults_fill_in_and_a_typed_key_keeps_its_type(tmp_path):
    root = project(tmp_path, "size:\n  type: integer\n  default: 3\nname: web\n", "")
    config, _ = load_stack_config(root, "dev")
    assert config == {"proj:size": "3", "proj:name": "web"}
    wrong = project(tmp_path, "size:\n  type: integer\n", "proj:size: big\n")
    with pytest.raises(StackConfigError, match="configuration key 'size' must be of type 'integer'"):
        load_stack_config(wrong, "dev")


def test_default_and_value_together_are_refused(tmp_path):
    root = project(tmp_path, "x:\n  default: 1\n  value: 2\n", "")
    with pytest.raises(StackConfigError, match="cannot have both a 'default' and 'value' attribute"):
        load_stack_config(root, "dev")


def test_the_project_declares_no_key_a_stack_may_not_need():
    # A declared key without a default is demanded of every stack, Vault off or not.
    declarations = project_declarations(REPO_ROOT, "eks-platform")
    assert [d.key for d in declarations.values() if not d.has_default] == []
    for stack in ("dev", "prod"):
        load_stack_config(REPO_ROOT, stack)  # the CLI's checks pass


def test_the_secrets_a_stack_needs_follow_its_settings():
    dev = parse(stack_settings("dev"))
    assert set(required_secrets(dev)) == {"vaultToken", "vaultAwsAccessKey", "vaultAwsSecretKey"}
    raw = copy.deepcopy(stack_settings("dev"))
    raw["vault"]["enabled"] = False
    raw["argo"]["sso"] = {"issuer": "https://login.example.com", "clientId": "argocd"}
    assert required_secrets(parse(raw)) == {"argocdOidcClientSecret": "argo.sso"}


def test_a_needed_secret_that_is_unset_stops_the_program_before_registration():
    # Pulumi.dev.yaml enables Vault but, on a fresh clone, holds none of its secrets (they are set per stack).
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", offline_secrets=())
    assert (
        caught.value.message
        == "; ".join(
            f"Pulumi.dev.yaml: eks-platform:{key}: required by vault.enabled; "
            f"set it with `pulumi config set --secret {key} <value>`"
            for key in ("vaultToken", "vaultAwsAccessKey", "vaultAwsSecretKey")
        )
        + " (3 errors)"
    )
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}


def test_a_needed_secret_in_plain_text_stops_the_program():
    secure = {"secure": "v1:offline"}
    overrides = {"vaultToken": "s.plain", "vaultAwsAccessKey": secure, "vaultAwsSecretKey": secure}
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides=overrides)
    assert caught.value.message == (
        "Pulumi.dev.yaml: eks-platform:vaultToken: stored in plain text; "
        "encrypt it with `pulumi config set --secret vaultToken <value>`"
    )
    assert {r.type for r in caught.value.registrations} <= {"pulumi:pulumi:Stack"}


def test_with_every_needed_secret_set_the_program_runs():
    secure = {"secure": "v1:offline"}
    plan = run_program(
        "dev", "preview", config_overrides=dict.fromkeys(required_secrets(parse(stack_settings("dev"))), secure)
    )
    assert plan.by_type("vault:index/authBackend:AuthBackend")


def test_a_secret_inside_the_settings_is_refused():
    # The CLI marks the whole settings key secret; the program would place its plain text in resources.
    raw = stack_settings("dev")
    raw["argo"]["rootApp"]["targetRevision"] = {"secure": "v1:abc"}
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides={KEY: raw})
    assert caught.value.message == (
        f"Pulumi.dev.yaml: {KEY}: holds a `secure:` value; settings are not secret: use a separate secret key"
    )


def test_settings_that_are_a_plain_string_name_the_stack_file():
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides={KEY: "hello"})
    assert caught.value.message == f"Pulumi.dev.yaml: {KEY}: expected a mapping of settings, got str"


def test_a_stack_file_nested_too_deeply_is_one_line(tmp_path):
    root = project(tmp_path, "", "proj:deep: " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(root, "dev")
    assert str(caught.value) == "Pulumi.dev.yaml: invalid YAML: nested too deeply"


def laughs(levels: int, fanout: int) -> str:
    """A "billion laughs" document: each level an anchored list of ``fanout`` aliases of the one below."""
    lines = ["  a0: &a0 lol"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]" for i in range(1, levels + 1)]
    return "proj:laughs:\n" + "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_as_go_yaml_refuses_it(tmp_path):
    # go-yaml v3 (decode.go allowedAliasRatio): decoding stops when aliases make most of the work; 3 levels of 10
    # still decode, 4 do not.
    (tmp_path / "small").mkdir()
    small = project(tmp_path / "small", "", laughs(3, 10))
    config, _ = load_stack_config(small, "dev")
    assert config["proj:laughs"].count("lol") == 1 + 10 + 100 + 1000
    (tmp_path / "large").mkdir()
    large = project(tmp_path / "large", "", laughs(4, 10))
    with pytest.raises(StackConfigError, match="document contains excessive aliasing"):
        load_stack_config(large, "dev")
