"""Facts about AWS resource types read from the installed pulumi_aws SDK (no network, no plugin)."""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache

_TOKEN = re.compile(r"^aws:(?P<module>[\w]+)(/\w+)?:(?P<cls>\w+)$")


@cache
def resource_class(type_token: str) -> type | None:
    """The pulumi_aws class of ``aws:<module>/<name>:<Class>``, or None if the SDK has no such class."""
    match = _TOKEN.match(type_token)
    if match is None:
        return None
    module = "pulumi_aws" if match["module"] == "index" else f"pulumi_aws.{match['module']}"
    try:
        cls = getattr(importlib.import_module(module), match["cls"], None)
    except ImportError:
        return None
    return cls if inspect.isclass(cls) else None


@cache
def is_taggable(type_token: str) -> bool:
    """True when the SDK's resource accepts ``tags`` (and so the provider's default_tags apply)."""
    cls = resource_class(type_token)
    if cls is None:
        return False
    init = getattr(cls, "_internal_init", None)
    return init is not None and "tags" in inspect.signature(init).parameters
