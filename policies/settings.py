"""Pack-wide settings: which stack this is, whether it is production, and per-policy config.

The CLI starts the pack with ``PULUMI_PROJECT``, ``PULUMI_STACK`` and ``PULUMI_CONFIG`` (the stack's config as
JSON) in its environment, before any policy runs. Enforcement levels are declared when the pack is built, so
they are decided from that environment: security policies are ``mandatory`` on production stacks and
``advisory`` elsewhere; tag policies are always ``mandatory``. The per-policy config (``--policy-pack-config``)
can still override any level and property.

A stack is production when its name is listed in ``EKS_POLICY_PRODUCTION_STACKS`` (comma-separated; default
``prod``) or when its own settings do not say exactly ``production: false`` (JSON false; absent means the
program's default, true; a non-boolean value is refused by the program and treated as production here).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema

from components.naming import NamingContext
from components.rosters import RosterError, expand_rosters

#: Environment variable listing the production stacks (comma-separated).
PRODUCTION_STACKS_ENV = "EKS_POLICY_PRODUCTION_STACKS"
DEFAULT_PRODUCTION_STACKS: tuple[str, ...] = ("prod",)
#: The program's settings key (``<project>:settings``) and its production flag.
SETTINGS_KEY = "settings"
PRODUCTION_FLAG = "production"
DEFAULT_PROJECT = "eks-platform"
#: The project the pack lives in (its parent directory): roster files are read relative to it.
PROJECT_DIR = Path(__file__).resolve().parent.parent
#: The program's default service-role pattern, also the shape of the platform's own IRSA roles.
DEFAULT_SERVICE_ROLE_PATTERN = "{cluster}-{service}"


def production_stacks(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Stack names treated as production (from the environment, else the default list)."""
    raw = environ.get(PRODUCTION_STACKS_ENV)
    if raw is None:
        return DEFAULT_PRODUCTION_STACKS
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def stack_settings(stack_config: Mapping[str, str], project: str) -> dict[str, Any] | None:
    """The program's settings object from the stack config the CLI passes (None without usable settings)."""
    raw = stack_config.get(f"{project}:{SETTINGS_KEY}")
    if raw is None:
        return None
    try:
        settings = json.loads(raw)
    except ValueError:
        return None
    return settings if isinstance(settings, dict) else None


def settings_say_production(stack_config: Mapping[str, str], project: str) -> bool | None:
    """The program settings' ``production`` flag as the program reads it; None without settings.

    Only JSON ``false`` makes a stack non-production; an absent flag is the program's default (True). Anything
    else (the string ``"false"``, ``"no"``, ``0``, ``null``, a list) counts as production here: the program's
    settings model is strict for booleans and refuses such a value with exit 2 before any resource registers, so
    the pack never runs looser than the program would. (The CLI reads stack files as YAML 1.2, where ``no`` and
    ``off`` are strings, not booleans.)
    """
    settings = stack_settings(stack_config, project)
    if settings is None:
        return None
    return settings.get(PRODUCTION_FLAG, True) is not False


def service_role_patterns(
    stack_config: Mapping[str, str], project: str, project_dir: Path = PROJECT_DIR
) -> tuple[str, ...]:
    """IRSA role-name patterns the stack's settings use, read as the program reads them (one source of truth).

    The platform's own IRSA roles are ``{cluster}-<role>``; application roles follow ``serviceRoleNamePattern``
    (default ``{cluster}-{service}``) or their own ``appRoles.<service>.roleName``, inline or in the roster files
    (``appRolesFiles``, read from ``project_dir`` with the program's `expand_rosters`). An unreadable roster adds
    nothing here: the program refuses it before anything registers.
    """
    patterns = {DEFAULT_SERVICE_ROLE_PATTERN}
    settings = expanded_settings(stack_config, project, project_dir)
    stack_pattern = settings.get("serviceRoleNamePattern")
    if isinstance(stack_pattern, str):
        patterns.add(stack_pattern)
    for role in app_roles(settings):
        pattern = role.get("roleName")
        if isinstance(pattern, str):
            patterns.add(pattern)
    return tuple(sorted(patterns))


def expanded_settings(stack_config: Mapping[str, str], project: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The settings with the roster files' entries merged in, as the program expands them (`expand_rosters`).

    An unreadable roster adds nothing here: the program refuses it before anything registers.
    """
    settings = stack_settings(stack_config, project) or {}
    with contextlib.suppress(RosterError):
        settings, _ = expand_rosters(settings, project_dir)
    return settings


def app_roles(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``appRoles`` entries of (expanded) settings that are objects."""
    roles = settings.get("appRoles")
    return [role for role in roles.values() if isinstance(role, dict)] if isinstance(roles, dict) else []


def wildcard_subjects(stack_config: Mapping[str, str], project: str, project_dir: Path = PROJECT_DIR) -> frozenset[str]:
    """Wildcard ServiceAccount subjects of the stack's app roles (inline and in roster files), as trusts hold them."""
    found = set()
    for role in app_roles(expanded_settings(stack_config, project, project_dir)):
        patterns = role.get("wildcardServiceAccounts")
        for pattern in patterns if isinstance(patterns, list) else ():
            if isinstance(pattern, str) and pattern.count("/") == 1:
                namespace, name = pattern.split("/")
                found.add(f"system:serviceaccount:{namespace}:{name}")
    return frozenset(found)


@dataclass(frozen=True)
class PackContext:
    """What the policies know about the stack they check."""

    project: str
    stack: str
    production: bool
    #: The stack's config as the CLI passes it (``{"<namespace>:<key>": "<text>"}``).
    stack_config: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def naming(self) -> NamingContext:
        """The naming context the program derives physical names from."""
        return NamingContext.from_settings(self.project, self.stack, stack_settings(self.stack_config, self.project))

    @cached_property
    def platform_role_names(self) -> frozenset[str]:
        """The physical names of the platform's own IAM roles under this stack's `naming` settings."""
        return frozenset(self.naming.platform_role_names())

    @cached_property
    def service_role_patterns(self) -> tuple[str, ...]:
        """The IRSA role-name patterns this stack's settings allow."""
        return service_role_patterns(self.stack_config, self.project)

    @cached_property
    def wildcard_subjects(self) -> frozenset[str]:
        """``system:serviceaccount:<ns>:<name>`` patterns the app roles declare (``wildcardServiceAccounts``)."""
        return wildcard_subjects(self.stack_config, self.project)

    @cached_property
    def permissions_boundary(self) -> str | None:
        """The stack settings' ``permissionsBoundaryArn`` (None: the stack sets none)."""
        value = (stack_settings(self.stack_config, self.project) or {}).get("permissionsBoundaryArn")
        return value if isinstance(value, str) and value else None

    @cached_property
    def guard_duty_detector(self) -> str:
        """The settings' GuardDuty detector owner as the program resolves it: create, adopt or none."""
        guard = (stack_settings(self.stack_config, self.project) or {}).get("guardDuty")
        guard = guard if isinstance(guard, dict) else {}
        detector = guard.get("detector")
        if isinstance(detector, str):
            return detector
        return "adopt" if guard.get("adoptDetectorId") else "create"

    @cached_property
    def guard_duty_agent(self) -> str:
        """Who installs the GuardDuty agent as the program resolves it: guardduty, or stack (default with none)."""
        guard = (stack_settings(self.stack_config, self.project) or {}).get("guardDuty")
        agent = guard.get("agent") if isinstance(guard, dict) else None
        if isinstance(agent, str):
            return agent
        return "stack" if self.guard_duty_detector == "none" else "guardduty"

    @property
    def security_level(self) -> EnforcementLevel:
        """Default level of security and naming policies: mandatory in production, advisory elsewhere."""
        return EnforcementLevel.MANDATORY if self.production else EnforcementLevel.ADVISORY

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PackContext:
        """Read project, stack, config and production status as the CLI passes them to the pack."""
        env = os.environ if environ is None else environ
        project = env.get("PULUMI_PROJECT") or DEFAULT_PROJECT
        stack = env.get("PULUMI_STACK") or ""
        try:
            config = json.loads(env.get("PULUMI_CONFIG") or "{}")
        except ValueError:
            config = {}
        stack_config = {str(k): str(v) for k, v in config.items()} if isinstance(config, dict) else {}
        declared = settings_say_production(stack_config, project)
        production = stack in production_stacks(env) or declared is True
        return cls(project=project, stack=stack, production=production, stack_config=stack_config)


def schema(properties: Mapping[str, Mapping[str, Any]]) -> PolicyConfigSchema:
    """A config schema whose every property carries a ``default`` (the CLI fills defaults in)."""
    missing = [name for name, spec in properties.items() if "default" not in spec]
    if missing:
        msg = f"config properties without a default: {missing}"
        raise ValueError(msg)
    return PolicyConfigSchema(properties={name: dict(spec) for name, spec in properties.items()})


def policy_config(config: Mapping[str, Any], config_schema: PolicyConfigSchema) -> dict[str, Any]:
    """The schema's defaults overlaid with the configured values (a direct call may pass no config)."""
    merged = {name: spec["default"] for name, spec in config_schema.properties.items()}
    merged.update({key: value for key, value in config.items() if key in merged})
    return merged


def string_list(description: str, default: list[str]) -> dict[str, Any]:
    """Schema of a list-of-strings property."""
    return {"type": "array", "items": {"type": "string"}, "description": description, "default": default}
