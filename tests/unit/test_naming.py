import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.limits import MAX_LENGTH
from components.naming import NamingContext, fit, pattern_placeholders, service_role_name_regex

CTX = NamingContext("eks-platform", "dev")


def test_names_are_project_stack_role():
    assert CTX.prefix == "eks-platform-dev"
    assert CTX.cluster_name == "eks-platform-dev"
    assert CTX.name("node", "iam_role") == "eks-platform-dev-node"


def test_long_names_are_cut_with_a_stable_hash():
    ctx = NamingContext("a-very-long-project-name-for-a-platform", "staging-eu-central")
    name = ctx.name("karpenter-controller-interruption", "iam_role")
    assert len(name) == MAX_LENGTH["iam_role"]
    assert name == ctx.name("karpenter-controller-interruption", "iam_role")
    assert name != ctx.name("karpenter-controller-interruptions", "iam_role")
    assert name.startswith("a-very-long-project-name-for-a-platform-staging-eu-")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=300), st.integers(10, 128))
def test_fit_never_exceeds_the_limit_and_keeps_short_names(name, limit):
    fitted = fit(name, limit)
    assert len(fitted) <= limit
    if len(name) <= limit:
        assert fitted == name


def test_fit_refuses_limits_without_room_for_the_hash():
    with pytest.raises(ValueError, match="no room"):
        fit("x" * 20, 9)


@pytest.mark.parametrize(
    ("pattern", "service", "expected"),
    [
        ("eks-{service}-{env}", "external-dns", "eks-external-dns-dev"),  # Mozilla seed
        ("{cluster}_DaftRole", "daft", "eks-platform-dev_DaftRole"),  # Eventual seed
        ("{cluster}-{service}", "karpenter", "eks-platform-dev-karpenter"),
    ],
)
def test_service_role_patterns_from_the_seeds(pattern, service, expected):
    assert CTX.service_role_name(pattern, service) == expected
    assert service_role_name_regex(pattern, CTX).match(expected)


def test_service_role_regex_rejects_other_environments():
    regex = service_role_name_regex("eks-{service}-{env}", CTX)
    assert not regex.match("eks-external-dns-prod")
    assert not regex.match("xeks-external-dns-dev")


def test_pattern_placeholders():
    assert pattern_placeholders("{cluster}_{service}-{oops}") == {"cluster", "service", "oops"}


# --- the stack's own patterns (naming.*) ------------------------------------------------------------------------
def test_patterns_name_the_platform_s_resources():
    from components.naming import NamePatterns

    ctx = NamingContext(
        "eks-platform",
        "prod",
        cluster="dpe-k8",
        patterns=NamePatterns(
            role="{cluster}_{role}",
            roles={"cluster": "eks_admin_role", "node": "{env}-nodes"},
            node_group="{cluster}-{group}",
            network="{prefix}-net",
            kms_alias="alias/{cluster}/{purpose}",
        ),
    )
    assert ctx.cluster_name == "dpe-k8"
    assert ctx.platform_role("cluster") == "eks_admin_role"
    assert ctx.platform_role("node") == "prod-nodes"
    assert ctx.platform_role("ebs-csi") == "dpe-k8_ebs-csi"
    assert ctx.node_group("system") == "dpe-k8-system"
    assert ctx.network_name == "eks-platform-prod-net"
    assert ctx.kms_alias("secrets") == "alias/dpe-k8/secrets"
    # Pattern names are used as written: never cut with a hash (the settings check them instead).
    long = NamingContext("p", "s", patterns=NamePatterns(role="{role}-" + "x" * 80))
    assert long.platform_role("node") == "node-" + "x" * 80


def test_pattern_regexes_match_what_the_patterns_render_and_nothing_else():
    from components.naming import NamePatterns

    ctx = NamingContext("eks-platform", "dev", cluster="dpe-k8", patterns=NamePatterns(role="{cluster}_{role}"))
    regexes = ctx.pattern_regexes()
    assert any(r.fullmatch(ctx.platform_role("karpenter-controller")) for r in regexes)
    assert not any(r.fullmatch("other_karpenter-controller") for r in regexes)
    assert NamingContext("eks-platform", "dev").pattern_regexes() == []


def test_from_settings_ignores_what_the_settings_would_refuse():
    ctx = NamingContext.from_settings("p", "s", {"cluster": {"name": 7}, "naming": {"role": ["x"], "roles": "y"}})
    assert ctx == NamingContext("p", "s")
    assert ctx.cluster_name == "p-s"
