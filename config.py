"""Stack settings: one structured config key per stack file, parsed into frozen pydantic models.

``load_settings()`` is called once by ``__main__.py`` before any resource is registered. Bad input
raises ``pulumi.RunError`` with one line naming the stack file and the field, so ``pulumi up`` prints
no traceback and registers nothing. Secrets never enter these models: they are read with
``require_secret`` where they are used and stay Outputs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import pulumi
from pulumi.runtime.config import get_config, is_config_secret
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import scheduling
from components.addon_catalog import (
    CERT_MANAGER,
    EXTERNAL_DNS,
    EXTERNAL_DNS_SOURCES,
    HOSTED_ZONE_ID,
    LB_CONTROLLER,
    METRICS_SERVER,
    POLICY_REPORTER,
    TRIVY_OPERATOR,
    TRIVY_POLR_ADAPTER,
    AddonsSpec,
    CertManagerSpec,
    ExternalDnsSource,
    ExternalDnsSpec,
    TrivyOperatorSpec,
)
from components.addon_catalog import (
    NAMESPACES as ADDON_NAMESPACES,
)
from components.addon_catalog import (
    SERVICE_ACCOUNTS as ADDON_SERVICE_ACCOUNTS,
)
from components.adoption import ADOPTABLE, SUBNET_KEY, import_targets
from components.argo_apps import (
    BUILT_IN_ROLES,
    IN_CLUSTER_SERVER,
    LIMIT_RESOURCES,
    QUOTA_KEY,
    REF_NAME,
    ApplicationSpec,
    HelmSpec,
    IgnoreDifferenceSpec,
    KindSpec,
    LimitsSpec,
    SourceSpec,
    limit_bounds_problems,
    policy_csv_problems,
    quantity_problem,
    rbac_roles,
    sync_option_problem,
    value_file_refs,
)
from components.argo_bootstrap import ROOT_APP_NAME, ArgoSpec, RbacSpec, RootAppSpec, SsoSpec, TeamProjectSpec
from components.cidrs import covers_internet
from components.delivery import RUNNER_WORKFLOWS, WORKFLOW_NAME_PATTERN, reachability_problem
from components.eks_access import ACCESS_POLICY_SHORT_NAMES, RESERVED_GROUP_PREFIXES, access_policy_name

# The node groups' own types are the settings' too (one source of truth for the EKS spellings).
from components.eks_cluster import PodSecurityGroupEnforcingMode, TaintEffect
from components.flux_bootstrap import ECR_OCI_URL as FLUX_ECR_OCI_URL
from components.flux_bootstrap import GITHUB_KNOWN_HOSTS, ClusterPathSpec, FluxSpec, GitSourceSpec
from components.flux_bootstrap import SSH_URL as FLUX_SSH_URL
from components.flux_bootstrap import known_hosts_problem as flux_known_hosts_problem
from components.flux_bootstrap import kustomization_name as flux_kustomization_name
from components.flux_bootstrap import path_order as flux_path_order
from components.instance_types import (
    NEWEST_XEN_GENERATION,
    amd64_problem,
    is_arm64_instance_type,
    is_nitro_instance_type,
)
from components.limits import (
    AWS_REGIONS,
    DNS_LABEL_MAX,
    NODE_GROUP_LABEL,
    PATTERNS,
    SES_REGIONS,
    VPC_PREFIX_RANGE,
    eks_label_key_problem,
    eks_label_value_problem,
    is_iam_role_arn,
    label_key_problem,
    label_value_problem,
    name_problem,
    port_list_problem,
    tag_key_problem,
    tag_value_problem,
)
from components.manifests import ManifestStage
from components.naming import (
    BUILT_IN_NAMESPACES,
    NAME_FAMILIES,
    PLATFORM_NAMESPACES,
    PLATFORM_ROLES,
    RESERVED_NAMESPACES,
    SERVICE_ROLE_PLACEHOLDERS,
    STACK_PLACEHOLDERS,
    VAULT_INJECTOR_NAMESPACE,
    NamingContext,
    pattern_placeholders,
)
from components.network_plan import (
    ENDPOINT_SERVICE_PATTERN,
    PRIVATE_CLUSTER_ENDPOINTS,
    SMALLEST_PREFIX,
    NetworkPlanError,
    layout_problems,
    plan_subnets,
)
from components.node_autoscaler import ClusterAutoscalerSpec, KarpenterSpec
from components.rosters import RosterError, expand_rosters
from components.spot_ocean import AutomaticHeadroom, InstanceFilters, ManualHeadroom, SpotOceanSpec
from components.stack_secrets import ARGO_SSO_SECRET, SPOT_TOKEN_SECRET, VAULT_SECRETS, VAULT_TOKEN
from components.tagging import INTERNAL_ELB_TAG, KARPENTER_DISCOVERY_TAG, PUBLIC_ELB_TAG, REQUIRED_TAG_KEYS
from components.vault_aws_auth import VaultSpec
from components.vault_names import user_role_problems
from components.vault_server import UNSEAL_KEY_PURPOSE, KubernetesAuthRole, VaultServerSpec, role_binding_problem
from components.versions import (
    DEFAULT_KUBERNETES_VERSION,
    FLUX2_CHART,
    FLUX_KUBERNETES_VERSIONS,
    NODE_AMI_TYPE,
    NODE_AMI_TYPES,
    SUPPORTED_KUBERNETES_VERSIONS,
    UpgradePolicy,
    support_problem,
)

#: The one config key (under the project namespace) that holds all platform settings.
SETTINGS_KEY = "settings"

ANYWHERE = IPv4Network("0.0.0.0/0")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_IAM_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
_S3_BUCKET_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
#: Retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

#: ServiceAccounts the platform's add-ons and controllers create in built-in namespaces (no one else may).
PLATFORM_SERVICE_ACCOUNTS: dict[str, str] = {
    "kube-system/aws-node": "the VPC CNI",
    "kube-system/ebs-csi-controller-sa": "the EBS CSI driver",
    "kube-system/karpenter": "Karpenter",
    "kube-system/cluster-autoscaler": "the cluster-autoscaler",
    "kube-system/coredns": "CoreDNS",
    "kube-system/kube-proxy": "kube-proxy",
}

K8sName = Annotated[str, Field(pattern=_K8S_NAME.pattern)]


def _cidr_text(value: object) -> object:
    """A CIDR must be written as text: pydantic would read the number ``0`` as ``0.0.0.0/32``."""
    if not isinstance(value, (str, IPv4Network)):
        msg = f"expected a CIDR as text (e.g. 10.0.0.0/16), got {type(value).__name__} {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError as a field error
    return value


Cidr = Annotated[IPv4Network, BeforeValidator(_cidr_text)]


class Model(BaseModel):
    """Base: frozen, unknown fields rejected, camelCase in YAML, snake_case in Python."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, use_enum_values=False
    )


class NatStrategy(StrEnum):
    """How private subnets reach the internet."""

    SINGLE = "single"
    ONE_PER_AZ = "one_per_az"
    NONE = "none"


class CapacityType(StrEnum):
    """EC2 purchase option of a managed node group."""

    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class LogType(StrEnum):
    """EKS control-plane log types."""

    API = "api"
    AUDIT = "audit"
    AUTHENTICATOR = "authenticator"
    CONTROLLER_MANAGER = "controllerManager"
    SCHEDULER = "scheduler"


class PublishingFrequency(StrEnum):
    """How often GuardDuty publishes updated findings."""

    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    ONE_HOUR = "ONE_HOUR"
    SIX_HOURS = "SIX_HOURS"


class SettingsError(pulumi.RunError):
    """Bad settings: one line (line breaks in quoted values are escaped), shown by the CLI without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


def today_utc() -> dt.date:
    """Today's date in UTC, the calendar EKS support dates are given in."""
    return dt.datetime.now(dt.UTC).date()


def validation_day(info: ValidationInfo) -> dt.date:
    """The day settings are validated for: ``context={"today": ...}`` if given (tests), else today (UTC)."""
    today = (info.context or {}).get("today") if isinstance(info.context, dict) else None
    return today if isinstance(today, dt.date) else today_utc()


def _optional_name(kind: str) -> Callable[[str | None], str | None]:
    """A validator of an optional physical name of ``kind`` (components/limits.py `name_problem`)."""

    def check(name: str | None) -> str | None:
        problem = name_problem(name, kind) if name is not None else None
        if problem:
            msg = f"{name!r} {problem}"
            raise ValueError(msg)
        return name

    return check


def _check_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        msg = f"{days} is not a CloudWatch Logs retention value ({', '.join(map(str, sorted(LOG_RETENTION_DAYS)))})"
        raise ValueError(msg)
    return days


class SubnetCidrs(Model):
    """Explicit subnet CIDRs, one per availability zone, in zone order (instead of the computed plan)."""

    public: list[Cidr] = Field(description="Public subnets (load balancers, NAT gateways).")
    private: list[Cidr] = Field(description="Private subnets (nodes and pods).")
    intra: list[Cidr] = Field(default_factory=list, description="Intra subnets (EKS control-plane ENIs).")
    nat: list[Cidr] = Field(
        default_factory=list,
        description="NAT subnets with `natSubnets`, one per NAT gateway (the first zone's with `single`).",
    )


class VpcSettings(Model):
    """The VPC and its subnets."""

    cidr: Cidr = Field(IPv4Network("10.0.0.0/16"), description="VPC IPv4 CIDR (/16 to /28).")
    az_count: int = Field(
        default=3,
        ge=2,
        le=6,
        description="Number of availability zones (EKS wants cluster subnets in two zones at least).",
    )
    nat_strategy: NatStrategy = Field(
        NatStrategy.ONE_PER_AZ,
        description=(
            "`single` (cheap, one AZ of egress), `one_per_az` (resilient) or `none` (no internet egress from the "
            "private subnets: a private cluster, with the interface endpoints it needs)."
        ),
    )
    nat_subnets: StrictBool = Field(
        default=False,
        description="Put the NAT gateways in small public subnets of their own (a /28 each), not the public ones.",
    )
    ipv6: StrictBool = Field(
        default=False,
        description=(
            "Dual stack: an Amazon-provided IPv6 /56 for the VPC, a /64 per subnet, `::/0` to the internet gateway "
            "(public) and to an egress-only internet gateway (private). Needed by `cluster.ipFamily: ipv6`."
        ),
    )
    interface_endpoints: list[Annotated[str, Field(pattern=ENDPOINT_SERVICE_PATTERN)]] = Field(
        default_factory=list,
        description=(
            "Interface endpoints to add, by service name after `com.amazonaws.<region>.` (e.g. `secretsmanager`); "
            "`natStrategy: none` adds the ones a private cluster needs (components/network_plan.py)."
        ),
    )
    intra_subnets: StrictBool = Field(
        default=True, description="Dedicated subnets without internet routes for the control plane."
    )
    flow_log_retention_days: int = Field(default=365, description="Retention of VPC flow logs in CloudWatch.")
    subnets: SubnetCidrs | None = Field(
        default=None, description="Explicit subnet CIDRs; default: planned from `cidr`."
    )

    _retention = field_validator("flow_log_retention_days")(_check_retention)

    @property
    def nat_gateway_count(self) -> int:
        """How many NAT gateways the strategy puts up."""
        return {NatStrategy.NONE: 0, NatStrategy.SINGLE: 1}.get(self.nat_strategy, self.az_count)

    @property
    def endpoint_services(self) -> list[str]:
        """Every interface endpoint of the VPC: a private cluster's (natStrategy none), then `interfaceEndpoints`."""
        required = list(PRIVATE_CLUSTER_ENDPOINTS) if self.nat_strategy is NatStrategy.NONE else []
        return list(dict.fromkeys([*required, *self.interface_endpoints]))

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoint_services(cls, services: list[str]) -> list[str]:
        if len(set(services)) != len(services):
            msg = "lists a service twice"
            raise ValueError(msg)
        if "s3" in services:
            msg = "s3 has the VPC's gateway endpoint already (private and intra route tables)"
            raise ValueError(msg)
        full = [service for service in services if service.startswith(("com.amazonaws.", "aws.", "cn.com."))]
        if full:
            msg = f"give the service name after com.amazonaws.<region>. (e.g. sts), not {', '.join(full)}"
            raise ValueError(msg)
        return services

    @field_validator("cidr")
    @classmethod
    def _vpc_size(cls, cidr: IPv4Network) -> IPv4Network:
        low, high = VPC_PREFIX_RANGE
        if not low <= cidr.prefixlen <= high:
            msg = f"{cidr} is a /{cidr.prefixlen}; a VPC's IPv4 block is a /{low} to a /{high}"
            raise ValueError(msg)
        special = [
            kind
            for kind, flag in (
                ("multicast", cidr.is_multicast),
                ("loopback", cidr.is_loopback),
                ("link-local", cidr.is_link_local),
                ("reserved", cidr.is_reserved),
                ("this-network (0.0.0.0/8)", cidr.subnet_of(IPv4Network("0.0.0.0/8"))),
            )
            if flag
        ]
        if special:
            msg = f"{cidr} is a {special[0]} range, not unicast space a VPC can hold"
            raise ValueError(msg)
        return cidr

    @model_validator(mode="after")
    def _nat_subnets_need_nat(self) -> Self:
        if self.nat_subnets and self.nat_strategy is NatStrategy.NONE:
            msg = ".natSubnets: natStrategy none has no NAT gateway to put in them"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _subnets_fit(self) -> Self:
        if self.subnets is None:
            try:
                plan_subnets(
                    self.cidr, [str(i) for i in range(self.az_count)], intra=self.intra_subnets, nat=self.nat_subnets
                )
            except NetworkPlanError:
                kinds = [
                    "public",
                    "private",
                    *(["intra"] if self.intra_subnets else []),
                    *(["NAT"] if self.nat_subnets else []),
                ]
                msg = (
                    f".cidr: {self.cidr} cannot hold {', '.join(kinds[:-1])} and {kinds[-1]} subnets "
                    f"(/{SMALLEST_PREFIX} at least) for {self.az_count} zones"
                )
                raise ValueError(msg) from None
            return self
        for kind, nets in (("public", self.subnets.public), ("private", self.subnets.private)):
            if len(nets) != self.az_count:
                msg = f".subnets.{kind}: has {len(nets)} CIDRs but azCount is {self.az_count}"
                raise ValueError(msg)
        if self.intra_subnets and len(self.subnets.intra) != self.az_count:
            msg = f".subnets.intra: has {len(self.subnets.intra)} CIDRs but azCount is {self.az_count}"
            raise ValueError(msg)
        nats = self.nat_gateway_count if self.nat_subnets else 0
        if len(self.subnets.nat) != nats:
            msg = (
                f".subnets.nat: has {len(self.subnets.nat)} CIDRs but natSubnets with natStrategy "
                f"{self.nat_strategy.value} puts up {nats} NAT gateways"
                if self.nat_subnets
                else f".subnets.nat: has {len(self.subnets.nat)} CIDRs but natSubnets is false"
            )
            raise ValueError(msg)
        problems = layout_problems(
            self.cidr, [*self.subnets.public, *self.subnets.private, *self.subnets.intra, *self.subnets.nat]
        )
        if problems:
            raise ValueError(".subnets: " + "; ".join(problems))
        return self


class EndpointSettings(Model):
    """Kubernetes API endpoint access. The private endpoint is always on."""

    public_access: StrictBool = Field(default=False, description="Expose the API endpoint publicly as well.")
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list, description="CIDRs allowed to reach the public endpoint (required when public)."
    )

    @model_validator(mode="after")
    def _public_needs_cidrs(self) -> Self:
        if self.public_access and not self.public_access_cidrs:
            msg = ".publicAccessCidrs: publicAccess is true but lists no CIDR allowed to reach the API"
            raise ValueError(msg)
        if not self.public_access and self.public_access_cidrs:
            msg = ".publicAccessCidrs: set while publicAccess is false"
            raise ValueError(msg)
        return self


class Taint(Model):
    """A Kubernetes taint on a node group's nodes."""

    key: str = Field(pattern=_LABEL_KEY.pattern, max_length=63, description="Taint key, e.g. `dedicated` (EKS: 1-63).")
    value: str = Field(
        "", max_length=63, pattern=PATTERNS["label_value"].pattern, description="Taint value, e.g. `system`."
    )
    effect: TaintEffect = Field(TaintEffect.NO_SCHEDULE, description="Taint effect (EKS API spelling).")

    @field_validator("key")
    @classmethod
    def _key_is_a_label_key(cls, key: str) -> str:
        problem = label_key_problem(key)
        if problem:
            msg = f"{key!r} {problem}"
            raise ValueError(msg)
        return key


class NodeGroupSettings(Model):
    """One EKS managed node group. Its key in `nodeGroups` is its stable identity."""

    instance_types: list[str] = Field(
        default_factory=lambda: ["m6i.large"], min_length=1, description="EC2 instance types."
    )
    capacity_type: CapacityType = Field(CapacityType.ON_DEMAND, description="ON_DEMAND or SPOT.")
    min_size: int = Field(default=2, ge=0, le=450, description="Minimum node count.")
    max_size: int = Field(default=3, ge=1, le=450, description="Maximum node count.")
    desired_size: int | None = Field(default=None, ge=0, le=450, description="Initial node count (default: minSize).")
    disk_size_gib: int = Field(
        default=50,
        ge=20,
        le=16384,
        description=(
            "Size of the encrypted gp3 volume containers live on: AL2023's root volume, Bottlerocket's data volume "
            "(its OS volume is a fixed 4 GiB, also encrypted gp3)."
        ),
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes node labels.")
    taints: list[Taint] = Field(default_factory=list, description="Kubernetes node taints.")
    metadata_hop_limit: int = Field(
        1, ge=1, le=2, description="IMDSv2 hop limit: 1 keeps pods off the node's instance credentials."
    )
    ami_type: str = Field(
        NODE_AMI_TYPE,
        description=(
            "AMI family (EKS API amiType): AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64 or "
            "BOTTLEROCKET_ARM_64; instanceTypes must be of its architecture (Graviton types for the ARM ones)."
        ),
    )
    per_zone: StrictBool = Field(
        default=False,
        description=(
            "One managed node group per availability zone (`<name>-<zone letter>`, each in its zone's private "
            "subnet) instead of one across the zones; minSize, maxSize and desiredSize are then each zone's."
        ),
    )

    @field_validator("ami_type")
    @classmethod
    def _known_ami_type(cls, ami_type: str) -> str:
        if ami_type not in NODE_AMI_TYPES:
            msg = f"{ami_type!r} is not one of the AMI types {', '.join(NODE_AMI_TYPES)} (components/versions.py)"
            raise ValueError(msg)
        return ami_type

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.min_size > self.max_size:
            msg = f"minSize ({self.min_size}) is greater than maxSize ({self.max_size})"
            raise ValueError(msg)
        desired = self.desired
        if not self.min_size <= desired <= self.max_size:
            msg = f"desiredSize ({desired}) is outside minSize..maxSize ({self.min_size}..{self.max_size})"
            raise ValueError(msg)
        return self

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, labels: dict[str, str]) -> dict[str, str]:
        problems = [f"{key!r} {problem}" for key in labels if (problem := eks_label_key_problem(key))]
        problems += [
            f"{key!r} is set by the platform (on per-zone groups)" for key in labels if key == NODE_GROUP_LABEL
        ]
        if problems:
            msg = f"invalid label key(s): {'; '.join(problems)}"
            raise ValueError(msg)
        values = [f"{key}={value!r}" for key, value in labels.items() if eks_label_value_problem(value)]
        if values:
            msg = (
                f"invalid label value(s) {', '.join(values)}: EKS takes 1-63 of A-Za-z0-9_.-, alphanumeric at the ends"
            )
            raise ValueError(msg)
        return labels

    @field_validator("taints")
    @classmethod
    def _unique_taints(cls, taints: list[Taint]) -> list[Taint]:
        pairs = [(taint.key, taint.effect) for taint in taints]
        if len(set(pairs)) != len(pairs):
            msg = "lists a taint key and effect twice (Kubernetes keeps taints unique by key and effect)"
            raise ValueError(msg)
        return taints

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, types: list[str]) -> list[str]:
        bad = [t for t in types if not PATTERNS["instance_type"].fullmatch(t)]
        if bad:
            msg = f"not EC2 instance types (family.size, e.g. m6i.large): {', '.join(bad)}"
            raise ValueError(msg)
        if len(set(types)) != len(types):
            msg = "lists an instance type twice"
            raise ValueError(msg)
        return types

    @model_validator(mode="after")
    def _architecture(self) -> Self:
        arm_ami = NODE_AMI_TYPES[self.ami_type] == "arm64"
        wrong = [t for t in self.instance_types if is_arm64_instance_type(t) != arm_ami]
        if wrong:
            kind = "x86_64" if arm_ami else "arm64 (Graviton)"
            msg = f".instanceTypes: {kind} instance types cannot run the {self.ami_type} AMI: {', '.join(wrong)}"
            raise ValueError(msg)
        return self

    @property
    def desired(self) -> int:
        """Desired size, defaulting to the minimum."""
        return self.min_size if self.desired_size is None else self.desired_size


class AccessEntrySettings(Model):
    """One IAM principal's access to the cluster: EKS access policies, their scope, and Kubernetes groups."""

    principal_arn: str = Field(
        pattern=_IAM_PRINCIPAL_ARN.pattern,
        description="IAM role (path kept) or user ARN; any account (STANDARD entries may be cross-account).",
    )
    policies: list[str] = Field(
        default_factory=list,
        description=(
            "EKS access policies: cluster-admin, admin, edit, view, admin-view, or any "
            "`arn:aws:eks::aws:cluster-access-policy/<name>`."
        ),
    )
    namespaces: list[K8sName] = Field(
        default_factory=list, description="Scope the policies to these namespaces; empty: the whole cluster."
    )
    kubernetes_groups: list[str] = Field(
        default_factory=list,
        description="Kubernetes RBAC groups of the principal (your RoleBindings name them); no `system:` groups.",
    )

    @field_validator("principal_arn")
    @classmethod
    def _not_service_linked(cls, arn: str) -> str:
        if ":role/aws-service-role/" in arn:
            msg = f"{arn} is a service-linked role: EKS access entries do not support them"
            raise ValueError(msg)
        return arn

    @field_validator("policies")
    @classmethod
    def _known_policies(cls, policies: list[str]) -> list[str]:
        unknown = [policy for policy in policies if access_policy_name(policy) is None]
        if unknown:
            msg = (
                f"not EKS access policies: {', '.join(unknown)} (short names: {', '.join(ACCESS_POLICY_SHORT_NAMES)}; "
                "or an ARN of components/eks_access.py EKS_ACCESS_POLICIES)"
            )
            raise ValueError(msg)
        names = [access_policy_name(policy) for policy in policies]
        if len(set(names)) != len(names):
            msg = "names one access policy twice"
            raise ValueError(msg)
        return policies

    @field_validator("kubernetes_groups")
    @classmethod
    def _groups(cls, groups: list[str]) -> list[str]:
        reserved = [group for group in groups if group.startswith(RESERVED_GROUP_PREFIXES) or not group.strip()]
        if reserved:
            msg = f"reserved or empty Kubernetes groups: {', '.join(map(repr, reserved))}"
            raise ValueError(msg)
        return groups

    @model_validator(mode="after")
    def _grants_something(self) -> Self:
        if not self.policies and not self.kubernetes_groups:
            msg = ".policies: an entry needs at least one access policy or Kubernetes group"
            raise ValueError(msg)
        return self


class VpcCniSettings(Model):
    """VPC CNI features (the vpc-cni add-on's configuration values)."""

    network_policy: StrictBool = Field(
        default=False, description="Enforce Kubernetes NetworkPolicies with the VPC CNI's network policy agent."
    )
    prefix_delegation: StrictBool = Field(
        default=False, description="Assign /28 prefixes to node ENIs: more pods per node (Nitro instances)."
    )
    pod_security_groups: StrictBool = Field(
        default=False, description="Security groups for pods (ENABLE_POD_ENI; SecurityGroupPolicy objects)."
    )
    pod_security_group_enforcing_mode: PodSecurityGroupEnforcingMode | None = Field(
        default=None,
        description=(
            "POD_SECURITY_GROUP_ENFORCING_MODE, only with podSecurityGroups: `strict` (every packet of a pod with a "
            "security group is filtered by it) or `standard` (traffic on the node and NATed egress is not); unset: "
            "the plugin's default, strict."
        ),
    )

    @model_validator(mode="after")
    def _mode_needs_pod_security_groups(self) -> Self:
        if self.pod_security_group_enforcing_mode is not None and not self.pod_security_groups:
            msg = ".podSecurityGroupEnforcingMode: only with podSecurityGroups: true (it shapes their traffic)"
            raise ValueError(msg)
        return self


class StorageSettings(Model):
    """The default StorageClass: encrypted gp3 volumes from the EBS CSI driver."""

    default_storage_class: StrictBool = Field(
        default=True, description="Create the default StorageClass (EKS marks none default since Kubernetes 1.30)."
    )
    storage_class_name: K8sName = Field("gp3", description="Its name.")
    reclaim_policy: Literal["Delete", "Retain"] = Field(
        "Delete", description="What happens to a volume when its claim is deleted (Retain keeps the data)."
    )
    kms_key_alias: str | None = Field(
        default=None,
        description=(
            "Encrypt volumes with this customer key (`alias/<name>`, in the stack's account and region); the EBS CSI "
            "driver may use the key behind the alias only. Unset: the account's default EBS key."
        ),
    )

    _alias = field_validator("kms_key_alias")(_optional_name("kms_alias"))


class ClusterSettings(Model):
    """The EKS control plane, its access and its managed node groups."""

    name: str | None = Field(
        default=None,
        description=(
            "The EKS cluster's name (default `{project}-{stack}`): keep an existing platform's. Create-only: "
            "changing it replaces the cluster. 1-100 of A-Za-z0-9_-, starting alphanumeric."
        ),
    )

    _cluster_name = field_validator("name")(_optional_name("eks_cluster"))

    kubernetes_version: str = Field(DEFAULT_KUBERNETES_VERSION, description="Kubernetes minor version.")
    upgrade_policy: UpgradePolicy = Field(
        default="STANDARD",
        description=(
            "EKS support type: STANDARD (AWS upgrades the cluster when standard support ends) or EXTENDED "
            "(stays on the version up to 12 more months at 6x the control-plane price)."
        ),
    )
    endpoint: EndpointSettings = Field(default_factory=EndpointSettings, description="API endpoint access.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="The default StorageClass.")
    vpc_cni: VpcCniSettings = Field(default_factory=VpcCniSettings, description="VPC CNI features.")
    log_types: list[LogType] = Field(
        default_factory=lambda: list(LogType), min_length=1, description="Control-plane log types to ship."
    )
    log_retention_days: int = Field(default=365, description="Retention of control-plane logs in CloudWatch.")
    admin_role_arns: list[str] = Field(
        default_factory=list, description="IAM roles granted cluster admin through access entries."
    )
    access: dict[K8sName, AccessEntrySettings] = Field(
        default_factory=dict,
        description=(
            "Who may use the cluster, keyed by a name of yours (logical names follow it): principal, access "
            "policies, namespaces, Kubernetes groups. adminRoleArns and viewerRoleArns are shorter forms (still "
            "supported)."
        ),
    )
    viewer_role_arns: list[str] = Field(
        default_factory=list,
        description=(
            "IAM roles granted read access (AmazonEKSAdminViewPolicy, Secrets included) through access entries: the "
            "bootstrap's preview roles, whose `pulumi preview` and drift refresh read the cluster."
        ),
    )
    cluster_creator_admin: StrictBool = Field(
        default=False,
        description=(
            "EKS's implicit admin for the cluster's creator. Create-only (changing it replaces the cluster): "
            "leave it false and use `deployerAccess`."
        ),
    )
    deployer_access: StrictBool = Field(
        default=True,
        description=(
            "A cluster-admin access entry for the IAM role running `pulumi up` (the STS session's issuer), so "
            "the program can manage what it declares in the cluster. Turn off once every deploying role is "
            "listed in `adminRoleArns`."
        ),
    )
    node_groups: dict[K8sName, NodeGroupSettings] = Field(
        default_factory=lambda: {"system": NodeGroupSettings()},
        min_length=1,
        description="Managed node groups keyed by name.",
    )
    system_node_group: K8sName = Field(
        default="system",
        description="Node group that runs platform controllers (add-ons, autoscaler, Argo CD, Vault injector).",
    )
    webhook_ports: list[StrictInt] = Field(
        default_factory=list,
        description=(
            "TCP ports the control plane calls admission webhooks on, e.g. Istio's 15017: a node security group "
            "admits them from the cluster security group and every node gets it beside the cluster security group. "
            "Empty: nodes have the cluster security group only."
        ),
    )
    ip_family: Literal["ipv4", "ipv6"] = Field(
        default="ipv4",
        description=(
            "Address family of pods and Services. Create-only: EKS cannot change it, a new value replaces the "
            "cluster. `ipv6` needs `vpc.ipv6: true` and Nitro instance types."
        ),
    )

    _retention = field_validator("log_retention_days")(_check_retention)

    @field_validator("webhook_ports")
    @classmethod
    def _ports(cls, ports: list[int]) -> list[int]:
        problem = port_list_problem(ports)
        if problem:
            raise ValueError(problem)
        return ports

    @model_validator(mode="after")
    def _zone_group_keys_are_free(self) -> Self:
        # A per-zone group's groups are keyed `<group>-<zone letter>`: another group of that key would share their
        # logical and physical names.
        for group, settings in sorted(self.node_groups.items()):
            zone_of = re.compile(rf"{re.escape(group)}-[a-z]")
            clash = sorted(other for other in self.node_groups if settings.per_zone and zone_of.fullmatch(other))
            if clash:
                msg = f".nodeGroups.{clash[0]}: is the name of a zone's group of the per-zone group {group!r}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _system_group_exists(self) -> Self:
        if self.system_node_group not in self.node_groups:
            msg = (
                f".systemNodeGroup: {self.system_node_group!r} is not one of nodeGroups ({', '.join(self.node_groups)})"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _version_in_support(self, info: ValidationInfo) -> Self:
        problem = support_problem(self.kubernetes_version, self.upgrade_policy, validation_day(info))
        if problem and problem[0] == "error":
            msg = f".kubernetesVersion: {problem[1]}"
            raise ValueError(msg)
        return self

    @property
    def system_group(self) -> NodeGroupSettings:
        """Settings of the node group that runs platform controllers."""
        return self.node_groups[self.system_node_group]

    @field_validator("kubernetes_version")
    @classmethod
    def _supported(cls, version: str) -> str:
        if version not in SUPPORTED_KUBERNETES_VERSIONS:
            msg = f"unsupported Kubernetes version {version!r} (supported: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)})"
            raise ValueError(msg)
        return version

    @field_validator("admin_role_arns", "viewer_role_arns")
    @classmethod
    def _role_arns(cls, arns: list[str]) -> list[str]:
        bad = [arn for arn in arns if not is_iam_role_arn(arn)]
        if bad:
            msg = f"not IAM role ARNs (role names are at most 64 characters): {', '.join(bad)}"
            raise ValueError(msg)
        if len(set(arns)) != len(arns):
            msg = "duplicate role ARNs"
            raise ValueError(msg)
        return arns

    @property
    def listed_principals(self) -> tuple[str, ...]:
        """Every principal with an access entry of its own: adminRoleArns, viewerRoleArns, access entries."""
        return (*self.admin_role_arns, *self.viewer_role_arns, *(e.principal_arn for e in self.access.values()))

    @model_validator(mode="after")
    def _one_access_per_role(self) -> Self:
        both = sorted(set(self.admin_role_arns) & set(self.viewer_role_arns))
        if both:
            msg = f".viewerRoleArns: {', '.join(both)} also in adminRoleArns (an access entry per principal)"
            raise ValueError(msg)
        # One entry per principal (EKS User Guide, "Create access entries").
        listed = {*self.admin_role_arns, *self.viewer_role_arns}
        for key, entry in sorted(self.access.items()):
            if entry.principal_arn in listed:
                msg = f".access.{key}.principalArn: {entry.principal_arn} has another access entry already"
                raise ValueError(msg)
            listed.add(entry.principal_arn)
        return self

    @field_validator("log_types")
    @classmethod
    def _audit_logs(cls, log_types: list[LogType]) -> list[LogType]:
        missing = {LogType.API, LogType.AUDIT, LogType.AUTHENTICATOR} - set(log_types)
        if missing:
            msg = (
                f"api, audit and authenticator logs are required; missing {', '.join(sorted(m.value for m in missing))}"
            )
            raise ValueError(msg)
        return log_types


def _namespaced(entries: list[str]) -> tuple[tuple[str, str], ...]:
    """Validated ``<namespace>/<name>`` entries as ``(namespace, name)`` pairs."""
    return tuple((namespace, name) for namespace, _, name in (entry.partition("/") for entry in entries))


class StatementSettings(Model):
    """One IAM policy statement of an application role (Action, Resource, optional Condition)."""

    sid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,128}$", description="Statement id.")
    effect: Literal["Allow", "Deny"] = Field("Allow", description="Allow or Deny.")
    actions: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")]] = Field(
        min_length=1, description="`service:Action` names (wildcards allowed within an action, never `*` alone)."
    )
    resources: list[Annotated[str, Field(pattern=r"^(\*|arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+)$")]] = (
        Field(min_length=1, description="ARNs (wildcards allowed), or `*` where the action takes no resource.")
    )
    conditions: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict, description="IAM Condition block: operator -> condition key -> value(s)."
    )

    def document(self) -> dict[str, Any]:
        """The statement in IAM JSON."""
        statement: dict[str, Any] = {"Effect": self.effect, "Action": self.actions, "Resource": self.resources}
        if self.sid:
            statement = {"Sid": self.sid, **statement}
        if self.conditions:
            statement["Condition"] = self.conditions
        return statement


class AppRoleSettings(Model):
    """An application IAM role for a ServiceAccount (IRSA), e.g. the seeds' ``<cluster>_DaftRole``."""

    namespace: K8sName = Field(description="Namespace of the ServiceAccount.")
    service_account: K8sName = Field(description="ServiceAccount name.")
    additional_service_accounts: list[str] = Field(
        default_factory=list,
        description=(
            "More ServiceAccounts the role trusts, as `<namespace>/<name>` (not created: e.g. the scheduler, webserver "
            "and workers of one Airflow release); still exact subjects (StringEquals)."
        ),
    )

    @field_validator("additional_service_accounts")
    @classmethod
    def _service_accounts(cls, accounts: list[str]) -> list[str]:
        bad = [a for a in accounts if a.count("/") != 1 or not all(_K8S_NAME.fullmatch(p) for p in a.split("/"))]
        if bad:
            msg = f"not <namespace>/<name> of DNS labels: {', '.join(map(repr, bad))}"
            raise ValueError(msg)
        if len(set(accounts)) != len(accounts):
            msg = "lists a ServiceAccount twice"
            raise ValueError(msg)
        return accounts

    wildcard_service_accounts: list[str] = Field(
        default_factory=list,
        description=(
            "ServiceAccounts matched by pattern (`<namespace>/<name>` with `*`/`?`, e.g. `i-*/ecr-credentials-sync`): "
            "an explicit exception, trusted with StringLike and listed by the policy irsa-wildcard-subject."
        ),
    )

    @field_validator("wildcard_service_accounts")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        shape = re.compile(r"^[a-z0-9*?]([a-z0-9*?-]*[a-z0-9*?])?$")
        bad = [p for p in patterns if p.count("/") != 1 or not all(shape.fullmatch(part) for part in p.split("/"))]
        if bad:
            msg = f"not <namespace>/<name> patterns of DNS-label characters and * or ?: {', '.join(map(repr, bad))}"
            raise ValueError(msg)
        exact = [p for p in patterns if "*" not in p and "?" not in p]
        if exact:
            msg = f"no wildcard in {', '.join(map(repr, exact))}: list exact ones in additionalServiceAccounts"
            raise ValueError(msg)
        if any(p.split("/")[0] == "*" and p.split("/")[1] == "*" for p in patterns):
            msg = "'*/*' would trust every ServiceAccount of the cluster"
            raise ValueError(msg)
        return patterns

    @property
    def wildcard_subjects(self) -> tuple[tuple[str, str], ...]:
        """``wildcardServiceAccounts`` as ``(namespace pattern, name pattern)`` pairs."""
        return _namespaced(self.wildcard_service_accounts)

    @property
    def additional_subjects(self) -> tuple[tuple[str, str], ...]:
        """``additionalServiceAccounts`` as ``(namespace, name)`` pairs."""
        return _namespaced(self.additional_service_accounts)

    role_name: str | None = Field(
        default=None, description="Role name pattern; default: the stack's `serviceRoleNamePattern`."
    )
    s3_bucket_arns: list[str] = Field(default_factory=list, description="Buckets the role may read and write.")
    s3_read_only: StrictBool = Field(default=False, description="Grant read-only object access.")
    managed_policy_arns: list[str] = Field(default_factory=list, description="Extra managed policies (ARNs).")
    statements: list[StatementSettings] = Field(
        default_factory=list,
        description="Custom statements of the role's inline policy `custom` (linted with parliament by the plan).",
    )

    @field_validator("managed_policy_arns")
    @classmethod
    def _policy_arns(cls, arns: list[str]) -> list[str]:
        bad = [arn for arn in arns if not _IAM_POLICY_ARN.fullmatch(arn)]
        if bad:
            msg = f"not IAM policy ARNs (arn:aws:iam::aws:policy/... or arn:aws:iam::<account>:policy/...): {bad}"
            raise ValueError(msg)
        return arns

    create_service_account: StrictBool = Field(
        default=True, description="Create the namespace and annotated ServiceAccount."
    )

    @field_validator("s3_bucket_arns")
    @classmethod
    def _buckets(cls, arns: list[str]) -> list[str]:
        bad = [arn for arn in arns if not _S3_BUCKET_ARN.fullmatch(arn)]
        if bad:
            msg = f"not S3 bucket ARNs: {', '.join(bad)}"
            raise ValueError(msg)
        return arns

    @field_validator("role_name")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            _check_role_pattern(pattern)
        return pattern


def _check_role_pattern(pattern: str) -> str:
    unknown = pattern_placeholders(pattern) - SERVICE_ROLE_PLACEHOLDERS
    if unknown:
        allowed = ", ".join(sorted(SERVICE_ROLE_PLACEHOLDERS))
        msg = f"unknown placeholder(s) {', '.join(sorted(unknown))} (allowed: {allowed})"
        raise ValueError(msg)
    return pattern


class FindingsExport(Model):
    """Export GuardDuty findings to an S3 bucket, encrypted with a KMS key."""

    bucket_arn: str = Field(pattern=_S3_BUCKET_ARN.pattern, description="Destination bucket ARN.")
    kms_key_arn: str = Field(pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$", description="KMS key ARN.")


class DetectorMode(StrEnum):
    """Who owns the account's GuardDuty detector (GuardDuty allows one per account and region)."""

    CREATE = "create"
    ADOPT = "adopt"
    NONE = "none"


class AgentManagement(StrEnum):
    """Who installs the GuardDuty runtime agent (the ``aws-guardduty-agent`` EKS add-on) in the cluster."""

    GUARDDUTY = "guardduty"
    STACK = "stack"


_DETECTOR_ID = r"^[0-9a-f]{32}$"


class GuardDutySettings(Model):
    """GuardDuty threat detection for the cluster."""

    detector: DetectorMode | None = Field(
        None,
        description=(
            "`create` (default) a detector; `adopt` the account's existing one (`detectorId`); `none`: the "
            "organisation's delegated administrator (a central security account) manages the detector and its "
            "features, and the stack declares no detector, feature or findings export."
        ),
    )
    detector_id: str | None = Field(None, pattern=_DETECTOR_ID, description="The detector `detector: adopt` adopts.")
    adopt_detector_id: str | None = Field(
        None, pattern=_DETECTOR_ID, description="Deprecated: `detector: adopt` with `detectorId`."
    )
    agent: AgentManagement | None = Field(
        None,
        description=(
            "Who installs the runtime agent add-on: `guardduty` (GuardDuty's automated agent configuration, "
            "EKS_ADDON_MANAGEMENT; the default with a detector of the stack's) or `stack` (the stack installs the "
            "pinned aws-guardduty-agent add-on and its guardduty-data endpoint; the default with `detector: none`)."
        ),
    )
    finding_publishing_frequency: PublishingFrequency = Field(
        PublishingFrequency.FIFTEEN_MINUTES, description="How often updated findings are published."
    )
    runtime_monitoring: StrictBool = Field(
        default=True, description="Runtime monitoring (the RUNTIME_MONITORING feature) with the EKS agent."
    )
    findings_export: FindingsExport | None = Field(default=None, description="Optional S3 export of findings.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.adopt_detector_id is not None:
            if self.detector_id is not None:
                msg = ".adoptDetectorId: deprecated spelling of detectorId; set only detector: adopt and detectorId"
                raise ValueError(msg)
            if self.detector not in (None, DetectorMode.ADOPT):
                msg = f".adoptDetectorId: adopts a detector, but detector is {self.detector.value}"
                raise ValueError(msg)
        if self.detector is DetectorMode.ADOPT and self.adopted_detector_id is None:
            msg = ".detectorId: detector: adopt needs the id of the account's existing detector"
            raise ValueError(msg)
        if self.detector_id is not None and self.detector is not DetectorMode.ADOPT:
            mode = self.detector.value if self.detector else "create (the default)"
            msg = f".detectorId: set while detector is {mode}; set detector: adopt to adopt it"
            raise ValueError(msg)
        if self.detector_mode is DetectorMode.NONE:
            managed = {
                "findingsExport": "findings_export",
                "findingPublishingFrequency": "finding_publishing_frequency",
                "runtimeMonitoring": "runtime_monitoring",
            }
            for field, attribute in managed.items():
                if attribute in self.model_fields_set:
                    msg = (
                        f".{field}: with detector: none the delegated administrator manages the detector, its "
                        "features and its findings export; remove it"
                    )
                    raise ValueError(msg)
        if self.agent_management is AgentManagement.STACK and not self.runtime_monitoring:
            msg = ".agent: the stack installs the runtime agent, but runtimeMonitoring is false (nothing would use it)"
            raise ValueError(msg)
        return self

    @property
    def detector_mode(self) -> DetectorMode:
        """The detector's owner: ``detector``, else adopt with the deprecated ``adoptDetectorId``, else create."""
        if self.detector is not None:
            return self.detector
        return DetectorMode.ADOPT if self.adopt_detector_id is not None else DetectorMode.CREATE

    @property
    def adopted_detector_id(self) -> str | None:
        """The detector to adopt (``detectorId``, or the deprecated ``adoptDetectorId``)."""
        return self.detector_id or self.adopt_detector_id

    @property
    def agent_management(self) -> AgentManagement:
        """Who installs the agent: ``agent``, else the stack with ``detector: none``, else GuardDuty."""
        if self.agent is not None:
            return self.agent
        return AgentManagement.STACK if self.detector_mode is DetectorMode.NONE else AgentManagement.GUARDDUTY


#: A domain SES can verify: DNS labels of letters, digits and inner hyphens, at least two, 253 characters at most.
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
#: An address identity: a plain local part (RFC 5322 dot-atom characters) at such a domain.
#: RFC 5321 section 4.5.3.1.1: a local part holds at most 64 octets (the domain's 253 are checked by `_DOMAIN`).
_LOCAL_PART_MAX = 64
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?P<domain>.+)$")


class EmailSettings(Model):
    """SES identities, an optional configuration set, and an SMTP-sending IAM user (components/email.py)."""

    domains: list[str] = Field(
        default_factory=list,
        description="Domain identities (lowercase), signed with Easy DKIM: publish the exported DKIM CNAME records.",
    )
    addresses: list[str] = Field(
        default_factory=list, description="Email address identities (SES mails each a verification link)."
    )
    configuration_set: StrictBool = Field(
        default=False,
        description="A configuration set `<project>-<env>-email` the identities send with: TLS required, reputation "
        "metrics.",
    )
    smtp_user: StrictBool = Field(
        default=True,
        description="An IAM user `<project>-<env>-smtp` allowed only ses:SendRawEmail on these identities, with an "
        "access key: SMTP username and password as secret outputs.",
    )

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        bad = [domain for domain in domains if not _DOMAIN.fullmatch(domain)]
        if bad:
            msg = f"not lowercase DNS domain names: {', '.join(map(repr, bad))}"
            raise ValueError(msg)
        if len(set(domains)) != len(domains):
            msg = "lists a domain twice"
            raise ValueError(msg)
        return domains

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        bad = [
            address
            for address in addresses
            if not (match := _ADDRESS.fullmatch(address))
            or len(address.split("@")[0]) > _LOCAL_PART_MAX
            or not _DOMAIN.fullmatch(match["domain"].lower())
        ]
        if bad:
            msg = f"not email addresses (local@domain): {', '.join(map(repr, bad))}"
            raise ValueError(msg)
        if len({address.lower() for address in addresses}) != len(addresses):
            msg = "lists an address twice"
            raise ValueError(msg)
        return addresses

    @model_validator(mode="after")
    def _has_identities(self) -> Self:
        if not self.domains and not self.addresses:
            msg = ".domains: email lists no domain and no address to send from"
            raise ValueError(msg)
        return self


class Toleration(Model):
    """A Kubernetes toleration (Kubernetes spelling of the effect)."""

    key: str = Field(pattern=_LABEL_KEY.pattern, description="Taint key to tolerate.")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Equal or Exists.")
    value: str = Field(
        default="", max_length=63, pattern=PATTERNS["label_value"].pattern, description="Taint value (with Equal)."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="Effect to tolerate."
    )

    @model_validator(mode="after")
    def _exists_has_no_value(self) -> Self:
        problem = label_key_problem(self.key)
        if problem:
            msg = f".key: {self.key!r} {problem}"
            raise ValueError(msg)
        if self.operator == "Exists" and self.value:
            msg = ".value: a toleration with operator Exists takes no value (Kubernetes refuses one)"
            raise ValueError(msg)
        return self


KarpenterCapacity = Literal["on-demand", "spot"]


def _on_demand_only() -> list[KarpenterCapacity]:
    return ["on-demand"]


class KarpenterSettings(Model):
    """Karpenter's default NodePool and EC2NodeClass."""

    capacity_types: list[KarpenterCapacity] = Field(
        default_factory=_on_demand_only, min_length=1, description="karpenter.sh/capacity-type values."
    )
    instance_categories: list[str] = Field(
        default_factory=lambda: ["c", "m", "r"], min_length=1, description="EC2 instance categories (c, m, r, ...)."
    )
    instance_generation_min: int = Field(default=5, ge=1, description="Smallest instance generation allowed.")
    cpu_limit: int = Field(default=100, ge=1, description="NodePool limit on total vCPUs.")
    memory_limit_gib: int = Field(default=400, ge=1, description="NodePool limit on total memory.")
    consolidation_policy: Literal["WhenEmptyOrUnderutilized", "WhenEmpty"] = Field(
        default="WhenEmptyOrUnderutilized", description="When Karpenter may consolidate nodes."
    )
    consolidate_after: str = Field(default="1m", pattern=r"^\d+[smh]$", description="Wait before consolidating.")
    expire_after: str = Field(default="720h", pattern=r"^(\d+[smh]|Never)$", description="Node lifetime.")
    disk_size_gib: int = Field(default=50, ge=20, le=16384, description="Encrypted gp3 root volume size.")

    @model_validator(mode="after")
    def _categories_offer_instances(self) -> Self:
        # The NodePool asks for amd64 (kubernetes.io/arch In [amd64]) and generation >= instanceGenerationMin.
        for category in self.instance_categories:
            problem = amd64_problem(category, self.instance_generation_min)
            if problem:
                msg = f".instanceCategories: {problem}"
                raise ValueError(msg)
        return self


class ClusterAutoscalerSettings(Model):
    """Where the cluster-autoscaler runs (the seed's dedicated on-demand pool)."""

    node_selector: dict[str, str] = Field(default_factory=dict, description="Pod nodeSelector.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Pod tolerations.")

    @field_validator("node_selector")
    @classmethod
    def _selector_labels(cls, selector: dict[str, str]) -> dict[str, str]:
        bad = [
            f"{key}={value!r}"
            for key, value in selector.items()
            if label_key_problem(key) or label_value_problem(value)
        ]
        if bad:
            msg = f"not label keys and values: {', '.join(bad)}"
            raise ValueError(msg)
        return selector


class SpotOceanCapacitySettings(Model):
    """How many instances the Ocean cluster runs."""

    min_size: int = Field(default=0, ge=0, description="Fewest instances (0: Ocean may scale to zero).")
    max_size: int = Field(default=10, ge=1, le=1000, description="Most instances.")
    desired_capacity: int = Field(
        default=1, ge=0, description="Instances at creation; Ocean's autoscaler owns it afterwards (ignored on update)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_size > self.max_size:
            msg = f".minSize: {self.min_size} is more than maxSize {self.max_size}"
            raise ValueError(msg)
        if not self.min_size <= self.desired_capacity <= self.max_size:
            msg = f".desiredCapacity: {self.desired_capacity} is not between minSize and maxSize"
            raise ValueError(msg)
        return self


class SpotOceanHeadroomSettings(Model):
    """Spare capacity kept free so pods start without waiting for a node: automatic (a percentage) or manual units."""

    automatic_percentage: int | None = Field(
        default=None, ge=0, le=200, description="Automatic headroom: percent of the cluster's resources kept free."
    )
    cpu_per_unit: int | None = Field(default=None, ge=1, description="Manual headroom: millicores per unit.")
    memory_per_unit: int | None = Field(default=None, ge=1, description="Manual headroom: MiB per unit.")
    num_of_units: int | None = Field(
        default=None, ge=1, description="Manual headroom: units kept free (at least one; leave headroom out for none)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        manual = (self.cpu_per_unit, self.memory_per_unit, self.num_of_units)
        if self.automatic_percentage is not None and any(value is not None for value in manual):
            msg = ".automaticPercentage: give automatic headroom or manual units (cpuPerUnit, ...), not both"
            raise ValueError(msg)
        if self.automatic_percentage is None and None in manual:
            msg = ".cpuPerUnit: manual headroom needs cpuPerUnit, memoryPerUnit and numOfUnits (or automaticPercentage)"
            raise ValueError(msg)
        return self


class SpotOceanScaleDownSettings(Model):
    """How fast Ocean removes nodes."""

    max_scale_down_percentage: int = Field(
        default=10, ge=1, le=100, description="Most of the cluster's nodes removed in one scale-down action (percent)."
    )
    aggressive: StrictBool = Field(default=False, description="Aggressive scale-down (no wait for evaluation periods).")


class SpotOceanFilterSettings(Model):
    """Which instance types Ocean may choose from (Spot `filters`); unset bounds are not applied."""

    categories: list[
        Literal[
            "General_purpose", "Compute_optimized", "Memory_optimized", "Storage_optimized", "Accelerated_computing"
        ]
    ] = Field(default_factory=list, description="Instance categories (empty: any).")
    min_vcpu: int | None = Field(default=None, ge=1, description="Fewest vCPUs per instance.")
    max_vcpu: int | None = Field(default=None, ge=1, description="Most vCPUs per instance.")
    min_memory_gib: float | None = Field(default=None, gt=0, description="Least memory per instance (GiB).")
    max_memory_gib: float | None = Field(default=None, gt=0, description="Most memory per instance (GiB).")
    include_families: list[Annotated[str, Field(pattern=r"^[a-z0-9*]+$")]] = Field(
        default_factory=list, description="Only these families (`m5`, `c*`); empty: any."
    )
    exclude_families: list[Annotated[str, Field(pattern=r"^[a-z0-9*]+$")]] = Field(
        default_factory=list, description="Never these families (`t2`, `c4*`)."
    )
    exclude_metal: StrictBool = Field(default=True, description="Never bare-metal types.")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        for low, high, key in (
            (self.min_vcpu, self.max_vcpu, "minVcpu"),
            (self.min_memory_gib, self.max_memory_gib, "minMemoryGib"),
        ):
            if low is not None and high is not None and low > high:
                msg = f".{key}: {low} is more than its maximum {high}"
                raise ValueError(msg)
        if self.include_families and self.exclude_families:
            msg = ".includeFamilies: Spot takes includeFamilies or excludeFamilies, not both"
            raise ValueError(msg)
        return self


class SpotOceanSettings(Model):
    """Spot Ocean (`engine: spot-ocean`): the Ocean cluster and its controller (API token: the `spotToken` secret)."""

    account_id: str = Field(pattern=r"^act-[0-9a-f]{8}$", description="Spot account id (`act-` and 8 hex digits).")
    capacity: SpotOceanCapacitySettings = Field(
        default_factory=SpotOceanCapacitySettings, description="Instance counts."
    )
    headroom: SpotOceanHeadroomSettings = Field(
        default_factory=lambda: SpotOceanHeadroomSettings(automatic_percentage=5), description="Spare capacity."
    )
    scale_down: SpotOceanScaleDownSettings = Field(
        default_factory=SpotOceanScaleDownSettings, description="Scale-down limits."
    )
    max_vcpu: int | None = Field(default=None, ge=1, description="Cluster-wide limit on vCPUs (unset: none).")
    max_memory_gib: int | None = Field(default=None, ge=1, description="Cluster-wide limit on memory (unset: none).")
    architecture: Literal["x86_64", "arm64"] = Field(
        default="x86_64", description="Node architecture: the AL2023 AMI's and the instance filter's."
    )
    filters: SpotOceanFilterSettings = Field(
        default_factory=SpotOceanFilterSettings, description="Instance type filters."
    )
    spot_percentage: int = Field(
        default=100, ge=0, le=100, description="Percent of nodes on Spot (the rest on-demand)."
    )
    fallback_to_ondemand: StrictBool = Field(
        default=True, description="Launch on-demand when no Spot market is available."
    )
    utilize_reserved_instances: StrictBool = Field(default=True, description="Use free Reserved Instances before Spot.")
    draining_timeout_seconds: int = Field(
        default=120, ge=0, le=3600, description="How long a node drains before Ocean terminates it."
    )
    root_volume_size_gib: int = Field(default=50, ge=20, le=16384, description="Encrypted gp3 root volume size.")
    deploy_metrics_server: StrictBool = Field(
        default=True,
        description="The controller chart's metrics-server subchart (Ocean needs metrics); false if it runs already.",
    )


class NodeAutoscalerSettings(Model):
    """Node autoscaling: Karpenter (default), the Kubernetes cluster-autoscaler or Spot Ocean."""

    engine: Literal["karpenter", "cluster-autoscaler", "spot-ocean", "none"] = Field(
        default="karpenter",
        description="Autoscaler; `none`: the managed node groups keep their sizes (a cluster without internet egress).",
    )
    karpenter: KarpenterSettings = Field(default_factory=KarpenterSettings, description="Karpenter settings.")
    cluster_autoscaler: ClusterAutoscalerSettings = Field(
        default_factory=ClusterAutoscalerSettings, description="cluster-autoscaler settings."
    )
    spot_ocean: SpotOceanSettings | None = Field(
        default=None, description="Spot Ocean settings (required with `engine: spot-ocean`)."
    )

    @model_validator(mode="after")
    def _spot_ocean_settings(self) -> Self:
        if self.engine == "spot-ocean" and self.spot_ocean is None:
            msg = ".spotOcean: engine spot-ocean needs its settings (accountId at least)"
            raise ValueError(msg)
        return self


_KIND = r"^[A-Z][A-Za-z0-9]{0,62}$"
_API_GROUP = r"^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)?$"
_KIND_GLOB = r"^[A-Z*][A-Za-z0-9*]{0,62}$"
_API_GROUP_GLOB = r"^([a-z0-9*]([a-z0-9.*-]{0,251}[a-z0-9*])?)?$"


class KindSettings(Model):
    """A Kubernetes kind in an AppProject list: API group (`""`: the core group) and kind."""

    group: str = Field(default="", pattern=_API_GROUP, description='API group; "" is the core group.')
    kind: str = Field(pattern=_KIND, description="Kind, e.g. Namespace, ResourceQuota.")


class ClusterKindSettings(KindSettings):
    """A cluster-scoped kind a team may manage, optionally only objects whose name matches a glob."""

    name: str | None = Field(default=None, min_length=1, description="Only objects of this name (glob, e.g. team-*).")


def _quantities(values: dict[str, str]) -> dict[str, str]:
    problems = [f"{key}: {problem}" for key, value in values.items() if (problem := quantity_problem(value))]
    if problems:
        raise ValueError("; ".join(problems))
    return values


class LimitsSettings(Model):
    """A LimitRange of type Container in each team namespace."""

    default: dict[str, str] = Field(
        default_factory=dict, description="Default limits (cpu, memory, ephemeral-storage)."
    )
    default_request: dict[str, str] = Field(default_factory=dict, description="Default requests.")
    max: dict[str, str] = Field(default_factory=dict, description="Largest limits a container may set.")

    @field_validator("default", "default_request", "max")
    @classmethod
    def _resources(cls, values: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(values) - LIMIT_RESOURCES)
        if unknown:
            msg = f"{unknown} are not resources a Container LimitRange bounds ({', '.join(sorted(LIMIT_RESOURCES))})"
            raise ValueError(msg)
        return _quantities(values)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.default or self.default_request or self.max):
            msg = ".default: a LimitRange needs default, defaultRequest or max"
            raise ValueError(msg)
        bounds = limit_bounds_problems(
            LimitsSpec(default=self.default, default_request=self.default_request, max=self.max)
        )
        if bounds:
            raise ValueError(f".{bounds[0]}")
        return self


class TeamProjectSettings(Model):
    """An Argo CD AppProject for a delegated team: which repos it may use and where it may deploy."""

    description: str = Field(default="", description="Shown in the Argo CD UI.")
    source_repos: list[str] = Field(min_length=1, description="Git repositories the team's apps may use.")
    namespaces: list[K8sName] = Field(min_length=1, description="Namespaces the team may deploy to (created).")
    allow_cluster_kinds: list[ClusterKindSettings] = Field(
        default_factory=list,
        description="Cluster-scoped kinds the team may manage (clusterResourceWhitelist); none by default.",
    )
    deny_namespaced_kinds: list[KindSettings] = Field(
        default_factory=list,
        description="Namespaced kinds denied besides ResourceQuota, LimitRange and NetworkPolicy (always denied).",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels of the team's namespaces.")
    quota: dict[str, str] | None = Field(
        default=None,
        description="ResourceQuota `hard` limits of each team namespace (requests.cpu, limits.memory, pods, ...).",
    )
    limits: LimitsSettings | None = Field(default=None, description="LimitRange of each team namespace.")
    default_deny_network_policy: StrictBool = Field(
        default=True,
        description="A NetworkPolicy in each team namespace denying ingress and egress except DNS to kube-system.",
    )

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            problem = label_key_problem(key) or label_value_problem(value)
            if problem:
                msg = f"{key}: {problem}"
                raise ValueError(msg)
            if key in {"app.kubernetes.io/managed-by", "platform.eks/team"}:
                msg = f"{key} is set by the platform"
                raise ValueError(msg)
        return labels

    @field_validator("quota")
    @classmethod
    def _quota(cls, quota: dict[str, str] | None) -> dict[str, str] | None:
        if quota is None:
            return None
        bad = sorted(key for key in quota if not QUOTA_KEY.fullmatch(key))
        if bad or not quota:
            msg = f"not quota resource names: {bad}" if bad else "an empty quota limits nothing: omit it"
            raise ValueError(msg)
        return _quantities(quota)

    def allows_namespaces(self) -> bool:
        """Whether the team may create Namespaces (what `CreateNamespace=true` needs in its project)."""
        return any(kind.group == "" and kind.kind == "Namespace" for kind in self.allow_cluster_kinds)

    @field_validator("namespaces")
    @classmethod
    def _unique_namespaces(cls, namespaces: list[str]) -> list[str]:
        repeated = sorted({ns for ns in namespaces if namespaces.count(ns) > 1})
        if repeated:
            msg = f"lists {', '.join(repeated)} more than once (each namespace is one resource)"
            raise ValueError(msg)
        return namespaces

    @field_validator("source_repos")
    @classmethod
    def _no_wildcards(cls, repos: list[str]) -> list[str]:
        bad = [repo for repo in repos if "*" in repo]
        if bad:
            msg = f"wildcard source repos defeat the project's restriction: {', '.join(bad)}"
            raise ValueError(msg)
        return repos


class RootAppSettings(Model):
    """The app-of-apps: an Argo CD Application pointing at the platform's GitOps repository."""

    repo_url: str = Field(pattern=r"^(https://|git@|ssh://)\S+$", description="Git repository URL.")
    path: str = Field(default="apps", description="Path of the app manifests in the repository.")
    target_revision: str = Field(default="main", min_length=1, description="Branch, tag or commit.")
    automated: StrictBool = Field(default=True, description="Sync automatically.")
    prune: StrictBool = Field(default=True, description="Delete resources removed from git.")
    self_heal: StrictBool = Field(default=True, description="Revert changes made outside git.")


class SsoSettings(Model):
    """OIDC single sign-on for Argo CD; with SSO the local admin account is disabled."""

    issuer: str = Field(pattern=r"^https://\S+$", description="OIDC issuer URL.")
    client_id: str = Field(min_length=1, description="OIDC client id (its secret: config `argocdOidcClientSecret`).")
    admin_groups: list[str] = Field(default_factory=list, description="IdP groups mapped to role:admin.")

    @field_validator("admin_groups")
    @classmethod
    def _csv_safe(cls, groups: list[str]) -> list[str]:
        # Each group becomes a line `g, <group>, role:admin` of Argo CD's policy.csv.
        bad = [group for group in groups if not group.strip() or any(c in group for c in ',"\n\r')]
        if bad:
            msg = f"group names unusable in Argo CD's policy.csv (empty, comma, quote or line break): {bad}"
            raise ValueError(msg)
        return groups


class HelmSourceSettings(Model):
    """Helm options of a source (`source.helm`)."""

    release_name: str | None = Field(default=None, pattern=_K8S_NAME.pattern, description="Helm release name.")
    value_files: list[str] = Field(
        default_factory=list, description="Value files; `$<ref>/path` reads from the source with that `ref`."
    )
    values: dict[str, Any] | None = Field(default=None, description="Inline values (a map).")
    values_as: Literal["object", "text"] = Field(
        default="object", description="Pass `values` as `valuesObject` (a map) or as `values` (YAML text)."
    )


class SourceSettings(Model):
    """Where an Application's manifests come from: a git path, a Helm chart, or only a `ref` for value files."""

    repo_url: str = Field(pattern=r"^(https://|git@|ssh://|oci://)\S+$", description="Git or Helm repository URL.")
    target_revision: str = Field(default="HEAD", min_length=1, description="Branch, tag, commit or chart version.")
    path: str | None = Field(default=None, min_length=1, description="Directory in the git repository.")
    chart: str | None = Field(default=None, min_length=1, description="Chart name in a Helm repository.")
    ref: str | None = Field(
        default=None, pattern=REF_NAME.pattern, description="Name other sources' value files use (`$<ref>/...`)."
    )
    helm: HelmSourceSettings | None = Field(default=None, description="Helm options.")

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.path is not None and self.chart is not None:
            msg = ".chart: a source is a git path or a chart, not both"
            raise ValueError(msg)
        if self.path is None and self.chart is None and self.ref is None:
            msg = ".path: a source needs a path, a chart or a ref"
            raise ValueError(msg)
        if self.helm is not None and self.path is None and self.chart is None:
            msg = ".helm: a ref-only source renders nothing: give it a path or a chart"
            raise ValueError(msg)
        return self


class DestinationSettings(Model):
    """Where an Application deploys."""

    namespace: K8sName = Field(description="Target namespace.")
    server: str = Field(
        default=IN_CLUSTER_SERVER, pattern=r"^https://\S+$", description="API server; default: this cluster."
    )


class IgnoreDifferenceSettings(Model):
    """Fields Argo CD ignores when it compares (argo-cd docs/user-guide/diffing.md)."""

    # Argo CD matches these two as globs (argo-cd util/argo/diff/ignore.go: `glob.Match(ignore.Group, group)`), so
    # `group: "*"` is every group, as the Sage seed's victoria-metrics Application has it.
    group: str = Field(default="", pattern=_API_GROUP_GLOB, description='API group ("" core; a glob: `*` any).')
    kind: str = Field(pattern=_KIND_GLOB, description="Kind (a glob: `*` any).")
    name: str | None = Field(default=None, min_length=1, description="Only this object.")
    namespace: str | None = Field(default=None, min_length=1, description="Only in this namespace.")
    json_pointers: list[Annotated[str, Field(pattern=r"^/")]] = Field(
        default_factory=list, description="RFC 6901 pointers, e.g. /spec/replicas."
    )
    jq_path_expressions: list[str] = Field(default_factory=list, description="jq paths, e.g. .spec.template.")
    managed_fields_managers: list[str] = Field(
        default_factory=list, description="Ignore fields owned by these field managers (e.g. kube-controller-manager)."
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.json_pointers or self.jq_path_expressions or self.managed_fields_managers):
            msg = ".jsonPointers: say what to ignore (jsonPointers, jqPathExpressions or managedFieldsManagers)"
            raise ValueError(msg)
        return self


class ApplicationSettings(Model):
    """An Argo CD Application declared in the stack (`argo.applications.<name>`)."""

    project: K8sName = Field(default="default", description="`default` or a team's project (`argo.teams`).")
    source: SourceSettings | None = Field(default=None, description="The one source (or use `sources`).")
    sources: list[SourceSettings] | None = Field(
        default=None, min_length=1, description="Several sources, e.g. a chart and a `ref` source with its values."
    )
    destination: DestinationSettings = Field(description="Target namespace (and server).")
    sync_wave: StrictInt | None = Field(default=None, description="argocd.argoproj.io/sync-wave (lower syncs first).")
    sync_options: list[str] = Field(default_factory=list, description="Sync options, e.g. CreateNamespace=true.")
    ignore_differences: list[IgnoreDifferenceSettings] = Field(
        default_factory=list, description="Fields to ignore when comparing."
    )
    automated: StrictBool | None = Field(default=None, description="Sync automatically; unset: `argo.automatedSync`.")
    prune: StrictBool = Field(default=True, description="With automated sync: delete what git removed.")
    self_heal: StrictBool = Field(default=True, description="With automated sync: revert changes made outside git.")
    finalizer: StrictBool = Field(
        default=True, description="The resources finalizer: deleting the app deletes what it deployed."
    )

    @field_validator("sync_options")
    @classmethod
    def _sync_options(cls, options: list[str]) -> list[str]:
        problems = [problem for option in options if (problem := sync_option_problem(option))]
        names = [option.partition("=")[0] for option in options]
        problems += [f"{name} is given more than once" for name in sorted(set(names)) if names.count(name) > 1]
        if problems:
            raise ValueError("; ".join(problems))
        return options

    @model_validator(mode="after")
    def _sources(self) -> Self:
        if (self.source is None) == (self.sources is None):
            msg = ".source: give either source or sources"
            raise ValueError(msg)
        sources = self.all_sources
        refs = [source.ref for source in sources if source.ref]
        for index, source in enumerate(sources):
            where = ".source" if self.source is not None else f".sources[{index}]"
            if self.source is not None and source.ref is not None:
                msg = f"{where}.ref: a ref lends value files to other sources: use sources"
                raise ValueError(msg)
            if source.ref is not None and refs.count(source.ref) > 1:
                msg = f"{where}.ref: {source.ref!r} is declared by more than one source"
                raise ValueError(msg)
            files = source.helm.value_files if source.helm else []
            missing = sorted(value_file_refs(files) - set(refs))
            if missing:
                msg = f"{where}.helm.valueFiles: ${missing[0]} names no source's ref (declared: {sorted(refs)})"
                raise ValueError(msg)
        if not any(source.path is not None or source.chart is not None for source in sources):
            msg = ".sources: no source renders anything (only refs)"
            raise ValueError(msg)
        return self

    @property
    def all_sources(self) -> list[SourceSettings]:
        """The source or the sources."""
        return [self.source] if self.source is not None else list(self.sources or [])


class RbacSettings(Model):
    """Argo CD RBAC beyond the SSO admin groups (argocd-rbac-cm)."""

    default_role: str = Field(
        default="",
        description='Role of every authenticated user: role:readonly, role:admin or a policyCsv role; "" = none.',
    )
    policy_csv: str = Field(
        default="", description="More policy.csv lines: `p, role:x, applications, get, */*, allow`, `g, group, role:x`."
    )

    @field_validator("policy_csv")
    @classmethod
    def _csv(cls, policy: str) -> str:
        problems = policy_csv_problems(policy)
        if problems:
            raise ValueError("; ".join(problems))
        return policy

    @model_validator(mode="after")
    def _known_role(self) -> Self:
        known = BUILT_IN_ROLES | rbac_roles(self.policy_csv)
        if self.default_role and self.default_role not in known:
            msg = f".defaultRole: {self.default_role!r} is not a role ({', '.join(sorted(known))})"
            raise ValueError(msg)
        return self


class ArgoSettings(Model):
    """Argo CD, its root app-of-apps and the delegated teams' AppProjects."""

    enabled: StrictBool = Field(default=True, description="Install Argo CD.")
    high_availability: StrictBool = Field(default=False, description="HA replicas (prod).")
    root_app: RootAppSettings | None = Field(default=None, description="The app-of-apps; none: install Argo only.")
    teams: dict[K8sName, TeamProjectSettings] = Field(default_factory=dict, description="AppProjects by team.")
    sso: SsoSettings | None = Field(default=None, description="SSO hook point.")
    url: str = Field(
        default="https://localhost:8080",
        pattern=r"^https://\S+$",
        description="URL users reach Argo CD at (SSO callback base); default: a port-forward.",
    )
    applications: dict[K8sName, ApplicationSettings] = Field(
        default_factory=dict, description="Applications by name (in the argocd namespace)."
    )
    automated_sync: StrictBool = Field(
        default=True,
        description="Default of each application's `automated` and of the add-on ApplicationSets' apps (prod: false "
        "keeps syncing manual).",
    )
    rbac: RbacSettings = Field(default_factory=RbacSettings, description="RBAC default role and policy lines.")

    @model_validator(mode="after")
    def _applications_fit_their_projects(self) -> Self:
        for app, settings in sorted(self.applications.items()):
            if app == ROOT_APP_NAME and self.root_app is not None:
                msg = f".applications.{app}: the root app-of-apps has that name"
                raise ValueError(msg)
            project = settings.project
            if project == "default":
                continue
            team = self.teams.get(project)
            if team is None:
                msg = f".applications.{app}.project: {project!r} is neither default nor a team ({sorted(self.teams)})"
                raise ValueError(msg)
            where = f".applications.{app}.destination"
            if settings.destination.server != IN_CLUSTER_SERVER:
                msg = f"{where}.server: team {project}'s project allows only this cluster ({IN_CLUSTER_SERVER})"
                raise ValueError(msg)
            if settings.destination.namespace not in team.namespaces:
                msg = (
                    f"{where}.namespace: {settings.destination.namespace!r} is not one of team {project}'s namespaces "
                    f"({', '.join(team.namespaces)})"
                )
                raise ValueError(msg)
            outside = [s.repo_url for s in settings.all_sources if s.repo_url not in team.source_repos]
            if outside:
                msg = f".applications.{app}: team {project}'s project does not allow repos {outside}"
                raise ValueError(msg)
            if "CreateNamespace=true" in settings.sync_options and not team.allows_namespaces():
                msg = (
                    f".applications.{app}.syncOptions: CreateNamespace=true needs Namespace in team {project}'s "
                    "allowClusterKinds (Argo CD checks the project)"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _teams_isolated(self) -> Self:
        if "default" in self.teams:
            msg = ".teams.default: 'default' is Argo CD's project for system services"
            raise ValueError(msg)
        owner: dict[str, str] = {}
        for team, project in sorted(self.teams.items()):
            for namespace in project.namespaces:
                if namespace in RESERVED_NAMESPACES or owner.setdefault(namespace, team) != team:
                    msg = f".teams.{team}.namespaces: {namespace!r} is reserved or claimed by another team"
                    raise ValueError(msg)
        return self


class GitopsSettings(Model):
    """Which GitOps engine the platform installs."""

    engine: Literal["argocd", "flux"] = Field(
        default="argocd", description="`argocd` (settings under `argo`) or `flux` (settings under `flux`)."
    )


_FLUX_DURATION = r"^(\d+h)?(\d+m)?(\d+s)?$"
_FLUX_PATH = r"^(\./)?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$|^\./?$"


def _path_shorthand(value: object) -> object:
    """A cluster path given as its path alone (``apps: ./clusters/prod/apps``)."""
    return {"path": value} if isinstance(value, str) else value


class FluxPathSettings(Model):
    """One cluster path of a Flux git source: one Kustomization."""

    path: str = Field(
        pattern=_FLUX_PATH, description="Directory in the repository (relative, e.g. ./clusters/prod/apps)."
    )
    prune: StrictBool = Field(default=True, description="Delete from the cluster what git no longer holds.")
    depends_on: list[K8sName] = Field(
        default_factory=list, description="Other paths of this source that must be ready first (CRDs before apps)."
    )

    @field_validator("path")
    @classmethod
    def _inside(cls, path: str) -> str:
        if ".." in path.split("/"):
            msg = f"{path!r} leaves the repository"
            raise ValueError(msg)
        return path


#: What a cluster path entry may be written as (the JSON Schema's view of `_path_shorthand`): the path alone or
#: the whole entry.
FluxPath = (
    Annotated[str, Field(pattern=_FLUX_PATH, description="The path alone: `prune` and `dependsOn` at their defaults.")]
    | FluxPathSettings
)
FluxPathEntry = Annotated[FluxPathSettings, BeforeValidator(_path_shorthand, json_schema_input_type=FluxPath)]


class FluxSourceSettings(Model):
    """A git repository Flux pulls over SSH with a deploy key of its own, and its cluster paths."""

    url: str = Field(
        pattern=FLUX_SSH_URL.pattern,
        description="ssh://git@<host>/<org>/<repo>.git (Flux takes no scp-like git@host:path).",
    )
    branch: str = Field(default="main", min_length=1, pattern=r"^[^\s~^:?*\[\\]+$", description="Branch to follow.")
    interval: str = Field(
        default="5m", min_length=2, pattern=_FLUX_DURATION, description="How often Flux fetches and applies (1m30s)."
    )
    paths: dict[K8sName, FluxPathEntry] = Field(
        min_length=1, description="Cluster paths by name: one Kustomization `<source>-<name>` each."
    )

    @model_validator(mode="after")
    def _paths_ordered(self) -> Self:
        try:
            flux_path_order(flux_path_specs(self))
        except ValueError as err:
            msg = f".paths.{err}"
            raise ValueError(msg) from None
        return self


class FluxHelmRepositorySettings(Model):
    """An OCI Helm repository on ECR (type oci, provider aws: source-controller logs in with its IRSA role)."""

    url: str = Field(
        pattern=FLUX_ECR_OCI_URL.pattern,
        description="oci://<account>.dkr.ecr.<region>.amazonaws.com[/<prefix>]: the charts' repositories' parent.",
    )


class FluxSettings(Model):
    """Flux (`gitops.engine: flux`): git sources with their cluster paths, OCI Helm repositories on ECR."""

    sources: dict[K8sName, FluxSourceSettings] = Field(
        default_factory=dict, description="Git sources by name: a GitRepository and a deploy key each."
    )
    helm_repositories: dict[K8sName, FluxHelmRepositorySettings] = Field(
        default_factory=dict, description="OCI HelmRepositories on ECR by name (in flux-system)."
    )
    known_hosts: list[Annotated[str, Field(pattern=r"^\S+ \S+ \S+( .*)?$")]] = Field(
        default_factory=lambda: list(GITHUB_KNOWN_HOSTS),
        min_length=1,
        description="known_hosts lines of the sources' hosts (default: GitHub's published host keys).",
    )

    @model_validator(mode="after")
    def _hosts_and_names(self) -> Self:
        reserved = sorted(name for name in self.helm_repositories if name.startswith("addon-"))
        if reserved:
            msg = f".helmRepositories.{reserved[0]}: names addon-<name> are the bridged add-ons' HelmRepositories"
            raise ValueError(msg)
        kustomizations: dict[str, str] = {}
        for source_name, source in sorted(self.sources.items()):
            problem = flux_known_hosts_problem(source.url, self.known_hosts)
            if problem:
                msg = f".sources.{source_name}.url: {problem}: add its host keys to flux.knownHosts"
                raise ValueError(msg)
            for path_name in sorted(source.paths):
                kustomization = flux_kustomization_name(source_name, path_name)
                # kustomize-controller labels what it applies with the Kustomization's name (a label value).
                if len(kustomization) > DNS_LABEL_MAX:
                    msg = (
                        f".sources.{source_name}.paths.{path_name}: the Kustomization {kustomization!r} is longer "
                        f"than {DNS_LABEL_MAX} characters (a label value); shorten the names"
                    )
                    raise ValueError(msg)
                where = f"{source_name}.paths.{path_name}"
                if kustomizations.setdefault(kustomization, where) != where:
                    msg = (
                        f".sources.{where}: the Kustomization {kustomization!r} is also "
                        f"sources.{kustomizations[kustomization]}'s; rename one"
                    )
                    raise ValueError(msg)
        return self


class VaultMode(StrEnum):
    """Where Vault runs: HCP (today's AWS auth and injector) or in the cluster (VaultServer)."""

    HCP = "hcp"
    IN_CLUSTER = "in-cluster"


_VAULT_TTL = re.compile(r"^([1-9]\d*)([smh])$")
_TTL_SECONDS = {"s": 1, "m": 60, "h": 3600}
_VAULT_PATH = r"^[a-z0-9][a-z0-9-]*$"


class VaultRoleSettings(Model):
    """A Kubernetes auth role of the in-cluster Vault: ServiceAccounts that log in as it and its policies."""

    service_accounts: list[str] = Field(
        min_length=1, description="`<namespace>/<serviceAccount>` bound to the role (exact names)."
    )
    policies: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]] = Field(
        default_factory=list, description="Vault policies of the role's tokens."
    )
    ttl: str = Field(default="1h", pattern=_VAULT_TTL.pattern, description="Token TTL (`<n>s|m|h`; max TTL is 4x).")

    @field_validator("service_accounts")
    @classmethod
    def _accounts(cls, accounts: list[str]) -> list[str]:
        for account in accounts:
            namespace, _, name = account.partition("/")
            if not (_K8S_NAME.fullmatch(namespace) and _K8S_NAME.fullmatch(name)):
                msg = f"expected <namespace>/<serviceAccount> (DNS labels), got {account!r}"
                raise ValueError(msg)
        if len(set(accounts)) != len(accounts):
            msg = f"lists a ServiceAccount twice: {accounts}"
            raise ValueError(msg)
        problem = role_binding_problem(_namespaced(accounts))
        if problem:
            raise ValueError(problem)
        return accounts

    @property
    def ttl_seconds(self) -> int:
        """The TTL in seconds."""
        match = _VAULT_TTL.fullmatch(self.ttl)
        assert match is not None  # noqa: S101 - the field's pattern
        return int(match.group(1)) * _TTL_SECONDS[match.group(2)]


class VaultTlsSettings(Model):
    """The stack's own CA and the server certificate it signs (pulumi-tls)."""

    ca_validity_hours: StrictInt = Field(default=87600, ge=24, description="CA lifetime (default 10 years).")
    cert_validity_hours: StrictInt = Field(default=8760, ge=24, description="Server certificate lifetime (1 year).")
    early_renewal_hours: StrictInt = Field(
        default=720, ge=0, description="Re-issue the server certificate this long before it expires (`pulumi up`)."
    )

    @model_validator(mode="after")
    def _lifetimes(self) -> Self:
        if self.cert_validity_hours > self.ca_validity_hours:
            msg = ".certValidityHours: the server certificate may not outlive its CA (caValidityHours)"
            raise ValueError(msg)
        if self.early_renewal_hours >= self.cert_validity_hours:
            msg = ".earlyRenewalHours: must be shorter than certValidityHours (it would re-issue on every up)"
            raise ValueError(msg)
        return self


class VaultInClusterSettings(Model):
    """Vault in the cluster (`vault.mode: in-cluster`): HA raft, KMS auto-unseal, TLS, Kubernetes auth."""

    replicas: StrictInt = Field(default=3, ge=1, le=7, description="Raft voters (odd; at least 3 in production).")
    data_storage_gib: StrictInt = Field(default=10, ge=1, le=16384, description="Raft data volume per pod (GiB).")
    audit_storage_gib: StrictInt = Field(default=10, ge=1, le=16384, description="Audit log volume per pod (GiB).")
    tls: VaultTlsSettings = Field(default_factory=VaultTlsSettings, description="The CA and server certificate.")
    configure: StrictBool = Field(
        default=False,
        description="Phase 2, after `vault operator init`: configure auth, KV and roles through `address`.",
    )
    address: str = Field(
        default="", pattern=r"^(https://\S+)?$", description="Where the deployer reaches Vault (https), with configure."
    )
    ca_cert_file: str | None = Field(
        default=None,
        description="With configure: the stack CA as a file (`pulumi stack output vaultCaCertPem > <file>`).",
    )
    auth_path: str = Field(default="kubernetes", pattern=_VAULT_PATH, description="Mount path of the kubernetes auth.")
    kv_path: str = Field(default="secret", pattern=_VAULT_PATH, description="Mount path of the KV v2 secrets engine.")
    roles: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")], VaultRoleSettings] = (
        Field(default_factory=dict, description="Kubernetes auth roles by name (with configure).")
    )

    @field_validator("replicas")
    @classmethod
    def _odd(cls, replicas: int) -> int:
        if replicas % 2 == 0:
            msg = (
                f"raft needs an odd number of voters (a quorum of {replicas // 2 + 1} of {replicas} adds no tolerance)"
            )
            raise ValueError(msg)
        return replicas

    @model_validator(mode="after")
    def _phases(self) -> Self:
        if self.configure and not self.address:
            msg = ".address: required with configure (e.g. https://127.0.0.1:8200 through kubectl port-forward)"
            raise ValueError(msg)
        if self.configure and not self.ca_cert_file:
            msg = ".caCertFile: required with configure (`pulumi stack output vaultCaCertPem > vault-ca.pem`)"
            raise ValueError(msg)
        if not self.configure:
            for key, value in (("address", self.address), ("caCertFile", self.ca_cert_file), ("roles", self.roles)):
                if value:
                    msg = f".{key}: used only with configure: true (after `vault operator init`)"
                    raise ValueError(msg)
        if self.auth_path == self.kv_path:
            msg = ".kvPath: the kubernetes auth method is mounted there already (authPath)"
            raise ValueError(msg)
        return self


#: Fields of `VaultSettings` that only HCP mode (VaultAwsAuth) reads.
_HCP_ONLY_FIELDS = {
    "address": "address",
    "namespace": "namespace",
    "auth_path": "authPath",
    "secrets_path": "secretsPath",
    "auth_role": "authRole",
    "bound_namespace": "boundNamespace",
    "bound_service_account": "boundServiceAccount",
    "users": "users",
    "users_files": "usersFiles",
}


class VaultSettings(Model):
    """Vault: HCP Vault's AWS auth and secrets engine with the agent injector (mode hcp), or Vault in the cluster."""

    enabled: StrictBool = Field(default=False, description="Configure Vault and install the injector.")
    mode: VaultMode = Field(
        default=VaultMode.HCP, description="hcp: HCP Vault with AWS auth (the fields below); in-cluster: `inCluster`."
    )
    in_cluster: VaultInClusterSettings | None = Field(
        default=None, description="The in-cluster server (mode in-cluster; unset: its defaults)."
    )
    address: str = Field(default="", pattern=r"^(https://\S+)?$", description="Vault address (https).")
    namespace: str | None = Field(default="admin", description="Vault namespace (`admin` on HCP).")
    auth_path: str = Field(default="aws", pattern=r"^[a-z0-9-]+$", description="Mount path of the aws auth method.")
    secrets_path: str = Field(default="aws", pattern=r"^[a-z0-9-]+$", description="Mount path of the aws engine.")
    auth_role: str = Field(
        default="daft-service-role",
        pattern=r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$",
        description="Vault role the cluster's pods log in as.",
    )
    bound_namespace: K8sName = Field(default="vault-auth", description="Namespace of the bound ServiceAccount.")
    bound_service_account: K8sName = Field(default="vault-auth", description="ServiceAccount bound to the role.")
    users: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@+-]*[A-Za-z0-9_]$")], list[str]] = Field(
        default_factory=dict, description="User (e.g. e-mail) -> role ARNs Vault may assume for them."
    )
    users_files: list[str] = Field(
        default_factory=list, description="YAML files (relative to the project directory) of more `users` entries."
    )

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if self.mode is VaultMode.HCP:
            if self.in_cluster is not None:
                msg = ".inCluster: only with mode: in-cluster"
                raise ValueError(msg)
            return self
        if not self.enabled:
            msg = ".mode: in-cluster needs enabled: true"
            raise ValueError(msg)
        hcp = sorted(alias for key, alias in _HCP_ONLY_FIELDS.items() if key in self.model_fields_set)
        if hcp:
            msg = f".{hcp[0]}: an HCP (mode hcp) setting; in-cluster Vault is configured under inCluster"
            raise ValueError(msg)
        return self

    @property
    def server(self) -> VaultInClusterSettings:
        """The in-cluster server's settings (their defaults when `inCluster` is unset)."""
        return self.in_cluster or VaultInClusterSettings()

    @property
    def hcp(self) -> bool:
        """Vault enabled in HCP mode (VaultAwsAuth)."""
        return self.enabled and self.mode is VaultMode.HCP

    @property
    def in_cluster_server(self) -> bool:
        """Vault enabled in the cluster (VaultServer)."""
        return self.enabled and self.mode is VaultMode.IN_CLUSTER

    @model_validator(mode="after")
    def _address_when_enabled(self) -> Self:
        if self.hcp and not self.address:
            msg = ".address: required when Vault is enabled"
            raise ValueError(msg)
        if self.bound_namespace == VAULT_INJECTOR_NAMESPACE:
            msg = f".boundNamespace: {VAULT_INJECTOR_NAMESPACE!r} is the agent injector's namespace; use another"
            raise ValueError(msg)
        for user, arns in self.users.items():
            bad = [arn for arn in arns if not is_iam_role_arn(arn)]
            if bad or not arns:
                msg = f".users.{user}: expected a non-empty list of IAM role ARNs, got {arns}"
                raise ValueError(msg)
        problems = user_role_problems(self.users)
        if problems:
            raise ValueError(problems[0])
        return self


AddonInstall = Literal["helm", "gitops", "off"]
_INSTALL_DESCRIPTION = (
    "`helm`: a pinned Helm release by this stack; `gitops`: the IAM role here, the chart through the GitOps bridge "
    "(an ApplicationSet); `off` (default): nothing."
)
HostedZoneId = Annotated[str, Field(pattern=HOSTED_ZONE_ID)]


def _unique_zones(zones: list[str]) -> list[str]:
    repeated = sorted({zone for zone in zones if zones.count(zone) > 1})
    if repeated:
        msg = f"lists {', '.join(repeated)} more than once"
        raise ValueError(msg)
    return zones


class AddonSettings(Model):
    """An add-on of the catalog with nothing to set but how it is installed."""

    install: AddonInstall = Field("off", description=_INSTALL_DESCRIPTION)


class ExternalDnsSettings(Model):
    """external-dns on Route 53: the zones it may change and the records it manages."""

    install: AddonInstall = Field("off", description=_INSTALL_DESCRIPTION)
    hosted_zone_ids: list[HostedZoneId] = Field(
        default_factory=list,
        description="Route 53 hosted zone ids it may change (its IAM policy names exactly these zones' ARNs).",
    )
    domain_filters: list[str] = Field(
        default_factory=list, description="`--domain-filter`: only records under these domains."
    )
    txt_owner_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="`--txt-owner-id` of its TXT registry records (default: the cluster's name).",
    )
    sources: list[ExternalDnsSource] = Field(
        default_factory=lambda: list(EXTERNAL_DNS_SOURCES), min_length=1, description="Kubernetes objects it reads."
    )
    policy: Literal["upsert-only", "sync"] = Field(
        "upsert-only", description="`upsert-only` never deletes records; `sync` deletes those it owns when gone."
    )

    _zones = field_validator("hosted_zone_ids")(_unique_zones)

    @field_validator("domain_filters")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        bad = [domain for domain in domains if not _DOMAIN.fullmatch(domain)]
        if bad:
            msg = f"not domain names: {', '.join(bad)}"
            raise ValueError(msg)
        return domains

    @model_validator(mode="after")
    def _zones_when_installed(self) -> Self:
        if self.install != "off" and not self.hosted_zone_ids:
            msg = ".hostedZoneIds: required when external-dns is installed (the zones its IAM policy may change)"
            raise ValueError(msg)
        return self


class CertManagerSettings(Model):
    """cert-manager: its CRDs, and the Route 53 zones of its ACME DNS-01 role."""

    install: AddonInstall = Field("off", description=_INSTALL_DESCRIPTION)
    hosted_zone_ids: list[HostedZoneId] = Field(
        default_factory=list,
        description="Route 53 zones for DNS-01 challenges (an IRSA role changing their TXT records); none: no role.",
    )
    ambient_credentials: StrictBool = Field(
        default=True,
        description="`--cluster-issuer-ambient-credentials`: ClusterIssuers may use the controller's IRSA role.",
    )
    issuer_ambient_credentials: StrictBool = Field(
        default=False,
        description=(
            "`--issuer-ambient-credentials`: namespaced Issuers may use it too (then anyone who can create an "
            "Issuer in any namespace can change the zones' TXT records)."
        ),
    )
    crds: StrictBool = Field(default=True, description="Install the CRDs with the chart (`crds.enabled`).")

    _zones = field_validator("hosted_zone_ids")(_unique_zones)

    @model_validator(mode="after")
    def _ambient_needs_zones(self) -> Self:
        if self.issuer_ambient_credentials and not self.hosted_zone_ids:
            msg = ".issuerAmbientCredentials: without hostedZoneIds cert-manager has no IRSA role to share"
            raise ValueError(msg)
        return self


class TrivyOperatorSettings(Model):
    """trivy-operator, the Sage seed's scanner, and policy-reporter as its UI."""

    install: AddonInstall = Field("off", description=_INSTALL_DESCRIPTION)
    policy_reporter: StrictBool = Field(
        default=True,
        description=(
            "Also install policy-reporter (UI) and trivy-operator-polr-adapter, which turns trivy's reports into "
            "the PolicyReports policy-reporter reads."
        ),
    )


class AddonsSettings(Model):
    """The add-on catalog (components/addon_catalog.py): each add-on `install: helm | gitops | off`."""

    aws_load_balancer_controller: AddonSettings = Field(
        default_factory=AddonSettings, description="AWS Load Balancer Controller (IAM policy: upstream's)."
    )
    external_dns: ExternalDnsSettings = Field(default_factory=ExternalDnsSettings, description="external-dns.")
    cert_manager: CertManagerSettings = Field(default_factory=CertManagerSettings, description="cert-manager.")
    metrics_server: AddonSettings = Field(default_factory=AddonSettings, description="metrics-server.")
    trivy_operator: TrivyOperatorSettings = Field(
        default_factory=TrivyOperatorSettings, description="trivy-operator (and policy-reporter)."
    )

    def claims(self) -> list[tuple[str, str, str | None]]:
        """``(settings key, namespace, ServiceAccount)`` of every installed add-on's chart (either install path)."""
        installed = {key: install != "off" for key, install in self.installs().items()}
        charts = {
            "awsLoadBalancerController": [LB_CONTROLLER],
            "externalDns": [EXTERNAL_DNS],
            "certManager": [CERT_MANAGER],
            "metricsServer": [METRICS_SERVER],
            "trivyOperator": [TRIVY_OPERATOR]
            + ([TRIVY_POLR_ADAPTER, POLICY_REPORTER] if self.trivy_operator.policy_reporter else []),
        }
        return [
            (f"addons.{key}", ADDON_NAMESPACES[name], ADDON_SERVICE_ACCOUNTS.get(name))
            for key, names in charts.items()
            if installed[key]
            for name in names
        ]

    def installs(self) -> dict[str, str]:
        """Every add-on's install mode by its settings key."""
        return {
            "awsLoadBalancerController": self.aws_load_balancer_controller.install,
            "externalDns": self.external_dns.install,
            "certManager": self.cert_manager.install,
            "metricsServer": self.metrics_server.install,
            "trivyOperator": self.trivy_operator.install,
        }


#: The file names `kustomize build` accepts as a directory's kustomization (sigs.k8s.io/kustomize konfig).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_GLOB_CHARACTERS = frozenset("*?[")


def project_dir(info: ValidationInfo) -> Path:
    """The directory settings paths are relative to: ``context={"project_dir": ...}`` if given, else the cwd."""
    base = (info.context or {}).get("project_dir") if isinstance(info.context, dict) else None
    return Path(base) if base is not None else Path.cwd()


def _project_path(name: str, info: ValidationInfo, what: str) -> Path:
    """``name`` inside the project directory; refuses absolute paths, paths that leave it and glob patterns."""
    base = project_dir(info).resolve()
    path = (base / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base):
        msg = f"{name!r}: {what} must be a relative path inside the project directory"
        raise ValueError(msg)
    if _GLOB_CHARACTERS & set(name):
        msg = f"{name!r}: a path, not a glob pattern (the YAML files are listed one by one)"
        raise ValueError(msg)
    return path


class ManifestSettings(Model):
    """One stage of `manifests`: a Kustomize directory or a list of YAML files, applied after the stage before it."""

    name: K8sName = Field(
        description=(
            "The stage's identity: its objects' resource names are keyed by it (`manifests-<name>-<namespace>/"
            "<object>`), never by its position, so inserting a stage renames nothing."
        )
    )
    kustomize: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "A Kustomize directory (relative to the project directory) holding a kustomization.yaml; the "
            "kubernetes provider builds it at preview and up."
        ),
    )
    files: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None, min_length=1, description="YAML files (relative to the project directory), applied as they are."
    )

    @field_validator("kustomize")
    @classmethod
    def _kustomization_dir(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is None:
            return None
        path = _project_path(name, info, "a kustomize directory")
        if not path.is_dir():
            msg = f"{name!r}: no such directory in the project"
            raise ValueError(msg)
        if not any((path / file).is_file() for file in KUSTOMIZATION_FILES):
            msg = f"{name!r}: holds no kustomization ({', '.join(KUSTOMIZATION_FILES)})"
            raise ValueError(msg)
        return name

    @model_validator(mode="after")
    def _yaml_files(self, info: ValidationInfo) -> Self:
        for index, name in enumerate(self.files or []):
            try:
                path = _project_path(name, info, "a manifest file")
            except ValueError as err:
                raise ValueError(f".files[{index}]: {err}") from None
            if not path.is_file():
                msg = f".files[{index}]: {name!r}: no such file in the project"
                raise ValueError(msg)
            if index != (self.files or []).index(name):
                msg = f".files[{index}]: {name!r} is listed twice"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.kustomize is None) == (self.files is None):
            which = "both" if self.kustomize is not None else "neither"
            msg = f".kustomize: a stage is a kustomize directory or a list of files, not {which}"
            raise ValueError(msg)
        return self


class RunnerKind(StrEnum):
    """Where the stack's CI jobs run."""

    CODEBUILD = "codebuild"
    EXTERNAL = "external"


class ComputeType(StrEnum):
    """CodeBuild compute types of a Linux container runner."""

    SMALL = "BUILD_GENERAL1_SMALL"
    MEDIUM = "BUILD_GENERAL1_MEDIUM"
    LARGE = "BUILD_GENERAL1_LARGE"
    XLARGE = "BUILD_GENERAL1_XLARGE"
    XXLARGE = "BUILD_GENERAL1_2XLARGE"


class DeliverySettings(Model):
    """Where CI deploys this stack from (see docs/decisions/0003-in-vpc-runner.md)."""

    runner: RunnerKind = Field(
        RunnerKind.CODEBUILD,
        description=(
            "`codebuild`: a CodeBuild-hosted GitHub Actions runner in the private subnets (reaches a private "
            "endpoint); `external`: a runner outside the VPC whose egress is in `runnerEgressCidrs`."
        ),
    )
    github_repository: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$",
        description="`owner/name` of the repository whose deploy and drift workflows run on the runner.",
    )
    connection_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$",
        description="AWS CodeConnections connection to GitHub (created and authorised once, in the console).",
    )
    compute_type: ComputeType = Field(ComputeType.MEDIUM, description="The runner's CodeBuild compute type.")
    image: str = Field(
        "aws/codebuild/standard:7.0",
        min_length=1,
        description="CodeBuild image (Ubuntu based: actions/setup-python supports it).",
    )
    log_retention_days: int = Field(default=365, description="Retention of the runner's CloudWatch logs.")
    runner_egress_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="`external` runner: its public egress CIDRs, each inside cluster.endpoint.publicAccessCidrs.",
    )
    workflows: list[Annotated[str, Field(pattern=WORKFLOW_NAME_PATTERN)]] = Field(
        default_factory=lambda: list(RUNNER_WORKFLOWS),
        min_length=1,
        description="Workflows (`name:`) whose jobs the codebuild runner takes; add `pull-request` for PR previews.",
    )

    _retention = field_validator("log_retention_days")(_check_retention)

    def codebuild_source(self) -> tuple[str, str]:
        """``(githubRepository, connectionArn)`` of the codebuild runner (both required, validated)."""
        if self.github_repository is None or self.connection_arn is None:
            msg = "the codebuild runner needs githubRepository and connectionArn"
            raise ValueError(msg)
        return self.github_repository, self.connection_arn

    @model_validator(mode="after")
    def _runner_needs(self) -> Self:
        if self.runner is RunnerKind.CODEBUILD:
            for field, value in (("githubRepository", self.github_repository), ("connectionArn", self.connection_arn)):
                if value is None:
                    msg = f".{field}: required for the codebuild runner"
                    raise ValueError(msg)
            if self.runner_egress_cidrs:
                msg = ".runnerEgressCidrs: only for an external runner (the codebuild runner is inside the VPC)"
                raise ValueError(msg)
        return self


def _check_name_pattern(family: str, pattern: str) -> str:
    """A `naming.<family>` pattern: known placeholders, and the family's member placeholder (`NAME_FAMILIES`)."""
    _, member, _ = NAME_FAMILIES[family]
    try:
        used = pattern_placeholders(pattern)
    except ValueError:
        msg = f"{pattern!r} is not a name pattern (unbalanced braces)"
        raise ValueError(msg) from None
    allowed = STACK_PLACEHOLDERS | ({member} if member else set())
    unknown = sorted(used - allowed)
    if unknown:
        msg = f"{pattern!r} uses unknown placeholders {unknown} (allowed: {', '.join(sorted(allowed))})"
        raise ValueError(msg)
    if member and member not in used:
        msg = f"{pattern!r} lacks {{{member}}}: every {family} would get the same name"
        raise ValueError(msg)
    return pattern


class NamingSettings(Model):
    """Physical names of the platform's own resources, as patterns (keep an existing platform's names).

    Placeholders: `{project}`, `{env}`, `{prefix}` (`{project}-{env}`), `{cluster}` (the cluster's name) and the
    family's own. Names from a pattern are used as written and checked against the service's limits.
    """

    role: str | None = Field(
        default=None,
        description=(
            "The platform's IAM roles (cluster, node, vpc-cni, ebs-csi, karpenter-node, karpenter-controller, "
            "cluster-autoscaler, vpc-flow-logs, ci-runner): placeholder `{role}`; default `{prefix}-{role}`."
        ),
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="Exact names (stack placeholders allowed) of single platform roles, by role, e.g. `cluster`.",
    )
    node_group: str | None = Field(
        default=None,
        description="Managed node groups and their launch templates: `{group}`; default `{prefix}-{group}`.",
    )
    network: str | None = Field(
        default=None,
        description=(
            "The VPC's Name tag; subnets, route tables and gateways get `<network>-<tier>-<zone>`. Default `{prefix}`."
        ),
    )
    kms_alias: str | None = Field(
        default=None,
        description="Aliases of the platform's KMS keys: `{purpose}`; default `alias/{cluster}-{purpose}`.",
    )

    @field_validator("role", "node_group", "network", "kms_alias")
    @classmethod
    def _patterns(cls, pattern: str | None, info: ValidationInfo) -> str | None:
        family = to_camel(info.field_name or "")
        return None if pattern is None else _check_name_pattern(family, pattern)

    @field_validator("roles")
    @classmethod
    def _role_names(cls, roles: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(roles) - PLATFORM_ROLES)
        if unknown:
            msg = f"not platform roles: {', '.join(unknown)} (roles: {', '.join(sorted(PLATFORM_ROLES))})"
            raise ValueError(msg)
        for role, name in roles.items():
            extra = sorted(pattern_placeholders(name) - STACK_PLACEHOLDERS)
            if extra:
                msg = f"{role}: {name!r} uses unknown placeholders {extra}"
                raise ValueError(msg)
        return roles


#: Tag keys the extra tags may not set: the required tags (the provider's default tags) and the platform's own.
PLATFORM_TAG_KEYS = frozenset({*REQUIRED_TAG_KEYS, PUBLIC_ELB_TAG, INTERNAL_ELB_TAG, KARPENTER_DISCOVERY_TAG})
#: Families whose resources are one of a kind, where a `Name` tag may be given.
SINGLE_RESOURCE_TAG_FAMILIES = frozenset({"vpc", "cluster"})


class ExtraTagsSettings(Model):
    """Tags beyond the required ones, per resource family; keys and values may use the stack placeholders.

    E.g. `kubernetes.io/cluster/{cluster}: shared` on subnets, or house conventions such as `Description`.
    """

    vpc: dict[str, str] = Field(default_factory=dict, description="The VPC (a `Name` here overrides its name).")
    subnets: dict[str, str] = Field(default_factory=dict, description="Every subnet.")
    public_subnets: dict[str, str] = Field(default_factory=dict, description="Public subnets (after `subnets`).")
    private_subnets: dict[str, str] = Field(default_factory=dict, description="Private subnets (after `subnets`).")
    intra_subnets: dict[str, str] = Field(default_factory=dict, description="Intra subnets (after `subnets`).")
    cluster: dict[str, str] = Field(default_factory=dict, description="The EKS cluster.")
    node_groups: dict[str, str] = Field(
        default_factory=dict, description="Managed node groups and the instances, volumes and ENIs they launch."
    )

    @model_validator(mode="after")
    def _keys(self) -> Self:
        for family, tags in self.families().items():
            for key, value in tags.items():
                where = f".{family}.{key}"
                if key in PLATFORM_TAG_KEYS:
                    msg = (
                        f"{where}: {key} is set by the platform (required tags, subnet discovery); it cannot be changed"
                    )
                    raise ValueError(msg)
                if key == "Name" and family not in SINGLE_RESOURCE_TAG_FAMILIES:
                    msg = f"{where}: {family} are many resources; their names come from `naming.network`"
                    raise ValueError(msg)
                for text in (key, value):
                    try:
                        extra = sorted(pattern_placeholders(text) - STACK_PLACEHOLDERS)
                    except ValueError:
                        extra = ["unbalanced braces"]
                    if extra:
                        allowed = ", ".join(sorted(STACK_PLACEHOLDERS))
                        msg = f"{where}: {text!r} uses unknown placeholders {extra} (allowed: {allowed})"
                        raise ValueError(msg)
        return self

    def families(self) -> dict[str, dict[str, str]]:
        """The tag maps by camelCase family name."""
        return {to_camel(name): getattr(self, name) for name in type(self).model_fields}

    def rendered(self, family: str, naming: NamingContext) -> dict[str, str]:
        """The tags of ``family`` (camelCase) with the stack placeholders filled in."""
        return {naming.render(key): naming.render(value) for key, value in self.families()[family].items()}


class KmsKeySettings(Model):
    """A customer KMS key for workloads: only the listed app roles may use it (the key policy names them)."""

    description: str = Field(
        min_length=1, max_length=8192, description="What the key protects (the key's description)."
    )
    app_roles: list[K8sName] = Field(
        min_length=1, description="`appRoles` keys whose roles may encrypt, decrypt and make data keys with it."
    )
    deletion_window_days: int = Field(
        default=30, ge=7, le=30, description="Days a scheduled deletion waits (KMS allows 7-30)."
    )

    @field_validator("app_roles")
    @classmethod
    def _unique(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            msg = "lists an app role twice"
            raise ValueError(msg)
        return roles


class AdoptSettings(Model):
    """Existing resources this stack takes over instead of creating (Pulumi's `import` option; always protected).

    Each must already match what the settings describe: a preview shows any difference, and `pulumi up` refuses
    to import a resource that differs. See the README's "Adopting what exists".
    """

    vpc: str | None = Field(default=None, pattern=ADOPTABLE["vpc"].id_pattern.pattern, description="VPC id.")
    internet_gateway: str | None = Field(
        default=None, pattern=ADOPTABLE["internetGateway"].id_pattern.pattern, description="Internet gateway id."
    )
    subnets: dict[
        Annotated[str, Field(pattern=SUBNET_KEY.pattern)],
        Annotated[str, Field(pattern=ADOPTABLE["subnets"].id_pattern.pattern)],
    ] = Field(default_factory=dict, description="Subnet ids by `<tier>-<zone letter>` (e.g. `private-a`).")
    cluster: str | None = Field(
        default=None, pattern=ADOPTABLE["cluster"].id_pattern.pattern, description="The EKS cluster's name."
    )
    control_plane_log_group: str | None = Field(
        default=None,
        pattern=ADOPTABLE["controlPlaneLogGroup"].id_pattern.pattern,
        description="`/aws/eks/<cluster>/cluster`, which EKS created when the cluster's logging was turned on.",
    )
    cluster_role: str | None = Field(
        default=None, pattern=ADOPTABLE["clusterRole"].id_pattern.pattern, description="The cluster role's name."
    )
    node_role: str | None = Field(
        default=None, pattern=ADOPTABLE["nodeRole"].id_pattern.pattern, description="The node role's name."
    )
    oidc_provider: str | None = Field(
        default=None, pattern=ADOPTABLE["oidcProvider"].id_pattern.pattern, description="The OIDC provider's ARN."
    )
    secrets_key: str | None = Field(
        default=None, pattern=ADOPTABLE["secretsKey"].id_pattern.pattern, description="The secrets key's id."
    )
    app_roles: dict[K8sName, Annotated[str, Field(pattern=ADOPTABLE["appRoles"].id_pattern.pattern)]] = Field(
        default_factory=dict, description="Role names by `appRoles` key."
    )

    @model_validator(mode="after")
    def _whole(self) -> Self:
        if self.subnets and not self.vpc:
            msg = ".subnets: subnets are adopted with their VPC (set adopt.vpc)"
            raise ValueError(msg)
        if self.internet_gateway and not self.vpc:
            msg = ".internetGateway: an internet gateway is adopted with its VPC (set adopt.vpc)"
            raise ValueError(msg)
        if self.cluster and not self.cluster_role:
            msg = ".clusterRole: a cluster is adopted with its role (EKS cannot change a cluster's role)"
            raise ValueError(msg)
        return self

    def targets(self) -> dict[tuple[str, str], str]:
        """``{(type, logical name): import id}`` (`components.adoption.import_targets`)."""
        return import_targets(self.model_dump(by_alias=True))


class Settings(Model):
    """All settings of one stack (the value of `eks-platform:settings`)."""

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region of the stack.")

    @field_validator("region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        if region not in AWS_REGIONS:
            msg = f"{region!r} is not an AWS Region (components/limits.py AWS_REGIONS)"
            raise ValueError(msg)
        return region

    owner: str = Field(min_length=1, description="Owning team (the Owner tag).")
    cost_center: str = Field(min_length=1, description="Cost center (the CostCenter tag).")

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        problem = tag_value_problem(value)
        if problem:
            msg = f"becomes a tag value and {problem}"
            raise ValueError(msg)
        return value

    production: StrictBool = Field(
        default=True, description="Production rules: protected resources, no open public endpoint."
    )
    allowed_account_ids: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = Field(
        default_factory=list, description="Refuse to run against any other AWS account."
    )
    permissions_boundary_arn: str | None = Field(
        default=None,
        pattern=_IAM_POLICY_ARN.pattern,
        description=(
            "IAM permissions boundary set on every role the platform creates: the bootstrap's "
            "`<project>-<env>-permissions-boundary`, which the deploy role must attach to any role it creates."
        ),
    )
    service_role_name_pattern: str = Field(
        "{cluster}-{service}",
        description="IAM role names for service accounts; placeholders cluster/project/env/service.",
    )
    naming: NamingSettings = Field(
        default_factory=NamingSettings, description="Physical-name patterns of the platform's own resources."
    )
    extra_tags: ExtraTagsSettings = Field(
        default_factory=ExtraTagsSettings, description="Tags beyond the required ones, per resource family."
    )
    adopt: AdoptSettings = Field(
        default_factory=AdoptSettings, description="Existing resources to take over by id (Pulumi import)."
    )
    vpc: VpcSettings = Field(default_factory=VpcSettings, description="The VPC.")
    cluster: ClusterSettings = Field(default_factory=ClusterSettings, description="The EKS cluster.")
    app_roles: dict[K8sName, AppRoleSettings] = Field(
        default_factory=dict, description="Application IRSA roles keyed by service name."
    )
    app_roles_files: list[str] = Field(
        default_factory=list,
        description=(
            "YAML files (relative to the project directory) of more `appRoles` entries, for rosters too large "
            "for the stack file (the whole stack config must fit one 128 KiB environment variable)."
        ),
    )
    kms_keys: dict[K8sName, KmsKeySettings] = Field(
        default_factory=dict,
        description="Customer KMS keys for workloads by name (alias from `naming.kmsAlias`), used by named roles only.",
    )
    guard_duty: GuardDutySettings = Field(default_factory=GuardDutySettings, description="GuardDuty.")
    email: EmailSettings | None = Field(
        default=None, description="SES identities and an SMTP-sending IAM user; unset: no email resources."
    )
    node_autoscaler: NodeAutoscalerSettings = Field(
        default_factory=NodeAutoscalerSettings, description="Node autoscaling."
    )
    argo: ArgoSettings = Field(default_factory=ArgoSettings, description="Argo CD GitOps bootstrap.")
    gitops: GitopsSettings = Field(default_factory=GitopsSettings, description="The GitOps engine: Argo CD or Flux.")
    flux: FluxSettings | None = Field(
        default=None, description="Flux, with `gitops.engine: flux` only (unset there: Flux with no sources)."
    )
    vault: VaultSettings = Field(
        default_factory=VaultSettings, description="Vault: HCP with AWS auth and the injector, or in the cluster."
    )
    addons: AddonsSettings = Field(
        default_factory=AddonsSettings, description="The add-on catalog (helm, gitops or off each; default off)."
    )
    manifests: list[ManifestSettings] = Field(
        default_factory=list,
        description=(
            "Kustomize directories or YAML files applied in this order, each stage after the one before "
            "(e.g. a `pre` stage with CRDs and namespaces, then the installs)."
        ),
    )
    delivery: DeliverySettings | None = Field(
        default=None, description="Where CI deploys this stack from; unset: no CI runner (deploys from elsewhere)."
    )

    _pattern = field_validator("service_role_name_pattern")(_check_role_pattern)

    @model_validator(mode="after")
    def _production_rules(self) -> Self:
        cidrs = [str(cidr) for cidr in self.cluster.endpoint.public_access_cidrs]
        if self.production and covers_internet(cidrs):
            msg = (
                ".cluster.endpoint.publicAccessCidrs: a production stack may not open the API endpoint to 0.0.0.0/0 "
                f"(these CIDRs together cover the whole internet: {', '.join(cidrs)})"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _unique_manifest_stages(self) -> Self:
        first: dict[str, int] = {}
        for index, stage in enumerate(self.manifests):
            if stage.name in first:
                msg = (
                    f".manifests[{index}].name: {stage.name!r} is the name of manifests[{first[stage.name]}] too "
                    "(a stage's name keys its resources)"
                )
                raise ValueError(msg)
            first[stage.name] = index
        return self

    @model_validator(mode="after")
    def _email_where_ses_is(self) -> Self:
        if self.email is not None and self.region not in SES_REGIONS:
            msg = f".email: Amazon SES is not offered in {self.region} (components/limits.py SES_REGIONS)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _external_runner_reaches_the_api(self) -> Self:
        if self.delivery is None or self.delivery.runner is not RunnerKind.EXTERNAL:
            return self
        problem = reachability_problem(
            runs_on="the external runner",
            in_vpc_label=None,
            public_access=self.cluster.endpoint.public_access,
            public_access_cidrs=[str(cidr) for cidr in self.cluster.endpoint.public_access_cidrs],
            runner_egress_cidrs=[str(cidr) for cidr in self.delivery.runner_egress_cidrs],
        )
        if problem:
            msg = f".delivery.runner: the deploy job {problem}"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _smtp_needs_a_route(self) -> Self:
        if self.email is not None and self.email.smtp_user and self.vpc.nat_strategy is NatStrategy.NONE:
            msg = (
                ".email.smtpUser: with vpc.natStrategy none pods cannot reach email-smtp.<region>.amazonaws.com "
                "(SMTP on 587/465; the interface endpoints admit 443 only): send with the SES API from an app role"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _one_guardduty_data_endpoint(self) -> Self:
        if (
            self.guard_duty.agent_management is AgentManagement.STACK
            and "guardduty-data" in self.vpc.interface_endpoints
        ):
            msg = (
                ".vpc.interfaceEndpoints: guardduty-data is the GuardDuty agent's endpoint, which the stack already "
                "declares with guardDuty.agent stack (a VPC takes one private DNS name per service)"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _key_users_exist(self) -> Self:
        for name, key in sorted(self.kms_keys.items()):
            if name == "secrets":
                msg = ".kmsKeys.secrets: the cluster's secrets key has that alias; choose another name"
                raise ValueError(msg)
            unknown = [role for role in key.app_roles if role not in self.app_roles]
            if unknown:
                msg = f".kmsKeys.{name}.appRoles: not keys of appRoles: {', '.join(unknown)}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _namespaces_have_one_owner(self) -> Self:
        # Built-in namespaces are never declared, so they have no owner to clash with.
        owners: dict[str, str] = dict(PLATFORM_NAMESPACES)
        claims = [
            (f"appRoles.{svc}", role.namespace)
            for svc, role in self.app_roles.items()
            if role.create_service_account and role.namespace not in BUILT_IN_NAMESPACES
        ]
        if self.vault.hcp and self.vault.bound_namespace not in BUILT_IN_NAMESPACES:
            claims.append(("vault.boundNamespace", self.vault.bound_namespace))
        if self.argo.enabled:
            claims += [
                (f"argo.teams.{team}", ns) for team, project in self.argo.teams.items() for ns in project.namespaces
            ]
        claims += [(key, ns) for key, ns, _ in self.addons.claims() if ns not in BUILT_IN_NAMESPACES]
        for owner, namespace in sorted(claims):
            if owners.setdefault(namespace, owner) != owner:
                msg = f".{owner}: namespace {namespace!r} is already created by {owners[namespace]}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _service_accounts_have_one_owner(self) -> Self:
        owners = dict(PLATFORM_SERVICE_ACCOUNTS)
        claims = [
            (f".appRoles.{svc}.serviceAccount", f"{role.namespace}/{role.service_account}")
            for svc, role in sorted(self.app_roles.items())
            if role.create_service_account
        ]
        if self.vault.hcp:
            claims.append(
                (".vault.boundServiceAccount", f"{self.vault.bound_namespace}/{self.vault.bound_service_account}")
            )
        # The add-ons' charts create their ServiceAccounts; listed first, so an app role's claim is the one refused.
        claims[:0] = [(f".{key}", f"{ns}/{account}") for key, ns, account in self.addons.claims() if account]
        for where, account in claims:
            if owners.setdefault(account, where) != where:
                msg = f"{where}: ServiceAccount {account!r} is already created by {owners[account].lstrip('.')}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _ipv6_cluster_needs(self) -> Self:
        """An IPv6 cluster (EKS User Guide, "Learn about IPv6 addresses to clusters, pods, and services")."""
        if self.cluster.ip_family != "ipv6":
            return self
        if not self.vpc.ipv6:
            msg = ".cluster.ipFamily: ipv6 needs IPv6 subnets: set vpc.ipv6: true (a dual-stack VPC)"
            raise ValueError(msg)
        for group, settings in sorted(self.cluster.node_groups.items()):
            xen = [t for t in settings.instance_types if not is_nitro_instance_type(t)]
            if xen:
                msg = (
                    f".cluster.nodeGroups.{group}.instanceTypes: an IPv6 cluster runs on Nitro instances only; "
                    f"{', '.join(xen)} run on Xen"
                )
                raise ValueError(msg)
        if self.node_autoscaler.engine == "spot-ocean":
            msg = (
                ".nodeAutoscaler.engine: the platform's Spot Ocean nodes are IPv4 (nodeadm user data with the service "
                "IPv4 CIDR, no associateIpv6Address): use karpenter or cluster-autoscaler on an IPv6 cluster"
            )
            raise ValueError(msg)
        karpenter = self.node_autoscaler.karpenter
        if self.node_autoscaler.engine == "karpenter" and karpenter.instance_generation_min <= NEWEST_XEN_GENERATION:
            msg = (
                f".nodeAutoscaler.karpenter.instanceGenerationMin: an IPv6 cluster runs on Nitro instances only, and "
                f"generations up to {NEWEST_XEN_GENERATION} include Xen families (c4, m4, r4, t2, ...): "
                f"use {NEWEST_XEN_GENERATION + 1} or more"
            )
            raise ValueError(msg)
        if self.argo.enabled and self.argo.high_availability:
            # Argo CD operator manual, "High Availability": "IPv6 only clusters are not supported" (redis-ha).
            msg = ".argo.highAvailability: Argo CD's HA install (redis-ha) does not support IPv6-only clusters"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _one_gitops_engine(self) -> Self:
        """Settings of the engine not chosen are refused: they would silently do nothing."""
        if self.gitops.engine == "argocd":
            if self.flux is not None:
                msg = ".flux: Flux settings take effect with gitops.engine flux only (the engine is argocd)"
                raise ValueError(msg)
            return self
        for name, info in ArgoSettings.model_fields.items():
            if name in self.argo.model_fields_set:
                msg = (
                    f".argo.{info.alias or name}: gitops.engine flux installs no Argo CD; remove the argo settings "
                    "(Flux's are under flux)"
                )
                raise ValueError(msg)
        version = self.cluster.kubernetes_version
        if version not in FLUX_KUBERNETES_VERSIONS:
            msg = (
                f".gitops.engine: the pinned Flux (flux2 chart {FLUX2_CHART[2]}) supports Kubernetes "
                f"{FLUX_KUBERNETES_VERSIONS[0]}-{FLUX_KUBERNETES_VERSIONS[-1]}, not cluster.kubernetesVersion {version}"
            )
            raise ValueError(msg)
        return self

    @property
    def argo_installed(self) -> bool:
        """Whether the stack installs Argo CD (engine argocd with argo.enabled)."""
        return self.gitops.engine == "argocd" and self.argo.enabled

    @property
    def flux_settings(self) -> FluxSettings | None:
        """Flux's settings when the stack installs Flux (engine flux; an unset `flux` is Flux with no sources)."""
        return (self.flux or FluxSettings()) if self.gitops.engine == "flux" else None

    @model_validator(mode="after")
    def _private_cluster_reaches_nothing_outside(self) -> Self:
        """Without NAT the nodes reach the VPC, its endpoints and ECR's private registries, nothing on the internet."""
        if self.vpc.nat_strategy is not NatStrategy.NONE:
            return self
        why = "vpc.natStrategy none leaves the private subnets no route to the internet"
        if self.delivery is not None and self.delivery.runner is RunnerKind.CODEBUILD:
            msg = (
                f".delivery.runner: the codebuild runner runs in the private subnets and must reach GitHub, but {why}: "
                "use an external runner"
            )
            raise ValueError(msg)
        engine = self.node_autoscaler.engine
        if engine != "none":
            registry = {
                "karpenter": "public.ecr.aws (ECR Public has no VPC endpoint)",
                "spot-ocean": "us-docker.pkg.dev and reports to api.spotinst.io",
            }.get(engine, "registry.k8s.io")
            msg = f".nodeAutoscaler.engine: {engine} pulls its image from {registry}, but {why}: use engine none"
            raise ValueError(msg)
        if self.gitops.engine == "flux":
            msg = (
                f".gitops.engine: Flux pulls its images from ghcr.io and its sources from Git hosts, but {why}: "
                "use engine argocd with argo.enabled false"
            )
            raise ValueError(msg)
        if self.argo.enabled:
            msg = (
                f".argo.enabled: Argo CD pulls its images from quay.io and its sources from Git hosts, but {why}: "
                "set it to false"
            )
            raise ValueError(msg)
        if self.vault.hcp:
            msg = (
                f".vault.enabled: the Vault injector pulls its images from Docker Hub and the agents reach Vault at "
                f"{self.vault.address}, but {why}: set it to false"
            )
            raise ValueError(msg)
        if self.vault.in_cluster_server:
            msg = f".vault.mode: the Vault server and injector pull their images from Docker Hub, but {why}: use hcp"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _vault_in_cluster_fits(self) -> Self:
        """The in-cluster server: a raft quorum in production, its volumes' class, a node per pod, its key's alias."""
        if not self.vault.in_cluster_server:
            return self
        server = self.vault.server
        if self.production and server.replicas < 3:  # noqa: PLR2004 - raft's smallest fault-tolerant cluster
            msg = ".vault.inCluster.replicas: a production Vault needs at least 3 raft voters (one may fail)"
            raise ValueError(msg)
        if not self.cluster.storage.default_storage_class:
            msg = (
                ".vault.inCluster: the data and audit volumes use the platform's gp3 StorageClass, which "
                "cluster.storage.defaultStorageClass: false turns off"
            )
            raise ValueError(msg)
        group = self.cluster.system_group
        most = group.max_size * (self.vpc.az_count if group.per_zone else 1)
        if server.replicas > most:
            msg = (
                f".vault.inCluster.replicas: the chart places one Vault pod per node of the system node group, "
                f"which has at most {most} nodes"
            )
            raise ValueError(msg)
        if UNSEAL_KEY_PURPOSE in self.kms_keys:
            msg = (
                f".kmsKeys.{UNSEAL_KEY_PURPOSE}: the in-cluster Vault's unseal key has that alias; choose another name"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _addons_have_what_they_need(self) -> Self:
        installs = self.addons.installs()
        gitops = [key for key, install in installs.items() if install == "gitops"]
        if gitops and not (self.argo_installed or self.gitops.engine == "flux"):
            msg = (
                f".addons.{gitops[0]}.install: gitops needs a GitOps engine to install it (argo.enabled is false): "
                "enable Argo CD, use gitops.engine flux, or install it with helm"
            )
            raise ValueError(msg)
        installed = [key for key, install in installs.items() if install != "off"]
        if installed and self.vpc.nat_strategy is NatStrategy.NONE:
            msg = (
                f".addons.{installed[0]}.install: the add-ons pull their images from public registries, but "
                "vpc.natStrategy none leaves the private subnets no route to the internet: set it to off"
            )
            raise ValueError(msg)
        ocean = self.node_autoscaler.spot_ocean
        if (
            self.node_autoscaler.engine == "spot-ocean"
            and ocean is not None
            and ocean.deploy_metrics_server
            and self.addons.metrics_server.install != "off"
        ):
            # Both charts create the APIService v1beta1.metrics.k8s.io: the second release fails on its ownership.
            msg = (
                ".nodeAutoscaler.spotOcean.deployMetricsServer: addons.metricsServer installs metrics-server already; "
                "set deployMetricsServer to false"
            )
            raise ValueError(msg)
        return self

    @property
    def protect(self) -> bool:
        """Whether stateful resources get ``protect=True`` and deletion protection."""
        return self.production

    def naming_context(self, project: str, stack: str) -> NamingContext:
        """The names these settings give the stack's resources (`NamingContext.from_settings`, as the pack too)."""
        return NamingContext.from_settings(project, stack, self.model_dump(by_alias=True, mode="json"))


# --- settings -> what the components take (components never import config; __main__.py adds the rest of their Args)


def toleration_spec(toleration: Toleration) -> scheduling.Toleration:
    """A toleration of the settings as `components.scheduling` renders it."""
    return scheduling.Toleration(
        key=toleration.key, operator=toleration.operator, value=toleration.value, effect=toleration.effect
    )


def node_autoscaler_engine(settings: NodeAutoscalerSettings) -> KarpenterSpec | ClusterAutoscalerSpec:
    """`NodeAutoscalerArgs.engine`: the chosen engine with its settings (engine none: no NodeAutoscaler at all)."""
    if settings.engine == "none":
        msg = "engine none runs no autoscaler: declare no NodeAutoscaler"
        raise ValueError(msg)
    if settings.engine == "spot-ocean":
        msg = "engine spot-ocean runs Spot Ocean: declare a SpotOcean (spot_ocean_spec), no NodeAutoscaler"
        raise ValueError(msg)
    if settings.engine == "cluster-autoscaler":
        ca = settings.cluster_autoscaler
        return ClusterAutoscalerSpec(
            node_selector=dict(ca.node_selector), tolerations=tuple(map(toleration_spec, ca.tolerations))
        )
    k = settings.karpenter
    return KarpenterSpec(
        capacity_types=tuple(k.capacity_types),
        instance_categories=tuple(k.instance_categories),
        instance_generation_min=k.instance_generation_min,
        cpu_limit=k.cpu_limit,
        memory_limit_gib=k.memory_limit_gib,
        consolidation_policy=k.consolidation_policy,
        consolidate_after=k.consolidate_after,
        expire_after=k.expire_after,
        disk_size_gib=k.disk_size_gib,
    )


def spot_ocean_spec(settings: SpotOceanSettings) -> SpotOceanSpec:
    """`SpotOceanArgs.spec`."""
    headroom = settings.headroom
    f = settings.filters
    return SpotOceanSpec(
        account_id=settings.account_id,
        min_size=settings.capacity.min_size,
        max_size=settings.capacity.max_size,
        desired_capacity=settings.capacity.desired_capacity,
        headroom=AutomaticHeadroom(headroom.automatic_percentage)
        if headroom.automatic_percentage is not None
        else ManualHeadroom(
            cpu_millicores=headroom.cpu_per_unit or 0,
            memory_mib=headroom.memory_per_unit or 0,
            units=headroom.num_of_units or 0,
        ),
        max_scale_down_percentage=settings.scale_down.max_scale_down_percentage,
        aggressive_scale_down=settings.scale_down.aggressive,
        max_vcpu=settings.max_vcpu,
        max_memory_gib=settings.max_memory_gib,
        architecture=settings.architecture,
        filters=InstanceFilters(
            categories=tuple(f.categories),
            min_vcpu=f.min_vcpu,
            max_vcpu=f.max_vcpu,
            min_memory_gib=f.min_memory_gib,
            max_memory_gib=f.max_memory_gib,
            include_families=tuple(f.include_families),
            exclude_families=tuple(f.exclude_families),
            exclude_metal=f.exclude_metal,
        ),
        spot_percentage=settings.spot_percentage,
        fallback_to_ondemand=settings.fallback_to_ondemand,
        utilize_reserved_instances=settings.utilize_reserved_instances,
        draining_timeout_seconds=settings.draining_timeout_seconds,
        root_volume_size_gib=settings.root_volume_size_gib,
        metrics_server=settings.deploy_metrics_server,
    )


def vault_spec(settings: VaultSettings) -> VaultSpec:
    """`VaultAwsAuthArgs.vault` (the users as the settings hold them: `usersFiles` are merged in on load)."""
    return VaultSpec(
        address=settings.address,
        namespace=settings.namespace,
        auth_path=settings.auth_path,
        secrets_path=settings.secrets_path,
        auth_role=settings.auth_role,
        bound_namespace=settings.bound_namespace,
        bound_service_account=settings.bound_service_account,
        users={user: tuple(arns) for user, arns in settings.users.items()},
    )


def vault_server_spec(settings: Settings) -> VaultServerSpec:
    """`VaultServerArgs.spec` (vault.mode in-cluster): the server settings and the platform's StorageClass."""
    server = settings.vault.server
    return VaultServerSpec(
        replicas=server.replicas,
        data_storage_gib=server.data_storage_gib,
        audit_storage_gib=server.audit_storage_gib,
        storage_class=settings.cluster.storage.storage_class_name,
        ca_validity_hours=server.tls.ca_validity_hours,
        cert_validity_hours=server.tls.cert_validity_hours,
        cert_early_renewal_hours=server.tls.early_renewal_hours,
        configure=server.configure,
        auth_path=server.auth_path,
        kv_path=server.kv_path,
        roles={
            name: KubernetesAuthRole(
                service_accounts=_namespaced(role.service_accounts),
                policies=tuple(role.policies),
                ttl_seconds=role.ttl_seconds,
            )
            for name, role in sorted(server.roles.items())
        },
    )


def argo_spec(settings: ArgoSettings) -> ArgoSpec:
    """`ArgoBootstrapArgs.argo`."""
    root, sso = settings.root_app, settings.sso
    return ArgoSpec(
        high_availability=settings.high_availability,
        root_app=None
        if root is None
        else RootAppSpec(
            repo_url=root.repo_url,
            path=root.path,
            target_revision=root.target_revision,
            automated=root.automated,
            prune=root.prune,
            self_heal=root.self_heal,
        ),
        teams={
            team: TeamProjectSpec(
                source_repos=tuple(project.source_repos),
                namespaces=tuple(project.namespaces),
                description=project.description,
                allow_cluster_kinds=tuple(
                    KindSpec(kind=k.kind, group=k.group, name=k.name) for k in project.allow_cluster_kinds
                ),
                deny_namespaced_kinds=tuple(
                    KindSpec(kind=k.kind, group=k.group) for k in project.deny_namespaced_kinds
                ),
                labels=dict(project.labels),
                quota=None if project.quota is None else dict(project.quota),
                limits=None
                if project.limits is None
                else LimitsSpec(
                    default=dict(project.limits.default),
                    default_request=dict(project.limits.default_request),
                    max=dict(project.limits.max),
                ),
                default_deny_network_policy=project.default_deny_network_policy,
            )
            for team, project in settings.teams.items()
        },
        sso=None
        if sso is None
        else SsoSpec(issuer=sso.issuer, client_id=sso.client_id, admin_groups=tuple(sso.admin_groups)),
        applications={
            app: application_spec_of(application, automated_default=settings.automated_sync)
            for app, application in settings.applications.items()
        },
        automated_sync=settings.automated_sync,
        rbac=RbacSpec(default_role=settings.rbac.default_role, policy_csv=settings.rbac.policy_csv),
    )


def application_spec_of(settings: ApplicationSettings, *, automated_default: bool) -> ApplicationSpec:
    """An `ArgoSpec.applications` entry (`automated` unset: the stack's `argo.automatedSync`)."""
    return ApplicationSpec(
        sources=tuple(
            SourceSpec(
                repo_url=source.repo_url,
                target_revision=source.target_revision,
                path=source.path,
                chart=source.chart,
                ref=source.ref,
                helm=None
                if source.helm is None
                else HelmSpec(
                    release_name=source.helm.release_name,
                    value_files=tuple(source.helm.value_files),
                    values=source.helm.values,
                    values_as=source.helm.values_as,
                ),
            )
            for source in settings.all_sources
        ),
        multi_source=settings.sources is not None,
        namespace=settings.destination.namespace,
        server=settings.destination.server,
        project=settings.project,
        sync_wave=settings.sync_wave,
        sync_options=tuple(settings.sync_options),
        ignore_differences=tuple(
            IgnoreDifferenceSpec(
                kind=entry.kind,
                group=entry.group,
                name=entry.name,
                namespace=entry.namespace,
                json_pointers=tuple(entry.json_pointers),
                jq_path_expressions=tuple(entry.jq_path_expressions),
                managed_fields_managers=tuple(entry.managed_fields_managers),
            )
            for entry in settings.ignore_differences
        ),
        automated=automated_default if settings.automated is None else settings.automated,
        prune=settings.prune,
        self_heal=settings.self_heal,
        finalizer=settings.finalizer,
    )


def addons_spec(settings: AddonsSettings) -> AddonsSpec:
    """`AddonsArgs.addons`."""
    dns, cert, trivy = settings.external_dns, settings.cert_manager, settings.trivy_operator
    return AddonsSpec(
        aws_load_balancer_controller=settings.aws_load_balancer_controller.install,
        external_dns=ExternalDnsSpec(
            install=dns.install,
            hosted_zone_ids=tuple(dns.hosted_zone_ids),
            domain_filters=tuple(dns.domain_filters),
            txt_owner_id=dns.txt_owner_id,
            sources=tuple(dns.sources),
            policy=dns.policy,
        ),
        cert_manager=CertManagerSpec(
            install=cert.install,
            hosted_zone_ids=tuple(cert.hosted_zone_ids),
            cluster_issuer_ambient_credentials=cert.ambient_credentials,
            issuer_ambient_credentials=cert.issuer_ambient_credentials,
            crds=cert.crds,
        ),
        metrics_server=settings.metrics_server.install,
        trivy_operator=TrivyOperatorSpec(install=trivy.install, policy_reporter=trivy.policy_reporter),
    )


def manifests_spec(settings: Settings, base_dir: Path | None = None) -> tuple[ManifestStage, ...]:
    """`ManifestsArgs.stages` of the settings' `manifests`, in their order.

    Kustomize directories become absolute paths (the provider resolves a relative one against its own working
    directory); files stay as written, relative to the program's working directory, the project directory.
    """
    base = (base_dir or Path.cwd()).resolve()
    return tuple(
        ManifestStage(name=stage.name, kustomize=str(base / stage.kustomize))
        if stage.kustomize is not None
        else ManifestStage(name=stage.name, files=tuple(stage.files or ()))
        for stage in settings.manifests
    )


def flux_path_specs(source: FluxSourceSettings) -> dict[str, ClusterPathSpec]:
    """A Flux source's cluster paths as the component takes them."""
    return {
        name: ClusterPathSpec(path=path.path, prune=path.prune, depends_on=tuple(path.depends_on))
        for name, path in source.paths.items()
    }


def flux_spec(settings: FluxSettings) -> FluxSpec:
    """`FluxBootstrapArgs.flux`."""
    return FluxSpec(
        sources={
            name: GitSourceSpec(
                url=source.url, branch=source.branch, interval=source.interval, paths=flux_path_specs(source)
            )
            for name, source in settings.sources.items()
        },
        helm_repositories={name: repo.url for name, repo in settings.helm_repositories.items()},
        known_hosts=tuple(settings.known_hosts),
    )


def app_role_name(settings: Settings, naming: NamingContext, service: str) -> str:
    """The physical IAM role name of ``appRoles.<service>`` (its pattern, else the stack's)."""
    role = settings.app_roles[service]
    return naming.service_role_name(role.role_name or settings.service_role_name_pattern, service)


def adoption_problems(settings: Settings, naming: NamingContext) -> list[str]:
    """Adopted resources whose id is not the name the settings give them: the import would fail at `pulumi up`."""
    adopt, cluster = settings.adopt, naming.cluster_name
    expected = {
        "cluster": (adopt.cluster, cluster, "set cluster.name to the cluster's name"),
        "controlPlaneLogGroup": (adopt.control_plane_log_group, f"/aws/eks/{cluster}/cluster", "EKS's own name"),
        "clusterRole": (adopt.cluster_role, naming.platform_role("cluster"), "set naming.roles.cluster"),
        "nodeRole": (adopt.node_role, naming.platform_role("node"), "set naming.roles.node"),
    }
    problems = [
        f".adopt.{field}: {given!r} is not the name these settings give it, {want!r} ({hint})"
        for field, (given, want, hint) in expected.items()
        if given is not None and given != want
    ]
    for service, given in sorted(adopt.app_roles.items()):
        if service not in settings.app_roles:
            problems.append(f".adopt.appRoles.{service}: not one of appRoles")
        elif given != (want := app_role_name(settings, naming, service)):
            problems.append(f".adopt.appRoles.{service}: {given!r} is not {want!r} (set appRoles.{service}.roleName)")
    if not settings.vpc.intra_subnets and any(key.startswith("intra-") for key in adopt.subnets):
        problems.append(".adopt.subnets: intra subnets adopted while vpc.intraSubnets is false")
    return problems


def shared_name_problems(settings: Settings, naming: NamingContext) -> list[str]:
    """Names two features would share: a platform role and an access principal, a workload key and the volumes'."""
    problems: list[str] = []
    platform_roles = {name.lower(): what for name, what in naming.platform_role_names().items()}
    for key, entry in sorted(settings.cluster.access.items()):
        kind, _, path = entry.principal_arn.split(":", 5)[-1].partition("/")
        account = entry.principal_arn.split(":")[4]
        own_account = not settings.allowed_account_ids or account in settings.allowed_account_ids
        if kind == "role" and own_account and path.rsplit("/", 1)[-1].lower() in platform_roles:
            problems.append(
                f".cluster.access.{key}.principalArn: {entry.principal_arn} is "
                f"{platform_roles[path.rsplit('/', 1)[-1].lower()]} by name (naming.role/naming.roles): IAM role "
                "names are unique in an account, so the platform would take over its trust; rename one of them"
            )
    workload_aliases = {naming.kms_alias(key): key for key in settings.kms_keys}
    storage_alias = settings.cluster.storage.kms_key_alias
    if storage_alias in workload_aliases:
        problems.append(
            f".cluster.storage.kmsKeyAlias: {storage_alias} is the alias of kmsKeys.{workload_aliases[storage_alias]}, "
            "whose key policy lets only its app roles use it: the EBS CSI driver could not encrypt with it"
        )
    return problems


def platform_name_problems(settings: Settings, naming: NamingContext) -> list[str]:
    """Names of the platform's own resources that a `naming` pattern or `extraTags` entry makes unusable."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for role in sorted(PLATFORM_ROLES):
        name = naming.platform_role(role)
        where = f".naming.roles.{role}" if role in settings.naming.roles else ".naming.role"
        problem = name_problem(name, "iam_role")
        if problem:
            problems.append(f"{where}: the {role} role's name {name!r} {problem}")
        elif seen.setdefault(name.lower(), role) != role:
            problems.append(f"{where}: the {role} role's name {name!r} is the {seen[name.lower()]} role's too")
    for group, spec in sorted(settings.cluster.node_groups.items()):
        # A per-zone group's names end in -<zone letter>; a pattern's name is not cut to make room for it.
        name = naming.node_group(group) + ("-a" if spec.per_zone and settings.naming.node_group else "")
        problem = name_problem(name, "eks_node_group")
        if problem:
            problems.append(f".naming.nodeGroup: node group {group!r} gets the name {name!r}, which {problem}")
    alias = naming.kms_alias("secrets")
    alias_problem = name_problem(alias, "kms_alias")
    if alias_problem:
        problems.append(f".naming.kmsAlias: the secrets key's alias {alias!r} {alias_problem}")
    for key in sorted(settings.kms_keys):
        key_alias = naming.kms_alias(key)
        problem = name_problem(key_alias, "kms_alias")
        if problem:
            problems.append(f".kmsKeys.{key}: its alias {key_alias!r} {problem}")
    network_problem = tag_value_problem(naming.network_name)
    if network_problem:
        problems.append(f".naming.network: the VPC's Name tag {naming.network_name!r} {network_problem}")
    problems += adoption_problems(settings, naming)
    problems += shared_name_problems(settings, naming)
    for family in settings.extra_tags.families():
        for key, value in settings.extra_tags.rendered(family, naming).items():
            problem = tag_key_problem(key) or tag_value_problem(value)
            if problem:
                problems.append(f".extraTags.{family}: tag {key}={value!r} {problem}")
    return problems


def name_problems(
    settings: Settings, naming: NamingContext, origins: Mapping[tuple[str, str], str] | None = None
) -> list[str]:
    """Physical names two things would share (IAM refuses the second: EntityAlreadyExists), as ``.field: ...``.

    App roles are checked against each other and against every role the platform creates itself.
    """
    naming = settings.naming_context(naming.project, naming.stack)
    problems: list[str] = []
    stack_problem = label_value_problem(naming.stack)
    prefix_problem = stack_problem or (
        None if settings.cluster.name else name_problem(naming.cluster_name, "eks_cluster")
    )
    if prefix_problem:
        problems.append(
            f": the stack name {naming.stack!r} makes the cluster name {naming.cluster_name!r}, which {prefix_problem}"
        )
    problems += platform_name_problems(settings, naming)
    # IAM role names are unique case-insensitively ("MyRole" and "myrole" cannot both exist).
    taken = {name.lower(): what for name, what in naming.platform_role_names().items()}
    for service in sorted(settings.app_roles):
        name = app_role_name(settings, naming, service)
        source = (origins or {}).get(("appRoles", service))
        where = f".appRoles.{service}.roleName" + (f" (from {source})" if source else "")
        role_problem = name_problem(name, "iam_role")
        if role_problem:
            problems.append(f"{where}: IAM role name {name!r} {role_problem}")
        # The GitOps bridge annotates the cluster Secret with `platform.eks/app-<service>-role-arn`.
        annotation = f"app-{service}-role-arn"
        if len(annotation) > DNS_LABEL_MAX:
            problems.append(
                f".appRoles.{service}: the key makes the annotation name {annotation!r}, "
                f"over {DNS_LABEL_MAX} characters"
            )
        if name.lower() in taken:
            problems.append(f"{where}: IAM role name {name!r} is already {taken[name.lower()]}; choose another name")
        else:
            taken[name.lower()] = f"the role of appRoles.{service}"
        arns = settings.app_roles[service].managed_policy_arns
        if len(set(arns)) != len(arns):
            problems.append(f".appRoles.{service}.managedPolicyArns: lists a policy twice")
    return problems


def lifecycle_warnings(settings: Settings, today: dt.date | None = None) -> list[str]:
    """``.field: message`` for versions within `SUPPORT_WARNING_DAYS` of their end of support."""
    cluster = settings.cluster
    problem = support_problem(cluster.kubernetes_version, cluster.upgrade_policy, today or today_utc())
    return [f".cluster.kubernetesVersion: {problem[1]}"] if problem and problem[0] == "warning" else []


def deprecation_warnings(settings: Settings) -> list[str]:
    """``.field: message`` for deprecated spellings the settings still accept."""
    if settings.guard_duty.adopt_detector_id is not None:
        return [".guardDuty.adoptDetectorId: deprecated; write `detector: adopt` and `detectorId` instead"]
    return []


def guardrail_warnings(settings: Settings) -> list[str]:
    """``.field: message`` for a team quota that refuses pods its LimitRange gives no default for.

    With a quota on ``requests.<r>`` (or ``<r>``) or ``limits.<r>``, the API server refuses a pod that does not set
    that request or limit (Kubernetes docs, "Resource Quotas": "the quota system may force ... to specify requests
    or limits"); a LimitRange ``defaultRequest`` / ``default`` fills them in (a default limit is the default request
    too when none is given).
    """
    warnings: list[str] = []
    for team, project in sorted(settings.argo.teams.items()):
        limits = project.limits
        defaults = {
            "requests": set(limits.default_request) | set(limits.default) if limits else set(),
            "limits": set(limits.default) if limits else set(),
        }
        for key in sorted(project.quota or {}):
            kind, _, resource = key.rpartition(".") if "." in key else ("requests", "", key)
            if kind in defaults and resource in LIMIT_RESOURCES and resource not in defaults[kind]:
                default_key = "defaultRequest" if kind == "requests" else "default"
                warnings.append(
                    f".argo.teams.{team}.quota.{key}: pods that set no {kind.rstrip('s')} of {resource} are refused in "
                    f"the team's namespaces; set limits.{default_key}.{resource}"
                )
    return warnings


def parse_settings(
    raw: object,
    *,
    stack_file: str,
    key: str,
    naming: NamingContext | None = None,
    today: dt.date | None = None,
    base_dir: Path | None = None,
) -> Settings:
    """Validate raw settings; on failure raise ``pulumi.RunError`` with one line naming file and field.

    With ``naming`` the physical names the settings lead to are checked too (`name_problems`). ``today`` is the
    day version support is judged on (default: today, UTC). Roster files (`appRolesFiles`, `vault.usersFiles`)
    are read from ``base_dir`` (default: the working directory, the project's when the CLI runs the program) and
    validated with the rest; an error in an entry from a file names the file.
    """
    if not isinstance(raw, dict):
        msg = f"{stack_file}: {key}: expected a mapping of settings, got {type(raw).__name__}"
        raise SettingsError(msg)
    try:
        expanded, origins = expand_rosters(raw, base_dir or Path.cwd())
    except RosterError as exc:
        raise SettingsError(f"{stack_file}: {key}{exc}") from None
    try:
        settings = Settings.model_validate(
            expanded, context={"today": today or today_utc(), "project_dir": base_dir or Path.cwd()}
        )
    except ValidationError as err:
        raise SettingsError(format_error(err, stack_file=stack_file, key=key, origins=origins)) from None
    problems = name_problems(settings, naming, origins) if naming else []
    if problems:
        count = f" ({len(problems)} errors)" if len(problems) > 1 else ""
        raise SettingsError(f"{stack_file}: " + "; ".join(f"{key}{problem}" for problem in problems) + count)
    return settings


def _error_text(error: Mapping[str, Any], key: str, origins: Mapping[tuple[str, str], str]) -> str:
    loc = tuple(error["loc"])
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    if message.startswith("."):  # a model validator naming the field it is about: ".field.path: message"
        relative, _, message = message.partition(": ")
        path += relative
    parts = path.split(".")[1:]  # the full field path: the error's location and a validator's own
    source = origins.get(("appRoles", parts[1])) if parts[:1] == ["appRoles"] and len(parts) > 1 else None
    if parts[:2] == ["vault", "users"] and len(parts) > 2:  # noqa: PLR2004 - vault.users.<user>
        source = origins.get(("vault.users", parts[2]))
    return f"{key}{path}{f' (from {source})' if source else ''}: {message}"


def format_error(
    err: ValidationError, *, stack_file: str, key: str, origins: Mapping[tuple[str, str], str] | None = None
) -> str:
    """One line holding every error: ``<stack file>: <key>.<path>: <message>; <key>.<path>: <message> ...``.

    Model validators name the field they reject by starting their message with ``.<field path>: ``; an entry
    merged from a roster file is followed by ``(from <file>)``.
    """
    texts = list(dict.fromkeys(_error_text(error, key, origins or {}) for error in err.errors()))
    count = f" ({len(texts)} errors)" if len(texts) > 1 else ""
    return f"{stack_file}: " + "; ".join(texts) + count


def required_secrets(settings: Settings) -> dict[str, str]:
    """``{config key: the setting that needs it}`` for the secrets this stack's settings need."""
    needs = dict.fromkeys(VAULT_SECRETS, "vault.enabled") if settings.vault.hcp else {}
    if settings.vault.in_cluster_server and settings.vault.server.configure:
        needs[VAULT_TOKEN] = "vault.inCluster.configure"
    if settings.argo_installed and settings.argo.sso:
        needs[ARGO_SSO_SECRET] = "argo.sso"
    if settings.node_autoscaler.engine == "spot-ocean":
        needs[SPOT_TOKEN_SECRET] = "nodeAutoscaler.engine spot-ocean"
    return needs


def secret_problems(
    settings: Settings, *, project: str, stack_file: str, lookup: Callable[[str], tuple[str | None, bool]]
) -> list[str]:
    """One line per needed secret that is unset or stored in plain text; ``lookup(full key)`` -> (value, secret)."""
    problems = []
    for key, needed_by in required_secrets(settings).items():
        value, secret = lookup(f"{project}:{key}")
        fix = f"pulumi config set --secret {key} <value>"
        if value is None:
            problems.append(f"{stack_file}: {project}:{key}: required by {needed_by}; set it with `{fix}`")
        elif not secret:
            problems.append(f"{stack_file}: {project}:{key}: stored in plain text; encrypt it with `{fix}`")
    return problems


def _stack_config_value(full_key: str) -> tuple[str | None, bool]:
    return get_config(full_key), is_config_secret(full_key)


def load_settings() -> Settings:
    """Read and validate this stack's settings (and the secrets they need) from its stack file's config."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    stack_file, key = f"Pulumi.{stack}.yaml", f"{project}:{SETTINGS_KEY}"
    text = get_config(key)
    if text is None:
        msg = f"{stack_file}: {key} is missing: add the platform settings to the stack file"
        raise SettingsError(msg)
    if is_config_secret(key):
        # A `secure:` value anywhere inside makes the CLI mark the whole key secret, and the program would then
        # place its plain text in resources and outputs. Secrets have keys of their own.
        msg = f"{stack_file}: {key}: holds a `secure:` value; settings are not secret: use a separate secret key"
        raise SettingsError(msg)
    try:
        raw = json.loads(text)
    except ValueError:
        raw = text  # a plain string: not a mapping, refused below
    settings = parse_settings(raw, stack_file=stack_file, key=key, naming=NamingContext(project, stack))
    problems = secret_problems(settings, project=project, stack_file=stack_file, lookup=_stack_config_value)
    if problems:
        count = f" ({len(problems)} errors)" if len(problems) > 1 else ""
        raise SettingsError("; ".join(problems) + count)
    for warning in [*lifecycle_warnings(settings), *deprecation_warnings(settings), *guardrail_warnings(settings)]:
        pulumi.log.warn(f"{stack_file}: {key}{warning}")
    return settings
