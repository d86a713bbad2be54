"""Stack configuration without the Pulumi CLI.

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` and produces what the CLI would hand the language
host: a flat ``{"<namespace>:<key>": "<string>"}`` map plus the set of secret keys. Structured values
become JSON text and bools ``"true"``/``"false"``, as the CLI sends them. ``{secure: ...}`` values
cannot be decrypted offline and become `PLACEHOLDER_SECRET`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_SECRET = "offline-placeholder-secret"  # noqa: S105 - a stand-in, not a secret


class StackConfigError(Exception):
    """A project or stack file that cannot be read as Pulumi configuration."""


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{path.name}: file not found in {path.parent}"
        raise StackConfigError(msg) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"{path.name}: expected a YAML mapping at the top level"
        raise StackConfigError(msg)
    return data


def project_name(project_dir: Path) -> str:
    """The ``name`` from ``Pulumi.yaml`` in ``project_dir``."""
    name = _read_yaml_mapping(project_dir / "Pulumi.yaml").get("name")
    if not isinstance(name, str) or not name:
        msg = f"Pulumi.yaml in {project_dir}: missing project name"
        raise StackConfigError(msg)
    return name


def full_key(key: str, project: str) -> str:
    """``key`` with the project namespace added when it has none (``settings`` -> ``proj:settings``)."""
    return key if ":" in key else f"{project}:{key}"


def _is_secure(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _replace_secure(value: object) -> tuple[object, bool]:
    """``value`` with every ``{secure: ...}`` replaced by the placeholder, and whether any was."""
    if _is_secure(value):
        return PLACEHOLDER_SECRET, True
    if isinstance(value, Mapping):
        pairs = {key: _replace_secure(item) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_replace_secure(item) for item in value]
        return [item for item, _ in items], any(s for _, s in items)
    return value, False


def config_text(value: object) -> str:
    """A config value as the CLI passes it: strings as is, bools lower-case, structures as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, separators=(",", ":"))
    msg = f"unsupported config value of type {type(value).__name__}: {value!r}"
    raise StackConfigError(msg)


@dataclass(frozen=True)
class Declaration:
    """A key declared in ``Pulumi.yaml``'s ``config:`` block, as the CLI reads it (pkg/workspace/config.go)."""

    key: str
    type: str | None = None
    secret: bool = False
    default: object = None
    has_default: bool = False


_DECLARATION_FIELDS = {"type", "default", "value", "description", "secret", "items"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (Mapping,),
}


def project_declarations(project_dir: Path, project: str) -> dict[str, Declaration]:
    """The ``config:`` block of ``Pulumi.yaml`` by full key (short form ``key: literal`` is a default)."""
    block = _read_yaml_mapping(project_dir / "Pulumi.yaml").get("config") or {}
    declarations: dict[str, Declaration] = {}
    for key, spec in block.items():
        full = full_key(key, project)
        if isinstance(spec, Mapping) and _DECLARATION_FIELDS & set(spec):
            if "value" in spec and "default" in spec:
                msg = f"Pulumi.yaml: project config '{key}' cannot have both a 'default' and 'value' attribute"
                raise StackConfigError(msg)
            has_default = "value" in spec or "default" in spec
            declarations[full] = Declaration(
                key=key,
                type=spec.get("type"),
                secret=spec.get("secret") is True,
                default=spec.get("value", spec.get("default")),
                has_default=has_default,
            )
        else:
            declarations[full] = Declaration(key=key, default=spec, has_default=True)
    return declarations


def _missing_error(stack: str, keys: list[str]) -> str:
    quoted = [f"'{key}'" for key in sorted(keys)]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    noun = "value" if len(quoted) == 1 else "values"
    return f"validating stack config: Stack '{stack}' is missing configuration {noun} {listed}"


def validate_against_declarations(
    stack: str, project: str, declarations: Mapping[str, Declaration], stack_values: Mapping[str, object]
) -> None:
    """The checks ``pulumi preview``/``up`` make before the program starts (the CLI's ``mergeConfig``).

    A declared key of the project without a default must be set by the stack; an explicitly typed key must
    hold that type, and one declared ``secret: true`` must be encrypted (``secure:``).

    Raises:
        StackConfigError: with the CLI's message.
    """
    missing = [
        d.key
        for full, d in declarations.items()
        if not d.has_default and full not in stack_values and full.startswith(f"{project}:")
    ]
    if missing:
        raise StackConfigError(_missing_error(stack, missing))
    for full, declaration in declarations.items():
        if declaration.type is None:
            continue  # the CLI checks type and secrecy of explicitly typed keys only
        value = stack_values.get(full, declaration.default)
        if declaration.secret and not _is_secure(value):
            msg = f"validating stack config: Stack '{stack}' with configuration key '{declaration.key}' must be encrypted as it's secret"  # noqa: E501
            raise StackConfigError(msg)
        types = _TYPES.get(declaration.type)
        plain = not _is_secure(value)
        wrong = (
            types is not None and plain and (not isinstance(value, types) or (bool in types) != isinstance(value, bool))
        )
        if wrong:
            msg = (
                f"validating stack config: Stack '{stack}' with configuration key '{declaration.key}' "
                f"must be of type '{declaration.type}'"
            )
            raise StackConfigError(msg)


def load_stack_config(project_dir: Path, stack: str) -> tuple[dict[str, str], set[str]]:
    """Config map and secret keys for ``stack``, as the CLI would pass them to the program.

    Project defaults from ``Pulumi.yaml`` are overlaid by ``Pulumi.<stack>.yaml``'s ``config:``, after the
    CLI's checks (`validate_against_declarations`). Keys without a namespace get the project's. A key whose
    value is or contains ``{secure: ...}`` gets `PLACEHOLDER_SECRET` in its place and is listed as secret.
    Null values are left out.
    """
    project = project_name(project_dir)
    stack_file = _read_yaml_mapping(project_dir / f"Pulumi.{stack}.yaml")
    declarations = project_declarations(project_dir, project)
    stack_values = {full_key(key, project): value for key, value in (stack_file.get("config") or {}).items()}
    validate_against_declarations(stack, project, declarations, stack_values)
    raw = {full: d.default for full, d in declarations.items() if d.has_default}
    raw.update(stack_values)
    return to_wire_config(raw)


def to_wire_config(raw: Mapping[str, object]) -> tuple[dict[str, str], set[str]]:
    """Flatten full-key config values to CLI strings, replacing secure values (see module doc)."""
    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        if value is None:
            continue
        plain, secret = _replace_secure(value)
        config[key] = config_text(plain)
        if secret:
            secret_keys.add(key)
    return config, secret_keys
