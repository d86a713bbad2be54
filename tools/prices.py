"""The pinned, dated price table `tools.cost` estimates with: USD list prices, region-keyed (pure data, no I/O).

Every figure is a public list price (no Savings Plans, Reserved Instances, credits or free tier), Linux, shared
tenancy. Each `Price` names its source; ``confirmed=False`` marks a figure no stored copy of an aws.amazon.com page
(or of AWS's Price List API) showed for that region: the estimate lists every such figure it used among its
assumptions. Regions: those the stacks and examples plan in (``grep region: Pulumi.*.yaml examples/``: us-west-2
for dev, prod, the variants and four seeds; us-east-1 for the sage-dpe seed). A region not here is "not priced".

Bump: re-read each source, change the figure and its ``source``, set `PRICES_AS_OF` to the day you did.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

#: The day these figures were read from their sources (the EC2 table: AWS's Price List API as of 2026-07-20).
PRICES_AS_OF: Final = dt.date(2026, 12, 2)
#: Hours in a month: 365 days x 24 h / 12 = 730, AWS's own convention in its pricing examples and calculator.
HOURS_PER_MONTH: Final = 730

US_EAST_1, US_WEST_2 = "us-east-1", "us-west-2"
REGIONS: Final = (US_EAST_1, US_WEST_2)


@dataclass(frozen=True)
class Price:
    """One list price: ``usd`` per ``unit``, where it was read, and whether that source showed this region."""

    usd: float
    unit: str
    source: str
    confirmed: bool = True
    note: str = ""


# --- Amazon EKS -------------------------------------------------------------------------------------------------
_EKS_SOURCE = (
    "https://aws.amazon.com/eks/pricing/ and the AWS Containers blog, 'Amazon EKS extended support for Kubernetes "
    "versions pricing' (https://aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-"
    "versions-pricing/): $0.10 per cluster-hour in standard support, $0.60 in total in extended support"
)
_EKS_NOTE = "the blog states one price, not per region; not read per region from the pricing page"
#: Control plane per cluster-hour while the cluster's Kubernetes version is in standard support.
EKS_STANDARD_HOURLY: Final[dict[str, Price]] = {
    region: Price(0.10, "cluster-hour", _EKS_SOURCE, note=_EKS_NOTE) for region in REGIONS
}
#: Control plane per cluster-hour in extended support (the whole rate, not a surcharge on the standard one).
EKS_EXTENDED_HOURLY: Final[dict[str, Price]] = {
    region: Price(0.60, "cluster-hour", _EKS_SOURCE, note=_EKS_NOTE) for region in REGIONS
}

# --- Amazon VPC ---------------------------------------------------------------------------------------------------
#: NAT gateway per gateway-hour (data processing, $0.045/GB in the same source, is not estimated).
NAT_HOURLY: Final[dict[str, Price]] = {
    region: Price(
        0.045,
        "NAT gateway-hour",
        "https://aws.amazon.com/vpc/pricing/ (NAT gateway: its US East example, $0.045 per NAT gateway-hour); "
        "us-west-2 at the same rate per third-party 2026 price lists (cloudpipelines.pages.dev, 'AWS NAT Gateway "
        "pricing 2026')",
        confirmed=False,
        note="the rate per region is rendered dynamically on the AWS page; no stored copy showed it for this region",
    )
    for region in REGIONS
}
#: Public IPv4 address per address-hour, in use or idle (Elastic IPs included), since 2024-02-01.
PUBLIC_IPV4_HOURLY: Final[dict[str, Price]] = {
    region: Price(
        0.005,
        "address-hour",
        "https://aws.amazon.com/vpc/pricing/ (Public IPv4 address) and the AWS Networking blog, 'Identify and "
        "optimize public IPv4 address usage on AWS' (https://aws.amazon.com/blogs/networking-and-content-delivery/"
        "identify-and-optimize-public-ipv4-address-usage-on-aws/): $0.005 per IP per hour, every region",
    )
    for region in REGIONS
}
#: Interface VPC endpoint (AWS PrivateLink) per endpoint per Availability Zone per hour.
INTERFACE_ENDPOINT_AZ_HOURLY: Final[dict[str, Price]] = {
    region: Price(
        0.01,
        "endpoint-AZ-hour",
        "https://aws.amazon.com/privatelink/pricing/ (billed 'for each hour that your VPC endpoint remains "
        "provisioned in each Availability Zone'; data processed $0.01/GB for the first PB)",
        confirmed=False,
        note="the stored copy of the page lost the hourly figure (a region-rendered token); $0.01 is the widely "
        "quoted US rate, not read from AWS",
    )
    for region in REGIONS
}

# --- AWS KMS ------------------------------------------------------------------------------------------------------
#: Customer managed KMS key per key-month (requests beyond the free 20,000 a month are not estimated).
KMS_KEY_MONTHLY: Final[dict[str, Price]] = {
    region: Price(
        1.00,
        "key-month",
        "https://aws.amazon.com/kms/pricing/ ('Each AWS KMS key that you create in KMS costs $1/month'; each "
        "automatic rotation's new backing key adds $1/month)",
    )
    for region in REGIONS
}

# --- Amazon GuardDuty ---------------------------------------------------------------------------------------------
#: EKS Runtime Monitoring per monitored vCPU-month, the first tier (the first 500 vCPUs of the account).
GUARDDUTY_EKS_RUNTIME_VCPU_MONTHLY: Final[dict[str, Price]] = {
    region: Price(
        1.50,
        "vCPU-month",
        "https://aws.amazon.com/guardduty/pricing/ (Runtime Monitoring, Amazon EKS: per vCPU per month, first 500 "
        "vCPUs); usage is metered in vCPU-hours (GuardDuty User Guide, 'Monitoring GuardDuty usage and "
        "estimating costs', metric RuntimeMonitoringEKS MonitoredVcpuHours)",
        confirmed=False,
        note="the stored copies of the pricing page render the rate as a region token; $1.50 is the widely quoted "
        "US first-tier rate, not read from AWS",
    )
    for region in REGIONS
}

# --- Amazon CloudWatch Logs ---------------------------------------------------------------------------------------
#: Log ingestion per GB, Standard log class (vended logs such as EKS control-plane and VPC flow logs: the same
#: rate for their first 10 TB a month).
CLOUDWATCH_LOGS_INGESTION_GB: Final[dict[str, Price]] = {
    region: Price(
        0.50,
        "GB ingested",
        "https://aws.amazon.com/cloudwatch/pricing/ (Logs, Collect: Standard log class); $0.50/GB us-east-1 per "
        "third-party June 2026 summary (c3x.dev, 'CloudWatch Logs cost optimization')",
        confirmed=False,
        note="the AWS page was not stored with its figures; not confirmed for this region",
    )
    for region in REGIONS
}

# --- Amazon EC2 On-Demand (Linux, shared tenancy) -----------------------------------------------------------------
_EC2_SOURCE = (
    "https://aws.amazon.com/ec2/pricing/on-demand/ as served by the AWS Price List API, read from Karpenter's "
    "generated table (aws/karpenter-provider-aws@1d927085dd81a9df9301e613f371dac5b4d16bfe:"
    "pkg/providers/pricing/zz_generated.pricing_aws.go, 'generated at 2026-07-20T13:44:30Z for us-east-1'); vCPUs "
    "and memory from website/content/en/docs/reference/instance-types.md at the same commit"
)
_EC2_US_WEST_2_NOTE = (
    "no stored source lists us-west-2 On-Demand prices; the us-east-1 figures are used (the two regions list "
    "these families at the same rates, per AWS's pages as commonly quoted, unverified here)"
)


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type the stacks name: vCPUs, memory and its On-Demand price per hour (us-east-1)."""

    vcpus: int
    memory_gib: float
    hourly_usd: float


#: Every instance type a node group of the stacks, variants and seeds names (``nodeGroups.<g>.instanceTypes``).
INSTANCE_TYPES: Final[dict[str, InstanceType]] = {
    "c6i.xlarge": InstanceType(4, 8, 0.17),
    "m5.large": InstanceType(2, 8, 0.096),
    "m6a.2xlarge": InstanceType(8, 32, 0.3456),
    "m6a.large": InstanceType(2, 8, 0.0864),
    "m6i.2xlarge": InstanceType(8, 32, 0.384),
    "m6i.large": InstanceType(2, 8, 0.096),
    "m6i.xlarge": InstanceType(4, 16, 0.192),
    "t3.large": InstanceType(2, 8, 0.0832),
    "t3a.large": InstanceType(2, 8, 0.0752),
}


@dataclass(frozen=True)
class FamilyPrice:
    """An instance family a Karpenter NodePool may launch: its On-Demand price per vCPU-hour over its sizes.

    ``min_vcpu_hourly`` / ``max_vcpu_hourly``: the lowest and highest price/vCPU among the family's sizes (metal
    sizes can differ); ``gib_per_vcpu``: its smallest memory per vCPU (a memory limit binds at limit / this).
    """

    category: str
    generation: int
    min_vcpu_hourly: float
    max_vcpu_hourly: float
    gib_per_vcpu: float


#: Every amd64 family of categories c, m and r, generation 5 and newer, in Karpenter's instance-type reference and
#: price table (the families the stacks' NodePools may launch: c/m from generation 5, c/m/r from 5 or 6). Derived
#: from the two files `_EC2_SOURCE` names: per family, price / karpenter.k8s.aws/instance-cpu of each size, and
#: karpenter.k8s.aws/instance-memory / instance-cpu.
INSTANCE_FAMILIES: Final[dict[str, FamilyPrice]] = {
    "c5": FamilyPrice("c", 5, 0.042500, 0.042500, 2),
    "c5a": FamilyPrice("c", 5, 0.038500, 0.038500, 2),
    "c5ad": FamilyPrice("c", 5, 0.043000, 0.043000, 2),
    "c5d": FamilyPrice("c", 5, 0.048000, 0.048000, 2),
    "c5n": FamilyPrice("c", 5, 0.054000, 0.054000, 2.625),
    "c6a": FamilyPrice("c", 6, 0.038250, 0.038250, 2),
    "c6i": FamilyPrice("c", 6, 0.042500, 0.042500, 2),
    "c6id": FamilyPrice("c", 6, 0.050400, 0.050400, 2),
    "c6in": FamilyPrice("c", 6, 0.056700, 0.056700, 2),
    "c7a": FamilyPrice("c", 7, 0.051320, 0.051320, 2),
    "c7i": FamilyPrice("c", 7, 0.044625, 0.049087, 2),
    "c7i-flex": FamilyPrice("c", 7, 0.042394, 0.042395, 2),
    "c8a": FamilyPrice("c", 8, 0.053885, 0.059274, 2),
    "c8i": FamilyPrice("c", 8, 0.046855, 0.051541, 2),
    "c8i-flex": FamilyPrice("c", 8, 0.044510, 0.044510, 2),
    "c8ib": FamilyPrice("c", 8, 0.068040, 0.074844, 2),
    "c8id": FamilyPrice("c", 8, 0.055440, 0.060984, 2),
    "c8in": FamilyPrice("c", 8, 0.068040, 0.074844, 2),
    "c8ine": FamilyPrice("c", 8, 0.085050, 0.085050, 2),
    "m5": FamilyPrice("m", 5, 0.048000, 0.048000, 4),
    "m5a": FamilyPrice("m", 5, 0.043000, 0.043000, 4),
    "m5ad": FamilyPrice("m", 5, 0.051500, 0.051500, 4),
    "m5d": FamilyPrice("m", 5, 0.056500, 0.056500, 4),
    "m5dn": FamilyPrice("m", 5, 0.068000, 0.068000, 4),
    "m5n": FamilyPrice("m", 5, 0.059500, 0.059500, 4),
    "m5zn": FamilyPrice("m", 5, 0.082575, 0.090844, 4),
    "m6a": FamilyPrice("m", 6, 0.043200, 0.043200, 4),
    "m6i": FamilyPrice("m", 6, 0.048000, 0.048000, 4),
    "m6id": FamilyPrice("m", 6, 0.059325, 0.059325, 4),
    "m6idn": FamilyPrice("m", 6, 0.079560, 0.079560, 4),
    "m6in": FamilyPrice("m", 6, 0.069615, 0.069615, 4),
    "m7a": FamilyPrice("m", 7, 0.057960, 0.057960, 4),
    "m7i": FamilyPrice("m", 7, 0.050400, 0.055440, 4),
    "m7i-flex": FamilyPrice("m", 7, 0.047880, 0.047880, 4),
    "m8a": FamilyPrice("m", 8, 0.060860, 0.066946, 4),
    "m8azn": FamilyPrice("m", 8, 0.103230, 0.113553, 4),
    "m8i": FamilyPrice("m", 8, 0.052920, 0.052920, 4),
    "m8i-flex": FamilyPrice("m", 8, 0.050275, 0.050275, 4),
    "m8ib": FamilyPrice("m", 8, 0.083540, 0.091894, 4),
    "m8id": FamilyPrice("m", 8, 0.065260, 0.065260, 4),
    "m8idb": FamilyPrice("m", 8, 0.095470, 0.105017, 4),
    "m8idn": FamilyPrice("m", 8, 0.095470, 0.105017, 4),
    "m8in": FamilyPrice("m", 8, 0.083540, 0.091894, 4),
    "m8ine": FamilyPrice("m", 8, 0.104425, 0.104425, 4),
    "r5": FamilyPrice("r", 5, 0.063000, 0.063000, 8),
    "r5a": FamilyPrice("r", 5, 0.056500, 0.056500, 8),
    "r5ad": FamilyPrice("r", 5, 0.065500, 0.065500, 8),
    "r5b": FamilyPrice("r", 5, 0.074500, 0.081950, 8),
    "r5d": FamilyPrice("r", 5, 0.072000, 0.072000, 8),
    "r5dn": FamilyPrice("r", 5, 0.083500, 0.083500, 8),
    "r5n": FamilyPrice("r", 5, 0.074500, 0.074500, 8),
    "r6a": FamilyPrice("r", 6, 0.056700, 0.056700, 8),
    "r6i": FamilyPrice("r", 6, 0.063000, 0.063000, 8),
    "r6id": FamilyPrice("r", 6, 0.075600, 0.075600, 8),
    "r6idn": FamilyPrice("r", 6, 0.097695, 0.097695, 8),
    "r6in": FamilyPrice("r", 6, 0.087165, 0.087165, 8),
    "r7a": FamilyPrice("r", 7, 0.076075, 0.076080, 8),
    "r7i": FamilyPrice("r", 7, 0.066150, 0.072765, 8),
    "r7iz": FamilyPrice("r", 7, 0.093000, 0.102300, 8),
    "r8a": FamilyPrice("r", 8, 0.079880, 0.087868, 8),
    "r8i": FamilyPrice("r", 8, 0.069460, 0.076406, 8),
    "r8i-flex": FamilyPrice("r", 8, 0.065985, 0.065985, 8),
    "r8ib": FamilyPrice("r", 8, 0.104600, 0.115060, 8),
    "r8id": FamilyPrice("r", 8, 0.083160, 0.091476, 8),
    "r8idb": FamilyPrice("r", 8, 0.117235, 0.128958, 8),
    "r8idn": FamilyPrice("r", 8, 0.117235, 0.128958, 8),
    "r8in": FamilyPrice("r", 8, 0.104600, 0.115060, 8),
}


@dataclass(frozen=True)
class Ec2Prices:
    """A region's EC2 On-Demand figures and where they come from."""

    instance_types: dict[str, InstanceType]
    families: dict[str, FamilyPrice]
    source: str
    confirmed: bool
    note: str = ""


EC2_ON_DEMAND: Final[dict[str, Ec2Prices]] = {
    US_EAST_1: Ec2Prices(INSTANCE_TYPES, INSTANCE_FAMILIES, _EC2_SOURCE, confirmed=True),
    US_WEST_2: Ec2Prices(INSTANCE_TYPES, INSTANCE_FAMILIES, _EC2_SOURCE, confirmed=False, note=_EC2_US_WEST_2_NOTE),
}
