"""Rosters: large lists of settings (application roles, Vault users) kept in YAML files beside the stack file.

A stack's whole config travels to the policy pack in one environment variable (``PULUMI_CONFIG``); Linux refuses
a single variable over 128 KiB (``MAX_ARG_STRLEN``, E2BIG), so a stack with a thousand roles inline cannot start
the pack under the real CLI either (pulumi/pulumi#20402). Settings name the files instead (``appRolesFiles``,
``vault.usersFiles``); the program and the policy pack both read them with `load_roster`, the same way.

Files are read strictly: one YAML mapping, no duplicate keys, YAML 1.2 booleans (``yes`` stays a string), paths
relative to the project directory and inside it. Pure: no Pulumi imports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

#: The settings keys that name roster files, and the settings section each one adds entries to.
APP_ROLES_FILES = "appRolesFiles"
VAULT_USERS_FILES = "usersFiles"


class RosterError(ValueError):
    """A roster file that cannot be used; the message names the file (and line) and what is wrong."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's extra booleans, refusing duplicate keys."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            msg = f"duplicate key {key!r} on line {line} (first on line {seen[key]})"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _key_text(key: object) -> str:
    """A mapping key as the stack file's keys reach the program (JSON text): ``true``, ``12``, ``2024-01-01``."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def roster_path(name: str, base_dir: Path) -> Path:
    """The file ``name`` (relative to ``base_dir``, the project directory); refuses paths that leave it."""
    path = (base_dir / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base_dir.resolve()):
        msg = f"{name}: a roster file must be a relative path inside the project directory"
        raise RosterError(msg)
    return path


def load_roster(name: str, base_dir: Path) -> dict[str, Any]:
    """The mapping in roster file ``name``.

    Raises:
        RosterError: missing or unreadable file, YAML errors, duplicate keys, or not a mapping.
    """
    path = roster_path(name, base_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{name}: cannot be read ({exc.strerror or exc})"
        raise RosterError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"{name}: not UTF-8 text (byte {exc.start})"
        raise RosterError(msg) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        msg = f"{name}: nested too deeply"
        raise RosterError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{name}:{where}: {problem}".replace("\n", " ")
        raise RosterError(msg) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"{name}: expected a mapping, got {type(data).__name__}"
        raise RosterError(msg)
    return data


def expand_rosters(raw: dict[str, Any], base_dir: Path) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """``raw`` settings with the roster files' entries merged in, and where each merged entry came from.

    ``appRolesFiles`` add to ``appRoles``, ``vault.usersFiles`` to ``vault.users``. An entry defined twice (inline
    and in a file, or in two files) is refused. The origin map is ``{(section, key): file}``.

    Raises:
        RosterError: a file problem or a duplicate entry, the message starting with ``.<settings path>: ``.
    """
    settings = dict(raw)
    # (section as named in messages, the mapping holding it, its files key, its entries key)
    sections: list[tuple[str, dict[str, Any], str, str]] = [("appRoles", settings, APP_ROLES_FILES, "appRoles")]
    vault = settings.get("vault")
    if isinstance(vault, dict):
        settings["vault"] = vault = dict(vault)
        sections.append(("vault.users", vault, VAULT_USERS_FILES, "users"))
    origins: dict[tuple[str, str], str] = {}
    for section, holder, files_key, entries_key in sections:
        files_path = f".{section.rpartition('.')[0]}.{files_key}".replace("..", ".")
        files = holder.get(files_key) or []
        entries = holder.get(entries_key) or {}
        if not files or not isinstance(entries, dict):
            continue  # no files, or an inline section of the wrong type, which the settings model reports
        if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
            msg = f"{files_path}: expected a list of file paths"
            raise RosterError(msg)
        merged = dict(entries)
        for index, name in enumerate(files):
            where = f"{files_path}[{index}]"
            try:
                roster = load_roster(name, base_dir)
            except RosterError as exc:
                raise RosterError(f"{where}: {exc}") from None
            for raw_key, value in roster.items():
                key = _key_text(raw_key)
                if key in merged:
                    first = origins.get((section, str(key)), "the stack file")
                    msg = f"{where}: {name}: {section}.{key} is already defined in {first}"
                    raise RosterError(msg)
                merged[key] = value
                origins[(section, str(key))] = name
        holder[entries_key] = merged
    return settings, origins
