"""Settings either stop the plan before anything registers, or the whole program runs: no error after the start.

An error raised once registration has begun (a ``ValueError`` in a component, a duplicate URN) leaves a
half-built graph in a real ``pulumi up``. Every such rule belongs in the settings' validation. Property test:
generated settings, valid and invalid, over the fields that reach names, labels, tags, roles and CIDRs; each run
either fails with one settings line and nothing registered but the stack (and the provider, for the zone count
found by an invoke), or completes.
"""

import copy
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.config.test_settings import stack_settings
from tools.harness import ConfigurationError, run_program

KEY = "eks-platform:settings"
BEFORE_REGISTRATION = {"pulumi:pulumi:Stack", "pulumi:providers:aws"}

SHORT = st.from_regex(r"[a-z]([a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True)
LONG = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=70)
ODD = st.text(alphabet="abcXYZ09-_.@+/ #:", min_size=0, max_size=70)
#: Mostly valid values, now and then a long or an odd one (hypothesis picks a branch uniformly).
NAME = st.one_of(SHORT, SHORT, SHORT, LONG)
LABEL_KEYS = st.sampled_from(["role", "team.example.com/role", "dedicated", "role", "Bad/role", "x" * 64])
LABEL_VALUES = st.one_of(SHORT, SHORT, SHORT, ODD)
PATTERNS = st.sampled_from(
    [
        None,
        None,
        "{cluster}-{service}",
        "eks-{service}-{env}",
        "{cluster}_{service}",
        "my {service}",
        "{nope}",
        "x" * 80,
    ]
)


@st.composite
def app_roles(draw: st.DrawFn) -> dict[str, Any]:
    roles = {}
    for service in draw(st.lists(NAME, max_size=3, unique=True)):
        role: dict[str, Any] = {
            "namespace": draw(st.one_of(SHORT, SHORT, st.sampled_from(["kube-system", "default", "argocd"]))),
            "serviceAccount": draw(NAME),
        }
        pattern = draw(PATTERNS)
        if pattern:
            role["roleName"] = pattern
        if draw(st.booleans()):
            role["managedPolicyArns"] = draw(
                st.lists(st.sampled_from(["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::1:policy/x"]))
            )
        roles[service] = role
    return roles


QUANTITIES = st.sampled_from(["1", "500m", "4Gi", "1GB", "-1", "", "1e3"])
VALUE_FILES = ["$values/v.yaml", "v.yaml", "$x/v.yaml"]
SYNC_OPTIONS = ["CreateNamespace=true", "Foo=1", "ServerSideApply=true", "PruneLast=yes"]


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    stack = draw(st.sampled_from(["dev", "prod"]))
    raw = copy.deepcopy(stack_settings(stack))
    raw["appRoles"] = draw(app_roles())
    system = raw["cluster"]["nodeGroups"]["system"]
    system["labels"] = draw(
        st.one_of(st.just({"role": "system"}), st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=1))
    )
    if draw(st.integers(0, 3)) == 0:
        system["taints"] = [{"key": draw(LABEL_KEYS), "value": draw(LABEL_VALUES), "effect": "NO_SCHEDULE"}]
    if draw(st.integers(0, 5)) == 0:
        raw["owner"] = draw(ODD)
    if draw(st.booleans()):
        users = draw(st.lists(st.sampled_from(["a+b@x.com", "a-b@x.com", "jay@x.com", "x."]), max_size=3))
        raw["vault"]["users"] = {user: ["arn:aws:iam::941892620273:role/r"] for user in users}
    if draw(st.booleans()):
        groups = draw(st.lists(st.sampled_from(["admins", "a,b", "", "ops team"]), max_size=2))
        raw["argo"]["sso"] = {"issuer": "https://login.example.com", "clientId": "argocd", "adminGroups": groups}
    if draw(st.booleans()):
        raw["cluster"]["adminRoleArns"] = draw(
            st.lists(
                st.sampled_from(
                    ["arn:aws:iam::444455556666:role/platform-admin", "arn:aws:iam::444455556666:role/t/platform-admin"]
                ),
                max_size=2,
            )
        )
    if draw(st.integers(0, 3)) == 0:
        raw["nodeAutoscaler"]["karpenter"]["instanceCategories"] = draw(
            st.lists(st.sampled_from(["c", "m", "t", "a", "r"]), min_size=1, max_size=3)
        )
    if draw(st.integers(0, 3)) == 0:  # Argo CD: a team's guardrails, a declared app, the RBAC default role
        team = raw["argo"]["teams"]["eventual-hub"]
        team["quota"] = {draw(st.sampled_from(["requests.cpu", "pods", "Bad Key"])): draw(QUANTITIES)}
        team["limits"] = {"default": {draw(st.sampled_from(["cpu", "memory", "gpu"])): draw(QUANTITIES)}}
        repo = team["sourceRepos"][0]
        raw["argo"]["applications"] = {
            draw(st.sampled_from(["hub", "root", "Bad"])): {
                "project": draw(st.sampled_from(["default", "eventual-hub", "nope"])),
                "destination": {"namespace": draw(st.sampled_from(["eventual-hub", "other"]))},
                "sources": [
                    {"repoUrl": repo, "path": "p", "helm": {"valueFiles": [draw(st.sampled_from(VALUE_FILES))]}},
                    {"repoUrl": repo, "ref": "values"},
                ],
                "syncOptions": draw(st.lists(st.sampled_from(SYNC_OPTIONS), max_size=2, unique=True)),
                "syncWave": draw(st.integers(-5, 5)),
            }
        }
        raw["argo"]["rbac"] = {"defaultRole": draw(st.sampled_from(["", "role:readonly", "role:nobody"]))}
    if draw(st.integers(0, 3)) == 0:
        raw["vpc"] |= {
            "natStrategy": draw(st.sampled_from(["single", "one_per_az", "none"])),
            "ipv6": draw(st.booleans()),
            "natSubnets": draw(st.booleans()),
            "azCount": draw(st.sampled_from([1, 2, 3, 3])),
            "interfaceEndpoints": draw(
                st.lists(st.sampled_from(["sts", "secretsmanager", "s3", "ecr.api"]), max_size=2)
            ),
        }
        raw["cluster"]["ipFamily"] = draw(st.sampled_from(["ipv4", "ipv6"]))
        if draw(st.booleans()):  # a private cluster's other settings, now and then
            raw["nodeAutoscaler"]["engine"] = "none"
            raw["argo"]["enabled"] = raw["vault"]["enabled"] = raw["argo"]["highAvailability"] = False
            raw.pop("delivery", None)
    return stack, raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(variants())
def test_generated_settings_never_fail_after_registration_starts(variant):
    stack, raw = variant
    secrets = {"argocdOidcClientSecret": {"secure": "v1:x"}}
    try:
        run_program(stack, "preview", config_overrides={KEY: raw, **secrets})
    except ConfigurationError as err:
        refused = err
    else:
        event("planned")
        return
    event("refused")
    assert "\n" not in refused.message
    assert refused.message.startswith((f"Pulumi.{stack}.yaml: {KEY}", f"Pulumi.{stack}.yaml: eks-platform:"))
    registered = {r.type for r in refused.registrations}
    assert registered <= BEFORE_REGISTRATION, (refused.message, sorted(registered))
