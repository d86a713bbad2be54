"""Network policy: no security group ingress from the whole internet except allowed ports."""

import pytest

from tests.policies.support import UNKNOWN, check

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
