"""Wildcard ServiceAccount subjects: refused unless the stack's settings declare them, and then always listed."""

import json

import pytest

from components import iam_documents as iam
from policies.settings import PackContext
from tests.config.test_settings import KEY, error_of, stack_settings
from tests.policies.support import check
from tools.harness import run_program

ROLE = "aws:iam/role:Role"
ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = (
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)
ECR_SYNC = {
    "namespace": "kube-system",
    "serviceAccount": "ecr-credentials-sync",
    "wildcardServiceAccounts": ["i-*/ecr-credentials-sync"],
    "createServiceAccount": False,
}


def trust(wildcards: list[tuple[str, str]]) -> dict:
    return {
        "assumeRolePolicy": json.dumps(
            iam.irsa_trust_policy(
                oidc_provider_arn=PROVIDER,
                issuer_url=ISSUER,
                namespace="kube-system",
                service_account="ecr-credentials-sync",
                wildcard_service_accounts=wildcards,
            )
        )
    }


def ctx(declared: list[str]) -> PackContext:
    role = ECR_SYNC | {"wildcardServiceAccounts": declared}
    settings = {"region": "us-west-2", "appRoles": {"ecr": role}}
    return PackContext("eks-platform", "prod", production=True, stack_config={KEY: json.dumps(settings)})


def test_a_declared_wildcard_subject_passes_the_scoped_trust_policy_and_is_listed():
    props = trust([("i-*", "ecr-credentials-sync")])
    assert check("irsa-trust-scoped", ROLE, props, ctx=ctx(["i-*/ecr-credentials-sync"])) == []
    (listed,) = check("irsa-wildcard-subject", ROLE, props, ctx=ctx(["i-*/ecr-credentials-sync"]))
    assert "'system:serviceaccount:i-*:ecr-credentials-sync'" in listed


def test_an_undeclared_wildcard_subject_is_refused():
    props = trust([("i-*", "ecr-credentials-sync")])
    problems = check("irsa-trust-scoped", ROLE, props, ctx=ctx(["j-*/ecr-credentials-sync"]))
    assert any("StringLike on" in p and ":sub" in p for p in problems)
    assert check("irsa-trust-scoped", ROLE, props, ctx=ctx([]))


def test_the_program_trusts_the_pattern_in_a_statement_of_its_own():
    raw = stack_settings("dev")
    raw["appRoles"] = raw["appRoles"] | {"ecr": ECR_SYNC}
    plan = run_program("dev", "update", config_overrides={KEY: raw})
    exact, wildcard = json.loads(plan.one(ROLE, "app-ecr-role").inputs["assumeRolePolicy"])["Statement"]
    assert "StringLike" not in exact["Condition"]
    (pattern,) = [v for k, v in wildcard["Condition"]["StringLike"].items() if k.endswith(":sub")]
    assert pattern == "system:serviceaccount:i-*:ecr-credentials-sync"
    assert [k for k in wildcard["Condition"]["StringEquals"] if k.endswith(":aud")]


@pytest.mark.parametrize(
    ("patterns", "problem"),
    [
        (["i-*"], "not <namespace>/<name> patterns"),
        (["team/ecr-sync"], "no wildcard in"),
        (["*/*"], "every ServiceAccount of the cluster"),
        (["I-*/x"], "not <namespace>/<name> patterns"),
    ],
)
def test_a_bad_pattern_is_one_line(patterns, problem):
    raw = stack_settings("dev")
    raw["appRoles"] = {"ecr": ECR_SYNC | {"wildcardServiceAccounts": patterns}}
    message = error_of(raw)
    assert "appRoles.ecr.wildcardServiceAccounts" in message
    assert problem in message
