"""IrsaRole under mocks: exact trust conditions, policies, and the annotated ServiceAccount."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from components.context import ClusterRef, OidcIssuer
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import ROLE_ARN_ANNOTATION
from tools.harness import MODES, Mode, Plan, run_callable
from tools.mocks import OIDC_ISSUER_URL

PROVIDER_ARN = (
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)
ISSUER = OIDC_ISSUER_URL.removeprefix("https://")


def irsa_plan(mode: Mode, **changes: object) -> Plan:
    args = {
        "role_name": "eks-platform-test_DaftRole",
        "oidc": OidcIssuer(provider_arn=PROVIDER_ARN, issuer_url=OIDC_ISSUER_URL),
        "namespace": "daft",
        "service_account": "daft",
        "managed_policy_arns": {"ReadOnlyAccess": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        "inline_policies": {"s3-access": json.dumps({"Version": "2012-10-17", "Statement": []})},
        "create_service_account": True,
        "create_namespace": True,
    } | changes

    def body() -> None:
        aws_provider = aws.Provider("aws", region="us-west-2")
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        IrsaRole("app-daft", IrsaRoleArgs(**args), pulumi.ResourceOptions(providers=[aws_provider, k8s_provider]))  # type: ignore[arg-type]

    return run_callable(body, mode=mode)


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return irsa_plan(request.param)


def test_trust_admits_exactly_one_service_account_with_the_sts_audience(plan):
    role = plan.one("aws:iam/role:Role", "app-daft-role")
    assert role.inputs["name"] == "eks-platform-test_DaftRole"
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Condition"] == {
        "StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:daft:daft", f"{ISSUER}:aud": "sts.amazonaws.com"}
    }


def test_a_cluster_ref_names_its_oidc_provider_as_one_reference():
    cluster = ClusterRef(
        name="eks-platform-test",
        endpoint="https://example.gr7.us-west-2.eks.amazonaws.com",
        oidc_provider_arn=PROVIDER_ARN,
        oidc_issuer_url=OIDC_ISSUER_URL,
        security_group_id="sg-0123456789abcdef0",
        kubernetes_version="1.35",
        system_node_selector={},
        system_tolerations=[],
    )
    assert cluster.oidc == OidcIssuer(provider_arn=PROVIDER_ARN, issuer_url=OIDC_ISSUER_URL)


def test_policies_attach_to_the_role_by_name(plan):
    role = plan.one("aws:iam/role:Role", "app-daft-role")
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "app-daft-ReadOnlyAccess")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    inline = plan.one("aws:iam/rolePolicy:RolePolicy", "app-daft-s3-access")
    assert inline.inputs["name"] == "s3-access"
    if plan.mode == "update":
        assert attachment.inputs["role"] == role.outputs["name"]


def test_service_account_is_annotated_with_the_role_arn_in_its_namespace(plan):
    role = plan.one("aws:iam/role:Role", "app-daft-role")
    namespace = plan.one("kubernetes:core/v1:Namespace", "app-daft-namespace")
    account = plan.one("kubernetes:core/v1:ServiceAccount", "app-daft-service-account")
    assert namespace.inputs["metadata"]["name"] == "daft"
    assert account.inputs["metadata"]["name"] == "daft"
    assert account.inputs["metadata"]["namespace"] == "daft"
    assert account.inputs["metadata"]["annotations"] == {ROLE_ARN_ANNOTATION: role.outputs["arn"]}
    assert namespace.urn in account.dependencies
    k8s_provider = plan.one("pulumi:providers:kubernetes", "k8s")
    assert account.provider.startswith(k8s_provider.urn)


@pytest.mark.parametrize("mode", MODES)
def test_service_account_owned_elsewhere_is_not_created(mode):
    plan = irsa_plan(mode, create_service_account=False, create_namespace=False)
    assert plan.by_type("kubernetes:core/v1:ServiceAccount") == []
    assert plan.by_type("kubernetes:core/v1:Namespace") == []
    assert plan.one("aws:iam/role:Role", "app-daft-role")
