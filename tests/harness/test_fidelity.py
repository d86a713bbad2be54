"""The offline harness emulates the engine and AWS as they behave, never more kindly (issue 8, point 9).

Zones and every regional value follow the explicit provider's region; the account follows the provider's
``allowedAccountIds``; the caller is an assumed deploy role; URNs chain every ancestor type as the engine's
do; a duplicate URN fails the run; a preview leaves every computed output unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from tools.harness import REPO_ROOT, UNKNOWN, DuplicateUrnError, Plan, run_callable, run_program
from tools.mocks import (
    REGIONS,
    AwsContext,
    UnmockedRegionError,
    answer_invoke,
    caller_arn,
)

SUBNET = "aws:ec2/subnet:Subnet"
ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
STACK_TYPE = "pulumi:pulumi:Stack"


def stack_settings(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    settings = document["config"]["eks-platform:settings"]
    assert isinstance(settings, dict)
    return settings


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def everything(plan: Plan) -> list[str]:
    """Every string of the plan: URNs, inputs, outputs, provider references, registered outputs."""
    found = list(strings(plan.outputs)) + list(strings(plan.component_outputs))
    for r in plan.resources:
        found += [r.urn, r.provider, r.id, *strings(r.inputs), *strings(r.outputs)]
    return found


@pytest.fixture(scope="module")
def plans() -> dict[tuple[str, str], Plan]:
    return {(stack, mode): run_program(stack, mode) for stack in ("dev", "prod") for mode in ("preview", "update")}


# --- 1. zones and regional values follow the provider's region -------------------------------------------


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_an_eu_west_1_stack_plans_only_eu_west_1(mode):
    settings = stack_settings("dev") | {"region": "eu-west-1"}
    # A CodeConnections connection is a regional resource: the moved stack names one in its new region.
    delivery = settings["delivery"]
    settings["delivery"] = delivery | {"connectionArn": delivery["connectionArn"].replace("us-west-2", "eu-west-1")}
    plan = run_program("dev", mode, config_overrides={"eks-platform:settings": settings})
    zones = {s.inputs["availabilityZone"] for s in plan.by_type(SUBNET)}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    leaked = sorted({text for text in everything(plan) if "us-west-2" in text})
    assert leaked == []
    if mode == "update":
        cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
        assert cluster.outputs["arn"].startswith("arn:aws:eks:eu-west-1:")
        assert cluster.outputs["endpoint"].endswith(".gr7.eu-west-1.eks.amazonaws.com")
        issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
        assert issuer.startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
        assert plan.one(OIDC, "eks-oidc-provider").inputs["url"] == issuer
        queue = plan.one("aws:sqs/queue:Queue", "node-autoscaler-interruption-queue")
        assert queue.outputs["url"].startswith("https://sqs.eu-west-1.amazonaws.com/")


def test_zones_come_from_the_table_of_real_zones():
    def zones(region: str) -> list[str]:
        return answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {}, AwsContext(region=region))[
            "names"
        ]

    assert zones("us-west-1") == ["us-west-1a", "us-west-1c"]
    assert zones("ap-northeast-1") == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    assert zones("ca-central-1") == ["ca-central-1a", "ca-central-1b", "ca-central-1d"]
    assert zones("us-east-1") == [f"us-east-1{letter}" for letter in "abcdef"]
    eu = answer_invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {}, AwsContext(region="eu-west-1"))
    assert eu["zoneIds"] == ["euw1-az1", "euw1-az2", "euw1-az3"]
    for region, info in REGIONS.items():
        assert all(name.startswith(region) and name[-1].isalpha() for name, _ in info.zones)
        prefixes = {zone_id.split("-az")[0] for _, zone_id in info.zones}
        assert len(prefixes) == 1, region
        assert len({zone_id for _, zone_id in info.zones}) == len(info.zones), region
    answer = answer_invoke("aws:index/getRegion:getRegion", {}, AwsContext(region="eu-west-1"))
    assert (answer["name"], answer["description"]) == ("eu-west-1", "Europe (Ireland)")


def test_an_unknown_region_fails_the_run_instead_of_inventing_zones():
    # A real region the table does not hold: the harness does not know its zones, so it says so.
    settings = stack_settings("dev") | {"region": "me-central-1"}
    with pytest.raises(UnmockedRegionError, match="no zones for region 'me-central-1'"):
        run_program("dev", "update", config_overrides={"eks-platform:settings": settings})


# --- 2. the account follows the credentials the provider allows --------------------------------------------


def test_the_account_is_the_first_allowed_account_of_the_provider(plans):
    prod = plans[("prod", "update")]
    (allowed,) = stack_settings("prod")["allowedAccountIds"]
    provider = prod.one("pulumi:providers:aws", "aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [allowed]
    arns = [r.outputs["arn"] for r in prod.resources if r.type.startswith("aws:") and "arn" in r.outputs]
    assert arns
    assert all(arn.split(":")[4] == allowed for arn in arns)
    assert all(r.outputs.get("ownerId", allowed) == allowed for r in prod.resources)
    # Without allowedAccountIds, the emulated credentials are for the default account.
    settings = stack_settings("dev")
    del settings["allowedAccountIds"]
    settings["cluster"]["adminRoleArns"] = settings["cluster"]["adminRoleArns"][:1]
    dev = run_program("dev", "update", config_overrides={"settings": settings})
    assert "allowedAccountIds" not in dev.one("pulumi:providers:aws", "aws").inputs
    assert dev.one(ROLE, "eks-cluster-role").outputs["arn"].startswith("arn:aws:iam::123456789012:role/")


def test_the_caller_is_the_stacks_assumed_deploy_role():
    ctx = AwsContext(account_id="444455556666", project="eks-platform", stack="prod")
    identity = answer_invoke("aws:index/getCallerIdentity:getCallerIdentity", {}, ctx)
    assert identity["arn"] == "arn:aws:sts::444455556666:assumed-role/eks-platform-github-deploy-prod/GitHubActions"
    assert identity["arn"] == caller_arn("444455556666", "eks-platform", "prod")
    assert identity["accountId"] == "444455556666"
    assert identity["userId"].startswith("AROA")
    assert identity["userId"].endswith(":GitHubActions")


def test_session_context_answers_as_the_real_data_source():
    token = "aws:iam/getSessionContext:getSessionContext"
    assumed = answer_invoke(token, {"arn": "arn:aws:sts::123456789012:assumed-role/Audien-Heaven/MatyNoyes"})
    assert assumed["issuerArn"] == "arn:aws:iam::123456789012:role/Audien-Heaven"
    assert (assumed["issuerName"], assumed["sessionName"]) == ("Audien-Heaven", "MatyNoyes")
    assert assumed["issuerId"].startswith("AROA")
    user = "arn:aws:iam::123456789012:user/alice"
    assert answer_invoke(token, {"arn": user}) == {
        "arn": user,
        "id": user,
        "issuerArn": user,
        "issuerId": "",
        "issuerName": "",
        "sessionName": "",
    }
    role = "arn:aws:iam::123456789012:role/deployer"
    assert answer_invoke(token, {"arn": role})["issuerArn"] == role


def test_the_program_sees_the_caller_through_the_explicit_provider():
    def body() -> None:
        provider = aws.Provider("aws", region="eu-north-1", allowed_account_ids=["210987654321"])
        invoke = pulumi.InvokeOptions(provider=provider)
        identity = aws.get_caller_identity(opts=invoke)
        session = aws.iam.get_session_context(arn=identity.arn, opts=invoke)
        zones = aws.get_availability_zones(opts=invoke)
        aws.iam.Role(
            "probe",
            assume_role_policy="{}",
            tags={"issuer": session.issuer_arn, "zones": ",".join(zones.names)},
            opts=pulumi.ResourceOptions(provider=provider),
        )
        aws.sqs.Queue("probe", opts=pulumi.ResourceOptions(provider=provider))

    plan = run_callable(body, mode="update", stack="dev")
    tags = plan.one(ROLE, "probe").inputs["tags"]
    assert tags == {
        "issuer": "arn:aws:iam::210987654321:role/eks-platform-github-deploy-dev",
        "zones": "eu-north-1a,eu-north-1b,eu-north-1c",
    }
    assert plan.one("aws:sqs/queue:Queue", "probe").outputs["arn"] == "arn:aws:sqs:eu-north-1:210987654321:probe"


# --- 3. engine URNs and duplicate URNs ------------------------------------------------------------------


def qualified_type(urn: str) -> str:
    return urn.removeprefix("urn:pulumi:").split("::", 3)[2]


def test_urns_chain_every_ancestor_type_as_the_engine_does(plans):
    plan = plans[("dev", "update")]
    role = plan.one(ROLE, "eks-vpc-cni-role")
    assert role.urn == (
        "urn:pulumi:dev::eks-platform::eksplatform:platform:EksCluster$eksplatform:platform:IrsaRole"
        "$aws:iam/role:Role::eks-vpc-cni-role"
    )
    by_urn = {r.urn: r for r in plan.resources}
    for r in plan.resources:
        parent = by_urn.get(r.parent)
        if r.type == STACK_TYPE:
            assert r.urn == "urn:pulumi:dev::eks-platform::pulumi:pulumi:Stack::eks-platform-dev"
        elif parent is None or parent.type == STACK_TYPE:
            assert qualified_type(r.urn) == r.type, r.urn
        else:
            assert qualified_type(r.urn) == f"{qualified_type(parent.urn)}${r.type}", r.urn
    assert len(by_urn) == len(plan.resources)


def test_the_teardown_targets_the_engines_urns():
    from tools import teardown

    resources = teardown.from_offline_plan("dev")
    phases = teardown.plan_phases(resources)
    script = teardown.script("dev", phases, "eks-platform-dev")
    assert "EksCluster$eksplatform:platform:IrsaRole$aws:iam/role:Role::eks-vpc-cni-role" in script
    network = {r.urn for r in phases["network"]}
    assert "urn:pulumi:dev::eks-platform::eksplatform:platform:Vpc$aws:ec2/vpc:Vpc::network-vpc" in network


def test_a_duplicate_urn_fails_the_run_as_the_engine_does():
    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        opts = pulumi.ResourceOptions(provider=provider)
        aws.ec2.Vpc("twice", cidr_block="10.0.0.0/16", opts=opts)
        aws.ec2.Vpc("twice", cidr_block="10.1.0.0/16", opts=opts)

    urn = "urn:pulumi:test::eks-platform::aws:ec2/vpc:Vpc::twice"
    with pytest.raises(DuplicateUrnError) as caught:
        run_callable(body, mode="update")
    assert str(caught.value) == f"Duplicate resource URN '{urn}'; try giving it a unique name"


def test_children_of_two_components_need_their_own_names():
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("test:index:Box", name)
            aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(parent=self, provider=provider))

    provider: aws.Provider

    def body() -> None:
        nonlocal provider
        provider = aws.Provider("aws", region="us-west-2")
        Box("one")
        Box("two")

    with pytest.raises(DuplicateUrnError):  # children's URNs do not include the parent's name
        run_callable(body, mode="update")


# --- 4. a preview carries unknowns ------------------------------------------------------------------------


def unknown_paths(preview: object, update: object, path: str = "") -> Iterator[tuple[str, object, object]]:
    """Paths where the two differ; a preview's unknown stands for any update value."""
    if preview == update:
        return
    if isinstance(preview, dict) and isinstance(update, dict) and preview.keys() == update.keys():
        for key in preview:
            yield from unknown_paths(preview[key], update[key], f"{path}.{key}")
    elif isinstance(preview, list) and isinstance(update, list) and len(preview) == len(update):
        for index, (left, right) in enumerate(zip(preview, update, strict=True)):
            yield from unknown_paths(left, right, f"{path}[{index}]")
    else:
        yield path, preview, update


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_differs_from_update_exactly_where_computed_outputs_are_consumed(plans, stack):
    preview, update = plans[(stack, "preview")], plans[(stack, "update")]
    assert [r.urn for r in preview.resources] == [r.urn for r in update.resources]
    computed = {r.urn for r in update.resources if r.custom and r.type.startswith("aws:")}
    differing = 0
    for before, after in zip(preview.resources, update.resources, strict=True):
        assert before.dependencies == after.dependencies
        for path, left, right in unknown_paths(before.inputs, after.inputs):
            differing += 1
            assert left == UNKNOWN, f"{before.urn}{path}: {left!r} in preview, {right!r} in update"
            key = path.split(".")[1].split("[")[0]
            # Unknown only because it is made from an AWS resource's computed output.
            assert computed & set(before.property_dependencies.get(key, [])), f"{before.urn}{path}"
    assert differing > 50
    oidc_before, oidc_after = preview.one(OIDC, "eks-oidc-provider"), update.one(OIDC, "eks-oidc-provider")
    issuer = update.one("aws:eks/cluster:Cluster", "eks-cluster").outputs["identities"][0]["oidcs"][0]["issuer"]
    assert (oidc_before.inputs["url"], oidc_after.inputs["url"]) == (UNKNOWN, issuer)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_preview_knows_no_computed_output_of_an_aws_resource(plans, stack):
    preview = plans[(stack, "preview")]
    for r in preview.resources:
        if r.type.startswith("aws:") and r.custom:
            assert r.id == ""
            for key in ("arn", "id", "uniqueId", "endpoint", "identities", "latestVersion", "url"):
                if key in r.outputs and key not in r.inputs:
                    assert r.outputs[key] == UNKNOWN, f"{r.urn}: {key}"
        if r.type.startswith("pulumi:providers:"):
            assert r.id == ""
            assert r.reference.endswith(f"::{UNKNOWN}")
        # Every other provider's create has no id before it runs either (the stack's Vault objects).
        if r.custom and r.type.startswith(("vault:", "tls:", "spotinst:")):
            assert r.id == "", r.urn
    assert [r for r in preview.resources if r.type.startswith("vault:")], "the stack files configure Vault"
    update = plans[(stack, "update")]
    assert all(r.id for r in update.resources if r.custom and r.type.startswith("vault:"))
    # Every registration names its provider as the engine would in a preview: with the unknown id.
    aws_ref = preview.one("pulumi:providers:aws", "aws").reference
    assert {r.provider for r in preview.resources if r.type.startswith("aws:") and r.custom} == {aws_ref}
    # Invokes answer in a preview: the zones are known.
    assert all(s.inputs["availabilityZone"] != UNKNOWN for s in preview.by_type(SUBNET))
