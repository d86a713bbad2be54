"""Network: no security group ingress from the whole internet, except on ports the stack's config allows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from policies.common import as_list, is_unknown, plain_props
from policies.settings import PackContext, policy_config, schema

SECURITY_GROUP_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
SECURITY_GROUP_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALL_PROTOCOLS = ("-1", "all")
MAX_PORT = 65535

INGRESS_SCHEMA = schema(
    {
        "allowedPorts": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "TCP/UDP ports that may be open to 0.0.0.0/0 or ::/0 (e.g. 443 for a public load balancer).",
            "default": [],
        }
    }
)


def is_anywhere(cidr: object) -> bool:
    """True for ``0.0.0.0/0``, ``::/0`` or any other zero-length prefix."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def port_range(protocol: object, from_port: object, to_port: object) -> tuple[int, int] | None:
    """The rule's port range; every port for "all protocols"; None when unknown."""
    if is_unknown(protocol) or is_unknown(from_port) or is_unknown(to_port):
        return None
    if str(protocol).lower() in ALL_PROTOCOLS:
        return (0, MAX_PORT)
    low = int(from_port) if isinstance(from_port, (int, float)) else 0
    high = int(to_port) if isinstance(to_port, (int, float)) else MAX_PORT
    return (low, high)


def open_ingress(resource_type: str, props: dict[str, Any]) -> Iterator[tuple[str, tuple[int, int] | None]]:
    """(source CIDR, port range) of each ingress the resource opens to the whole internet."""
    if resource_type in SECURITY_GROUP_TYPES:
        rules = props.get("ingress")
        for rule in as_list(rules) if not is_unknown(rules) else []:
            if not isinstance(rule, dict):
                continue
            ports = port_range(rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
            for cidr in as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")):
                if is_anywhere(cidr):
                    yield cidr, ports
    elif resource_type == SECURITY_GROUP_RULE_TYPE and props.get("type") == "ingress":
        ports = port_range(props.get("protocol"), props.get("fromPort"), props.get("toPort"))
        for cidr in as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks")):
            if is_anywhere(cidr):
                yield cidr, ports
    elif resource_type == INGRESS_RULE_TYPE:
        ports = port_range(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"))
        for cidr in (props.get("cidrIpv4"), props.get("cidrIpv6")):
            if isinstance(cidr, str) and is_anywhere(cidr):
                yield cidr, ports


def check_public_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Security groups open nothing to 0.0.0.0/0 or ::/0 except the allowed ports."""
    cfg = policy_config(args.get_config(), INGRESS_SCHEMA)
    allowed = {int(port) for port in cfg["allowedPorts"]}
    for cidr, ports in open_ingress(args.resource_type, plain_props(args.props)):
        if ports is None:
            continue
        low, high = ports
        if all(port in allowed for port in range(low, high + 1)):
            continue
        shown = f"port {low}" if low == high else f"ports {low}-{high}"
        report(
            f"ingress from {cidr} on {shown}.\nRemediation: restrict the source to known CIDRs or security groups, "
            "or put the port into this policy's `allowedPorts` if it is meant to be public (e.g. 443).",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The network policies (mandatory on production stacks, advisory elsewhere)."""
    return [
        ResourceValidationPolicy(
            name="security-group-no-public-ingress",
            description="Security groups allow no ingress from 0.0.0.0/0 or ::/0 except on allowed ports.",
            validate=check_public_ingress,
            enforcement_level=ctx.security_level,
            config_schema=INGRESS_SCHEMA,
            remediation_steps="Restrict ingress sources, or allow-list a deliberately public port.",
        )
    ]
