"""The pack as a whole: production detection, enforcement levels, config schemas, policy metadata."""

import json
import re
import runpy
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel, StackValidationPolicy

from policies.catalog import build_policies
from policies.settings import PackContext, policy_config, schema, service_role_patterns, settings_say_production
from tests.policies.support import ALWAYS_ADVISORY, ALWAYS_MANDATORY, DEV, PROD

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


def environ(stack: str, settings: dict | None = None, **extra: str) -> dict[str, str]:
    config = {"eks-platform:settings": json.dumps(settings)} if settings is not None else {}
    return {"PULUMI_PROJECT": "eks-platform", "PULUMI_STACK": stack, "PULUMI_CONFIG": json.dumps(config), **extra}


@pytest.mark.parametrize(
    ("env", "production"),
    [
        (environ("prod", {"production": False}), True),
        (environ("dev", {"production": False}), False),
        (environ("staging", {"production": True}), True),
        (environ("staging", {"owner": "x"}), True),  # the program's default is production
        (environ("staging"), False),
        (environ("prod-eu", {"production": False}, EKS_POLICY_PRODUCTION_STACKS="prod, prod-eu"), True),
        (environ("prod", {"production": False}, EKS_POLICY_PRODUCTION_STACKS="live"), False),
    ],
    ids=["prod-name", "dev", "settings-flag", "settings-default", "no-settings", "env-list", "env-list-excludes"],
)
def test_production_stacks(env, production):
    ctx = PackContext.from_environment(env)
    assert ctx.production is production
    assert ctx.naming.prefix == f"eks-platform-{env['PULUMI_STACK']}"


@pytest.mark.parametrize(
    ("value", "production"),
    [
        (False, False),
        (True, True),
        ("false", True),
        ("False", True),
        ("no", True),
        ("yes", True),
        (0, True),
        (None, True),
        ([], True),
        ({"value": False}, True),
    ],
    ids=["json-false", "json-true", "str-false", "str-False", "str-no", "str-yes", "zero", "null", "list", "object"],
)
def test_only_json_false_makes_a_stack_non_production(value, production):
    # The program's settings model is strict for booleans: every non-boolean value here stops the plan with
    # exit 2 before anything registers. The pack, started before the program validates, must never read one as
    # "not production" (that would lower every security policy to advisory).
    assert settings_say_production({"eks-platform:settings": json.dumps({"production": value})}, "eks-platform") is (
        production
    )
    assert PackContext.from_environment(environ("staging", {"production": value})).production is production


def test_unreadable_settings_leave_production_to_the_stack_name():
    for text in ("{", "[]", '"production: false"', "null"):
        env = {"PULUMI_STACK": "staging", "PULUMI_CONFIG": json.dumps({"eks-platform:settings": text})}
        assert settings_say_production({"eks-platform:settings": text}, "eks-platform") is None
        assert PackContext.from_environment(env).production is False
        assert PackContext.from_environment({**env, "PULUMI_STACK": "prod"}).production is True


def test_security_policies_are_mandatory_in_production_and_advisory_elsewhere():
    for ctx, level in ((PROD, EnforcementLevel.MANDATORY), (DEV, EnforcementLevel.ADVISORY)):
        for policy in build_policies(ctx):
            expected = EnforcementLevel.MANDATORY if policy.name in ALWAYS_MANDATORY else level
            if policy.name in ALWAYS_ADVISORY:
                expected = EnforcementLevel.ADVISORY
            assert policy.enforcement_level == expected, policy.name


def test_every_policy_is_documented_and_named_in_kebab_case():
    policies = build_policies(PROD)
    assert len(policies) == len({p.name for p in policies}) == 29
    assert sum(isinstance(p, StackValidationPolicy) for p in policies) == 6
    for policy in policies:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", policy.name)
        assert policy.description.strip()
        assert policy.remediation_steps
        for spec in (policy.config_schema.properties if policy.config_schema else {}).values():
            assert "default" in spec
            assert spec.get("description")


def test_config_defaults_are_overlaid_by_configured_values():
    config_schema = schema({"ports": {"type": "array", "default": [], "description": "d"}})
    assert policy_config({}, config_schema) == {"ports": []}
    assert policy_config({"ports": [443], "unrelated": 1}, config_schema) == {"ports": [443]}
    with pytest.raises(ValueError, match="without a default"):
        schema({"ports": {"type": "array"}})


def test_main_only_builds_the_pack(monkeypatch):
    """``__main__`` hands the catalog to PolicyPack (which would serve forever: replaced here)."""
    built = {}
    monkeypatch.setattr("pulumi_policy.PolicyPack", lambda **kwargs: built.update(kwargs))
    monkeypatch.setenv("PULUMI_STACK", "prod")
    runpy.run_path(str(PACK_DIR), run_name="__main__")
    assert built["name"] == "eks-platform"
    assert [p.name for p in built["policies"]] == [p.name for p in build_policies(PROD)]
    assert (PACK_DIR / "__main__.py").read_text().count("\n") < 30


def test_role_patterns_come_from_roster_files_too(tmp_path):
    # The pack reads appRolesFiles from its project directory, as the program does.
    (tmp_path / "roles.yaml").write_text(
        "reports:\n  namespace: reports\n  serviceAccount: r\n  roleName: svc-{service}\n"
    )
    config = {"eks-platform:settings": json.dumps({"appRolesFiles": ["roles.yaml"]})}
    assert service_role_patterns(config, "eks-platform", tmp_path) == ("svc-{service}", "{cluster}-{service}")
    missing = {"eks-platform:settings": json.dumps({"appRolesFiles": ["nowhere.yaml"]})}
    assert service_role_patterns(missing, "eks-platform", tmp_path) == ("{cluster}-{service}",)
