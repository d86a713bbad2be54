"""The in-VPC runner as the program registers it: where it runs, what it may do, and how it reaches the API."""

import json

import pytest

from components.delivery import API_PORT
from tools.harness import MODES, Plan, run_program

PROJECT = "aws:codebuild/project:Project"


@pytest.fixture(scope="module", params=[(stack, mode) for stack in ("dev", "prod") for mode in MODES])
def plan(request: pytest.FixtureRequest) -> Plan:
    stack, mode = request.param
    return run_program(stack, mode)


def test_the_runner_runs_in_the_private_subnets_behind_its_own_group(plan):
    project = plan.one(PROJECT, "ci-runner-project").inputs
    assert project["name"] == f"eks-platform-{plan.stack}-ci-runner"
    private = [plan.seen(s, "id") for s in plan.by_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    assert len(private) == 3
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "ci-runner-security-group")
    vpc = plan.one("aws:ec2/vpc:Vpc", "network-vpc")
    assert project["vpcConfig"] == {
        "vpcId": plan.seen(vpc, "id"),
        "subnets": private,
        "securityGroupIds": [plan.seen(group, "id")],
    }
    assert project["environment"]["type"] == "LINUX_CONTAINER"
    assert project["source"]["auth"]["type"] == "CODECONNECTIONS"
    assert project["source"]["location"] == "https://github.com/example-org/eks-platform.git"
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}


def test_the_runner_has_no_ingress_and_only_https_egress(plan):
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "ci-runner-security-group")
    assert "ingress" not in group.inputs
    (egress,) = [
        r
        for r in plan.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.name.startswith("ci-runner-")
    ]
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == ("tcp", 443, 443)


def test_the_cluster_admits_the_runner_on_the_api_port_before_any_kubernetes_call(plan):
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "eks-api-from-ci-runner")
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "ci-runner-security-group")
    assert rule.inputs["referencedSecurityGroupId"] == plan.seen(group, "id")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (API_PORT, API_PORT, "tcp")
    provider = plan.one("pulumi:providers:kubernetes", "eks-k8s")
    assert rule.urn in provider.dependencies
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert cluster.inputs["vpcConfig"]["endpointPrivateAccess"] is True


def test_the_webhook_starts_runners_only_for_queued_jobs_of_the_delivery_workflows(plan):
    (webhook,) = plan.by_type("aws:codebuild/webhook:Webhook")
    ((group,),) = [[g["filters"]] for g in webhook.inputs["filterGroups"]]
    workflows = "deploy|drift|pull-request" if plan.stack == "dev" else "deploy|drift"
    assert group == [
        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
        {"type": "WORKFLOW_NAME", "pattern": f"^({workflows})$"},
    ]


def test_the_runner_role_may_only_log_and_attach_its_enis(plan):
    role = plan.one("aws:iam/role:Role", "ci-runner-role")
    assert role.inputs["name"] == f"eks-platform-{plan.stack}-ci-runner"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "codebuild.amazonaws.com"
    }
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "ci-runner-role-policy").inputs["policy"]
    if plan.mode == "preview":
        return
    statements = {s["Sid"]: s for s in json.loads(policy)["Statement"]}
    assert set(statements) == {
        "GitHubConnection",
        "Logs",
        "VpcNetworkInterfaces",
        "NetworkInterfacePermissionInRunnerSubnets",
    }
    # CodeBuild "GitHub App connections", step 2: without these the runner fails "Failed to get access token".
    connection = plan.one(PROJECT, "ci-runner-project").inputs["source"]["auth"]["resource"]
    assert statements["GitHubConnection"]["Resource"] == connection
    assert statements["GitHubConnection"]["Action"] == [
        "codeconnections:GetConnectionToken",
        "codeconnections:GetConnection",
    ]
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert all(a.startswith(("logs:", "ec2:", "codeconnections:")) for a in actions)
    assert not any(a.endswith("*") for a in actions)
    condition = statements["NetworkInterfacePermissionInRunnerSubnets"]["Condition"]["StringEquals"]
    assert condition["ec2:AuthorizedService"] == "codebuild.amazonaws.com"
    private = [s.id for s in plan.by_type("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    account = {"dev": "111122223333", "prod": "444455556666"}[plan.stack]
    assert condition["ec2:Subnet"] == [f"arn:aws:ec2:us-west-2:{account}:subnet/{s}" for s in private]


def test_a_stack_without_delivery_has_no_runner_and_no_extra_rule():
    from tests.harness.test_fidelity import stack_settings

    settings = stack_settings("dev")
    del settings["delivery"]
    plan = run_program("dev", "update", config_overrides={"eks-platform:settings": settings})
    assert plan.by_type(PROJECT) == []
    assert [
        r
        for r in plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.startswith("eks-api-from-")
    ] == []
