"""parliament and kubernetes-validate over the captured graph, with the narrow parliament allow-list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import struct_pb2
from google.protobuf.json_format import ParseDict

from components import iam_documents as iam
from components.versions import DEFAULT_KUBERNETES_VERSION
from tools.harness import Plan, Registration, run_program
from tools.linters import (
    IamDocument,
    allowed_reason,
    arn_covers,
    builtin_kind,
    granted_elsewhere,
    iam_documents,
    kubernetes_manifests,
    kubernetes_version,
    lint_plan,
    render_lint,
)

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s3cr3t"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"


def reg(type_token: str, name: str, inputs: dict[str, Any], *, custom: bool = True) -> Registration:
    raw = struct_pb2.Struct()
    ParseDict(inputs, raw)
    return Registration(
        urn=f"urn:pulumi:test::p::{type_token}::{name}",
        type=type_token,
        name=name,
        parent="",
        provider="",
        inputs=inputs,
        raw_object=raw,
        dependencies=[],
        property_dependencies={},
        custom=custom,
        protect=False,
    )


def plan_of(*registrations: Registration) -> Plan:
    return Plan(stack="test", project="p", mode="update", resources=list(registrations))


def test_arn_patterns_are_matched_field_by_field():
    assert arn_covers("arn:aws:ec2:us-west-2:*:instance/*", "arn:*:ec2:*:*:instance/*")
    assert arn_covers("arn:aws:ssm:us-west-2::parameter/aws/service/*", "arn:*:ssm:*:*:parameter/*")
    assert arn_covers("*", "arn:*:s3:::*/*")
    assert not arn_covers("arn:aws:s3:::bucket", "arn:*:s3:::*/*")
    assert not arn_covers("arn:aws:logs:us-west-2:1:log-group:x", "*")


def test_a_multi_resource_action_is_granted_across_statements():
    document = iam.document(
        {"Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": "arn:aws:ec2:us-west-2::image/*"},
        {"Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": ["arn:aws:ec2:us-west-2:*:instance/*"]},
    )
    assert granted_elsewhere(document, "ec2:RunInstances", "arn:*:ec2:*:*:instance/*")
    assert not granted_elsewhere(document, "ec2:RunInstances", "arn:*:ec2:*:*:subnet/*")
    assert not granted_elsewhere(document, "ec2:CreateFleet", "arn:*:ec2:*:*:instance/*")


@pytest.mark.parametrize(
    ("finding", "kind", "allowed"),
    [
        ({"issue": "MALFORMED", "detail": "Statement contains neither Resource nor NotResource"}, "trust", True),
        ({"issue": "MALFORMED", "detail": "Statement contains neither Resource nor NotResource"}, "identity", False),
        ({"issue": "UNKNOWN_FEDERATION_SOURCE", "detail": OIDC}, "trust", True),
        ({"issue": "UNKNOWN_FEDERATION_SOURCE", "detail": "arn:aws:iam::1:oidc-provider/example.com"}, "trust", False),
        (
            {"issue": "RESOURCE_MISMATCH", "detail": [{"action": "s3:GetObject", "required_format": "arn:*:s3:::*/*"}]},
            "identity",
            False,
        ),
    ],
)
def test_the_allow_list_is_narrow(finding, kind, allowed):
    bucket_only = iam.document({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b"})
    document = IamDocument("urn", "policy", kind, json.dumps(bucket_only))
    assert bool(allowed_reason(finding, document)) is allowed
    objects = IamDocument("urn", "policy", kind, json.dumps(iam.s3_access_policy(["arn:aws:s3:::b"])))
    if finding["issue"] == "RESOURCE_MISMATCH":  # granted by another statement of the document: allowed
        assert allowed_reason(finding, objects)


def test_documents_and_manifests_are_collected_from_the_graph():
    trust = json.dumps(iam.service_trust_policy("ec2.amazonaws.com"))
    plan = plan_of(
        reg(
            "aws:iam/role:Role", "role", {"assumeRolePolicy": trust, "inlinePolicies": [{"name": "x", "policy": trust}]}
        ),
        reg("aws:kms/key:Key", "key", {"policy": UNKNOWN}),
        reg("aws:sqs/queuePolicy:QueuePolicy", "qp", {"policy": SECRET | {"value": trust}}),
        reg("kubernetes:core/v1:Secret", "secret", {"metadata": {"name": "s"}, "stringData": {"token": SECRET}}),
        reg("kubernetes:karpenter.sh/v1:NodePool", "pool", {"metadata": {"name": "p"}}),
        reg("kubernetes:helm.sh/v3:Release", "release", {"chart": "c"}),
        reg("aws:eks/cluster:Cluster", "cluster", {"version": "1.33"}),
    )
    assert [(d.label, d.kind) for d in iam_documents(plan)] == [
        ("assumeRolePolicy", "trust"),
        ("inlinePolicies[x]", "identity"),
        ("policy", "resource"),
    ]
    [secret] = kubernetes_manifests(plan)
    assert secret.data == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"token": "redacted"},
    }
    assert kubernetes_version(plan) == "1.33"
    assert kubernetes_version(plan_of()) == DEFAULT_KUBERNETES_VERSION
    assert builtin_kind("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole") == (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
    )
    assert builtin_kind("kubernetes:core/v1:ConfigMapList") is None
    assert builtin_kind("kubernetes:argoproj.io/v1alpha1:Application") is None


def test_the_linters_flag_bad_documents_and_manifests():
    plan = plan_of(
        reg(
            "aws:iam/rolePolicy:RolePolicy",
            "bad",
            {
                "policy": json.dumps(
                    iam.document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"})
                )
            },
        ),
        reg(
            "aws:iam/role:Role",
            "role",
            {
                "assumeRolePolicy": json.dumps(
                    iam.irsa_trust_policy(
                        oidc_provider_arn=OIDC,
                        issuer_url="https://" + OIDC.split("oidc-provider/")[1],
                        namespace="a",
                        service_account="b",
                    )
                )
            },
        ),
        reg(
            "kubernetes:core/v1:ServiceAccount",
            "sa",
            {"metadata": {"name": "sa", "namespace": "a"}, "automountServiceAccountToken": "yes"},
        ),
        reg("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "a"}}),
    )
    report = lint_plan(plan)
    failing = {(f.linter, f.issue, f.urn.rsplit("::", 1)[-1]) for f in report.failing}
    assert failing == {("parliament", "RESOURCE_MISMATCH", "bad"), ("kubernetes-validate", "INVALID", "sa")}
    allowed = {(f.issue, f.allowed) for f in report.findings if f.allowed}
    assert {issue for issue, _ in allowed} == {"MALFORMED", "UNKNOWN_FEDERATION_SOURCE"}
    invalid = next(f for f in report.failing if f.linter == "kubernetes-validate")
    assert "automountServiceAccountToken: 'yes' is not of type 'boolean'" in invalid.message
    assert invalid.subject == "ServiceAccount/sa"
    text = "\n".join(render_lint(report))
    assert "Linter findings: 2 failing, 2 allow-listed" in text
    assert (report.iam_documents, report.manifests) == (2, 2)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack_lint(request):
    return lint_plan(run_program(request.param, "update"))


def test_stack_documents_have_only_the_reported_finding(stack_lint):
    """The one real finding: the flow-logs role grants logs:DescribeLogGroups on a log-group ARN (needs "*")."""
    failing = {(f.issue, f.urn.rsplit("::", 1)[-1]) for f in stack_lint.failing}
    assert failing <= {("RESOURCE_MISMATCH", "network-flow-logs-policy")}
    assert stack_lint.iam_documents >= 15
    assert stack_lint.manifests >= 8
    assert {f.linter for f in stack_lint.findings if f.failing} <= {"parliament"}


def test_stack_documents_and_manifests_lint_clean(stack_lint):
    assert stack_lint.failing == []


def alias_policy(resource: str) -> Registration:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:CreateGrant"],
                "Resource": resource,
                "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/data"}},
            }
        ],
    }
    return reg("aws:iam/rolePolicy:RolePolicy", "kms", {"role": "r", "policy": json.dumps(document)})


def test_kms_resource_aliases_are_allowed_on_key_arns_only():
    # parliament's data predates KMS ABAC (kms:ResourceAliases): allowed where the statement names KMS keys.
    on_keys = lint_plan(plan_of(alias_policy("arn:aws:kms:us-west-2:123456789012:key/*")))
    assert on_keys.failing == []
    assert {f.issue for f in on_keys.findings if f.allowed} == {"UNKNOWN_CONDITION_FOR_ACTION"}
    on_anything = lint_plan(plan_of(alias_policy("*")))
    assert {f.issue for f in on_anything.failing} == {"UNKNOWN_CONDITION_FOR_ACTION"}
