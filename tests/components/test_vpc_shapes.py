"""Vpc network shapes under mocks: dual stack, NAT subnets, no NAT with interface endpoints, NAT public IPs."""

from ipaddress import IPv4Network, IPv6Network

import pytest

from components.network_plan import PRIVATE_CLUSTER_ENDPOINTS, ZoneSubnets, ipv6_subnet, plan_subnets
from tests.components.test_vpc import ZONES, by_name, vpc_plan
from tools.harness import MODES, UNKNOWN, Plan

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def routes_of(plan: Plan, table: str) -> list:
    """The routes of a route table, by data edge (ids are unknown in a preview)."""
    urn = plan.one("aws:ec2/routeTable:RouteTable", table).urn
    return [r for r in plan.by_type(ROUTE) if urn in r.property_dependencies.get("routeTableId", [])]


# --- IPv4 only (the default) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_ipv4_vpc_asks_for_no_ipv6_anywhere(mode):
    plan = vpc_plan(mode)
    assert "assignGeneratedIpv6CidrBlock" not in plan.one("aws:ec2/vpc:Vpc", "network-vpc").inputs
    for subnet in plan.by_type(SUBNET):
        assert "ipv6CidrBlock" not in subnet.inputs
        assert "assignIpv6AddressOnCreation" not in subnet.inputs
    assert not [r for r in plan.by_type(ROUTE) if "destinationIpv6CidrBlock" in r.inputs]
    assert plan.by_type("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway") == []


# --- dual stack ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=MODES)
def dual_stack(request: pytest.FixtureRequest) -> Plan:
    return vpc_plan(request.param, ipv6=True)


def test_the_vpc_gets_an_amazon_provided_56(dual_stack):
    vpc = dual_stack.one("aws:ec2/vpc:Vpc", "network-vpc")
    assert vpc.inputs["assignGeneratedIpv6CidrBlock"] is True
    assert "ipv6CidrBlock" not in vpc.inputs  # Amazon's pool, not an IPAM one
    if dual_stack.mode == "update":
        assert IPv6Network(vpc.outputs["ipv6CidrBlock"]).prefixlen == 56


def test_each_subnet_gets_its_64_from_the_vpc_block(dual_stack):
    vpc = dual_stack.one("aws:ec2/vpc:Vpc", "network-vpc")
    subnets = by_name(dual_stack, SUBNET)
    assert len(subnets) == 9
    for tier in ("public", "private", "intra"):
        for zone in ZONES:
            subnet = subnets[f"network-{tier}-{zone[-1]}"]
            assert vpc.urn in subnet.property_dependencies["ipv6CidrBlock"]
            if dual_stack.mode == "preview":
                assert subnet.inputs["ipv6CidrBlock"] == UNKNOWN
            else:
                block = IPv6Network(vpc.outputs["ipv6CidrBlock"])
                assert subnet.inputs["ipv6CidrBlock"] == str(ipv6_subnet(block, tier, zone))


def test_only_the_private_subnets_auto_assign_ipv6_addresses(dual_stack):
    for subnet in dual_stack.by_type(SUBNET):
        tier = subnet.name.split("-")[1]
        assert subnet.inputs["assignIpv6AddressOnCreation"] is (tier == "private"), subnet.name
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_public_ipv6_leaves_through_the_internet_gateway_and_private_through_an_egress_only_one(dual_stack):
    igw = dual_stack.one("aws:ec2/internetGateway:InternetGateway", "network-igw")
    eigw = dual_stack.one("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway", "network-egress-only-igw")
    assert eigw.inputs["vpcId"] == dual_stack.seen(dual_stack.one("aws:ec2/vpc:Vpc", "network-vpc"), "id")
    [public_v6] = [r for r in routes_of(dual_stack, "network-public-rt") if "destinationIpv6CidrBlock" in r.inputs]
    assert public_v6.inputs["destinationIpv6CidrBlock"] == "::/0"
    assert public_v6.property_dependencies["gatewayId"] == [igw.urn]
    for zone in "abc":
        routes = routes_of(dual_stack, f"network-private-rt-{zone}")
        [v6] = [r for r in routes if "destinationIpv6CidrBlock" in r.inputs]
        assert v6.name == f"network-private-default-ipv6-{zone}"
        assert v6.inputs["destinationIpv6CidrBlock"] == "::/0"
        assert v6.inputs["egressOnlyGatewayId"] == dual_stack.seen(eigw, "id")
        assert v6.property_dependencies["egressOnlyGatewayId"] == [eigw.urn]
        assert "gatewayId" not in v6.inputs  # never the two-way internet gateway
    assert routes_of(dual_stack, "network-intra-rt") == []


def test_the_component_exposes_the_vpc_block(dual_stack):
    component = dual_stack.one("eksplatform:platform:Vpc", "network")
    outputs = dual_stack.component_outputs[component.urn]
    vpc = dual_stack.one("aws:ec2/vpc:Vpc", "network-vpc")
    if dual_stack.mode == "update":
        assert outputs["ipv6CidrBlock"] == vpc.outputs["ipv6CidrBlock"]


# --- NAT in subnets of its own ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_nat_gateways_live_in_their_own_subnets_routed_like_the_public_ones(mode):
    plan = vpc_plan(mode, nat_subnets=True)
    expected = plan_subnets(IPv4Network("10.0.0.0/16"), ZONES, intra=True, nat=True)
    subnets = by_name(plan, SUBNET)
    nats = by_name(plan, "aws:ec2/natGateway:NatGateway")
    associations = by_name(plan, "aws:ec2/routeTableAssociation:RouteTableAssociation")
    public_rt = plan.one("aws:ec2/routeTable:RouteTable", "network-public-rt")
    for zone in expected:
        key = zone.zone[-1]
        subnet = subnets[f"network-nat-subnet-{key}"]
        assert subnet.inputs["cidrBlock"] == str(zone.nat)
        assert subnet.inputs["tags"] == {"Name": f"eks-platform-test-nat-subnet-{key}"}  # no load balancer role tag
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
        assert nats[f"network-nat-{key}"].property_dependencies["subnetId"] == [subnet.urn]
        assert nats[f"network-nat-{key}"].delete_before_replace  # its elastic IP moves with it
        association = associations[f"network-nat-subnet-{key}"]
        assert association.property_dependencies["subnetId"] == [subnet.urn]
        assert association.property_dependencies["routeTableId"] == [public_rt.urn]
        # The public subnets keep their CIDRs.
        assert subnets[f"network-public-{key}"].inputs["cidrBlock"] == str(zone.public)


def test_a_single_nat_gets_one_nat_subnet():
    plan = vpc_plan("update", nat_subnets=True, nat_strategy="single")
    assert sorted(s.name for s in plan.by_type(SUBNET) if "nat" in s.name) == ["network-nat-subnet-a"]


def test_explicit_nat_subnets_are_used():
    explicit = [
        ZoneSubnets(zone, IPv4Network(f"10.0.{i}.0/24"), IPv4Network(f"10.0.{16 * (i + 1)}.0/20"), None, nat)
        for i, (zone, nat) in enumerate(zip(ZONES, [IPv4Network(f"10.0.9.{16 * i}/28") for i in range(3)], strict=True))
    ]
    plan = vpc_plan("update", subnets=explicit, intra_subnets=False, nat_subnets=True)
    assert by_name(plan, SUBNET)["network-nat-subnet-b"].inputs["cidrBlock"] == "10.0.9.16/28"


# --- no NAT: a private cluster's VPC ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=MODES)
def private(request: pytest.FixtureRequest) -> Plan:
    return vpc_plan(request.param, nat_strategy="none", interface_endpoints=list(PRIVATE_CLUSTER_ENDPOINTS))


def test_no_nat_means_no_gateway_no_address_and_no_default_route(private):
    assert private.by_type("aws:ec2/natGateway:NatGateway") == []
    assert private.by_type("aws:ec2/eip:Eip") == []
    for zone in "abc":
        assert routes_of(private, f"network-private-rt-{zone}") == []
    component = private.one("eksplatform:platform:Vpc", "network")
    assert private.component_outputs[component.urn]["natPublicIps"] == []


def test_no_nat_with_ipv6_has_no_egress_only_gateway_either():
    plan = vpc_plan("update", nat_strategy="none", ipv6=True)
    assert plan.by_type("aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway") == []
    assert all(routes_of(plan, f"network-private-rt-{zone}") == [] for zone in "abc")
    public = {
        r.inputs.get("destinationCidrBlock") or r.inputs["destinationIpv6CidrBlock"]
        for r in routes_of(plan, "network-public-rt")
    }
    assert public == {"0.0.0.0/0", "::/0"}  # load balancers in the public subnets still answer both families


def test_interface_endpoints_sit_in_the_private_subnets_with_private_dns(private):
    endpoints = by_name(private, ENDPOINT)
    interface = {name for name, r in endpoints.items() if r.inputs["vpcEndpointType"] == "Interface"}
    assert interface == {f"network-endpoint-{service.replace('.', '-')}" for service in PRIVATE_CLUSTER_ENDPOINTS}
    subnets = by_name(private, SUBNET)
    group = private.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg")
    for service in PRIVATE_CLUSTER_ENDPOINTS:
        endpoint = endpoints[f"network-endpoint-{service.replace('.', '-')}"]
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.us-west-2.{service}"
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == [private.seen(subnets[f"network-private-{z}"], "id") for z in "abc"]
        assert endpoint.inputs["securityGroupIds"] == [private.seen(group, "id")]
        assert endpoint.property_dependencies["securityGroupIds"] == [group.urn]
        assert "routeTableIds" not in endpoint.inputs


def test_the_endpoints_group_admits_https_from_the_vpc_only(private):
    group = private.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg")
    assert group.inputs["name"] == "eks-platform-test-vpc-endpoints"
    assert group.inputs.get("ingress", []) == []
    assert group.inputs.get("egress", []) == []
    [rule] = private.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.property_dependencies["securityGroupId"] == [group.urn]
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.0.0.0/16"
    assert private.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") == []


def test_the_s3_gateway_endpoint_stays(private):
    s3 = private.one(ENDPOINT, "network-s3-endpoint")
    assert s3.inputs["vpcEndpointType"] == "Gateway"


def test_without_interface_endpoints_there_is_no_endpoint_group():
    plan = vpc_plan("update", nat_strategy="none")
    assert plan.by_type("aws:ec2/securityGroup:SecurityGroup") == []
    assert [r.name for r in plan.by_type(ENDPOINT)] == ["network-s3-endpoint"]


# --- NAT public IPs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "zones"), [("one_per_az", "abc"), ("single", "a")])
def test_the_nat_public_ips_are_the_elastic_ips_in_zone_order(strategy, zones):
    plan = vpc_plan("update", nat_strategy=strategy)
    component = plan.one("eksplatform:platform:Vpc", "network")
    eips = by_name(plan, "aws:ec2/eip:Eip")
    expected = [eips[f"network-nat-eip-{zone}"].outputs["publicIp"] for zone in zones]
    assert plan.component_outputs[component.urn]["natPublicIps"] == expected
    nats = by_name(plan, "aws:ec2/natGateway:NatGateway")
    for zone in zones:
        assert (
            nats[f"network-nat-{zone}"].inputs["allocationId"]
            == eips[f"network-nat-eip-{zone}"].outputs["allocationId"]
        )
