"""Stack configuration without the Pulumi CLI.

Reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` and produces what the CLI would hand the language
host: a flat ``{"<namespace>:<key>": "<string>"}`` map plus the set of secret keys. Structured values
become JSON text and bools ``"true"``/``"false"``, as the CLI sends them. ``{secure: ...}`` values
cannot be decrypted offline and become `PLACEHOLDER_SECRET`.

The files are read as the CLI reads them: with go-yaml v3 (``gopkg.in/yaml.v3``, pulumi/pulumi
``sdk/go/common/encoding/marshal.go``) decoding into ``any`` (``sdk/go/common/resource/config/object.go``),
not with PyYAML's YAML 1.1 rules (`read_yaml`): only ``true``/``false`` (and ``True``, ``TRUE``, ...) are
booleans, so ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` stay strings; ``0o17`` is octal; ``1e3`` is a
float; ``12:30`` (a YAML 1.1 base-60 number) and timestamps stay strings; a duplicate mapping key anywhere is
an error, as the CLI refuses it. One deliberate go-yaml v3 quirk is kept: a leading zero (``010``) is still
read as octal (8), "for compatibility" (its ``resolve.go``), where strict YAML 1.2 would read 10.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_SECRET = "offline-placeholder-secret"  # noqa: S105 - a stand-in, not a secret


class StackConfigError(Exception):
    """A project or stack file that cannot be read as Pulumi configuration."""


# --- YAML as go-yaml v3 reads it ------------------------------------------------------------------------

_PLAIN = "!go-yaml-plain"  # internal tag: a plain (unquoted, untagged) scalar, resolved by `_resolve_plain`
_TAG = "tag:yaml.org,2002:"
#: go-yaml v3 ``resolveMapList``: the exact spellings it resolves by table.
_TABLE: dict[str, object] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
#: go-yaml v3 ``resolveTable``: a plain scalar is only looked at when its first character is one of these.
_HINTS = set("+-0123456789yYnNtTfFoO~.")
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
_MAX_DEPTH = 100
#: Go's encoding/json writes a float64 in fixed notation inside [1e-6, 1e21), with an exponent outside.
_FIXED_NOTATION = (1e-6, 1e21)
_DIGITS = {"0x": (16, "0123456789abcdefABCDEF"), "0o": (8, "01234567"), "0b": (2, "01")}


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, else ``ParseUint``: sign, ``0x``/``0o``/``0b``, a leading 0 is octal."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    prefix = body[:2].lower()
    if prefix in _DIGITS:
        base, allowed = _DIGITS[prefix]
        digits = body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, allowed, digits = 8, "01234567", body[1:]
    else:
        base, allowed, digits = 10, "0123456789", body
    if not digits or any(c not in allowed for c in digits):
        return None
    value = int(digits, base) * (-1 if sign == "-" else 1)
    if _INT64[0] <= value <= _INT64[1] or (not sign and value <= _UINT64_MAX):
        return value
    return None


def _resolve_plain(text: str) -> object:
    """A plain scalar as go-yaml v3 ``resolve("", text)`` decodes it into ``any``."""
    if text == "" or text[0] not in _HINTS:
        return None if text == "" else text
    if text in _TABLE:
        return _TABLE[text]
    first = text[0]
    if first == ".":
        return float(text) if _DOT_FLOAT.match(text) else text
    if first in "+-0123456789":
        # A timestamp (2001-12-14) decodes into `any` as its text: go-yaml keeps the string for compatibility.
        plain = text.replace("_", "")
        number = _go_parse_int(plain)
        if number is not None:
            return number
        if _YAML_STYLE_FLOAT.match(plain):
            value = float(plain)
            if not math.isinf(value):  # strconv.ParseFloat fails with ErrRange
                return value
    return text


def _decode_tagged(tag: str, text: str) -> object:
    """A scalar with an explicit tag (``!!str 010``, ``!!int "7"``): as go-yaml v3 checks it, or ValueError."""
    short = tag.removeprefix(_TAG)
    if short == "str":
        return text
    if short == "binary":
        try:
            return base64.b64decode(text, validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as exc:
            msg = f"!!binary value is not base64: {exc}"
            raise ValueError(msg) from exc
    kinds: dict[str, tuple[type, ...]] = {"int": (int,), "float": (float, int), "bool": (bool,), "null": (type(None),)}
    if short not in kinds:
        return text  # a tag go-yaml cannot resolve (e.g. !Ref): the text, as decoding into `any` keeps it
    value = _resolve_plain(text)
    expected = kinds[short]
    if not isinstance(value, expected) or (short in {"int", "float"} and isinstance(value, bool)):
        found = "str" if isinstance(value, str) else type(value).__name__.replace("NoneType", "null")
        msg = f"cannot decode !!{found} `{text}` as a !!{short}"
        raise ValueError(msg)
    return float(value) if short == "float" else value  # type: ignore[arg-type]


class _Loader(yaml.SafeLoader):
    """PyYAML's parser and composer, with plain scalars left unresolved (`_PLAIN`) for go-yaml v3's rules."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:  # noqa: ANN401 - PyYAML API
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


def _key_text(key: object) -> str:
    """A mapping key as the CLI keeps it: go-yaml's ``map[any]any`` keys through ``fmt.Sprintf("%v")``."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "<nil>"
    if isinstance(key, float):
        return _go_float(key)
    return str(key)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _alias_ratio(decoded: int) -> float:
    """go-yaml v3's ``allowedAliasRatio``: 99% of decodes up to 400,000, falling to 10% at 4,000,000."""
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


class _Decoder:
    """Builds plain Python values from a composed node tree; every problem is one line naming file, path, line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.duplicates: list[str] = []
        # go-yaml v3's alias-bomb guard (decode.go, unmarshal/allowedAliasRatio): nodes decoded, those decoded
        # inside an alias, and how deep in aliases the decoder is. The composer reuses an anchored node for each
        # of its aliases, so a node met again is an alias.
        self._seen: set[int] = set()
        self._decoded = 0
        self._aliased = 0
        self._alias_depth = 0

    def _tick(self, node: yaml.Node, path: str) -> None:
        self._decoded += 1
        if self._alias_depth > 0:
            self._aliased += 1
        if self._aliased > 100 and self._decoded > 1000 and self._aliased / self._decoded > _alias_ratio(self._decoded):  # noqa: PLR2004
            raise self.fail(node, path, "document contains excessive aliasing")

    def fail(self, node: yaml.Node, path: str, message: str) -> StackConfigError:
        where = f"{path}: " if path else ""
        return StackConfigError(f"{self.name}: {where}{message} (line {node.start_mark.line + 1})")

    def value(self, node: yaml.Node, path: str, depth: int = 0) -> object:
        if id(node) not in self._seen:
            self._seen.add(id(node))
            return self._value(node, path, depth)
        self._tick(node, path)  # the alias node itself, then its target's subtree inside the alias
        self._alias_depth += 1
        try:
            return self._value(node, path, depth)
        finally:
            self._alias_depth -= 1

    def _value(self, node: yaml.Node, path: str, depth: int) -> object:
        self._tick(node, path)
        if depth > _MAX_DEPTH:
            raise self.fail(node, path, "nested too deeply (a recursive alias?)")
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _PLAIN:
                return _resolve_plain(node.value)
            try:
                return _decode_tagged(node.tag, node.value)
            except ValueError as exc:
                raise self.fail(node, path, str(exc)) from exc
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        raise self.fail(node, path, f"unsupported YAML node {type(node).__name__}")

    def mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict[str, object]:
        seen: dict[str, int] = {}
        explicit: dict[str, object] = {}
        merged: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, path, "a mapping or a list cannot be a key")
            line = key_node.start_mark.line + 1
            if key_node.value in seen:  # go-yaml v3 compares the keys' text (decode.go, uniqueKeys)
                self.duplicates.append(
                    f"{self.name}: {_join(path, key_node.value)}: duplicate key (line {line}; first at line "
                    f"{seen[key_node.value]}): the Pulumi CLI refuses a key given twice"
                )
                continue
            seen[key_node.value] = line
            if key_node.tag == _PLAIN and key_node.value == "<<":
                for key, value in self._merge(value_node, path, depth).items():
                    merged.setdefault(key, value)
                continue
            key = _key_text(self.value(key_node, path, depth + 1))
            explicit[key] = self.value(value_node, _join(path, key), depth + 1)
        return {**merged, **explicit}

    def _merge(self, node: yaml.Node, path: str, depth: int) -> dict[str, object]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[str, object] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(source, path, "a merge (<<) takes a mapping or a list of mappings")
            for key, value in self.mapping(source, path, depth + 1).items():
                result.setdefault(key, value)
        return result


def read_yaml(path: Path) -> object:
    """The first YAML document of ``path`` as the Pulumi CLI decodes it (see the module doc); None when empty.

    Raises:
        StackConfigError: one line naming the file and the line of a syntax error or of a duplicate key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        msg = f"{path.name}: file not found in {path.parent}"
        raise StackConfigError(msg) from exc
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path.name}: cannot be read: {exc}"
        raise StackConfigError(msg) from exc
    loader = _Loader(text)
    try:
        node = loader.get_node() if loader.check_node() else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        msg = f"{path.name}: {where}: invalid YAML: {problem}"
        raise StackConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path.name}: invalid YAML: {' '.join(str(exc).split())}"
        raise StackConfigError(msg) from exc
    except RecursionError:
        msg = f"{path.name}: invalid YAML: nested too deeply"
        raise StackConfigError(msg) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    decoder = _Decoder(path.name)
    try:
        data = decoder.value(node, "")
    except RecursionError:
        msg = f"{path.name}: invalid YAML: nested too deeply"
        raise StackConfigError(msg) from None
    if decoder.duplicates:
        more = f" (and {len(decoder.duplicates) - 1} more)" if len(decoder.duplicates) > 1 else ""
        raise StackConfigError(decoder.duplicates[0] + more)
    return data


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"{path.name}: expected a YAML mapping at the top level, found {_kind(data)}"
        raise StackConfigError(msg)
    return data


def _config_block(path: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``config:`` mapping of a project or stack file (empty when absent or null)."""
    block = data.get("config")
    if block is None:
        return {}
    if not isinstance(block, dict):
        msg = f"{path.name}: config: expected a mapping of config keys to values, found {_kind(block)}"
        raise StackConfigError(msg)
    return block


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the value {json.dumps(value)}" if not isinstance(value, float) else f"the number {value}"


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


def _go_float(value: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it: shortest digits, ``8`` for 8.0, ``1e+21``, ``1e-7``."""
    if math.isnan(value) or math.isinf(value):
        msg = f"{value} is not a JSON number (the CLI cannot pass .nan or .inf)"
        raise StackConfigError(msg)
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    shortest = Decimal(repr(value))
    if _FIXED_NOTATION[0] <= abs(value) < _FIXED_NOTATION[1]:  # strconv.FormatFloat(f, 'f', -1, 64)
        text = format(shortest, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, digits, exponent = shortest.normalize().as_tuple()
    assert isinstance(exponent, int)  # noqa: S101 - finite by the check above
    text = "".join(map(str, digits))
    mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
    power = exponent + len(text) - 1
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}".replace("e-0", "e-")


def _go_json_ready(value: object) -> object:
    """``value`` with floats that Go writes as integers turned into ints (so JSON text matches the CLI's)."""
    if isinstance(value, float):
        text = _go_float(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else value
    if isinstance(value, Mapping):
        return {key: _go_json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_go_json_ready(item) for item in value]
    return value


def config_text(value: object) -> str:
    """A config value as the CLI passes it: strings as is, bools lower-case, numbers and structures as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, (Mapping, list)):
        return json.dumps(_go_json_ready(value), separators=(",", ":"))
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
    path = project_dir / "Pulumi.yaml"
    block = _config_block(path, _read_yaml_mapping(path))
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
    path = project_dir / f"Pulumi.{stack}.yaml"
    block = _config_block(path, _read_yaml_mapping(path))
    declarations = project_declarations(project_dir, project)
    stack_values = {full_key(key, project): value for key, value in block.items()}
    validate_against_declarations(stack, project, declarations, stack_values)
    raw = {full: d.default for full, d in declarations.items() if d.has_default}
    raw.update(stack_values)
    try:
        return to_wire_config(raw)
    except StackConfigError as exc:
        msg = f"{path.name}: {exc}"
        raise StackConfigError(msg) from exc


def to_wire_config(raw: Mapping[str, object]) -> tuple[dict[str, str], set[str]]:
    """Flatten full-key config values to CLI strings, replacing secure values (see module doc)."""
    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        if value is None:
            continue
        plain, secret = _replace_secure(value)
        try:
            config[key] = config_text(plain)
        except StackConfigError as exc:
            msg = f"{key}: {exc}"
            raise StackConfigError(msg) from exc
        if secret:
            secret_keys.add(key)
    return config, secret_keys
