"""Facts about AWS resource types read from the installed pulumi_aws SDK (no network, no plugin)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
from functools import cache
from pathlib import Path

_MODULES = re.compile(r'resource_modules="""(.*?)"""', re.DOTALL)


@cache
def resource_tokens() -> dict[str, tuple[str, str]]:
    """Every resource type token of the SDK -> (Python module, class name), from its registration table.

    The table is authoritative where the token does not spell the module (``aws:lambda/...`` lives in
    ``pulumi_aws.lambda_``, ``aws:index/...`` in ``pulumi_aws``).
    """
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or spec.origin is None:
        msg = "pulumi_aws is not installed"
        raise RuntimeError(msg)
    match = _MODULES.search(Path(spec.origin).read_text(encoding="utf-8"))
    if match is None:
        msg = "pulumi_aws/__init__.py has no resource_modules table"
        raise RuntimeError(msg)
    return {
        token: (entry["fqn"], class_name)
        for entry in json.loads(match.group(1))
        for token, class_name in entry["classes"].items()
    }


@cache
def resource_class(type_token: str) -> type | None:
    """The pulumi_aws class registered for ``type_token``, or None if the SDK has none."""
    registered = resource_tokens().get(type_token)
    if registered is None:
        return None
    cls = getattr(importlib.import_module(registered[0]), registered[1], None)
    return cls if inspect.isclass(cls) else None


@cache
def is_taggable(type_token: str) -> bool:
    """True when the SDK's resource accepts ``tags`` (and so the provider's default_tags apply)."""
    cls = resource_class(type_token)
    init = getattr(cls, "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters
