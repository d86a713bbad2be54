"""Roster files: app roles and Vault users beside the stack file, read strictly and validated like inline ones."""

import copy
from pathlib import Path

import pulumi
import pytest

from components.naming import NamingContext
from components.rosters import RosterError, load_roster
from config import Settings, parse_settings
from tests.config.test_settings import stack_settings

KEY = "eks-platform:settings"
ARN = "arn:aws:iam::941892620273:role/eventual-vault-access"


def parse_in(base: Path, raw: dict) -> Settings:
    return parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, base_dir=base)


def error_in(base: Path, raw: dict) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_in(base, raw)
    message = str(caught.value)
    assert "\n" not in message
    return message


def dev_with(**changes: object) -> dict:
    raw = copy.deepcopy(stack_settings("dev"))
    raw.update(changes)
    return raw


def test_roles_and_users_from_files_join_the_inline_ones(tmp_path):
    (tmp_path / "rosters").mkdir()
    (tmp_path / "rosters" / "roles.yaml").write_text(
        "".join(f"svc-{i}:\n  namespace: svc-{i}\n  serviceAccount: svc-{i}\n" for i in range(20))
    )
    (tmp_path / "rosters" / "users.yaml").write_text(f"ana@example.com: [{ARN}]\nbo@example.com: [{ARN}]\n")
    raw = dev_with(appRolesFiles=["rosters/roles.yaml"])
    raw["vault"]["usersFiles"] = ["rosters/users.yaml"]
    settings = parse_in(tmp_path, raw)
    assert set(settings.app_roles) == {"daft", *(f"svc-{i}" for i in range(20))}
    assert set(settings.vault.users) == {"jay@eventualcomputing.com", "ana@example.com", "bo@example.com"}


def test_an_entry_from_a_file_is_validated_and_named_with_its_file(tmp_path):
    (tmp_path / "roles.yaml").write_text("reports:\n  namespace: Not_A_Label\n  serviceAccount: r\n")
    message = error_in(tmp_path, dev_with(appRolesFiles=["roles.yaml"]))
    assert message.startswith(f"Pulumi.dev.yaml: {KEY}.appRoles.reports.namespace (from roles.yaml): String should")


def test_an_entry_defined_twice_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("daft:\n  namespace: x\n  serviceAccount: x\n")
    assert error_in(tmp_path, dev_with(appRolesFiles=["a.yaml"])) == (
        f"Pulumi.dev.yaml: {KEY}.appRolesFiles[0]: a.yaml: appRoles.daft is already defined in the stack file"
    )
    (tmp_path / "b.yaml").write_text("x:\n  namespace: x\n  serviceAccount: x\n")
    (tmp_path / "c.yaml").write_text("x:\n  namespace: y\n  serviceAccount: y\n")
    assert error_in(tmp_path, dev_with(appRolesFiles=["b.yaml", "c.yaml"])).endswith(
        "appRolesFiles[1]: c.yaml: appRoles.x is already defined in b.yaml"
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("missing.yaml", None, "appRolesFiles[0]: missing.yaml: cannot be read (No such file or directory)"),
        ("../outside.yaml", None, "must be a relative path inside the project directory"),
        ("list.yaml", "- a\n- b\n", "appRolesFiles[0]: list.yaml: expected a mapping, got list"),
        ("dup.yaml", "a:\n  namespace: a\na:\n  namespace: b\n", "dup.yaml: line 3: duplicate key 'a' on line 3"),
        ("bad.yaml", "a: [unclosed\n", "appRolesFiles[0]: bad.yaml: line 2:"),
    ],
)
def test_unusable_roster_files_are_one_line(tmp_path, name, text, expected):
    if text is not None:
        (tmp_path / name).write_text(text)
    message = error_in(tmp_path, dev_with(appRolesFiles=[name]))
    assert message.startswith(f"Pulumi.dev.yaml: {KEY}.")
    assert expected in message


def test_yaml_1_1_booleans_stay_strings(tmp_path):
    (tmp_path / "r.yaml").write_text("on: yes\nflag: true\n")
    assert load_roster("r.yaml", tmp_path) == {"on": "yes", "flag": True}
    with pytest.raises(RosterError, match="must be a relative path"):
        load_roster("/etc/passwd", tmp_path)


def test_a_roster_that_is_not_text_or_nests_too_deeply_is_one_line(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"a: \xff\n")
    assert "bin.yaml: not UTF-8 text" in error_in(tmp_path, dev_with(appRolesFiles=["bin.yaml"]))
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert "deep.yaml: nested too deeply" in error_in(tmp_path, dev_with(appRolesFiles=["deep.yaml"]))


def test_a_roster_role_whose_name_collides_names_its_file(tmp_path):
    (tmp_path / "roles.yaml").write_text(
        "ebs-csi:\n  namespace: x\n  serviceAccount: x\n  roleName: '{cluster}-{service}'\n"
    )
    with pytest.raises(pulumi.RunError) as caught:
        parse_settings(
            dev_with(appRolesFiles=["roles.yaml"]),
            stack_file="Pulumi.dev.yaml",
            key=KEY,
            base_dir=tmp_path,
            naming=NamingContext("eks-platform", "dev"),
        )
    assert str(caught.value).startswith(f"Pulumi.dev.yaml: {KEY}.appRoles.ebs-csi.roleName (from roles.yaml): IAM role")


def test_roster_keys_are_text_as_stack_file_keys_are(tmp_path):
    (tmp_path / "users.yaml").write_text(f"2024-01-01: [{ARN}]\n")
    raw = dev_with()
    raw["vault"]["usersFiles"] = ["users.yaml"]
    assert "2024-01-01" in parse_in(tmp_path, raw).vault.users
