"""The AWS and Kubernetes naming rules in components/limits.py: one valid and one invalid name per kind."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.limits import (
    MAX_LENGTH,
    PATTERNS,
    label_key_problem,
    label_value_problem,
    name_problem,
    tag_value_problem,
)
from components.naming import fit

CASES = [
    ("iam_role", "eks-platform-dev_DaftRole", "team/role"),
    ("iam_role", "a+b=c,d.e@f-g", "x" * 65),
    ("iam_policy", "karpenter-controller-node-lifecycle", "with space"),
    ("eks_cluster", "eks-platform-dev", "eks.platform"),
    ("eks_cluster", "a" * 100, "-starts-with-a-hyphen"),
    ("eks_node_group", "eks-platform-dev-system", "g" * 64),
    ("sqs_queue", "eks-platform-dev-karpenter-interruption", "queue.name"),
    ("eventbridge_rule", "eks-platform-dev.karpenter_health", "rule:1"),
    ("log_group", "/aws/eks/eks-platform-dev/cluster", "/aws/eks/a b"),
    ("kms_alias", "alias/eks-platform-dev-secrets", "alias/aws/eks"),
    ("launch_template", "eks-platform-dev-system", "lt"),
]


@pytest.mark.parametrize(("kind", "valid", "invalid"), CASES)
def test_each_kind_accepts_the_valid_and_refuses_the_invalid(kind, valid, invalid):
    assert name_problem(valid, kind) is None
    assert name_problem(invalid, kind) is not None
    assert name_problem("", kind) == "is empty"


def test_tags_and_labels():
    assert tag_value_problem("Platform Team: eu-west/1 (ops)") is not None  # parentheses are not allowed
    assert tag_value_problem("Platform Team: eu-west/1 +ops@x") is None
    assert tag_value_problem("équipe plateforme") is None  # Unicode letters are
    assert label_key_problem("platform.eks/team") is None
    assert label_key_problem("Platform.EKS/team") is not None
    assert label_key_problem("a" * 64) is not None
    assert label_value_problem("") is None
    assert label_value_problem("v1.2_3-x") is None
    assert label_value_problem("ends-") is not None


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=300))
def test_a_name_cut_with_fit_never_breaks_a_length_limit(name):
    for kind in ("iam_role", "eks_node_group", "sqs_queue", "eventbridge_rule"):
        problem = name_problem(fit("a" + name, MAX_LENGTH[kind]), kind)
        assert problem is None or "characters long" not in problem


def test_instance_type_shape():
    assert PATTERNS["instance_type"].match("m6i.large")
    assert PATTERNS["instance_type"].match("u-6tb1.metal")
    assert not PATTERNS["instance_type"].match("M6i.large")
    assert not PATTERNS["instance_type"].match("m6i")


def test_iam_role_arns_keep_their_path_and_a_name_of_at_most_64():
    from components.limits import is_iam_role_arn

    assert is_iam_role_arn("arn:aws:iam::111122223333:role/platform-admin")
    assert is_iam_role_arn("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123")
    assert is_iam_role_arn(f"arn:aws-us-gov:iam::111122223333:role/{'a' * 64}")
    assert not is_iam_role_arn(f"arn:aws:iam::111122223333:role/{'a' * 65}")
    assert not is_iam_role_arn("arn:aws:iam::111122223333:role/team/")  # no name
    assert not is_iam_role_arn("arn:aws:iam::111122223333:role//admin")  # empty path segment
    assert not is_iam_role_arn("arn:aws:iam::111122223333:user/admin")
    assert not is_iam_role_arn("arn:aws:iam::111122223333:role/ädmin")
