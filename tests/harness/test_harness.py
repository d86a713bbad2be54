"""The offline harness, exercised on the throwaway program in fixture_project/.

The fixture registers an explicit AWS provider, a VPC, two `fixture:platform:Team` components each
with a child IAM role tagged with the VPC id, a Kubernetes ServiceAccount through an explicit
Kubernetes provider, and calls get_caller_identity. Stack `broken` (and a bad `fixture:settings`
override) makes it raise `pulumi.RunError` before registering anything.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path

import pulumi
import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped, unused-ignore]
from pulumi.runtime import MockResourceArgs

from tools import plan as plan_cli
from tools.harness import (
    MODES,
    PLACEHOLDER_SECRET,
    ConfigurationError,
    Plan,
    load_stack_config,
    run_program,
)
from tools.mocks import OIDC_ISSUER_URL, PlatformMocks, UnmockedInvokeError, answer_invoke
from tools.plan_diff import change_summary, creation_steps, preview_steps

FIXTURE = Path(__file__).parent / "fixture_project"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
ROLE = "aws:iam/role:Role"
TEAM = "fixture:platform:Team"
VPC = "aws:ec2/vpc:Vpc"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
BAD_CIDR_MESSAGE = "fixture:settings.cidr: '33' is not a valid netmask"


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return run_program("test", request.param, FIXTURE)


def provider_ref(plan: Plan, package: str, name: str) -> str:
    return plan.one(f"pulumi:providers:{package}", name).reference


# --- what a run records -------------------------------------------------------------------------


def test_records_every_resource_once(plan: Plan) -> None:
    assert sorted((r.type, r.name) for r in plan.resources) == [
        (VPC, "main"),
        (ROLE, "alpha-role"),
        (ROLE, "beta-role"),
        (TEAM, "alpha"),
        (TEAM, "beta"),
        (SERVICE_ACCOUNT, "app"),
        ("pulumi:providers:aws", "aws"),
        ("pulumi:providers:kubernetes", "k8s"),
        ("pulumi:pulumi:Stack", "fixture-test"),
    ]


def test_parents_follow_the_component_tree(plan: Plan) -> None:
    stack, team = plan.stack_resource, plan.one(TEAM, "alpha")
    role = plan.one(ROLE, "alpha-role")
    assert stack.parent == ""
    assert team.parent == stack.urn
    assert plan.one(VPC, "main").parent == stack.urn
    assert plan.children_of(team.urn) == [role]
    assert (team.component, role.component, stack.component) == (True, False, True)


def test_providers_are_recorded_as_references(plan: Plan) -> None:
    aws_ref = provider_ref(plan, "aws", "aws")
    assert plan.one(VPC, "main").provider == aws_ref
    # The role gets the provider through its component's `providers` option.
    assert plan.one(ROLE, "alpha-role").provider == aws_ref
    assert plan.one(TEAM, "alpha").providers == {"aws": aws_ref}
    assert plan.one(SERVICE_ACCOUNT, "app").provider == provider_ref(plan, "kubernetes", "k8s")
    assert plan.stack_resource.provider == ""


def test_inputs_keep_wire_names_and_values(plan: Plan) -> None:
    vpc, role = plan.one(VPC, "main"), plan.one(ROLE, "alpha-role")
    assert vpc.inputs == {"cidrBlock": "10.20.0.0/16", "enableDnsHostnames": True}
    assert role.inputs["maxSessionDuration"] == 3600.0
    assert isinstance(role.inputs["maxSessionDuration"], float)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert isinstance(vpc.raw_object, struct_pb2.Struct)
    assert MessageToDict(vpc.raw_object) == vpc.inputs


def test_dependencies_are_recorded(plan: Plan) -> None:
    vpc, role = plan.one(VPC, "main"), plan.one(ROLE, "alpha-role")
    service_account = plan.one(SERVICE_ACCOUNT, "app")
    assert role.dependencies == [vpc.urn]
    assert role.property_dependencies["tags"] == [vpc.urn]
    assert service_account.property_dependencies["metadata"] == [role.urn]


def test_mocked_outputs_flow_into_later_inputs(plan: Plan) -> None:
    vpc, role = plan.one(VPC, "main"), plan.one(ROLE, "alpha-role")
    assert str(plan.seen(vpc, "id")).startswith(plan.computed("vpc-"))
    assert role.inputs["tags"] == {"VpcId": plan.seen(vpc, "id")}
    annotations = plan.one(SERVICE_ACCOUNT, "app").inputs["metadata"]["annotations"]
    assert annotations == {"eks.amazonaws.com/role-arn": plan.computed("arn:aws:iam::123456789012:role/alpha-role")}
    # Invokes answer in a preview too.
    assert plan.outputs["accountId"] == "123456789012"
    assert plan.outputs["serviceAccount"] == "app"
    assert plan.component_outputs[plan.one(TEAM, "beta").urn] == {
        "roleArn": plan.computed("arn:aws:iam::123456789012:role/beta-role")
    }


def test_outputs_the_mocks_do_not_answer_depend_on_the_mode(plan: Plan) -> None:
    if plan.mode == "preview":
        assert plan.outputs["ipv6AssociationId"] == UNKNOWN
    else:
        assert "ipv6AssociationId" not in plan.outputs


def test_secret_config_reaches_the_program_as_a_secret(plan: Plan) -> None:
    assert plan.outputs["apiToken"] == {**SECRET_SIG, "value": PLACEHOLDER_SECRET}


# --- config ---------------------------------------------------------------------------------------


def test_stack_config_is_flattened_like_the_cli_does() -> None:
    config, secret_keys = load_stack_config(FIXTURE, "test")
    assert json.loads(config["fixture:settings"]) == {
        "cidr": "10.20.0.0/16",
        "teams": ["alpha", "beta"],
        "minSize": 2,
    }
    assert config["fixture:debug"] == "true"
    assert config["fixture:owner"] == "platform"  # namespace added
    assert config["aws:region"] == "us-west-2"
    assert config["fixture:apiToken"] == PLACEHOLDER_SECRET
    assert secret_keys == {"fixture:apiToken"}


def test_config_overrides_replace_stack_values() -> None:
    plan = run_program(
        "test",
        "update",
        FIXTURE,
        config_overrides={"owner": "sre", "fixture:settings": {"cidr": "10.9.0.0/16", "teams": ["gamma"]}},
    )
    provider = plan.one("pulumi:providers:aws", "aws")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": {"owner": "sre"}}
    assert plan.one(VPC, "main").inputs["cidrBlock"] == "10.9.0.0/16"
    assert [r.name for r in plan.by_type(ROLE)] == ["gamma-role"]


def test_missing_stack_file_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"^Pulumi\.nope\.yaml: file not found"):
        run_program("nope", project_dir=FIXTURE)


# --- robustness -----------------------------------------------------------------------------------


def test_repeated_runs_in_one_process_are_identical() -> None:
    dumps = [json.dumps(run_program("test", "update", FIXTURE).to_json(), sort_keys=True) for _ in range(3)]
    assert dumps[0] == dumps[1] == dumps[2]


def test_run_error_becomes_configuration_error_before_any_resource() -> None:
    bad = {"fixture:settings": {"cidr": "10.20.0.0/33", "teams": ["alpha"]}}
    with pytest.raises(ConfigurationError) as caught:
        run_program("test", "preview", FIXTURE, config_overrides=bad)
    assert caught.value.message == f"Pulumi.test.yaml: {BAD_CIDR_MESSAGE}"
    assert [r.type for r in caught.value.registrations] == ["pulumi:pulumi:Stack"]
    # Nothing leaks into the next run.
    assert len(run_program("test", "preview", FIXTURE).resources) == 9


def test_run_error_inside_an_apply_is_found_through_the_wrapping() -> None:
    late = {"fixture:settings": {"cidr": "10.20.0.0/16", "teams": ["alpha"], "lateError": "boom"}}
    with pytest.raises(ConfigurationError, match=r"fixture:settings\.lateError: boom \(vpc-") as caught:
        run_program("test", "update", FIXTURE, config_overrides=late)
    assert VPC in {r.type for r in caught.value.registrations}


def test_runs_from_inside_a_running_event_loop() -> None:
    async def plan_inside_loop() -> Plan:
        return run_program("test", "preview", FIXTURE)

    assert len(asyncio.run(plan_inside_loop()).resources) == 9


def test_a_run_leaves_the_callers_process_state_alone() -> None:
    cwd, path, root = Path.cwd(), list(sys.path), pulumi.runtime.get_root_resource()
    run_program("test", "update", FIXTURE)
    assert (Path.cwd(), sys.path, pulumi.runtime.get_root_resource()) == (cwd, path, root)


# --- the plan CLI ---------------------------------------------------------------------------------


def test_plan_cli_prints_the_tree_and_writes_stable_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "plan.json"
    argv = ["--stack", "test", "--project-dir", str(FIXTURE), "--no-policy", "--json", str(out_file)]
    assert plan_cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "pulumi:pulumi:Stack fixture-test" in lines
    team_line = lines.index("  fixture:platform:Team alpha")
    assert lines[team_line + 1] == "    aws:iam/role:Role alpha-role"
    assert "    2  aws:iam/role:Role" in lines
    assert "    9  total" in lines
    fresh = run_program("test", "preview", FIXTURE)
    # Without --base every resource is a create, as `pulumi preview --json` shows a stack with no state.
    steps = creation_steps(fresh)
    cost = json.loads(out_file.read_text(encoding="utf-8"))["cost"]
    assert cost["total"] == {"min": 0.0, "desired": 0.0, "max": 0.0}  # the fixture holds nothing priced
    expected = fresh.to_json() | {"steps": preview_steps(steps), "changeSummary": {"create": 9}, "cost": cost}
    assert change_summary(steps) == {"create": 9}
    assert out_file.read_text(encoding="utf-8") == json.dumps(expected, indent=2, sort_keys=True) + "\n"


def test_plan_cli_reports_a_configuration_error_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["--stack", "broken", "--project-dir", str(FIXTURE), "--no-policy"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: Pulumi.broken.yaml: {BAD_CIDR_MESSAGE}\n"
    assert captured.out == ""


# --- the mocks on their own -----------------------------------------------------------------------


def new_resource(
    mocks: PlatformMocks, typ: str, name: str, inputs: dict[str, object]
) -> tuple[str | None, dict[str, object]]:
    return mocks.new_resource(MockResourceArgs(typ=typ, name=name, inputs=inputs, custom=True))


@pytest.mark.parametrize(
    ("typ", "inputs", "arn"),
    [
        (ROLE, {"path": "/platform/"}, "arn:aws:iam::123456789012:role/platform/node"),
        ("aws:iam/policy:Policy", {"name": "read-only"}, "arn:aws:iam::123456789012:policy/read-only"),
        (
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            {"url": OIDC_ISSUER_URL},
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
        ),
        ("aws:sqs/queue:Queue", {}, "arn:aws:sqs:us-west-2:123456789012:node"),
        (
            "aws:cloudwatch/logGroup:LogGroup",
            {"name": "/eks/x"},
            "arn:aws:logs:us-west-2:123456789012:log-group:/eks/x",
        ),
        ("aws:eks/cluster:Cluster", {"name": "dev"}, "arn:aws:eks:us-west-2:123456789012:cluster/dev"),
    ],
)
def test_arns_follow_each_service_format(typ: str, inputs: dict[str, object], arn: str) -> None:
    assert new_resource(PlatformMocks(), typ, "node", inputs)[1]["arn"] == arn


def test_ec2_ids_and_arns_are_deterministic() -> None:
    first = new_resource(PlatformMocks(), VPC, "main", {"cidrBlock": "10.0.0.0/16"})
    second = new_resource(PlatformMocks(), VPC, "main", {"cidrBlock": "10.0.0.0/16"})
    assert first == second
    vpc_id, state = first
    assert vpc_id is not None
    assert vpc_id.startswith("vpc-")
    assert len(vpc_id) == len("vpc-") + 17
    assert state["arn"] == f"arn:aws:ec2:us-west-2:123456789012:vpc/{vpc_id}"
    assert str(state["defaultSecurityGroupId"]).startswith("sg-")


def test_eks_cluster_outputs_what_the_platform_consumes() -> None:
    mocks = PlatformMocks()
    subnet_id, _ = new_resource(mocks, "aws:ec2/subnet:Subnet", "a", {"vpcId": "vpc-0123"})
    _, state = new_resource(mocks, "aws:eks/cluster:Cluster", "eks", {"vpcConfig": {"subnetIds": [subnet_id]}})
    assert state["endpoint"] == "https://EXAMPLED539D4633E53DE1B71EXAMPLE.gr7.us-west-2.eks.amazonaws.com"
    assert state["identities"] == [{"oidcs": [{"issuer": OIDC_ISSUER_URL}]}]
    certificate = state["certificateAuthority"]
    assert isinstance(certificate, dict)
    assert base64.b64decode(certificate["data"]).startswith(b"-----BEGIN CERTIFICATE-----")
    vpc_config = state["vpcConfig"]
    assert isinstance(vpc_config, dict)
    assert vpc_config["vpcId"] == "vpc-0123"
    assert vpc_config["clusterSecurityGroupId"].startswith("sg-")
    assert (state["name"], state["status"]) == ("eks", "ACTIVE")


def test_kubernetes_resources_default_their_name() -> None:
    resource_id, state = new_resource(PlatformMocks(), SERVICE_ACCOUNT, "app", {"metadata": {"namespace": "apps"}})
    assert resource_id == "apps/app"
    assert state["metadata"] == {"namespace": "apps", "name": "app"}


def test_invokes_are_answered_and_unknown_ones_fail_loudly() -> None:
    assert answer_invoke("aws:index/getRegion:getRegion", {})["region"] == "us-west-2"
    assert answer_invoke("aws:index/getPartition:getPartition", {})["partition"] == "aws"
    zones = answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {})
    assert zones["names"] == ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    decoded = answer_invoke("kubernetes:yaml:decode", {"text": "a: 1\n---\nb: 2\n"})
    assert decoded == {"result": [{"a": 1}, {"b": 2}]}
    with pytest.raises(UnmockedInvokeError, match="aws:iam/getPolicyDocument:getPolicyDocument"):
        answer_invoke("aws:iam/getPolicyDocument:getPolicyDocument", {})


def test_repository_root_is_the_default_project_dir() -> None:
    assert (
        plan_cli.build_parser().parse_args(["--stack", "dev"]).project_dir
        == Path(plan_cli.__file__).resolve().parent.parent
    )


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_run_callable_records_what_a_function_declares(mode):
    import pulumi
    import pulumi_aws as aws

    from tools.harness import run_callable

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(provider=provider))

    plan = run_callable(body, mode=mode, config={"settings": {"a": 1}})
    vpc = plan.one("aws:ec2/vpc:Vpc", "vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.provider.startswith(plan.one("pulumi:providers:aws", "aws").urn)
    assert plan.mode == mode
