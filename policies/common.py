"""Helpers shared by the policies: plain data from the analyzer's proxies, IAM documents, tags.

Properties reach a policy wrapped in proxies that raise ``UnknownValueError`` when a value is unknown
(computed during ``pulumi preview``). `plain` turns them into ordinary dicts and lists once, with every
unknown value replaced by the `UNKNOWN` marker, so a policy can skip what it cannot know instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    """Marker for a value that is not known yet (a computed value during preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
#: The type of `UNKNOWN`, for annotations.
Unknown = _Unknown

#: The wire sentinels for unknown values (also in plain dicts built outside the analyzer).
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)

WEB_IDENTITY_ACTION: Final = "sts:AssumeRoleWithWebIdentity"


def is_unknown(value: object) -> bool:
    """True for `UNKNOWN` (or a raw unknown sentinel string)."""
    return value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def contains_unknown(value: object) -> bool:
    """True when ``value`` is unknown or holds an unknown value at any depth (plain data)."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def plain_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's properties as a plain dict (see `plain`)."""
    result = plain(props)
    return result if isinstance(result, dict) else {}


def plain(value: object) -> object:
    """``value`` as plain dicts and lists, unknown values replaced by `UNKNOWN` (never raises for them)."""
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[str(key)] = plain(value[key])
            except UnknownValueError:
                result[str(key)] = UNKNOWN
        return result
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def dig(data: object, *path: str | int) -> Any:  # noqa: ANN401 - plain data of any shape
    """The value at ``path`` in plain data; None when absent, `UNKNOWN` when unknown on the way."""
    current = data
    for key in path:
        if is_unknown(current):
            return UNKNOWN
        if isinstance(key, int):
            if not isinstance(current, list) or not -len(current) <= key < len(current):
                return None
            current = current[key]
        else:
            if not isinstance(current, dict):
                return None
            current = current.get(key)
    return UNKNOWN if is_unknown(current) else current


def as_list(value: object) -> list[Any]:
    """A list for IAM's "one or many" fields (None becomes empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def truthy(value: object) -> bool:
    """A wire boolean, which some schemas carry as the string ``"true"``."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def json_document(value: object) -> dict[str, Any] | Unknown | None:
    """A JSON document input (a string, or already an object): the object, `UNKNOWN`, or None if unusable."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if any(sentinel in value for sentinel in UNKNOWN_SENTINELS):
            return UNKNOWN
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def compact_json(document: Mapping[str, Any]) -> str:
    """``document`` without insignificant whitespace: the text IAM counts against its size limits."""
    return json.dumps(document, separators=(",", ":"))


def statements(document: object) -> Iterator[dict[str, Any]]:
    """The statements of an IAM policy document (``Statement`` may be one object or a list)."""
    if not isinstance(document, dict):
        return
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, dict):
            yield statement


def actions(statement: Mapping[str, Any], key: str = "Action") -> list[str]:
    """The statement's ``Action`` (or ``NotAction``) values that are strings."""
    value = statement.get(key)
    return [a for a in as_list(value) if isinstance(a, str)] if not is_unknown(value) else []


def is_web_identity_trust(document: object) -> bool:
    """True when a trust policy admits ``sts:AssumeRoleWithWebIdentity`` (an IRSA role)."""
    return any(
        statement.get("Effect") == "Allow" and any(a.lower() == WEB_IDENTITY_ACTION.lower() for a in actions(statement))
        for statement in statements(document)
    )


def tag_map(value: object) -> dict[str, Any] | Unknown:
    """A tags input as a dict (`UNKNOWN` when unknown, empty when absent)."""
    if is_unknown(value):
        return UNKNOWN
    return dict(value) if isinstance(value, dict) else {}


def provider_default_tags(provider_props: object) -> dict[str, Any] | Unknown:
    """The ``defaultTags.tags`` of an AWS provider's inputs (JSON text in the engine, or an object)."""
    raw = dig(provider_props, "defaultTags")
    if is_unknown(raw):
        return UNKNOWN
    if isinstance(raw, str):
        parsed = json_document(raw)
        raw = parsed if isinstance(parsed, dict) or is_unknown(parsed) else None
    if is_unknown(raw):
        return UNKNOWN
    return tag_map(dig(raw, "tags")) if isinstance(raw, dict) else {}
