"""Interface VPC endpoints' security groups: HTTPS from the VPC's IPv4 block, nothing else.

Shared by the Vpc (the private cluster's endpoints) and GuardDuty (the agent's ``guardduty-data`` endpoint). The
resources are children of the calling component; nothing here registers on its own.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

#: The port interface endpoints answer on (AWS PrivateLink: the service's HTTPS API).
HTTPS_PORT = 443


def https_from_vpc_group(
    name: str,
    *,
    physical_name: str,
    description: str,
    rule_description: str,
    vpc_id: pulumi.Input[str],
    vpc_cidr: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """Security group ``<name>-sg`` admitting TCP 443 from ``vpc_cidr`` (rule ``<name>-https``), for endpoints."""
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        f"{name}-sg", name=physical_name, description=description, vpc_id=vpc_id, tags=tags, opts=child
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-https",
        security_group_id=group.id,
        description=rule_description,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        cidr_ipv4=vpc_cidr,
        opts=child,
    )
    return group
