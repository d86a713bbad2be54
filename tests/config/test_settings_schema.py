"""The stack files' JSON Schema and the settings reference (`tools/settings_schema.py`): checked in and current,
true to the pydantic models (what they accept, their enums, their camelCase names), and named by the stack files'
first line so editors complete and validate them."""

from __future__ import annotations

import copy
import enum
import json
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

from config import Settings, parse_settings
from tools import settings_schema
from tools.settings_schema import (
    REFERENCE_NAME,
    SCHEMA_NAME,
    WRITE_COMMAND,
    ecma_pattern,
    generated_files,
    main,
    settings_blocks,
    stack_file_schema,
)
from tools.stack_config import read_yaml

ROOT = Path(__file__).resolve().parents[2]
KEY = "eks-platform:settings"
STACKS = ("dev", "prod")
EXAMPLES = sorted(
    str(path.relative_to(ROOT))
    for folder in ("variants", "seeds")
    for path in (ROOT / "examples" / folder).glob("*.yaml")
)
SCHEMA = json.loads((ROOT / "docs" / SCHEMA_NAME).read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
#: yaml-language-server's modeline, as its parser finds it (redhat-developer/yaml-language-server@416ede2e
#: src/languageservice/services/modelineUtil.ts `isModeline`, `getSchemaFromModeline`).
MODELINE = re.compile(r"^#\s+(?:yaml-language-server\s*:|\$schema:)")
MODELINE_SCHEMA = re.compile(r"\$schema(?:=|:[^\S\r\n]*)(\S+)")


def stack_file(stack: str) -> dict[str, Any]:
    """A stack file as the CLI reads it (go-yaml v3 rules, `tools.stack_config.read_yaml`)."""
    data = read_yaml(ROOT / f"Pulumi.{stack}.yaml")
    assert isinstance(data, dict)
    return data


def example_config(name: str) -> dict[str, Any]:
    """An example settings file (``eks-platform:settings: ...``) as a stack file's config block."""
    data = read_yaml(ROOT / name)
    assert isinstance(data, dict)
    assert list(data) == [KEY]
    return {"config": data}


def schema_errors(document: object) -> list[tuple[list[str | int], str]]:
    """(path, failing keyword) of each error the schema reports, in path order."""
    return sorted(((list(e.absolute_path), str(e.validator)) for e in VALIDATOR.iter_errors(document)), key=str)


def pydantic_accepts(raw: object) -> bool:
    try:
        parse_settings(raw, stack_file="Pulumi.dev.yaml", key=KEY, base_dir=ROOT)
    except Exception:  # noqa: BLE001 - pulumi.RunError; any refusal counts
        return False
    return True


# --- checked in and current -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [SCHEMA_NAME, REFERENCE_NAME])
def test_the_checked_in_file_is_what_the_generator_writes(name):
    fresh = generated_files()[name]
    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == fresh, f"docs/{name} is stale: run `{WRITE_COMMAND}`"


def test_check_names_the_stale_file_and_write_brings_it_current(tmp_path, capsys):
    files = {SCHEMA_NAME: "{}\n", REFERENCE_NAME: "# ref\n"}
    assert main(["--write"], docs_dir=tmp_path, generate=lambda: files) == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == files
    assert main(["--check"], docs_dir=tmp_path, generate=lambda: files) == 0
    (tmp_path / REFERENCE_NAME).write_text("# edited\n")
    assert main(["--check"], docs_dir=tmp_path, generate=lambda: files) == 1
    assert capsys.readouterr().err == f"{tmp_path / REFERENCE_NAME} is stale: run `{WRITE_COMMAND}`\n"
    (tmp_path / SCHEMA_NAME).unlink()
    assert main(["--check"], docs_dir=tmp_path, generate=lambda: files) == 1
    assert capsys.readouterr().err.startswith(f"{tmp_path / SCHEMA_NAME} is stale")


def test_the_output_is_sorted_indented_and_ends_in_a_newline():
    text = (ROOT / "docs" / SCHEMA_NAME).read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert not text.endswith("\n\n")


def test_the_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


# --- what the real files hold: both the schema and the models accept it ------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_files_pass_the_schema_and_the_models(stack):
    document = stack_file(stack)
    assert schema_errors(document) == []
    assert pydantic_accepts(document["config"][KEY])


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_passes_the_schema_and_the_models(name):
    document = example_config(name)
    assert schema_errors(document) == []
    assert pydantic_accepts(document["config"][KEY])


def test_the_examples_are_all_found():
    assert len(EXAMPLES) == 11
    assert "examples/variants/flux.yaml" in EXAMPLES
    assert "examples/seeds/sage-dpe.yaml" in EXAMPLES


# --- one minimal bad change each: the schema refuses it where the models do ---------------------------------------


def changed(path: str, value: object = None, *, delete: bool = False) -> dict[str, Any]:
    """The dev stack file with one settings field set (or deleted)."""
    document = copy.deepcopy(stack_file("dev"))
    *parents, leaf = path.split(".")
    node = document["config"][KEY]
    for part in parents:
        node = node[part]
    if delete:
        del node[leaf]
    else:
        node[leaf] = value
    return document


SETTINGS_AT = ["config", KEY]


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        pytest.param(
            changed("vpc.natStrateg", "single"), [([*SETTINGS_AT, "vpc"], "additionalProperties")], id="unknown-key"
        ),
        pytest.param(
            changed("vpc.natStrategy", "two"), [([*SETTINGS_AT, "vpc", "natStrategy"], "enum")], id="bad-enum"
        ),
        pytest.param(changed("vpc.azCount", "three"), [([*SETTINGS_AT, "vpc", "azCount"], "type")], id="wrong-type"),
        pytest.param(changed("region", delete=True), [(SETTINGS_AT, "required")], id="missing-required"),
        pytest.param(
            changed("cluster.logTypes", ["api", "kubelet"]),
            [([*SETTINGS_AT, "cluster", "logTypes", 1], "enum")],
            id="bad-enum-item",
        ),
        pytest.param(
            changed("appRoles.Daft", {"namespace": "daft", "serviceAccount": "daft"}),
            [([*SETTINGS_AT, "appRoles"], "additionalProperties")],
            id="bad-map-key",
        ),
        pytest.param(changed("cost_center", "CC-1"), [(SETTINGS_AT, "additionalProperties")], id="python-name"),
    ],
)
def test_a_minimal_bad_change_is_refused_by_the_schema_and_the_models(document, errors):
    assert schema_errors(document) == errors
    assert not pydantic_accepts(document["config"][KEY])


def test_the_stack_file_around_the_settings():
    document = stack_file("dev")
    secret = {"secure": "v1:AAAA"}
    ok = {
        **document,
        "encryptionsalt": "v1:abc",
        "config": {**document["config"], "eks-platform:vaultToken": secret, "aws:region": "us-west-2"},
    }
    assert schema_errors(ok) == []
    plain = {**document, "config": {**document["config"], "eks-platform:vaultToken": "s.plain"}}
    assert schema_errors(plain) == [(["config", "eks-platform:vaultToken"], "type")]
    no_namespace = {**document, "config": {**document["config"], "settings": {}}}
    assert schema_errors(no_namespace) == [(["config"], "additionalProperties")]
    assert schema_errors({**document, "confg": {}}) == [([], "additionalProperties")]
    assert schema_errors({"config": {"pulumi:disable-default-providers": ["*"]}}) == [(["config"], "required")]
    secure_settings = {"config": {KEY: {"secure": "v1:AAAA"}}}
    assert ([*SETTINGS_AT], "additionalProperties") in schema_errors(secure_settings)


def test_a_flux_path_may_be_written_as_its_path_alone():
    flux = read_yaml(ROOT / "examples/variants/flux.yaml")
    assert isinstance(flux, dict)
    raw = copy.deepcopy(flux[KEY])
    source = next(iter(raw["flux"]["sources"].values()))
    source["paths"] = {"apps": "./clusters/prod/apps"}
    assert schema_errors({"config": {KEY: raw}}) == []
    assert pydantic_accepts(raw)
    source["paths"] = {"apps": "/etc"}
    assert schema_errors({"config": {KEY: raw}}) == [(["config", KEY, "flux"], "anyOf")]
    one_source = Draft202012Validator({"$ref": "#/$defs/FluxSourceSettings", "$defs": SCHEMA["$defs"]})
    assert [(list(e.absolute_path), e.validator) for e in one_source.iter_errors(source)] == [
        (["paths", "apps"], "anyOf")
    ]
    assert not pydantic_accepts(raw)


# --- true to the models: names, descriptions, enums --------------------------------------------------------------


def models(root: type[BaseModel] = Settings) -> dict[str, type[BaseModel]]:
    """Every settings model reachable from ``root`` by its fields' annotations."""
    found: dict[str, type[BaseModel]] = {}

    def visit(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation.__name__ not in found:
            found[annotation.__name__] = annotation
            for field in annotation.model_fields.values():
                visit(field.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(root)
    return found


MODELS = models()


def test_every_model_is_a_def_with_its_fields_by_alias_and_a_description():
    defs = SCHEMA["$defs"]
    assert set(MODELS) == {name for name, d in defs.items() if "properties" in d} - {"SecureValue"}
    assert len(MODELS) == 57
    for name, model in MODELS.items():
        aliases = {field.alias or key for key, field in model.model_fields.items()}
        assert set(defs[name]["properties"]) == aliases, name
        assert defs[name]["additionalProperties"] is False, name
        for key, prop in defs[name]["properties"].items():
            assert prop.get("description"), f"{name}.{key}"
    assert "costCenter" in defs["Settings"]["properties"]
    assert "cost_center" not in defs["Settings"]["properties"]
    assert "natStrategy" in defs["VpcSettings"]["properties"]


def test_every_def_keeps_its_description():
    assert [name for name, definition in SCHEMA["$defs"].items() if not definition.get("description")] == []


def test_every_pattern_reads_the_same_in_ecmascript_and_python():
    patterns = [value for key, value in walk(SCHEMA) if key == "pattern"]
    assert len(patterns) > 40
    assert [p for p in patterns if "(?P<" in p] == []
    for pattern in patterns:
        re.compile(pattern)
    assert ecma_pattern(r"^oci://(?P<account>\d{12})\.dkr$") == r"^oci://(\d{12})\.dkr$"


def walk(node: object) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def enum_values(annotation: object) -> list[str] | None:
    """The values a StrEnum or Literal (inside lists, maps, optionals) accepts; None if there is no enum."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        if typing.get_origin(annotation) is dict and arg is typing.get_args(annotation)[0]:
            continue  # map keys are names, not enums
        values = enum_values(arg)
        if values is not None:
            return values
    return None


def scalar_enum(annotation: object) -> object:
    """The enum type itself (a StrEnum or a Literal) inside ``annotation``."""
    if (isinstance(annotation, type) and issubclass(annotation, enum.Enum)) or typing.get_origin(
        annotation
    ) is typing.Literal:
        return annotation
    args = [arg for arg in typing.get_args(annotation) if enum_values(arg) is not None]
    if typing.get_origin(annotation) is dict:
        args = [typing.get_args(annotation)[1]] if enum_values(typing.get_args(annotation)[1]) is not None else []
    return scalar_enum(args[0])


ENUM_FIELDS = sorted(
    (name, field.alias or key)
    for name, model in MODELS.items()
    for key, field in model.model_fields.items()
    if enum_values(field.annotation) is not None
)


def field_annotation(model: str, alias: str) -> object:
    return next(f.annotation for k, f in MODELS[model].model_fields.items() if (f.alias or k) == alias)


def schema_enum(node: dict[str, Any]) -> list[str] | None:
    """The enum a field's schema allows, through refs, alternatives, items and map values."""
    if "$ref" in node:
        return schema_enum(SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]])
    if "enum" in node:
        return list(node["enum"])
    children = [*node.get("anyOf", []), node.get("items"), *node.get("patternProperties", {}).values()]
    children.append(node.get("additionalProperties"))
    for child in children:
        if isinstance(child, dict) and (values := schema_enum(child)) is not None:
            return values
    return None


def test_the_enum_sweep_covers_the_models_enums():
    assert len(ENUM_FIELDS) >= 25
    for expected in [
        ("VpcSettings", "natStrategy"),
        ("NodeAutoscalerSettings", "engine"),
        ("KarpenterSettings", "capacityTypes"),
        ("ClusterSettings", "logTypes"),
        ("Taint", "effect"),
        ("GitopsSettings", "engine"),
        ("VaultSettings", "mode"),
    ]:
        assert expected in ENUM_FIELDS


@pytest.mark.parametrize(("model", "alias"), ENUM_FIELDS, ids=[f"{m}.{a}" for m, a in ENUM_FIELDS])
def test_the_schemas_enum_is_the_models(model, alias):
    prop = SCHEMA["$defs"][model]["properties"][alias]
    assert schema_enum(prop) == enum_values(field_annotation(model, alias))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_an_enum_value_is_accepted_by_the_schema_exactly_when_the_model_accepts_it(data):
    model, alias = data.draw(st.sampled_from(ENUM_FIELDS))
    annotation = scalar_enum(field_annotation(model, alias))
    allowed = enum_values(annotation)
    assert allowed
    value = data.draw(
        st.one_of(st.sampled_from(allowed), st.text(max_size=20), st.sampled_from([v.upper() for v in allowed]))
    )
    node = {"enum": schema_enum(SCHEMA["$defs"][model]["properties"][alias]), "$defs": SCHEMA["$defs"]}
    try:
        TypeAdapter(typing.cast("Any", annotation)).validate_python(value)
        model_accepts = True
    except ValidationError:
        model_accepts = False
    assert Draft202012Validator(node).is_valid(value) is model_accepts


# --- editors find the schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_files_first_line_names_the_schema_for_yaml_language_server(stack):
    path = ROOT / f"Pulumi.{stack}.yaml"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./docs/{SCHEMA_NAME}"
    assert MODELINE.match(first)
    match = MODELINE_SCHEMA.search(first)
    assert match is not None
    # Relative to the YAML file's directory (yamlSchemaService.ts `resolveSchemaRef`).
    target = (path.parent / match[1]).resolve()
    assert target == (ROOT / "docs" / SCHEMA_NAME).resolve()
    assert target.is_file()


def test_the_schema_names_the_programs_secrets_and_the_settings_key():
    config = stack_file_schema("eks-platform")["properties"]["config"]
    assert config["required"] == [KEY]
    assert config["properties"][KEY] == {"$ref": "#/$defs/Settings"}
    assert sorted(k for k in config["properties"] if k != KEY) == sorted(
        f"eks-platform:{key}"
        for key in ("vaultToken", "vaultAwsAccessKey", "vaultAwsSecretKey", "argocdOidcClientSecret", "spotToken")
    )


# --- the reference ----------------------------------------------------------------------------------------------


REFERENCE = (ROOT / "docs" / REFERENCE_NAME).read_text(encoding="utf-8")


def test_the_reference_has_a_section_per_model_with_every_field_by_alias():
    headings = re.findall(r"^### (\w+)$", REFERENCE, flags=re.MULTILINE)
    assert sorted(headings) == sorted(MODELS)
    assert headings[0] == "Settings"
    vpc = REFERENCE.split("### VpcSettings\n", 1)[1].split("\n### ", 1)[0]
    assert '| `natStrategy` | string | `"one_per_az"` |' in vpc
    assert vpc.rstrip().endswith("```")
    assert "| `azCount` | integer | `3` |" in vpc
    assert "at least 2; at most 6" in vpc
    assert "`single`, `one_per_az`, `none`" in vpc
    assert "nat_strategy" not in REFERENCE


def test_the_reference_escapes_pipes_in_table_cells():
    rows = [line for line in REFERENCE.splitlines() if line.startswith("| `")]
    assert len(rows) > 300
    assert all(line.replace("\\|", "").count("|") == 6 for line in rows)


def test_settings_blocks_keep_the_comments_and_end_at_the_next_key():
    text = (
        "config:\n"
        "  eks-platform:settings:\n"
        "    region: us-west-2\n"
        "    # the VPC\n"
        "    vpc:\n"
        "      cidr: 10.0.0.0/16   # a /16\n"
        "\n"
        "      azCount: 3\n"
        "    owner: me\n"
        "  aws:region: us-west-2\n"
    )
    assert settings_blocks(text) == {
        "region": "region: us-west-2",
        "vpc": "# the VPC\nvpc:\n  cidr: 10.0.0.0/16   # a /16\n\n  azCount: 3",
        "owner": "owner: me",
    }
    assert settings_blocks("config:\n  aws:region: x\n") == {}


def test_an_example_comes_from_the_stack_files_first():
    picked = settings_schema.pick_examples(
        [("a.yaml", "s:settings:\n  vpc:\n    cidr: x\n"), ("b.yaml", "s:settings:\n  vpc: {}\n  flux: {}\n")]
    )
    assert picked == {"vpc": ("a.yaml", "vpc:\n  cidr: x"), "flux": ("b.yaml", "flux: {}")}
