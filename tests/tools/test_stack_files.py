"""Stack files read as the Pulumi CLI reads them (go-yaml v3), and every unreadable one refused in one line.

The CLI decodes ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` with ``gopkg.in/yaml.v3`` (pulumi/pulumi
``sdk/go/common/encoding/marshal.go``) into ``any`` (``sdk/go/common/resource/config/object.go``): YAML 1.2
booleans only (``yes``/``no``/``on``/``off``/``y``/``n`` are strings), ``0o17`` octal, a duplicate key anywhere
an error ("mapping key ... already defined at line N"). It keeps one YAML 1.1 habit "for compatibility"
(``resolve.go``): a leading zero is octal, ``010`` is 8. Every refusal surfaces from ``./dev plan`` as one line,
exit 2, before anything registers.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tools import plan as plan_cli
from tools.harness import REPO_ROOT, ConfigurationError, copy_project, run_program
from tools.stack_config import StackConfigError, load_stack_config, read_yaml

FIXTURE = REPO_ROOT / "tests" / "harness" / "fixture_project"


def project(tmp_path: Path, stack_text: str, project_text: str = "name: proj\nruntime: python\n") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project_text)
    (tmp_path / "Pulumi.dev.yaml").write_text(textwrap.dedent(stack_text))
    return tmp_path


def config_of(tmp_path: Path, stack_text: str) -> dict[str, str]:
    config, _ = load_stack_config(project(tmp_path, stack_text), "dev")
    return config


def refusal(tmp_path: Path, stack_text: str, project_text: str = "name: proj\nruntime: python\n") -> str:
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(project(tmp_path, stack_text, project_text), "dev")
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- values as YAML 1.2 (go-yaml v3) reads them ------------------------------------------------------------


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N", "yEs"])
def test_yaml_1_1_booleans_are_strings(tmp_path, word):
    config = config_of(tmp_path, f"config:\n  proj:flag: {word}\n  proj:settings:\n    production: {word}\n")
    assert config["proj:flag"] == word
    assert json.loads(config["proj:settings"]) == {"production": word}


@pytest.mark.parametrize(("text", "wire"), [("true", "true"), ("True", "true"), ("TRUE", "true"), ("false", "false")])
def test_only_true_and_false_are_booleans(tmp_path, text, wire):
    config = config_of(tmp_path, f"config:\n  proj:flag: {text}\n  proj:settings:\n    production: {text}\n")
    assert config["proj:flag"] == wire
    assert json.loads(config["proj:settings"]) == {"production": wire == "true"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10", 10),
        ("+12", 12),
        ("-3", -3),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("010", 8),  # go-yaml v3 keeps YAML 1.1's leading-zero octal (resolve.go: "for compatibility")
        ("08", 8),  # not octal: a float 8.0, which Go's JSON writes as 8
        ("1e3", 1000),
        ("1.5", 1.5),
        ("1.0", 1),
        (".5", 0.5),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("nULL", "nULL"),
        ("tRUE", "tRUE"),
        ("12:30", "12:30"),  # a YAML 1.1 base-60 number
        ("2024-01-01", "2024-01-01"),  # a timestamp reaches `any` as its text
        ("'010'", "010"),
        ('"yes"', "yes"),
        ("!!str 010", "010"),
        ("!!float 1", 1),
        ("1e999", "1e999"),  # out of float64 range: ParseFloat fails, so a string
    ],
)
def test_scalars_are_resolved_as_go_yaml_v3_resolves_them(tmp_path, text, value):
    config = config_of(tmp_path, f"config:\n  proj:settings:\n    value: {text}\n")
    assert json.loads(config["proj:settings"]) == {"value": value}


def test_top_level_numbers_reach_the_program_as_the_cli_writes_them(tmp_path):
    config = config_of(tmp_path, "config:\n  proj:a: 0o17\n  proj:b: 1.0\n  proj:c: 1e-7\n  proj:d: 010\n")
    assert config == {"proj:a": "15", "proj:b": "1", "proj:c": "1e-7", "proj:d": "8"}


def test_anchors_and_merge_keys_work_and_explicit_keys_win(tmp_path):
    text = """\
    config:
      proj:base: &base {size: 1, kind: small}
      proj:settings:
        <<: *base
        size: 2
    """
    config = config_of(tmp_path, text)
    assert json.loads(config["proj:settings"]) == {"size": 2, "kind": "small"}


def test_the_repository_stacks_read_as_before():
    for stack in ("dev", "prod"):
        config, _ = load_stack_config(REPO_ROOT, stack)
        settings = json.loads(config["eks-platform:settings"])
        assert isinstance(settings["production"], bool)
        assert settings["cluster"]["kubernetesVersion"] == "1.35"


def test_yaml_1_1_booleans_reach_the_program_as_strings(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "p")
    stack = tmp_path / "p" / "Pulumi.test.yaml"
    stack.write_text(stack.read_text().replace("fixture:debug: true", "fixture:debug: on"))
    config, _ = load_stack_config(tmp_path / "p", "test")
    assert config["fixture:debug"] == "on"


# --- files the CLI refuses: one line naming file, key path and line -------------------------------------------

BAD_STACK_FILES = {
    "unclosed-flow-list": (
        "config:\n  proj:settings: [a, b\n  proj:other: 1\n",
        "Pulumi.dev.yaml: line 3, column 13: invalid YAML: expected ',' or ']', but got ':'",
    ),
    "bad-indentation": (
        "config:\n  proj:a: 1\n   proj:b: 2\n",
        "Pulumi.dev.yaml: line 3, column 10: invalid YAML: mapping values are not allowed here",
    ),
    "tab-indentation": (
        "config:\n\tproj:a: 1\n",
        "Pulumi.dev.yaml: line 2, column 1: invalid YAML: found character '\\t' that cannot start any token",
    ),
    "undefined-alias": (
        "config:\n  proj:a: *nothing\n",
        "Pulumi.dev.yaml: line 2, column 11: invalid YAML: found undefined alias 'nothing'",
    ),
    "duplicate-top-level": (
        "config:\n  proj:a: 1\nconfig:\n  proj:a: 2\n",
        "Pulumi.dev.yaml: config: duplicate key (line 3; first at line 1): the Pulumi CLI refuses a key given twice",
    ),
    "duplicate-config-key": (
        "config:\n  proj:a: 1\n  proj:b: 2\n  proj:a: 3\n",
        "Pulumi.dev.yaml: config.proj:a: duplicate key (line 4; first at line 2)",
    ),
    "duplicate-nested-key": (
        "config:\n  proj:settings:\n    vpc:\n      cidr: 10.0.0.0/16\n      cidr: 10.1.0.0/16\n",
        "Pulumi.dev.yaml: config.proj:settings.vpc.cidr: duplicate key (line 5; first at line 4)",
    ),
    "duplicate-key-in-a-list-item": (
        "config:\n  proj:settings:\n    users:\n      - name: a\n        name: b\n",
        "Pulumi.dev.yaml: config.proj:settings.users[0].name: duplicate key (line 5; first at line 4)",
    ),
    "duplicate-quoted-and-plain": (
        'config:\n  proj:settings:\n    "owner": a\n    owner: b\n',
        "config.proj:settings.owner: duplicate key (line 4; first at line 3)",
    ),
    "two-duplicates": (
        "config:\n  proj:a: 1\n  proj:a: 2\n  proj:b: 1\n  proj:b: 2\n",
        "config.proj:a: duplicate key (line 3; first at line 2): the Pulumi CLI refuses a key given twice (and 1 more)",
    ),
    "top-level-list": ("- config\n", "Pulumi.dev.yaml: expected a YAML mapping at the top level, found a list"),
    "top-level-string": ("just text\n", "Pulumi.dev.yaml: expected a YAML mapping at the top level, found the string"),
    "config-a-list": (
        "config:\n  - proj:a\n",
        "Pulumi.dev.yaml: config: expected a mapping of config keys to values, found a list",
    ),
    "config-a-string": (
        "config: proj:a=1\n",
        "Pulumi.dev.yaml: config: expected a mapping of config keys to values, found the string 'proj:a=1'",
    ),
    "config-a-number": ("config: 3\n", "config: expected a mapping of config keys to values, found the value 3"),
    "mapping-as-key": ("config:\n  ? {a: 1}\n  : x\n", "Pulumi.dev.yaml: config: a mapping or a list cannot be a key"),
    "bad-explicit-int": (
        'config:\n  proj:settings:\n    size: !!int "big"\n',
        "Pulumi.dev.yaml: config.proj:settings.size: cannot decode !!str `big` as a !!int (line 3)",
    ),
    "nan": ("config:\n  proj:ratio: .nan\n", "Pulumi.dev.yaml: proj:ratio: nan is not a JSON number"),
    "nested-inf": ("config:\n  proj:settings:\n    ratio: .inf\n", "proj:settings: inf is not a JSON number"),
}


@pytest.mark.parametrize(("text", "error"), BAD_STACK_FILES.values(), ids=BAD_STACK_FILES.keys())
def test_a_stack_file_the_cli_refuses_is_refused_in_one_line(tmp_path, text, error):
    assert error in refusal(tmp_path, text)


def test_a_duplicate_key_in_the_project_file_is_refused(tmp_path):
    message = refusal(tmp_path, "config: {}\n", "name: proj\nruntime: python\nname: other\n")
    assert (
        message
        == "Pulumi.yaml: name: duplicate key (line 3; first at line 1): the Pulumi CLI refuses a key given twice"
    )


def test_a_project_config_block_that_is_not_a_mapping_is_refused(tmp_path):
    message = refusal(tmp_path, "config: {}\n", "name: proj\nruntime: python\nconfig: [a]\n")
    assert message == "Pulumi.yaml: config: expected a mapping of config keys to values, found a list"


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    project(tmp_path, "config: {}\n")
    (tmp_path / "Pulumi.dev.yaml").write_bytes(b"config:\n  proj:a: \xff\xfe\n")
    with pytest.raises(StackConfigError, match=r"^Pulumi\.dev\.yaml: cannot be read: 'utf-8' codec"):
        load_stack_config(tmp_path, "dev")


def test_an_empty_stack_file_is_an_empty_config(tmp_path):
    assert config_of(tmp_path, "") == {}
    assert read_yaml(project(tmp_path, "# only a comment\n") / "Pulumi.dev.yaml") is None


def test_a_declared_secret_in_plain_text_is_still_refused(tmp_path):
    declared = "name: proj\nruntime: python\nconfig:\n  token:\n    type: string\n    secret: true\n"
    message = refusal(tmp_path, "config:\n  proj:token: hunter2\n", declared)
    assert message.endswith("configuration key 'token' must be encrypted as it's secret")


# --- through the plan CLI: exit 2, one line, nothing registered ------------------------------------------------


@pytest.fixture(scope="module")
def platform_copy(tmp_path_factory) -> Path:
    """A copy of this project (policy pack included), to hold broken stack files."""
    copy = tmp_path_factory.mktemp("stack-files") / "project"
    return copy_project(copy)


def broken_dev_stack(platform_copy: Path, name: str, edit) -> str:
    text = (REPO_ROOT / "Pulumi.dev.yaml").read_text()
    edited = edit(text)
    assert edited != text
    (platform_copy / f"Pulumi.{name}.yaml").write_text(edited)
    return name


PLAN_CASES = {
    "syntax": (
        lambda t: t.replace("    owner: platform-team\n", "    owner: [platform-team\n"),
        r"line \d+, column \d+: invalid YAML: ",
    ),
    "duplicate-settings-key": (
        lambda t: t.replace("    owner: platform-team\n", "    owner: platform-team\n    owner: other-team\n"),
        r"config\.eks-platform:settings\.owner: duplicate key \(line \d+; first at line \d+\)",
    ),
    "duplicate-vpc-key": (
        lambda t: t.replace("      cidr: 10.20.0.0/16\n", "      cidr: 10.20.0.0/16\n      cidr: 10.30.0.0/16\n"),
        r"config\.eks-platform:settings\.vpc\.cidr: duplicate key",
    ),
    "config-not-a-mapping": (
        lambda t: t[: t.index("config:")] + "config:\n  - eks-platform:settings\n",
        r"config: expected a mapping of config keys to values, found a list",
    ),
    "top-level-not-a-mapping": (
        lambda t: "- " + t.replace("\n", "\n  "),
        r"expected a YAML mapping at the top level, found a list",
    ),
}


@pytest.mark.parametrize(("edit", "error"), PLAN_CASES.values(), ids=PLAN_CASES.keys())
def test_the_plan_refuses_a_broken_stack_file_in_one_line_before_anything_registers(platform_copy, capsys, edit, error):
    name = broken_dev_stack(platform_copy, f"bad{abs(hash(error)) % 10_000}", edit)
    assert plan_cli.main(["--stack", name, "--project-dir", str(platform_copy)]) == plan_cli.EXIT_CONFIG_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert re.match(rf"error: Pulumi\.{name}\.yaml: {error}", lines[0]), lines[0]
    with pytest.raises(ConfigurationError) as caught:
        run_program(name, project_dir=platform_copy)
    assert caught.value.registrations == []


def test_the_plan_runs_a_stack_file_with_yaml_1_1_words_as_strings(platform_copy, capsys):
    # `owner: yes` is a string owner in YAML 1.2: the plan goes through and tags resources with it.
    name = broken_dev_stack(
        platform_copy, "yesowner", lambda t: t.replace("    owner: platform-team\n", "    owner: yes\n")
    )
    config, _ = load_stack_config(platform_copy, name)
    assert json.loads(config["eks-platform:settings"])["owner"] == "yes"
    assert plan_cli.main(["--stack", name, "--project-dir", str(platform_copy), "--no-policy"]) == 0
    capsys.readouterr()
