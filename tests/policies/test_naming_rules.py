"""Naming policies: the stack prefix, DNS-label namespaces, IRSA role-name patterns."""

import json

import pytest

from components import iam_documents as iam
from policies.settings import PackContext
from tests.policies.support import DEV, ISSUER, OIDC_ARN, PROD, UNKNOWN, check

ROLE = "aws:iam/role:Role"
SERVICE_TRUST = json.dumps(iam.service_trust_policy("ec2.amazonaws.com"))


def irsa_trust(namespace: str = "kube-system", service_account: str = "karpenter") -> str:
    return json.dumps(
        iam.irsa_trust_policy(
            oidc_provider_arn=OIDC_ARN,
            issuer_url=f"https://{ISSUER}",
            namespace=namespace,
            service_account=service_account,
        )
    )


# --- aws-resource-name-prefix ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        (ROLE, {"name": "eks-platform-prod-node", "assumeRolePolicy": SERVICE_TRUST}),
        ("aws:eks/cluster:Cluster", {"name": "eks-platform-prod"}),
        ("aws:eks/nodeGroup:NodeGroup", {"nodeGroupName": "eks-platform-prod-system", "clusterName": "x"}),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/eks/eks-platform-prod/cluster"}),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/vpc/eks-platform-prod/flow-logs"}),
        ("aws:kms/alias:Alias", {"name": "alias/eks-platform-prod-secrets"}),
        ("aws:sqs/queue:Queue", {"namePrefix": "eks-platform-prod-q"}),
        ("aws:guardduty/detectorFeature:DetectorFeature", {"name": "EKS_AUDIT_LOGS"}),
        ("aws:iam/rolePolicy:RolePolicy", {"name": "s3-access"}),
        ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}),
        ("aws:sqs/queue:Queue", {"name": UNKNOWN}),
    ],
)
def test_prefixed_and_documented_names_pass(type_token, props):
    assert check("aws-resource-name-prefix", type_token, props) == []


@pytest.mark.parametrize(
    ("type_token", "props", "bad"),
    [
        (ROLE, {"name": "node-role", "assumeRolePolicy": SERVICE_TRUST}, "name 'node-role'"),
        ("aws:eks/nodeGroup:NodeGroup", {"nodeGroupName": "system"}, "nodeGroupName 'system'"),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/eks/other-cluster/cluster"}, "name '/aws/eks/other"),
        ("aws:kms/alias:Alias", {"name": "alias/secrets"}, "name 'alias/secrets'"),
        ("aws:sqs/queue:Queue", {"namePrefix": "queue-"}, "namePrefix 'queue-'"),
        ("aws:eks/cluster:Cluster", {"name": "eks-platform-production"}, "name 'eks-platform-production'"),
    ],
)
def test_a_name_outside_the_prefix_fails(type_token, props, bad):
    [message] = check("aws-resource-name-prefix", type_token, props)
    assert bad in message
    assert "does not start with the stack prefix 'eks-platform-prod'" in message
    assert "Remediation: derive physical names with NamingContext.name" in message


def test_the_prefix_follows_the_stack():
    props = {"name": "eks-platform-prod-node", "assumeRolePolicy": SERVICE_TRUST}
    assert check("aws-resource-name-prefix", ROLE, props, ctx=DEV)
    assert check("aws-resource-name-prefix", ROLE, {**props, "name": "eks-platform-dev-node"}, ctx=DEV) == []


def test_auto_names_filled_in_by_the_provider_are_accepted():
    props = {"name": "network-sg-1a2b3c4"}
    assert (
        check("aws-resource-name-prefix", "aws:ec2/securityGroup:SecurityGroup", props, logical_name="network-sg") == []
    )
    assert check("aws-resource-name-prefix", "aws:ec2/securityGroup:SecurityGroup", props, logical_name="other")


def test_irsa_roles_and_unclassifiable_roles_are_left_to_the_pattern_policy():
    assert check("aws-resource-name-prefix", ROLE, {"name": "eks-daft-dev", "assumeRolePolicy": irsa_trust()}) == []
    assert check("aws-resource-name-prefix", ROLE, {"name": "eks-daft-dev", "assumeRolePolicy": UNKNOWN}) == []


def test_exceptions_and_exempt_types_are_configurable():
    props = {"name": "shared-artifacts"}
    assert check("aws-resource-name-prefix", "aws:sqs/queue:Queue", props)
    config = {"exceptionPatterns": ["shared-*"]}
    assert check("aws-resource-name-prefix", "aws:sqs/queue:Queue", props, config=config) == []
    config = {"exemptTypes": ["aws:sqs/queue:Queue"]}
    assert check("aws-resource-name-prefix", "aws:sqs/queue:Queue", props, config=config) == []


# --- kubernetes-namespace-dns-label --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": "eventual-hub"}}),
        ("kubernetes:core/v1:ServiceAccount", {"metadata": {"name": "x", "namespace": "kube-system"}}),
        ("kubernetes:helm.sh/v3:Release", {"namespace": "argocd", "chart": "argo-cd"}),
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": UNKNOWN}}),
        ("aws:ec2/vpc:Vpc", {"name": "Not_A_Label"}),
    ],
)
def test_dns_label_namespaces_pass(type_token, props):
    assert check("kubernetes-namespace-dns-label", type_token, props) == []


@pytest.mark.parametrize(
    ("type_token", "props", "where"),
    [
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": "Team_A"}}, "metadata.name 'Team_A'"),
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": "a" * 64}}, "metadata.name 'aaaa"),
        ("kubernetes:core/v1:ServiceAccount", {"metadata": {"name": "x", "namespace": "-bad"}}, "metadata.namespace"),
        ("kubernetes:helm.sh/v3:Release", {"namespace": "Kube.System"}, "namespace 'Kube.System'"),
    ],
)
def test_a_namespace_that_is_no_dns_label_fails(type_token, props, where):
    [message] = check("kubernetes-namespace-dns-label", type_token, props)
    assert where in message
    assert "is not a DNS label" in message
    assert "Remediation: rename the namespace" in message


# --- irsa-role-name-pattern ---------------------------------------------------------------------------------


def test_irsa_role_named_by_the_default_pattern_passes():
    props = {"name": "eks-platform-prod-karpenter-controller", "assumeRolePolicy": irsa_trust()}
    assert check("irsa-role-name-pattern", ROLE, props) == []


def test_irsa_role_outside_every_pattern_fails():
    [message] = check("irsa-role-name-pattern", ROLE, {"name": "karpenter", "assumeRolePolicy": irsa_trust()})
    assert (
        "role name 'karpenter' matches none of the service-role patterns of the stack's settings "
        "['{cluster}-{service}']" in message
    )
    assert "Remediation: name the role with NamingContext.service_role_name" in message


def with_settings(ctx: PackContext, settings: dict) -> PackContext:
    """The context the pack builds when the CLI passes these settings in PULUMI_CONFIG."""
    return PackContext.from_environment(
        {
            "PULUMI_PROJECT": ctx.project,
            "PULUMI_STACK": ctx.stack,
            "PULUMI_CONFIG": json.dumps({f"{ctx.project}:settings": json.dumps(settings)}),
        }
    )


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"serviceRoleNamePattern": "eks-{service}-{env}"}, "eks-daft-prod"),
        ({"appRoles": {"daft": {"roleName": "{cluster}_DaftRole"}}}, "eks-platform-prod_DaftRole"),
    ],
    ids=["mozilla", "eventual"],
)
def test_the_patterns_come_from_the_stack_settings(settings, name):
    props = {"name": name, "assumeRolePolicy": irsa_trust("daft", "daft")}
    assert check("irsa-role-name-pattern", ROLE, props, ctx=PROD)
    ctx = with_settings(PROD, settings)
    assert ctx.production
    assert check("irsa-role-name-pattern", ROLE, props, ctx=ctx) == []
    # The platform's own roles keep passing under any stack pattern.
    platform = {"name": "eks-platform-prod-karpenter-controller", "assumeRolePolicy": irsa_trust()}
    assert check("irsa-role-name-pattern", ROLE, platform, ctx=ctx) == []


def test_the_policy_config_can_only_narrow_the_settings_patterns():
    ctx = with_settings(PROD, {"serviceRoleNamePattern": "eks-{service}-{env}"})
    props = {"name": "eks-daft-prod", "assumeRolePolicy": irsa_trust("daft", "daft")}
    [message] = check("irsa-role-name-pattern", ROLE, props, ctx=ctx, config={"patterns": ["{cluster}-{service}"]})
    assert "matches none of the patterns this policy's config narrows to ['{cluster}-{service}']" in message
    # A config pattern the settings do not use widens nothing.
    other = {"name": "svc-daft", "assumeRolePolicy": irsa_trust("daft", "daft")}
    assert check("irsa-role-name-pattern", ROLE, other, ctx=ctx, config={"patterns": ["svc-{service}"]})


def test_an_irsa_role_without_a_name_fails_and_other_roles_are_ignored():
    [message] = check("irsa-role-name-pattern", ROLE, {"assumeRolePolicy": irsa_trust()})
    assert "the role has no explicit name" in message
    assert check("irsa-role-name-pattern", ROLE, {"name": "x", "assumeRolePolicy": SERVICE_TRUST}) == []
    assert check("irsa-role-name-pattern", ROLE, {"name": "x", "assumeRolePolicy": UNKNOWN}) == []


# --- kubernetes-built-in-namespace-undeclared ---------------------------------------------------------------

NAMESPACE = "kubernetes:core/v1:Namespace"


def test_a_team_namespace_may_be_declared():
    assert check("kubernetes-built-in-namespace-undeclared", NAMESPACE, {"metadata": {"name": "team-x"}}) == []


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_a_built_in_namespace_may_not_be_declared_in_any_stack(name):
    for ctx in (DEV, PROD):
        [message] = check("kubernetes-built-in-namespace-undeclared", NAMESPACE, {"metadata": {"name": name}}, ctx=ctx)
        assert f"declares the built-in namespace {name!r}: creating it fails with AlreadyExists" in message
    # Objects placed in it are fine: only declaring the Namespace itself is refused.
    account = {"metadata": {"name": "reader", "namespace": name}}
    assert check("kubernetes-built-in-namespace-undeclared", "kubernetes:core/v1:ServiceAccount", account) == []
