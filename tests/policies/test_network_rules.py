"""Network policy: no security group ingress from the whole internet except allowed ports."""

import pytest

from tests.policies.support import UNKNOWN, check, check_stack, resource

SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def sg(cidr: str = "10.0.0.0/8", port: float = 443.0, protocol: str = "tcp", key: str = "cidrBlocks") -> dict:
    return {"ingress": [{"protocol": protocol, "fromPort": port, "toPort": port, key: [cidr]}], "egress": []}


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        (SG, sg()),
        (
            SG,
            {
                "ingress": [],
                "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}],
            },
        ),
        (RULE, {"type": "egress", "protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}),
        (INGRESS, {"ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": "10.1.0.0/16"}),
        (SG, sg(cidr=UNKNOWN)),
    ],
    ids=["private-source", "egress", "egress-rule", "vpc-rule-private", "unknown"],
)
def test_ingress_from_known_networks_passes(type_token, props):
    assert check("security-group-no-public-ingress", type_token, props) == []


@pytest.mark.parametrize(
    ("type_token", "props", "expected"),
    [
        (SG, sg("0.0.0.0/0", 22.0), "ingress from 0.0.0.0/0 on port 22."),
        (SG, sg("::/0", 22.0, key="ipv6CidrBlocks"), "ingress from ::/0 on port 22."),
        (SG, sg("0.0.0.0/0", 0.0, protocol="-1"), "ingress from 0.0.0.0/0 on ports 0-65535."),
        (
            RULE,
            {"type": "ingress", "protocol": "tcp", "fromPort": 80.0, "toPort": 90.0, "cidrBlocks": ["0.0.0.0/0"]},
            "ports 80-90.",
        ),
        (INGRESS, {"ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "0.0.0.0/0"}, "port 5432."),
    ],
    ids=["ipv4", "ipv6", "all-protocols", "rule-range", "vpc-rule"],
)
def test_ingress_from_anywhere_fails(type_token, props, expected):
    [message] = check("security-group-no-public-ingress", type_token, props)
    assert expected in message
    assert "Remediation: restrict the source to known CIDRs" in message


def test_allowed_ports_may_be_public():
    assert check("security-group-no-public-ingress", SG, sg("0.0.0.0/0", 443.0)) != []
    assert check("security-group-no-public-ingress", SG, sg("0.0.0.0/0", 443.0), config={"allowedPorts": [443]}) == []
    wide = {"type": "ingress", "protocol": "tcp", "fromPort": 443.0, "toPort": 444.0, "cidrBlocks": ["0.0.0.0/0"]}
    assert check("security-group-no-public-ingress", RULE, wide, config={"allowedPorts": [443]}) != []


# --- "anywhere" is any set of CIDRs that together cover the internet --------------------------------------

HALVES = ["0.0.0.0/1", "128.0.0.0/1"]


def rule(cidrs: list[str], low: float = 22.0, high: float | None = None, key: str = "cidrBlocks") -> dict:
    return {"protocol": "tcp", "fromPort": low, "toPort": low if high is None else high, key: cidrs}


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        (SG, {"ingress": [rule(["0.0.0.0/1", "128.0.0.0/2"])]}),
        (SG, {"ingress": [rule(["0.0.0.0/1"], 22.0), rule(["128.0.0.0/1"], 80.0)]}),
        (SG, {"ingress": [rule(["0.0.0.0/1"]), rule(["8000::/1"], key="ipv6CidrBlocks")]}),
        (SG, {"ingress": [rule(["0.0.0.0/1"]), rule([UNKNOWN])]}),
        (RULE, {"type": "ingress", **rule(["10.0.0.0/8", "192.168.0.0/16"])}),
    ],
    ids=["three-quarters", "halves-on-other-ports", "half-of-each-family", "half-and-unknown", "rule-private"],
)
def test_cidr_sets_with_a_gap_pass(type_token, props):
    assert check("security-group-no-public-ingress", type_token, props) == []


@pytest.mark.parametrize(
    ("type_token", "props", "expected"),
    [
        (SG, {"ingress": [rule(HALVES)]}, "ingress from 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet)"),
        (
            SG,
            {"ingress": [rule(["0.0.0.0/1"], 0.0, 100.0), rule(["128.0.0.0/1"], 50.0, 200.0)]},
            "ingress from 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet) on ports 50-100.",
        ),
        (
            SG,
            {"ingress": [rule(["::/1"], key="ipv6CidrBlocks"), rule(["8000::/1"], key="ipv6CidrBlocks")]},
            "ingress from ::/1, 8000::/1 (together the whole IPv6 internet) on port 22.",
        ),
        (
            RULE,
            {"type": "ingress", **rule(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"])},
            "ingress from 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1 (together the whole IPv4 internet) on port 22.",
        ),
    ],
    ids=["one-rule", "overlapping-ports", "ipv6-across-rules", "rule-quarters"],
)
def test_cidr_sets_covering_the_internet_fail(type_token, props, expected):
    [message] = check("security-group-no-public-ingress", type_token, props)
    assert message.startswith(expected)
    assert "Remediation: restrict the source to known CIDRs" in message
    every_port_used = {"allowedPorts": list(range(201))}
    assert check("security-group-no-public-ingress", type_token, props, config=every_port_used) == []


SG_URN_NAME = "web-sg"


def group_with_rules(*rules: dict, inline: list[dict] | None = None, by_dependency: bool = True) -> list:
    group = resource(SG, SG_URN_NAME, {"id": "sg-123", "ingress": inline or [], "egress": []})
    members = [group]
    for index, props in enumerate(rules):
        dependencies = {"securityGroupId": [group]} if by_dependency else {}
        members.append(resource(props.pop("_type", RULE), f"rule-{index}", props, property_dependencies=dependencies))
    return members


def ingress_rule(cidr: str, port: float = 22.0) -> dict:
    return {
        "_type": INGRESS,
        "securityGroupId": "sg-123",
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrIpv4": cidr,
    }


def test_the_rules_of_one_group_together_may_not_open_it_to_the_internet():
    name = "security-group-combined-ingress"
    private = group_with_rules({"type": "ingress", **rule(["10.0.0.0/8"])}, inline=[rule(["192.168.0.0/16"])])
    assert check_stack(name, private) == []
    other_ports = group_with_rules(ingress_rule("0.0.0.0/1", 22.0), ingress_rule("128.0.0.0/1", 80.0))
    assert check_stack(name, other_ports) == []
    split = group_with_rules({"type": "ingress", **rule(["128.0.0.0/1"])}, inline=[rule(["0.0.0.0/1"])])
    [(message, at)] = check_stack(name, split)
    assert message.startswith(
        "the group's rules together: ingress from 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet) on port 22."
    )
    assert at == split[0].urn
    # Joined by the group id when no dependency names the group resource (reported on no resource).
    by_id = group_with_rules(ingress_rule("0.0.0.0/1"), ingress_rule("128.0.0.0/1"), by_dependency=False)
    [(message, at)] = check_stack(name, by_id[1:])
    assert "together the whole IPv4 internet" in message
    assert at is None
    assert check_stack(name, by_id[1:], config={"allowedPorts": [22]}) == []


def test_what_one_resource_opens_alone_is_reported_once():
    alone = group_with_rules(ingress_rule("0.0.0.0/0"), ingress_rule("10.0.0.0/8"))
    assert check_stack("security-group-combined-ingress", alone) == []
    assert check("security-group-no-public-ingress", INGRESS, {**ingress_rule("0.0.0.0/0")}) != []


# --- both address families: a dual-stack VPC's rules ---------------------------------------------------------------


def ingress_rule_v6(cidr: str, port: float = 22.0) -> dict:
    rule = ingress_rule("10.0.0.0/8", port)
    del rule["cidrIpv4"]
    return {**rule, "cidrIpv6": cidr}


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        (INGRESS, {k: v for k, v in ingress_rule_v6("::/0").items() if k != "_type"}),
        (RULE, {"type": "ingress", **rule(["::/0"], key="ipv6CidrBlocks")}),
    ],
    ids=["vpc-rule-ipv6", "sg-rule-ipv6"],
)
def test_ipv6_ingress_from_anywhere_fails_on_rule_resources(type_token, props):
    [message] = check("security-group-no-public-ingress", type_token, props)
    assert "ingress from ::/0 on port 22." in message


def test_ingress_from_the_vpcs_own_blocks_passes():
    # The interface endpoints' group admits HTTPS from the VPC's IPv4 block; a dual-stack VPC's /56 is private too.
    endpoints = {k: v for k, v in ingress_rule("10.40.0.0/16", 443.0).items() if k != "_type"}
    assert check("security-group-no-public-ingress", INGRESS, endpoints) == []
    v6 = {k: v for k, v in ingress_rule_v6("2600:1f14:abcd:ef00::/56", 443.0).items() if k != "_type"}
    assert check("security-group-no-public-ingress", INGRESS, v6) == []


def test_ipv6_halves_in_separate_rules_of_one_group_fail_together():
    split = group_with_rules(ingress_rule_v6("::/1"), ingress_rule_v6("8000::/1"))
    [(message, at)] = check_stack("security-group-combined-ingress", split)
    assert "ingress from ::/1, 8000::/1 (together the whole IPv6 internet) on port 22." in message
    assert at == split[0].urn
