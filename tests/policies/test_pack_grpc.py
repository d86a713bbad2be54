"""The whole pack over real gRPC, started as the CLI starts it, against the dev and prod plans.

One pack process per stack for the module (`packs`); plans are captured once per (stack, mode).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import struct_pb2
from google.protobuf.json_format import ParseDict

from policies.tag_rules import taggable_types
from tests.policies.support import ALWAYS_ADVISORY, ALWAYS_MANDATORY, running_packs
from tools.harness import MODES, REPO_ROOT, Plan, Registration, run_program
from tools.policy_runner import PolicyReport, RunningPack, default_policy_config_path, load_policy_config
from tools.stack_config import load_stack_config

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACKS = ("dev", "prod")
SECURITY_LEVEL = {"dev": "advisory", "prod": "mandatory"}


@pytest.fixture(scope="module")
def packs() -> Iterator[dict[str, RunningPack]]:
    yield from running_packs(STACKS)


_PLANS: dict[tuple[str, str], Plan] = {}


def plan_for(stack: str, mode: str = "preview") -> Plan:
    if (stack, mode) not in _PLANS:
        _PLANS[(stack, mode)] = run_program(stack, mode)  # type: ignore[arg-type]
    return _PLANS[(stack, mode)]


def analyze(pack: RunningPack, plan: Plan) -> PolicyReport:
    return pack.analyze(plan, load_policy_config(default_policy_config_path(plan.stack)))


def found(report: PolicyReport) -> set[tuple[str, str, str]]:
    """(policy, level, resource name) of every violation."""
    return {(v.policy, v.level, v.urn.rsplit("::", 1)[-1]) for v in report.violations}


@pytest.mark.parametrize(("stack", "mode"), [(s, m) for s in STACKS for m in MODES], ids=str)
def test_dev_and_prod_plans_pass_every_policy(packs, stack, mode):
    plan = plan_for(stack, mode)
    report = analyze(packs[stack], plan)
    assert report.mandatory == []
    assert report.violations == []
    assert report.analyzed == len(plan.resources)
    assert (report.pack, report.version) == ("eks-platform", "0.1.0")
    levels = {p.name: p.level for p in report.policies}
    assert len(levels) == 29
    assert {levels[name] for name in ALWAYS_MANDATORY} == {"mandatory"}
    assert {levels[name] for name in ALWAYS_ADVISORY} == {"advisory"}
    fixed = ALWAYS_MANDATORY | ALWAYS_ADVISORY
    assert {level for name, level in levels.items() if name not in fixed} == {SECURITY_LEVEL[stack]}


def started_with(stack: str, settings: dict[str, Any]) -> RunningPack:
    """A pack started as the CLI starts it for ``stack`` with these settings in its config (PULUMI_CONFIG)."""
    config, secret_keys = load_stack_config(REPO_ROOT, stack)
    config["eks-platform:settings"] = json.dumps(settings)
    return RunningPack(project="eks-platform", stack=stack, stack_config=config, secret_keys=secret_keys)


def test_the_role_name_patterns_come_from_the_stack_settings(packs):
    # The Mozilla seed's names in prod: the mandatory gate reads the pattern from the stack's own settings.
    settings = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())["config"]["eks-platform:settings"]
    settings["serviceRoleNamePattern"] = "eks-{service}-{env}"
    settings["appRoles"] = {"reports": {"namespace": "reports", "serviceAccount": "reports"}}
    # An update: in a preview the trust (naming the OIDC issuer) is unknown and the role cannot be classified yet.
    plan = run_program("prod", "update", config_overrides={"settings": settings})
    assert plan.one("aws:iam/role:Role", "app-reports-role").inputs["name"] == "eks-reports-prod"
    pack = started_with("prod", settings)
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    assert report.violations == []
    # A pack that did not get these settings (prod's own) would have failed the role: the gate is real.
    assert found(packs["prod"].analyze(plan, {})) == {("irsa-role-name-pattern", "mandatory", "app-reports-role")}


def broken_prod_settings() -> dict[str, Any]:
    """The dev settings under the prod stack, without production rules, the API open to the internet."""
    settings = copy.deepcopy(
        yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]["eks-platform:settings"]
    )
    settings["production"] = False  # config validation refuses 0.0.0.0/0 with production settings
    settings["cluster"]["endpoint"] = {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    return settings


def test_a_prod_stack_with_an_open_endpoint_and_no_protection_fails():
    settings = broken_prod_settings()
    plan = run_program("prod", "preview", config_overrides={"settings": settings})
    # The pack decides production from the stack name: settings saying otherwise do not lower the levels.
    pack = started_with("prod", settings)
    try:
        report = analyze(pack, plan)
    finally:
        pack.close()
    assert found(report) == {
        ("eks-public-endpoint-restricted", "mandatory", "eks-cluster"),
        ("stateful-resources-protected", "mandatory", "eks-cluster"),
        ("stateful-resources-protected", "mandatory", "eks-secrets-key"),
        ("stateful-resources-protected", "mandatory", "eks-oidc-provider"),
        ("stateful-resources-protected", "mandatory", "guardduty-detector"),
    }
    endpoint = next(v for v in report.violations if v.policy == "eks-public-endpoint-restricted")
    assert endpoint.message.startswith("A public EKS API endpoint is opened only to restricted CIDRs")
    assert "the public API endpoint is open to 0.0.0.0/0." in endpoint.message


# --- mutations of the captured graph ---------------------------------------------------------------------


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    ParseDict(data, message)
    return message


def mutate(plan: Plan, match: Callable[[Registration], bool], change: Callable[[dict[str, Any]], None]) -> Plan:
    """A copy of ``plan`` where ``change`` edited the inputs and outputs of every matching registration."""
    resources = []
    for reg in plan.resources:
        if not match(reg):
            resources.append(reg)
            continue
        inputs, outputs = copy.deepcopy(reg.inputs), copy.deepcopy(reg.outputs)
        change(inputs)
        change(outputs)
        resources.append(dataclasses.replace(reg, inputs=inputs, raw_object=_struct(inputs), outputs=outputs))
    return dataclasses.replace(plan, resources=resources)


def test_a_provider_without_cost_center_fails_every_taggable_resource(packs):
    def drop_cost_center(props: dict[str, Any]) -> None:
        tags = json.loads(props["defaultTags"])
        del tags["tags"]["CostCenter"]
        props["defaultTags"] = json.dumps(tags)

    plan = mutate(plan_for("prod"), lambda r: r.type == "pulumi:providers:aws", drop_cost_center)
    report = analyze(packs["prod"], plan)
    taggable = {r.name for r in plan.resources if r.custom and r.type in taggable_types()}
    assert len(taggable) > 40
    assert found(report) == {("aws-required-tags", "mandatory", name) for name in taggable}
    assert all("missing or empty required tags: CostCenter." in v.message for v in report.violations)


def test_a_wildcard_irsa_trust_fails_the_trust_and_binding_policies(packs):
    def loosen(props: dict[str, Any]) -> None:
        trust = json.loads(props["assumeRolePolicy"])
        condition = trust["Statement"][0]["Condition"]
        sub = next(key for key in condition["StringEquals"] if key.endswith(":sub"))
        condition["StringLike"] = {sub: "system:serviceaccount:*:*"}
        del condition["StringEquals"][sub]
        props["assumeRolePolicy"] = json.dumps(trust)

    # An update: in a preview the trust names the unknown OIDC issuer (see the test of unknowns below).
    plan = mutate(plan_for("prod", "update"), lambda r: r.name == "node-autoscaler-controller-role", loosen)
    report = analyze(packs["prod"], plan)
    assert found(report) == {
        ("irsa-trust-scoped", "mandatory", "node-autoscaler-controller-role"),
        ("irsa-service-account-binding", "mandatory", "node-autoscaler-release"),
        # Undeclared, so refused; and, as every wildcard subject, listed.
        ("irsa-wildcard-subject", "advisory", "node-autoscaler-controller-role"),
    }
    messages = "\n".join(v.message for v in report.violations)
    assert "StringLike on oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub" in messages
    assert "trusts no ServiceAccount, not kube-system/karpenter" in messages


def test_unknown_arns_during_a_real_preview_are_skipped(packs):
    def unknown_arns(props: dict[str, Any]) -> None:
        if "arn" in props:
            props["arn"] = UNKNOWN
        if "serviceAccountRoleArn" in props:
            props["serviceAccountRoleArn"] = UNKNOWN
        if "boundIamPrincipalArns" in props:
            props["boundIamPrincipalArns"] = [UNKNOWN]
        annotations = props.get("metadata", {}).get("annotations", {})
        if "eks.amazonaws.com/role-arn" in annotations:
            annotations["eks.amazonaws.com/role-arn"] = UNKNOWN
        account = props.get("values", {}).get("serviceAccount", {}).get("annotations", {})
        if "eks.amazonaws.com/role-arn" in account:
            account["eks.amazonaws.com/role-arn"] = UNKNOWN

    plan = mutate(plan_for("prod"), lambda r: r.custom, unknown_arns)
    assert analyze(packs["prod"], plan).violations == []


def test_a_vault_role_bound_outside_the_stack_fails(packs):
    outside = "arn:aws:iam::444455556666:role/hand-made"

    def rebind(props: dict[str, Any]) -> None:
        props["boundIamPrincipalArns"] = [outside]

    plan = mutate(plan_for("prod"), lambda r: r.type == "vault:aws/authBackendRole:AuthBackendRole", rebind)
    report = analyze(packs["prod"], plan)
    assert found(report) == {("vault-bound-roles-in-stack", "mandatory", "vault-auth-role")}
    assert f"boundIamPrincipalArns: {outside} is not a role of this stack." in report.violations[0].message


def test_the_pack_directory_is_the_cli_s(packs):
    assert packs["prod"].pack_dir == Path(REPO_ROOT / "policies").resolve()


def test_the_closed_evasions_fail_a_prod_plan_over_grpc(packs):
    """NotAction on '*', an AdministratorAccess attachment, split-CIDR ingress and endpoint: all mandatory in prod."""
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"

    def not_action(props: dict[str, Any]) -> None:
        props["policy"] = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
        )

    def attach_admin(props: dict[str, Any]) -> None:
        props["policyArn"] = admin

    def split_ingress(props: dict[str, Any]) -> None:
        props["ingress"] = [
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}
        ]

    def split_endpoint(props: dict[str, Any]) -> None:
        props["vpcConfig"]["endpointPublicAccess"] = True
        props["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/1", "128.0.0.0/1"]

    plan = plan_for("prod", "update")
    plan = mutate(plan, lambda r: r.name == "node-autoscaler-controller-cluster-integration", not_action)
    plan = mutate(plan, lambda r: r.name == "eks-node-AmazonEKSWorkerNodePolicy", attach_admin)
    plan = mutate(plan, lambda r: r.type == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", split_ingress)
    plan = mutate(plan, lambda r: r.type == "aws:eks/cluster:Cluster", split_endpoint)
    report = analyze(packs["prod"], plan)
    default_sg = next(r.name for r in plan.resources if r.type == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert found(report) == {
        ("iam-no-admin-wildcard", "mandatory", "node-autoscaler-controller-cluster-integration"),
        ("iam-no-admin-wildcard", "mandatory", "eks-node-AmazonEKSWorkerNodePolicy"),
        ("security-group-no-public-ingress", "mandatory", default_sg),
        ("eks-public-endpoint-restricted", "mandatory", "eks-cluster"),
    }
    messages = "\n".join(v.message for v in report.violations)
    assert "allows every action but 'iam:*' (NotAction) on Resource '*'." in messages
    assert f"attaches the AWS-managed {admin} (administrator access)." in messages
    assert "ingress from 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet) on port 22." in messages
    assert "open to 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet)." in messages
