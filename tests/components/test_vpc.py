"""Vpc under mocks: subnets per zone with their tags and routes, NAT strategy, flow logs, S3 endpoint."""

import json
from ipaddress import IPv4Network
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.context import AwsContext
from components.naming import NamingContext
from components.vpc import Vpc, VpcArgs
from tools.harness import MODES, Mode, Plan, run_callable

ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]
NAMING = NamingContext("eks-platform", "test")


def vpc_plan(mode: Mode, **changes: object) -> Plan:
    args = {
        "cidr": IPv4Network("10.0.0.0/16"),
        "zones": ZONES,
        "naming": NAMING,
        "account": AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags={}),
        "nat_strategy": "one_per_az",
        "intra_subnets": True,
        "flow_log_retention_days": 30,
    } | changes

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        Vpc("network", VpcArgs(**args), pulumi.ResourceOptions(providers=[provider]))  # type: ignore[arg-type]

    return run_callable(body, mode=mode)


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return vpc_plan(request.param)


def by_name(plan: Plan, type_token: str) -> dict[str, Any]:
    return {r.name: r for r in plan.by_type(type_token)}


def test_subnets_follow_the_plan_and_carry_discovery_tags(plan):
    subnets = by_name(plan, "aws:ec2/subnet:Subnet")
    assert sorted(subnets) == sorted(f"network-{tier}-{z}" for tier in ("public", "private", "intra") for z in "abc")
    private_a = subnets["network-private-a"].inputs
    assert private_a["cidrBlock"] == "10.0.0.0/18"
    assert private_a["availabilityZone"] == "us-west-2a"
    assert private_a["tags"] == {
        "Name": "eks-platform-test-private-a",
        "kubernetes.io/role/internal-elb": "1",
        "karpenter.sh/discovery": "eks-platform-test",
    }
    assert subnets["network-public-b"].inputs["tags"]["kubernetes.io/role/elb"] == "1"
    assert "kubernetes.io/role/elb" not in subnets["network-intra-c"].inputs["tags"]
    assert not any(s.inputs["mapPublicIpOnLaunch"] for s in subnets.values())


def test_every_child_is_parented_to_the_component(plan):
    component = plan.one("eksplatform:platform:Vpc", "network")
    children = [r for r in plan.resources if r.type.startswith("aws:")]
    assert children
    assert all(r.parent == component.urn for r in children)
    assert all(r.name.startswith("network-") for r in children)


def test_one_nat_per_zone_routes_each_private_subnet_through_its_own_zone(plan):
    nats = by_name(plan, "aws:ec2/natGateway:NatGateway")
    assert sorted(nats) == ["network-nat-a", "network-nat-b", "network-nat-c"]
    routes = by_name(plan, "aws:ec2/route:Route")
    nat_ids = {name[-1]: plan.seen(nat, "id") for name, nat in nats.items()}
    for zone in "abc":
        route = routes[f"network-private-default-{zone}"].inputs
        assert route["destinationCidrBlock"] == "0.0.0.0/0"
        assert route["natGatewayId"] == nat_ids[zone]
        assert routes[f"network-private-default-{zone}"].property_dependencies["natGatewayId"] == [
            nats[f"network-nat-{zone}"].urn
        ]


def test_intra_subnets_have_no_internet_route(plan):
    intra_rt = plan.one("aws:ec2/routeTable:RouteTable", "network-intra-rt")
    routes = plan.by_type("aws:ec2/route:Route")
    # By data edge, which holds in a preview too, where every route table id is unknown.
    assert not [r for r in routes if intra_rt.urn in r.property_dependencies.get("routeTableId", [])]


@pytest.mark.parametrize("mode", MODES)
def test_single_nat_serves_every_zone(mode):
    plan = vpc_plan(mode, nat_strategy="single", intra_subnets=False)
    nats = plan.by_type("aws:ec2/natGateway:NatGateway")
    assert [n.name for n in nats] == ["network-nat-a"]
    routes = [r for r in plan.by_type("aws:ec2/route:Route") if "private" in r.name]
    assert len(routes) == 3
    assert {r.inputs["natGatewayId"] for r in routes} == {plan.seen(nats[0], "id")}
    assert [s.name for s in plan.by_type("aws:ec2/subnet:Subnet") if "intra" in s.name] == []


def test_flow_logs_capture_all_traffic_into_a_retained_log_group(plan):
    flow_log = plan.one("aws:ec2/flowLog:FlowLog", "network-flow-log").inputs
    log_group = plan.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["logDestinationType"] == "cloud-watch-logs"
    assert log_group.inputs["retentionInDays"] == 30
    role = plan.one("aws:iam/role:Role", "network-flow-logs-role").inputs
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    if plan.mode == "update":
        assert flow_log["logDestination"] == log_group.outputs["arn"]
        policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs-policy").inputs["policy"])
        assert policy["Statement"][0]["Resource"] == [log_group.outputs["arn"], log_group.outputs["arn"] + ":*"]


def test_s3_gateway_endpoint_serves_private_and_intra_route_tables(plan):
    endpoint = plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3-endpoint").inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-west-2.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"
    tables = by_name(plan, "aws:ec2/routeTable:RouteTable")
    expected = {plan.seen(tables[f"network-private-rt-{z}"], "id") for z in "abc"}
    expected |= {plan.seen(tables["network-intra-rt"], "id")}
    assert set(endpoint["routeTableIds"]) == expected


def test_default_security_group_allows_nothing(plan):
    default_sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg").inputs
    assert default_sg.get("ingress", []) == []
    assert default_sg.get("egress", []) == []


def test_explicit_subnets_override_the_plan():
    from components.network_plan import ZoneSubnets

    explicit = [
        ZoneSubnets(zone, IPv4Network(f"10.0.{i}.0/24"), IPv4Network(f"10.0.{16 * (i + 1)}.0/20"))
        for i, zone in enumerate(ZONES)
    ]
    plan = vpc_plan("update", subnets=explicit, intra_subnets=False)
    subnets = by_name(plan, "aws:ec2/subnet:Subnet")
    assert subnets["network-public-b"].inputs["cidrBlock"] == "10.0.1.0/24"
    assert subnets["network-private-c"].inputs["cidrBlock"] == "10.0.48.0/20"
