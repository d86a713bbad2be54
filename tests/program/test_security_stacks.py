"""Whole-program runs of the README's security examples: a central security account, and email.

``guardDuty: {detector: none}`` (the organisation's delegated administrator owns the detector) and the stack's own
runtime agent; ``email`` with identities and the SMTP user. Both plan with 0 policy violations under the real pack,
destroy in a phase order that respects every dependency, and dev and prod keep GuardDuty exactly as before.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.config.test_settings import stack_settings
from tests.policies.test_pack_grpc import started_with
from tools.harness import MODES, SECRET_SIG_KEY, SECRET_SIG_VALUE, Plan, run_program
from tools.policy_runner import default_policy_config_path, load_policy_config
from tools.teardown import StateResource, order_violations, plan_phases

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
ADDON = "aws:eks/addon:Addon"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
CENTRAL = {"detector": "none"}  # agent: stack is the default with detector: none
EMAIL = {"domains": ["example.com"], "addresses": ["alerts@example.com"], "configurationSet": True}


def settings_with(stack: str, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(stack_settings(stack))
    if "guardDuty" in changes:
        raw["guardDuty"] = changes.pop("guardDuty")
    raw.update(changes)
    return raw


def plan_of(stack: str, mode: str, **changes: Any) -> Plan:
    return run_program(stack, mode, config_overrides={"eks-platform:settings": settings_with(stack, **changes)})  # type: ignore[arg-type]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_dev_and_prod_keep_their_detector_and_guarddutys_agent(stack):
    plan = run_program(stack, "update")
    (detector,) = plan.by_type(DETECTOR)
    features = {r.inputs["name"]: r.inputs for r in plan.by_type(FEATURE)}
    assert features["RUNTIME_MONITORING"]["additionalConfigurations"] == [
        {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
    ]
    assert "aws-guardduty-agent" not in {r.inputs["addonName"] for r in plan.by_type(ADDON)}
    assert plan.by_type(ENDPOINT) == [plan.one(ENDPOINT, "network-s3-endpoint")]
    assert plan.outputs["guardDutyDetectorId"] == detector.id
    assert not [r for r in plan.resources if r.type.startswith(("aws:sesv2", "aws:iam/user", "aws:iam/accessKey"))]


@pytest.mark.parametrize("mode", MODES)
def test_a_central_security_account_stack_declares_the_agent_but_no_detector(mode):
    plan = plan_of("prod", mode, guardDuty=CENTRAL)
    assert plan.by_type(DETECTOR) == plan.by_type(FEATURE) == []
    assert "guardDutyDetectorId" not in plan.outputs
    agent = plan.one(ADDON, "guardduty-agent")
    assert agent.inputs["addonName"] == "aws-guardduty-agent"
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert agent.inputs["clusterName"] == cluster.inputs["name"] == "eks-platform-prod"
    assert agent.property_dependencies["clusterName"] == [cluster.urn]
    endpoint = plan.one(ENDPOINT, "guardduty-agent-endpoint").inputs
    vpc = plan.one("aws:ec2/vpc:Vpc", "network-vpc")
    assert endpoint["vpcId"] == plan.seen(vpc, "id")
    private = [r for r in plan.by_type("aws:ec2/subnet:Subnet") if "private" in r.name]
    assert sorted(endpoint["subnetIds"]) == sorted(plan.seen(r, "id") for r in private)
    assert json.loads(endpoint["policy"])["Statement"][1]["Condition"] == {
        "StringNotEquals": {"aws:PrincipalAccount": "444455556666"}  # prod's account
    }
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "guardduty-agent-endpoint-https")
    assert rule.inputs["cidrIpv4"] == stack_settings("prod")["vpc"]["cidr"]


def test_an_existing_stack_moving_to_the_stacks_agent_keeps_its_detector():
    plan = plan_of("prod", "update", guardDuty={"agent": "stack"})
    assert len(plan.by_type(DETECTOR)) == 1
    runtime = plan.one(FEATURE, "guardduty-runtime-monitoring").inputs
    assert runtime["additionalConfigurations"] == [{"name": "EKS_ADDON_MANAGEMENT", "status": "DISABLED"}]
    assert plan.one(ADDON, "guardduty-agent").inputs["addonName"] == "aws-guardduty-agent"


def is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


@pytest.mark.parametrize("mode", MODES)
def test_an_email_stack_exports_dkim_records_endpoint_and_secret_smtp_credentials(mode):
    plan = plan_of("prod", mode, email=EMAIL)
    user = plan.one("aws:iam/user:User", "email-smtp-user").inputs
    assert user["name"] == "eks-platform-prod-smtp"
    assert user["permissionsBoundary"] == stack_settings("prod")["permissionsBoundaryArn"]
    assert plan.outputs["smtpEndpoint"] == "email-smtp.us-west-2.amazonaws.com"
    assert is_secret(plan.outputs["smtpUsername"])
    assert is_secret(plan.outputs["smtpPassword"])
    assert plan.outputs["emailConfigurationSet"] == "eks-platform-prod-email"
    if mode == "update":
        assert set(plan.outputs["emailIdentityArns"]) == {"example.com", "alerts@example.com"}
        assert [r["type"] for r in plan.outputs["emailDkimRecords"]["example.com"]] == ["CNAME"] * 3
        password = plan.outputs["smtpPassword"]["value"]
        assert password not in json.dumps(plan.redact(plan.to_json()))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_readme_examples_pass_every_policy(stack, mode):
    settings = settings_with(stack, guardDuty=CENTRAL, email=EMAIL)
    plan = run_program(stack, mode, config_overrides={"eks-platform:settings": settings})
    pack = started_with(stack, settings)
    try:
        report = pack.analyze(plan, load_policy_config(default_policy_config_path(stack)))
    finally:
        pack.close()
    assert report.violations == []
    assert report.analyzed == len(plan.resources)


def test_the_stacks_agent_goes_with_the_cluster_and_its_endpoint_with_the_network():
    settings = settings_with("prod", guardDuty=CENTRAL)
    resources = [
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id)
        for r in run_program("prod", "update", config_overrides={"eks-platform:settings": settings}).resources
    ]
    phases = plan_phases(resources)
    assert order_violations(phases) == []
    by_name = {r.urn.rsplit("::", 1)[-1]: name for name, members in phases.items() for r in members}
    assert by_name["guardduty-agent"] == "cluster"
    assert by_name["guardduty-agent-endpoint"] == by_name["guardduty-agent-endpoint-sg"] == "network"
