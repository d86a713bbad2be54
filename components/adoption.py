"""Adopting what exists: the resources a stack may take over by id (Pulumi's ``import`` resource option).

Pure data and functions, no resources. ``__main__.py`` turns the stack's ``adopt`` settings into `import_targets`
and sets ``import_`` (and ``protect``) on exactly those registrations with a stack transformation.

The engine's contract (pulumi/pulumi ``developer-docs/architecture/import.md``): a resource with the ``import``
option that is not in the stack yet is imported; one already in the stack with that id is treated like any other, so
the option may stay in the settings; one in the stack with another id is deleted and replaced by the import. The
import succeeds only when the program's inputs match the resource's state: a preview with differences warns
("inputs to import do not match the existing resource"), an update fails, and nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Adoptable:
    """One kind of resource a stack may adopt: its type, its logical name and the id Pulumi imports it by."""

    type: str
    #: The logical name, with ``{key}`` for families of several (a subnet's ``<tier>-<zone letter>``, a group).
    logical_name: str
    #: The import id's shape (the SDK's "Import" section for the type).
    id_pattern: re.Pattern[str]
    #: What the id is, for error messages and the README.
    id_text: str


SUBNET_KEY = re.compile(r"^(public|private|intra)-[a-z]$")

#: Settings key (camelCase, under ``adopt``) -> what it adopts. Managed node groups are not adoptable: the stack's
#: groups run its own launch template (IMDSv2, encrypted volumes), which an existing group cannot switch to in place,
#: so their import would always differ; new groups are created beside the old ones. Logical names are the program's
#: (``network`` and ``eks`` components); tests/contracts/test_adoption.py pins each against a real registration.
ADOPTABLE: dict[str, Adoptable] = {
    "vpc": Adoptable("aws:ec2/vpc:Vpc", "network-vpc", re.compile(r"^vpc-[0-9a-f]{8,17}$"), "a VPC id (vpc-...)"),
    "internetGateway": Adoptable(
        "aws:ec2/internetGateway:InternetGateway",
        "network-igw",
        re.compile(r"^igw-[0-9a-f]{8,17}$"),
        "an internet gateway id (igw-...)",
    ),
    "subnets": Adoptable(
        "aws:ec2/subnet:Subnet", "network-{key}", re.compile(r"^subnet-[0-9a-f]{8,17}$"), "a subnet id (subnet-...)"
    ),
    "cluster": Adoptable(
        "aws:eks/cluster:Cluster", "eks-cluster", re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"), "the cluster's name"
    ),
    "controlPlaneLogGroup": Adoptable(
        "aws:cloudwatch/logGroup:LogGroup",
        "eks-control-plane-logs",
        re.compile(r"^/aws/eks/[0-9A-Za-z][A-Za-z0-9_-]{0,99}/cluster$"),
        "the log group EKS created (/aws/eks/<cluster>/cluster)",
    ),
    "clusterRole": Adoptable(
        "aws:iam/role:Role", "eks-cluster-role", re.compile(r"^[\w+=,.@-]{1,64}$"), "the IAM role's name"
    ),
    "nodeRole": Adoptable(
        "aws:iam/role:Role", "eks-node-role", re.compile(r"^[\w+=,.@-]{1,64}$"), "the IAM role's name"
    ),
    "oidcProvider": Adoptable(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "eks-oidc-provider",
        re.compile(
            r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[0-9A-F]+$"
        ),
        "the OIDC provider's ARN",
    ),
    "secretsKey": Adoptable(
        "aws:kms/key:Key",
        "eks-secrets-key",
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        "the KMS key id (a UUID) the cluster encrypts secrets with",
    ),
    "appRoles": Adoptable("aws:iam/role:Role", "app-{key}-role", re.compile(r"^[\w+=,.@-]{1,64}$"), "the role's name"),
}


def import_targets(adopt: Mapping[str, str | Mapping[str, str] | None]) -> dict[tuple[str, str], str]:
    """``{(type, logical name): import id}`` for the ``adopt`` settings (camelCase keys, validated by config)."""
    targets: dict[tuple[str, str], str] = {}
    for family, value in adopt.items():
        kind = ADOPTABLE[family]
        if value is None:
            continue
        members = value.items() if isinstance(value, Mapping) else [("", value)]
        for key, resource_id in members:
            targets[(kind.type, kind.logical_name.format(key=key))] = resource_id
    return targets
