"""``python -m tools.plan`` refuses what it cannot honour before the plan runs, and never writes a secret's value.

- ``--policy-pack DIR`` that does not exist, is a file, or has no ``PulumiPolicy.yaml`` fails closed (exit 4, one
  line), and so does a project without ``policies/`` unless ``--no-policy`` is given: no pack is never a pass.
- ``--json FILE`` / ``--markdown FILE`` that cannot be written (missing directory, a directory, no permission)
  exit 2 with one line naming the option, before the program or the pack starts.
- Secret-wrapped inputs are ``[secret]`` in ``--json``, and a policy message quoting a secret's value is
  redacted in ``--json``, ``--markdown`` and on stdout.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tools import plan as plan_cli
from tools.harness import PLACEHOLDER_SECRET, REDACTED, REPO_ROOT, redact, run_program, secret_values
from tools.policy_runner import check_plan
from tools.stack_config import load_stack_config

FIXTURE = REPO_ROOT / "tests" / "harness" / "fixture_project"
SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = plan_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fixture_args(*extra: str) -> list[str]:
    return ["--stack", "test", "--project-dir", str(FIXTURE), *extra]


# --- the policy pack fails closed -------------------------------------------------------------------------


def test_a_policy_pack_dir_that_does_not_exist_fails_closed(tmp_path, capsys):
    missing = tmp_path / "no-such-pack"
    code, out, err = run(capsys, *fixture_args("--policy-pack", str(missing)))
    assert code == plan_cli.EXIT_POLICY_ERROR
    assert out == ""
    assert err == (
        f"error: policy checks could not run: --policy-pack {missing}: no such directory; "
        "pass --no-policy to plan without policies\n"
    )


def test_a_policy_pack_dir_without_pulumipolicy_yaml_fails_closed(tmp_path, capsys):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "__main__.py").write_text("")
    code, out, err = run(capsys, *fixture_args("--policy-pack", str(tmp_path / "pack")))
    assert code == plan_cli.EXIT_POLICY_ERROR
    assert out == ""
    assert err == (
        f"error: policy checks could not run: --policy-pack {tmp_path / 'pack'}: no PulumiPolicy.yaml, so not a "
        "policy pack; pass --no-policy to plan without policies\n"
    )


def test_a_policy_pack_that_is_a_file_fails_closed(tmp_path, capsys):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    code, _, err = run(capsys, *fixture_args("--policy-pack", str(tmp_path / "PulumiPolicy.yaml")))
    assert code == plan_cli.EXIT_POLICY_ERROR
    assert err.endswith("PulumiPolicy.yaml: not a directory; pass --no-policy to plan without policies\n")
    assert err.count("\n") == 1


def test_a_project_without_a_policy_pack_needs_no_policy(capsys):
    code, out, err = run(capsys, *fixture_args())
    assert code == plan_cli.EXIT_POLICY_ERROR
    assert out == ""
    assert err == (
        f"error: policy checks could not run: {FIXTURE / 'policies'} (the default policy pack): no such directory; "
        "pass --no-policy to plan without policies\n"
    )
    code, out, _ = run(capsys, *fixture_args("--no-policy"))
    assert code == 0
    assert "    9  total" in out


def test_the_project_s_own_pack_is_found_by_default_and_by_name(tmp_path, capsys):
    json_file = tmp_path / "plan.json"
    argv = ["--stack", "dev", "--no-lint", "--json", str(json_file)]
    code, _, _ = run(capsys, *argv, "--policy-pack", str(REPO_ROOT / "policies"))
    assert code == 0
    assert json.loads(json_file.read_text())["policy"]["pack"]["name"] == "eks-platform"


# --- output paths -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_an_output_file_in_a_missing_directory_is_refused_before_the_plan(tmp_path, capsys, option):
    target = tmp_path / "missing" / "out.txt"
    code, out, err = run(capsys, *fixture_args(option, str(target)))
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert out == ""
    assert err == f"error: {option} {target}: directory {tmp_path / 'missing'} does not exist\n"


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_an_output_file_that_is_a_directory_is_refused(tmp_path, capsys, option):
    code, out, err = run(capsys, *fixture_args(option, str(tmp_path)))
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert out == ""
    assert err == f"error: {option} {tmp_path}: is a directory\n"


def test_an_output_file_under_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "plan.md"
    code, _, err = run(capsys, *fixture_args("--no-policy", "--markdown", str(target)))
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert err == f"error: --markdown {target}: {tmp_path / 'file'} is not a directory\n"


def _deny_writes(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """As root, permission bits do not stop a write: make os.access answer as for an unprivileged user."""
    if os.geteuid() != 0:
        denied.chmod(0o500 if denied.is_dir() else 0o400)
        return
    real = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == denied and mode & os.W_OK:
            return False
        return real(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)


def test_an_output_directory_without_write_permission_is_refused(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    _deny_writes(monkeypatch, locked)
    try:
        code, out, err = run(capsys, *fixture_args("--no-policy", "--json", str(locked / "plan.json")))
    finally:
        locked.chmod(0o700)
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert out == ""
    assert err == f"error: --json {locked / 'plan.json'}: permission denied (cannot create a file in {locked})\n"


def test_a_read_only_output_file_is_refused(tmp_path, capsys, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    _deny_writes(monkeypatch, target)
    try:
        code, _, err = run(capsys, *fixture_args("--no-policy", "--json", str(target)))
    finally:
        target.chmod(0o600)
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert err == f"error: --json {target}: permission denied (the file is not writable)\n"
    assert target.read_text() == "old\n"


def test_the_output_paths_are_checked_before_the_pack(tmp_path, capsys):
    # Both wrong: the output path is reported (exit 2), the pack is never looked for.
    code, _, err = run(capsys, *fixture_args("--policy-pack", str(tmp_path / "nope"), "--json", str(tmp_path)))
    assert code == plan_cli.EXIT_CONFIG_ERROR
    assert err == f"error: --json {tmp_path}: is a directory\n"


def test_writable_output_paths_are_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, *fixture_args("--no-policy", "--json", "plan.json", "--markdown", os.devnull))
    assert code == 0
    assert json.loads((tmp_path / "plan.json").read_text())["stack"] == "test"


# --- secrets --------------------------------------------------------------------------------------------

KNOWN_SECRET = "hunter2-known-secret-value"
PACK_SECRET_MAIN = """\
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def plain(value):
    if hasattr(value, "items"):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__.endswith("ListProxy"):
        return [plain(item) for item in value]
    return value


def quote_the_inputs(args, report_violation):
    if args.resource_type == "aws:iam/role:Role":
        report_violation("the role's inputs: " + repr(plain(args.props)))


PolicyPack(
    name="leaky",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[ResourceValidationPolicy(name="quote-inputs", description="Quotes inputs.", validate=quote_the_inputs)],
)
"""
SECRET_PROGRAM = f'''\
import json

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
token = config.require_secret("token")
known = pulumi.Output.secret("{KNOWN_SECRET}")
provider = aws.Provider("aws", region="us-west-2")
aws.iam.Role(
    "app",
    assume_role_policy=json.dumps({{"Version": "2012-10-17", "Statement": []}}),
    description=known,
    tags={{"token": token, "plain": "visible", "derived": known.apply(lambda k: "prefix-" + k)}},
    opts=pulumi.ResourceOptions(provider=provider),
)
'''


@pytest.fixture(scope="module")
def secret_project(tmp_path_factory) -> Path:
    """A program with a config secret (a placeholder offline) and a secret Output of a known value."""
    root = tmp_path_factory.mktemp("secrets")
    (root / "Pulumi.yaml").write_text("name: secrets\nruntime: python\n")
    (root / "Pulumi.test.yaml").write_text("config:\n  secrets:token:\n    secure: v1:AAAA:BBBB\n")
    (root / "__main__.py").write_text(SECRET_PROGRAM)
    pack = root / "policies"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {REPO_ROOT / 'venv'}\n"
    )
    (pack / "__main__.py").write_text(PACK_SECRET_MAIN)
    return root


def test_secret_inputs_are_redacted_in_plan_to_json(secret_project):
    plan = run_program("test", "update", secret_project)
    role = plan.one("aws:iam/role:Role", "app")
    assert role.inputs["description"] == {**SIG, "value": KNOWN_SECRET}  # the captured graph keeps it
    text = json.dumps(plan.to_json())
    assert KNOWN_SECRET not in text
    assert PLACEHOLDER_SECRET not in text
    inputs = next(r for r in plan.to_json()["resources"] if r["name"] == "app")["inputs"]
    assert inputs["description"] == REDACTED
    assert inputs["tags"] == {"token": REDACTED, "plain": "visible", "derived": REDACTED}


def test_the_pack_sees_secret_values_so_its_messages_can_quote_them(secret_project):
    plan = run_program("test", "update", secret_project)
    config, secret_keys = load_stack_config(secret_project, "test")
    report = check_plan(plan, stack_config=config, secret_keys=secret_keys, pack_dir=secret_project / "policies")
    [violation] = report.violations
    assert KNOWN_SECRET in violation.message
    assert f"prefix-{KNOWN_SECRET}" in violation.message
    assert PLACEHOLDER_SECRET in violation.message
    assert KNOWN_SECRET not in json.dumps(plan.redact(report.to_json()))


def test_no_secret_value_reaches_the_json_the_markdown_or_stdout(secret_project, tmp_path, capsys):
    json_file, markdown = tmp_path / "plan.json", tmp_path / "plan.md"
    argv = ["--stack", "test", "--project-dir", str(secret_project), "--mode", "update", "--no-lint"]
    code, out, _ = run(capsys, *argv, "--json", str(json_file), "--markdown", str(markdown))
    assert code == 0
    data = json.loads(json_file.read_text())
    [violation] = data["policy"]["violations"]
    assert violation["policy"] == "quote-inputs"
    assert "visible" in violation["message"]  # the pack did quote the inputs, secrets included
    assert REDACTED in violation["message"]
    for text in (json_file.read_text(), markdown.read_text(), out):
        assert KNOWN_SECRET not in text
        assert PLACEHOLDER_SECRET not in text
    assert REDACTED in markdown.read_text()


def test_config_override_secrets_are_redacted_too(secret_project):
    plan = run_program("test", "update", secret_project, config_overrides={"token": {"secure": "v1:other"}})
    assert PLACEHOLDER_SECRET in secret_values([r.inputs for r in plan.resources])
    assert PLACEHOLDER_SECRET not in json.dumps(plan.to_json())


def test_redact_replaces_wrapped_values_and_quoted_ones_but_not_short_words():
    wrapped = {**SIG, "value": {"password": "correct-horse"}}
    document = {"a": wrapped, "b": ["said correct-horse twice"], "c": {**SIG, "value": "no"}, "d": "no way"}
    secrets = secret_values(document)
    assert secrets >= {"correct-horse", "no"}
    assert redact(document, secrets) == {"a": REDACTED, "b": [f"said {REDACTED} twice"], "c": REDACTED, "d": "no way"}


def test_the_fixture_program_still_writes_its_plan_unchanged(tmp_path, capsys):
    shutil.copytree(FIXTURE, tmp_path / "p")
    json_file = tmp_path / "plan.json"
    code, _, _ = run(
        capsys, "--stack", "test", "--project-dir", str(tmp_path / "p"), "--no-policy", "--json", str(json_file)
    )
    assert code == 0
    assert REDACTED not in json_file.read_text()  # the fixture has no secret inputs (its secret is only exported)
