"""Deterministic offline answers for resource registrations and provider invokes.

`PlatformMocks` stands in for the AWS, Kubernetes and other providers when the program runs under
`pulumi.runtime.set_mocks`. It is table-driven:

* every ``aws:`` resource gets an ``arn``, an ``id``, a ``name`` (the ``name`` input, else the logical
  name) and, for regional services, a ``region``; EC2-style resources get ``<prefix>-<17 hex>`` ids;
* `_COMPUTED` adds the outputs the program consumes for specific types (EKS endpoint, OIDC issuer,
  launch-template version, ...);
* Kubernetes resources echo their inputs with ``metadata.name`` defaulting to the logical name;
* invokes are answered from `_INVOKES`; an invoke without an answer fails the run loudly.

Every invented value is derived from the type token and logical name with a short hash, so two runs of
the same program produce identical output.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

ACCOUNT_ID = "123456789012"
REGION = "us-west-2"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
AVAILABILITY_ZONES = ("us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d")
ZONE_IDS = ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4")
CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/offline-harness"
OIDC_ISSUER_HOST = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ISSUER_URL = f"https://{OIDC_ISSUER_HOST}"
CLUSTER_ENDPOINT = "https://EXAMPLE.gr7.us-west-2.eks.amazonaws.com"
CLUSTER_CA_DATA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nOFFLINE-HARNESS-PLACEHOLDER\n-----END CERTIFICATE-----\n"
).decode("ascii")

State = dict[str, Any]


class UnmockedInvokeError(Exception):
    """An invoke (provider function) the mocks have no offline answer for."""


@dataclass(frozen=True)
class MockedResource:
    """The facts about one registration that the mock tables derive outputs from."""

    type: str
    logical_name: str
    inputs: Mapping[str, Any]

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
        return f"arn:aws:iam::{ACCOUNT_ID}:{kind}{path}{_physical_name(res)}"

    return build


def _regional(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _oidc_arn(res: MockedResource, _resource_id: str = "") -> str:
    url = res.text("url")
    host = url.removeprefix("https://") if url else OIDC_ISSUER_HOST
    return f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"


#: ARN builders for types whose ARN does not follow ``<service>:<region>:<account>:<kind>/<id>``.
_ARNS: dict[str, Callable[[MockedResource, str], str]] = {
    "aws:iam/role:Role": _iam_arn("role"),
    "aws:iam/policy:Policy": _iam_arn("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam_arn("instance-profile"),
    "aws:iam/user:User": _iam_arn("user"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_arn,
    "aws:eks/cluster:Cluster": lambda res, _id: _regional("eks", f"cluster/{_physical_name(res)}"),
    "aws:eks/nodeGroup:NodeGroup": lambda res, _id: _regional(
        "eks", f"nodegroup/{res.text('clusterName')}/{_physical_name(res)}/{res.uuid()}"
    ),
    "aws:eks/addon:Addon": lambda res, _id: _regional(
        "eks", f"addon/{res.text('clusterName')}/{res.text('addonName')}/{res.uuid()}"
    ),
    "aws:sqs/queue:Queue": lambda res, _id: _regional("sqs", _physical_name(res)),
    "aws:cloudwatch/logGroup:LogGroup": lambda res, _id: _regional("logs", f"log-group:{_physical_name(res)}"),
    "aws:kms/alias:Alias": lambda res, _id: _regional("kms", _physical_name(res)),
    "aws:s3/bucket:Bucket": lambda res, _id: f"arn:aws:s3:::{_physical_name(res)}",
    "aws:s3/bucketV2:BucketV2": lambda res, _id: f"arn:aws:s3:::{_physical_name(res)}",
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
    "aws:sqs/queue:Queue": lambda res: f"https://sqs.{REGION}.{DNS_SUFFIX}/{ACCOUNT_ID}/{_physical_name(res)}",
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
        return f"arn:aws:{service}::{ACCOUNT_ID}:{_kebab(res.kind)}/{resource_id}"
    return _regional(service, f"{_kebab(res.kind)}/{resource_id}")


def _eks_cluster(res: MockedResource, lookup: Callable[[str], State]) -> State:
    vpc_config = res.mapping("vpcConfig")
    subnet_ids = vpc_config.get("subnetIds")
    first_subnet = subnet_ids[0] if isinstance(subnet_ids, list) and subnet_ids else None
    vpc_id = lookup(first_subnet).get("vpcId") if isinstance(first_subnet, str) else None
    vpc_config.update(
        clusterSecurityGroupId=f"sg-{res.digest(17)}",
        vpcId=vpc_id if isinstance(vpc_id, str) else f"vpc-{res.digest(17)}",
    )
    return {
        "endpoint": CLUSTER_ENDPOINT,
        "certificateAuthority": {"data": CLUSTER_CA_DATA},
        "identities": [{"oidcs": [{"issuer": OIDC_ISSUER_URL}]}],
        "vpcConfig": vpc_config,
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "clusterId": res.uuid(),
        "createdAt": "2024-01-01T00:00:00Z",
    }


def _vpc(res: MockedResource, _lookup: Callable[[str], State]) -> State:
    return {
        "defaultSecurityGroupId": f"sg-{res.digest(17)}",
        "mainRouteTableId": f"rtb-{res.digest(17)}",
        "defaultRouteTableId": f"rtb-{res.digest(17)}",
        "defaultNetworkAclId": f"acl-{res.digest(17)}",
        "ownerId": ACCOUNT_ID,
    }


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
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda res, _: {"url": res.text("url") or OIDC_ISSUER_URL},
    "aws:ec2/subnet:Subnet": lambda _res, _: {"ownerId": ACCOUNT_ID},
    "aws:ec2/securityGroup:SecurityGroup": lambda _res, _: {"ownerId": ACCOUNT_ID},
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
    "aws:guardduty/detector:Detector": lambda _res, _: {"accountId": ACCOUNT_ID},
}


def aws_state(res: MockedResource, lookup: Callable[[str], State]) -> tuple[str, State]:
    """Id and state for an ``aws:`` resource: inputs plus arn, name, region and type specifics.

    ``lookup`` maps an id of an earlier registration to its state (empty if unknown), so that
    outputs can follow real relationships (a cluster's ``vpcId`` from its first subnet).
    """
    resource_id = aws_id(res)
    state: State = dict(res.inputs)
    state.setdefault(_NAME_KEYS.get(res.type, "name"), _physical_name(res))
    state["arn"] = aws_arn(res, resource_id)
    if res.module not in _GLOBAL_MODULES:
        state.setdefault("region", REGION)
    computed = _COMPUTED.get(res.type)
    if computed:
        state.update(computed(res, lookup))
    return resource_id, state


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


def _caller_identity(_args: Mapping[str, Any]) -> State:
    return {
        "accountId": ACCOUNT_ID,
        "arn": CALLER_ARN,
        "userId": "AIDA" + hashlib.sha256(CALLER_ARN.encode()).hexdigest()[:17].upper(),
        "id": ACCOUNT_ID,
    }


def _partition(_args: Mapping[str, Any]) -> State:
    return {
        "partition": PARTITION,
        "dnsSuffix": DNS_SUFFIX,
        "reverseDnsPrefix": "com.amazonaws",
        "id": PARTITION,
    }


def _region(args: Mapping[str, Any]) -> State:
    region = args.get("region") or args.get("name") or REGION
    return {
        "name": region,
        "region": region,
        "id": region,
        "endpoint": f"ec2.{region}.{DNS_SUFFIX}",
        "description": "US West (Oregon)",
    }


def _availability_zones(args: Mapping[str, Any]) -> State:
    return {
        "names": list(AVAILABILITY_ZONES),
        "zoneIds": list(ZONE_IDS),
        "groupNames": [REGION],
        "id": REGION,
        "region": REGION,
        "state": args.get("state"),
    }


def _yaml_decode(args: Mapping[str, Any]) -> State:
    documents = yaml.safe_load_all(str(args["text"]))
    return {"result": [document for document in documents if document is not None]}


#: Offline answers per invoke token.
_INVOKES: dict[str, Callable[[Mapping[str, Any]], State]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "kubernetes:yaml:decode": _yaml_decode,
}


def answer_invoke(token: str, args: Mapping[str, Any]) -> State:
    """The offline result of invoke ``token``; raises `UnmockedInvokeError` for unknown tokens."""
    answer = _INVOKES.get(token)
    if answer is None:
        msg = (
            f"offline harness has no answer for invoke {token!r} (args: {sorted(args)}); "
            "add one to tools/mocks.py _INVOKES or avoid the invoke"
        )
        raise UnmockedInvokeError(msg)
    return answer(args)


class PlatformMocks(pulumi.runtime.Mocks):
    """Deterministic provider stand-in for the eks-platform program (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, State] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, State]:
        """Id and output state for one registration; called on a monitor worker thread."""
        res = MockedResource(type=args.typ, logical_name=args.name, inputs=args.inputs)
        if res.type.startswith("pulumi:providers:"):
            resource_id, state = res.uuid(), dict(res.inputs)
        elif res.type.startswith("aws:"):
            resource_id, state = aws_state(res, self._lookup)
        elif res.type.startswith("kubernetes:"):
            resource_id, state = kubernetes_state(res)
        else:
            resource_id, state = f"{res.logical_name}-{res.digest(8)}", dict(res.inputs)
        with self._lock:
            self._states[resource_id] = state
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[State, list[tuple[str, str]]]:
        """Answer an invoke or resource method call; unknown tokens raise `UnmockedInvokeError`."""
        # An empty failure list, not None: MockMonitor.Invoke iterates it.
        return answer_invoke(args.token, args.args), []

    def _lookup(self, resource_id: str) -> State:
        with self._lock:
            return dict(self._states.get(resource_id, {}))
