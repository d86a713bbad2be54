"""Network: no security group ingress from the whole internet, except on ports the stack's config allows.

"The whole internet" is any set of source CIDRs whose union is the IPv4 or the IPv6 space (`components.cidrs`):
``0.0.0.0/0``, but also ``0.0.0.0/1`` with ``128.0.0.0/1``, in one rule, across the rules of one resource, or
across a group's separate ``SecurityGroupRule``/``SecurityGroupIngressRule`` resources (the stack policy).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.cidrs import covered_families, internet_cidrs
from policies.common import as_list, is_unknown, plain_props
from policies.settings import PackContext, policy_config, schema

SECURITY_GROUP_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
SECURITY_GROUP_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALL_PROTOCOLS = ("-1", "all")
MAX_PORT = 65535
REMEDIATION = (
    "Remediation: restrict the source to known CIDRs or security groups, or put the port into this policy's "
    "`allowedPorts` if it is meant to be public (e.g. 443)."
)

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


@dataclass(frozen=True)
class Ingress:
    """One ingress rule's known source CIDRs and port range (None when unknown)."""

    cidrs: tuple[str, ...]
    ports: tuple[int, int] | None


def _cidr_list(value: object) -> list[str]:
    return [cidr for cidr in as_list(value) if isinstance(cidr, str)] if not is_unknown(value) else []


def ingress_rules(resource_type: str, props: dict[str, Any]) -> list[Ingress]:
    """The ingress rules a security group, security group rule or VPC ingress rule declares."""
    if resource_type in SECURITY_GROUP_TYPES:
        rules = props.get("ingress")
        found = []
        for rule in as_list(rules) if not is_unknown(rules) else []:
            if isinstance(rule, dict):
                ports = port_range(rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
                cidrs = _cidr_list(rule.get("cidrBlocks")) + _cidr_list(rule.get("ipv6CidrBlocks"))
                found.append(Ingress(tuple(cidrs), ports))
        return found
    if resource_type == SECURITY_GROUP_RULE_TYPE and props.get("type") == "ingress":
        ports = port_range(props.get("protocol"), props.get("fromPort"), props.get("toPort"))
        cidrs = _cidr_list(props.get("cidrBlocks")) + _cidr_list(props.get("ipv6CidrBlocks"))
        return [Ingress(tuple(cidrs), ports)]
    if resource_type == INGRESS_RULE_TYPE:
        ports = port_range(props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"))
        cidrs = [cidr for cidr in (props.get("cidrIpv4"), props.get("cidrIpv6")) if isinstance(cidr, str)]
        return [Ingress(tuple(cidrs), ports)]
    return []


@dataclass(frozen=True)
class OpenIngress:
    """Ports open to a whole address family, and the CIDRs that together open them."""

    family: str
    cidrs: tuple[str, ...]
    low: int
    high: int

    def describe(self) -> str:
        """``ingress from <cidrs> on port(s) ...`` for a violation message."""
        sources = ", ".join(self.cidrs)
        if not (len(self.cidrs) == 1 and is_anywhere(self.cidrs[0])):
            sources += f" (together the whole {self.family} internet)"
        shown = f"port {self.low}" if self.low == self.high else f"ports {self.low}-{self.high}"
        return f"ingress from {sources} on {shown}"


def open_to_internet(rules: list[Ingress], allowed: set[int]) -> list[OpenIngress]:
    """Port ranges on which the rules' CIDRs, together, admit the whole IPv4 or IPv6 internet.

    Rules with an unknown port range are left out (cannot tell yet); ranges whose every port is allowed are
    not reported. Ranges are cut where any rule starts or ends, so a split across rules with different ports
    only counts where they overlap.
    """
    known = [(rule, rule.ports) for rule in rules if rule.ports is not None and rule.cidrs]
    bounds = sorted({low for _, (low, _) in known} | {high + 1 for _, (_, high) in known})
    found: list[OpenIngress] = []
    for low, next_low in itertools.pairwise(bounds):
        high = next_low - 1
        covering = [rule for rule, (start, end) in known if start <= low and high <= end]
        cidrs = [cidr for rule in covering for cidr in rule.cidrs]
        for family in covered_families(cidrs):
            if all(port in allowed for port in range(low, high + 1)):
                continue
            family_cidrs = internet_cidrs(cidrs, family)
            sources = tuple(dict.fromkeys([c for c in family_cidrs if is_anywhere(c)] or family_cidrs))
            previous = found[-1] if found else None
            if previous and (previous.family, previous.cidrs, previous.high + 1) == (family, sources, low):
                found[-1] = OpenIngress(family, sources, previous.low, high)
            else:
                found.append(OpenIngress(family, sources, low, high))
    return found


def _allowed_ports(config: dict[str, Any]) -> set[int]:
    ports = config["allowedPorts"]
    return {int(port) for port in ports if isinstance(port, (int, float))} if isinstance(ports, list) else set()


def check_public_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Security groups open nothing to the whole internet (0.0.0.0/0, ::/0 or a split) except allowed ports."""
    cfg = policy_config(args.get_config(), INGRESS_SCHEMA)
    rules = ingress_rules(args.resource_type, plain_props(args.props))
    for opening in open_to_internet(rules, _allowed_ports(cfg)):
        report(f"{opening.describe()}.\n{REMEDIATION}", None)


def _group_key(resource: PolicyResource, props: dict[str, Any]) -> str | None:
    """The security group a resource's ingress belongs to: its URN, or the known group id."""
    if resource.resource_type in SECURITY_GROUP_TYPES:
        return resource.urn
    for dependency in resource.property_dependencies.get("securityGroupId", []):
        if dependency.resource_type in SECURITY_GROUP_TYPES:
            return dependency.urn
    group_id = props.get("securityGroupId")
    return f"id:{group_id}" if isinstance(group_id, str) and group_id else None


def check_combined_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    """The ingress of all rules of one security group, together, does not open it to the whole internet.

    What one resource opens alone is `security-group-no-public-ingress`'s to report; this policy reports the
    port ranges only the combination of several resources (the group and its separate rules) opens.
    """
    cfg = policy_config(args.get_config(), INGRESS_SCHEMA)
    allowed = _allowed_ports(cfg)
    groups: dict[str, list[list[Ingress]]] = defaultdict(list)
    for resource in args.resources:
        props = plain_props(resource.props)
        rules = ingress_rules(resource.resource_type, props)
        key = _group_key(resource, props) if rules else None
        if key is not None:
            groups[key].append(rules)
    for key, members in sorted(groups.items()):
        if len(members) < 2:  # noqa: PLR2004 - a combination needs two resources
            continue
        alone = [open_to_internet(rules, allowed) for rules in members]
        for opening in open_to_internet([rule for rules in members for rule in rules], allowed):
            if any(
                other.family == opening.family and other.low <= opening.low and opening.high <= other.high
                for openings in alone
                for other in openings
            ):
                continue  # one resource opens it alone: reported by security-group-no-public-ingress
            report(
                f"the group's rules together: {opening.describe()}.\n{REMEDIATION}",
                key if not key.startswith("id:") else None,
            )


def policies(ctx: PackContext) -> list[Policy]:
    """The network policies (mandatory on production stacks, advisory elsewhere)."""
    return [
        ResourceValidationPolicy(
            name="security-group-no-public-ingress",
            description="Security groups allow no ingress from the whole internet (0.0.0.0/0, ::/0 or CIDRs that "
            "together cover it) except on allowed ports.",
            validate=check_public_ingress,
            enforcement_level=ctx.security_level,
            config_schema=INGRESS_SCHEMA,
            remediation_steps="Restrict ingress sources, or allow-list a deliberately public port.",
        ),
        StackValidationPolicy(
            name="security-group-combined-ingress",
            description="The separate ingress rules of one security group do not, together, admit the whole "
            "internet except on allowed ports.",
            validate=check_combined_ingress,
            enforcement_level=ctx.security_level,
            config_schema=INGRESS_SCHEMA,
            remediation_steps="Restrict ingress sources, or allow-list a deliberately public port.",
        ),
    ]
