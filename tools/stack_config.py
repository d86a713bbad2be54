"""Stack configuration without the Pulumi CLI.

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` and produces what the CLI would hand the language
host: a flat ``{"<namespace>:<key>": "<string>"}`` map plus the set of secret keys. Structured values
become JSON text and bools ``"true"``/``"false"``, as the CLI sends them. ``{secure: ...}`` values
cannot be decrypted offline and become `PLACEHOLDER_SECRET`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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


def _project_defaults(project_dir: Path, project: str) -> dict[str, object]:
    """Values from ``Pulumi.yaml``'s ``config:`` block (short form or ``default``/``value``).

    A key declared ``secret: true`` without a value must be set per stack with ``pulumi config set
    --secret``; offline it gets the placeholder, as an undecryptable ``{secure: ...}`` value would.
    """
    block = _read_yaml_mapping(project_dir / "Pulumi.yaml").get("config") or {}
    defaults: dict[str, object] = {}
    for key, spec in block.items():
        if isinstance(spec, Mapping) and ({"type", "default", "value", "description", "secret"} & set(spec)):
            if "value" in spec or "default" in spec:
                defaults[full_key(key, project)] = spec.get("value", spec.get("default"))
            elif spec.get("secret") is True:
                defaults[full_key(key, project)] = {"secure": "declared-secret"}
        else:
            defaults[full_key(key, project)] = spec
    return defaults


def load_stack_config(project_dir: Path, stack: str) -> tuple[dict[str, str], set[str]]:
    """Config map and secret keys for ``stack``, as the CLI would pass them to the program.

    Project defaults from ``Pulumi.yaml`` are overlaid by ``Pulumi.<stack>.yaml``'s ``config:``.
    Keys without a namespace get the project's. A key whose value is or contains ``{secure: ...}``
    gets `PLACEHOLDER_SECRET` in its place and is listed as secret. Null values are left out.
    """
    project = project_name(project_dir)
    stack_file = _read_yaml_mapping(project_dir / f"Pulumi.{stack}.yaml")
    raw = _project_defaults(project_dir, project)
    for key, value in (stack_file.get("config") or {}).items():
        raw[full_key(key, project)] = value
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
