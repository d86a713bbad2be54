"""The stack files' JSON Schema and the settings reference, generated from the pydantic models in ``config.py``.

``python -m tools.settings_schema --write`` writes ``docs/stack-file.schema.json`` (the schema editors validate and
complete the stack files with: their first line names it) and ``docs/settings-reference.md`` (one section per
settings model). ``--check`` exits 1 with one line naming the first stale file; both are checked in and the tests
fail when either falls behind the models.

The schema is JSON Schema draft 2020-12, the draft pydantic writes and yaml-language-server reads
(redhat-developer/yaml-language-server@416ede2e README.md: "Supports JSON Schema drafts 04, 07, 2019-09, and
2020-12"). It covers a whole stack file, as the CLI reads one (pulumi/pulumi@1b594989
sdk/go/common/workspace/project.go ``ProjectStack``): ``config`` with the settings key validated field by field
(camelCase aliases, descriptions, defaults, enums, patterns) and the program's secrets as ``{secure: ...}``;
every other ``<namespace>:<name>`` key takes any value.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, NoDefault
from pydantic_core import core_schema

from components.stack_secrets import PROGRAM_SECRETS
from config import SETTINGS_KEY, Settings
from tools.stack_config import project_name

ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = ROOT / "docs"
SCHEMA_NAME = "stack-file.schema.json"
REFERENCE_NAME = "settings-reference.md"
#: The command that regenerates both files (named by `--check` and the reference's header).
WRITE_COMMAND = "python -m tools.settings_schema --write"
#: JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12/schema), pydantic's draft.
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: The stack files, then the example settings, in the order an example snippet is looked for.
STACK_FILES = ("Pulumi.dev.yaml", "Pulumi.prod.yaml")
EXAMPLE_DIRS = ("examples/variants", "examples/seeds")
#: A snippet longer than this is used only when no file has a shorter one.
MAX_EXAMPLE_LINES = 30
#: Python's named group, which ECMAScript (the editors' regex dialect) spells without the ``P``.
_PYTHON_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_TOP_LEVEL_KEY = re.compile(r"^ *(?P<key>[A-Za-z][A-Za-z0-9]*):(\s|$)")


class SettingsJsonSchema(GenerateJsonSchema):
    """pydantic's generator with three changes for editors and readers.

    Field titles are left out (pydantic would title ``azCount`` "Azcount"; the description says more); defaults
    made by a ``default_factory`` are shown unless they are a whole model (its own fields show theirs); Python's
    named groups in patterns become plain groups, which ECMAScript and Python both read.
    """

    def field_title_should_be_set(self, schema: Any) -> bool:  # noqa: ANN401, ARG002 - pydantic's signature
        """No titles on fields."""
        return False

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:  # noqa: ANN401 - any default
        """The static default, else the factory's value (pydantic's documented hook for factories)."""
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        value = cast("Callable[[], object]", factory)()  # takes no data (checked above)
        return NoDefault if isinstance(value, BaseModel) else value

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        """A string's schema with an ECMAScript-compatible pattern."""
        json_schema = super().str_schema(schema)
        if "pattern" in json_schema:
            json_schema["pattern"] = ecma_pattern(json_schema["pattern"])
        return json_schema

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        """A map whose keys have a pattern refuses other keys, as pydantic does."""
        json_schema = super().dict_schema(schema)
        if "patternProperties" in json_schema and "additionalProperties" not in json_schema:
            json_schema["additionalProperties"] = False
        return json_schema


def ecma_pattern(pattern: str) -> str:
    """``pattern`` with Python's named groups ``(?P<name>...)`` as plain groups, valid in ECMAScript and Python."""
    return _PYTHON_NAMED_GROUP.sub("(", pattern)


def settings_schema() -> dict[str, Any]:
    """The settings model's JSON Schema: by alias, as input (validation mode), with its ``$defs``."""
    return Settings.model_json_schema(by_alias=True, mode="validation", schema_generator=SettingsJsonSchema)


def _secure_value() -> dict[str, Any]:
    """A value `pulumi config set --secret` writes (pulumi/pulumi sdk/go/common/resource/config/value.go)."""
    return {
        "additionalProperties": False,
        "description": "A secret as `pulumi config set --secret` stores it: the ciphertext under `secure`.",
        "properties": {"secure": {"description": "The encrypted value.", "type": "string"}},
        "required": ["secure"],
        "title": "SecureValue",
        "type": "object",
    }


def _config_schema(project: str) -> dict[str, Any]:
    """The ``config`` block: the settings, the program's secrets, any other namespaced key."""
    secrets = {
        f"{project}:{key}": {
            "$ref": "#/$defs/SecureValue",
            "description": f"Secret `{key}` (components/stack_secrets.py): never in plain text.",
        }
        for key in PROGRAM_SECRETS
    }
    return {
        "additionalProperties": False,
        "description": (
            "Configuration by `<namespace>:<name>` (sdk/go/common/resource/config/key.go `ParseKey`; the old "
            "`<namespace>:config:<name>` form too). Keys other than the ones below take any value."
        ),
        "patternProperties": {"^[^:]+:(config:)?[^:]+$": {}},
        "properties": {f"{project}:{SETTINGS_KEY}": {"$ref": "#/$defs/Settings"}, **secrets},
        "required": [f"{project}:{SETTINGS_KEY}"],
        "type": "object",
    }


def stack_file_schema(project: str) -> dict[str, Any]:
    """JSON Schema of a whole ``Pulumi.<stack>.yaml`` of ``project``.

    The top-level keys are ``ProjectStack``'s (pulumi/pulumi@1b594989 sdk/go/common/workspace/project.go); the
    CLI ignores any other (a non-strict unmarshal, sdk/go/common/workspace/loaders.go), so the schema flags one as
    a key that does nothing.
    """
    settings = settings_schema()
    defs = settings.pop("$defs")
    return {
        "$defs": {**defs, "SecureValue": _secure_value(), "Settings": settings},
        "$schema": DRAFT,
        "additionalProperties": False,
        "description": (
            f"A stack file of the {project} project. Generated from config.py by `{WRITE_COMMAND}`; do not edit."
        ),
        "properties": {
            "config": _config_schema(project),
            "encryptedkey": {
                "description": "KMS-encrypted data key of a cloud secrets provider (written by the CLI).",
                "type": "string",
            },
            "encryptionsalt": {
                "description": "Salt of the passphrase secrets provider, base64 (written by the CLI).",
                "type": "string",
            },
            "environment": {
                "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "object"}],
                "description": "Pulumi ESC environments to import: their names, or an inline definition.",
            },
            "mainEnvironment": {
                "description": "The one ESC environment the stack's config comes from and `pulumi config set` writes.",
                "pattern": "^[^/@]+/[^/@]+(@[^/@]+)?$",
                "type": "string",
            },
            "secretsprovider": {
                "description": "The stack's secrets provider (e.g. `awskms://...`), when not the default.",
                "type": "string",
            },
        },
        "required": ["config"],
        "title": f"{project} stack file",
        "type": "object",
    }


def render_json(schema: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, indent 2, a trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the Markdown reference --------------------------------------------------------------------------------------


def _ref_name(node: Mapping[str, Any]) -> str | None:
    ref = node.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _is_model(definition: Mapping[str, Any]) -> bool:
    return definition.get("type") == "object" and "properties" in definition


def _children(node: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path suffix, schema) of what a value's schema holds: alternatives, items, map values."""
    for alternative in node.get("anyOf", []):
        yield "", alternative
    if isinstance(node.get("items"), dict):
        yield "[]", node["items"]
    for value in node.get("patternProperties", {}).values():
        yield ".<name>", value
    if isinstance(node.get("additionalProperties"), dict):
        yield ".<name>", node["additionalProperties"]


def model_paths(defs: Mapping[str, Any], root: str = "Settings") -> dict[str, list[str]]:
    """Each model reachable from ``root`` -> the settings paths it sits at, in depth-first order of first use."""
    paths: dict[str, list[str]] = {root: [""]}

    def visit(node: Mapping[str, Any], path: str) -> None:
        name = _ref_name(node)
        if name is not None and _is_model(defs[name]):
            first = name not in paths
            paths.setdefault(name, []).append(path)
            if first:
                visit_model(name, path)
        for suffix, child in _children(node):
            visit(child, path + suffix)

    def visit_model(name: str, path: str) -> None:
        for key, prop in defs[name]["properties"].items():
            visit(prop, f"{path}.{key}" if path else key)

    visit_model(root, "")
    return paths


def type_text(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """A field's type in words, models as links to their sections."""
    name = _ref_name(node)
    if name is not None:
        definition = defs[name]
        return f"[{name}](#{name.lower()})" if _is_model(definition) else type_text(definition, defs)
    if "anyOf" in node:
        return " or ".join(dict.fromkeys(type_text(alternative, defs) for alternative in node["anyOf"]))
    kind = node.get("type")
    if kind == "array":
        return f"list of {type_text(node.get('items', {}), defs)}"
    if kind == "object":
        values = [child for suffix, child in _children(node) if suffix == ".<name>"]
        return f"map of {type_text(values[0], defs)}" if values else "map"
    return str(kind) if kind else "any"


def _top_key(path: str) -> str:
    """The top-level settings key a path starts with (``appRoles`` of ``appRoles.<name>.statements[]``)."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _code(value: object) -> str:
    return f"`{value}`" if isinstance(value, str) else f"`{json.dumps(value)}`"


def _constraints(node: Mapping[str, Any]) -> list[str]:
    bounds = {
        "minimum": "at least {}",
        "maximum": "at most {}",
        "exclusiveMinimum": "more than {}",
        "exclusiveMaximum": "less than {}",
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "minItems": "at least {} items",
        "maxItems": "at most {} items",
        "minProperties": "at least {} entries",
        "maxProperties": "at most {} entries",
    }
    nonempty = {"minLength", "minItems", "minProperties"}
    parts = [
        "not empty" if key in nonempty and node[key] == 1 else text.format(node[key])
        for key, text in bounds.items()
        if key in node
    ]
    if "enum" in node:
        parts.append(", ".join(_code(value) for value in node["enum"]))
    if "pattern" in node:
        parts.append(f"pattern {_code(node['pattern'])}")
    parts += [f"names {_code(key_pattern)}" for key_pattern in node.get("patternProperties", {})]
    return parts


def allowed_text(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """The values a field allows: enums, bounds, patterns (of the field, its items, its map's names)."""
    name = _ref_name(node)
    if name is not None:
        return "" if _is_model(defs[name]) else allowed_text(defs[name], defs)
    parts = _constraints(node)
    for suffix, child in _children(node):
        inner = allowed_text(child, defs)
        if inner:
            label = {"[]": "items: ", ".<name>": "values: "}.get(suffix, "")
            parts.append(label + inner)
    return "; ".join(dict.fromkeys(parts))


def default_text(node: Mapping[str, Any]) -> str:
    """The default as JSON in a code span; empty for a required field or one whose default is a whole section."""
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _cell(text: str) -> str:
    """Text fit for a Markdown table cell: one line, pipes escaped (GFM escapes them inside code spans too)."""
    return " ".join(text.split()).replace("|", "\\|")


def settings_blocks(text: str) -> dict[str, str]:
    """The settings' top-level keys of a stack or example file -> their YAML as written (comments kept).

    The settings are the mapping under the ``<project>:settings:`` line; a key's block starts at its line (with
    the comment lines just above it) and runs to the next key at its indent. Dedented to the key's indent.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().endswith(f":{SETTINGS_KEY}:")), None)
    if start is None:
        return {}
    blocks: dict[str, list[str]] = {}
    pending: list[str] = []
    current: list[str] | None = None
    indent: int | None = None
    for line in lines[start + 1 :]:
        stripped = line.strip()
        width = len(line) - len(line.lstrip(" "))
        match = _TOP_LEVEL_KEY.match(line)
        if match and (indent is None or width == indent):
            indent = width
            current = blocks.setdefault(match["key"], [*pending])
            current.append(line)
            pending = []
        elif stripped.startswith("#") and (indent is None or width == indent):
            pending.append(line)
        elif stripped and indent is not None and width < indent:
            break
        elif current is not None:
            current.append(line)
    return {key: "\n".join(line[indent or 0 :] for line in block).strip("\n") for key, block in blocks.items()}


def example_sources(root: Path = ROOT) -> list[Path]:
    """The files example snippets come from: the stack files, then the variants and the seeds."""
    examples = [path for folder in EXAMPLE_DIRS for path in sorted((root / folder).glob("*.yaml"))]
    return [root / name for name in STACK_FILES] + examples


def pick_examples(sources: Sequence[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Top-level key -> (file, snippet): the first file whose block is short enough, else the shortest block."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name, text in sources:
        for key, block in settings_blocks(text).items():
            found.setdefault(key, []).append((name, block))
    picked = {}
    for key, candidates in found.items():
        short = [c for c in candidates if c[1].count("\n") < MAX_EXAMPLE_LINES]
        picked[key] = short[0] if short else min(candidates, key=lambda c: c[1].count("\n"))
    return picked


def _section(
    name: str,
    definition: Mapping[str, Any],
    paths: Sequence[str],
    defs: Mapping[str, Any],
    examples: Sequence[tuple[str, str]],
) -> list[str]:
    where = ", ".join(f"`{path}`" for path in paths) if paths != [""] else f"the value of `eks-platform:{SETTINGS_KEY}`"
    lines = [f"### {name}", "", _cell(definition.get("description", "")), "", f"Where: {where}.", ""]
    required = set(definition.get("required", []))
    lines += ["| field | type | default | description | allowed values |", "|---|---|---|---|---|"]
    for key, prop in definition["properties"].items():
        field = f"`{key}`" + (" (required)" if key in required else "")
        row = [field, type_text(prop, defs), default_text(prop), prop.get("description", ""), allowed_text(prop, defs)]
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    for source, snippet in examples:
        lines += ["", f"Example, from [`{source}`](../{source}):", "", "```yaml", snippet, "```"]
    return [*lines, ""]


def reference_markdown(schema: Mapping[str, Any], sources: Sequence[tuple[str, str]]) -> str:
    """The settings reference: one section per model, in the order the settings use them, with examples.

    ``sources`` are (file relative to the project, text) to take each top-level section's example from.
    """
    defs = schema["$defs"]
    paths = model_paths(defs)
    examples: dict[str, list[tuple[str, str]]] = {}
    for key, (source, snippet) in pick_examples(sources).items():
        target = next((name for name, where in paths.items() if any(_top_key(p) == key for p in where)), None)
        if target is not None:
            examples.setdefault(target, []).append((source, snippet))
    lines = [
        "# Settings reference",
        "",
        f"<!-- Generated from config.py by `{WRITE_COMMAND}`; do not edit. -->",
        "",
        f"Every field of `eks-platform:{SETTINGS_KEY}`, by the camelCase name the stack files use. The same facts,",
        f"as JSON Schema, are in [`{SCHEMA_NAME}`]({SCHEMA_NAME}), which the stack files' first line points",
        "editors at. A default in a code span is the value an unset field takes; a section's fields give the",
        "defaults of a section left out. The models check more than a table can say (e.g. names that must be",
        "unique, settings that need others): `config.py` has every rule.",
        "",
        "## Sections",
        "",
    ]
    for name, where in paths.items():
        lines.append(
            f"- [{name}](#{name.lower()}): " + (", ".join(f"`{path}`" for path in where if path) or "the root")
        )
    lines.append("")
    for name, where in paths.items():
        lines += _section(name, defs[name], where, defs, examples.get(name, []))
    return "\n".join(lines).rstrip("\n") + "\n"


# --- the files ---------------------------------------------------------------------------------------------------


def generated_files(root: Path = ROOT) -> dict[str, str]:
    """File name under docs/ -> the text it must hold, generated from the models and the stack files."""
    schema = stack_file_schema(project_name(root))
    sources = [(str(path.relative_to(root)), path.read_text()) for path in example_sources(root)]
    return {SCHEMA_NAME: render_json(schema), REFERENCE_NAME: reference_markdown(schema, sources)}


def stale_files(docs_dir: Path, files: Mapping[str, str]) -> list[str]:
    """The names whose file under ``docs_dir`` is missing or differs from its generated text."""
    return [
        name
        for name, text in files.items()
        if not (docs_dir / name).is_file() or (docs_dir / name).read_text(encoding="utf-8") != text
    ]


def main(
    argv: Sequence[str] | None = None,
    *,
    docs_dir: Path = DOCS_DIR,
    generate: Callable[[], dict[str, str]] = generated_files,
) -> int:
    """``--write`` the files, or ``--check`` them (exit 1 naming the first stale one)."""
    parser = argparse.ArgumentParser(prog="python -m tools.settings_schema", description=(__doc__ or "").split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write docs/stack-file.schema.json and the reference")
    mode.add_argument("--check", action="store_true", help="exit 1 if either file is not what --write would write")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        stale = stale_files(docs_dir, files)
        if stale:
            where = docs_dir.relative_to(ROOT) if docs_dir.is_relative_to(ROOT) else docs_dir
            print(f"{where / stale[0]} is stale: run `{WRITE_COMMAND}`", file=sys.stderr)  # noqa: T201 - a CLI
            return 1
        return 0
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (docs_dir / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
