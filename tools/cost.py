"""Monthly cost estimate of a planned stack, and its delta between two plans (issue 13).

    python -m tools.cost --stack dev [--mode preview|update] [--today YYYY-MM-DD] [--markdown | --json]

Pure: `estimate` reads a `tools.harness.Plan` (no Pulumi calls, no network) and prices what it registers with the
pinned table of `tools.prices`: the EKS control plane (standard or extended support, from the cluster's Kubernetes
version, its upgrade policy and the EKS release calendar of `components.versions` on ``today``), NAT gateways,
public IPv4 addresses, managed node groups at their min / desired / max sizes, the ceiling of each Karpenter
NodePool from its limits, interface endpoints per Availability Zone, KMS keys, GuardDuty EKS Runtime Monitoring
per monitored vCPU and CloudWatch Logs ingestion at an assumed volume per log group. Everything else is listed in
`CostEstimate.not_estimated`, every assumption in `CostEstimate.assumptions`; a resource it cannot price (an
instance type or a region the table lacks) is an explicit "not priced" line, never a silent zero.

Money is USD per month of `HOURS_PER_MONTH` hours; figures are rounded to cents only when shown or totalled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from components.versions import GUARDDUTY_AGENT_ADDON, KUBERNETES_LIFECYCLE
from tools.harness import Plan, Registration
from tools.prices import (
    CLOUDWATCH_LOGS_INGESTION_GB,
    EC2_ON_DEMAND,
    EKS_EXTENDED_HOURLY,
    EKS_STANDARD_HOURLY,
    GUARDDUTY_EKS_RUNTIME_VCPU_MONTHLY,
    HOURS_PER_MONTH,
    INTERFACE_ENDPOINT_AZ_HOURLY,
    KMS_KEY_MONTHLY,
    NAT_HOURLY,
    PRICES_AS_OF,
    PUBLIC_IPV4_HOURLY,
    Ec2Prices,
    FamilyPrice,
    InstanceType,
    Price,
)
from tools.stack_cli import EXIT_CONFIG_ERROR, add_stack_arguments, plan_or_error

Scale = Literal["min", "desired", "max"]
SCALES: Final[tuple[Scale, ...]] = ("min", "desired", "max")

EKS_CONTROL_PLANE = "EKS control plane"
NAT_GATEWAYS = "NAT gateways"
PUBLIC_IPV4 = "Public IPv4"
NODE_GROUPS = "Node groups"
KARPENTER = "Karpenter ceiling"
SPOT_OCEAN = "Spot Ocean"
INTERFACE_ENDPOINTS = "Interface endpoints"
KMS_KEYS = "KMS keys"
GUARDDUTY = "GuardDuty runtime monitoring"
CLOUDWATCH_LOGS = "CloudWatch Logs ingestion"
#: Categories in the order the reports list them.
CATEGORIES: Final = (
    EKS_CONTROL_PLANE,
    NAT_GATEWAYS,
    PUBLIC_IPV4,
    NODE_GROUPS,
    KARPENTER,
    SPOT_OCEAN,
    INTERFACE_ENDPOINTS,
    KMS_KEYS,
    GUARDDUTY,
    CLOUDWATCH_LOGS,
)

#: Assumed CloudWatch Logs ingestion per log group and month, by kind (`log_group_kind`): a small cluster's five
#: control-plane log types (the audit log dominates), a VPC's flow logs at low traffic, a CI runner's build logs.
#: Assumptions, not measurements: replace them with the CloudWatch ``IncomingBytes`` of a running stack.
LOG_INGESTION_GB_PER_MONTH: Final[dict[str, float]] = {
    "eks-control-plane": 10.0,
    "vpc-flow-logs": 5.0,
    "codebuild": 1.0,
    "other": 1.0,
}
#: Log group name prefixes of each kind (the names `EksCluster`, `Vpc` and `CiRunner` give their groups).
LOG_GROUP_PREFIXES: Final = (
    ("/aws/eks/", "eks-control-plane"),
    ("/aws/vpc/", "vpc-flow-logs"),
    ("/aws/codebuild/", "codebuild"),
)
#: GuardDuty detector features that bill EKS Runtime Monitoring per vCPU (the current and the legacy name).
RUNTIME_MONITORING_FEATURES: Final = frozenset({"RUNTIME_MONITORING", "EKS_RUNTIME_MONITORING"})
#: EKS's upgrade policy when the cluster sets none: "clusters created with the AWS API have extended support
#: enabled" (EKS User Guide, "Add flexibility to plan Kubernetes version upgrades by enabling EKS extended support").
DEFAULT_UPGRADE_POLICY: Final = "EXTENDED"
#: Within this many days of a change of the control-plane rate the line says when it changes.
RATE_CHANGE_NOTICE_DAYS: Final = 30

NOT_ESTIMATED: Final = (
    "Data transfer: internet egress, cross-AZ and inter-region traffic.",
    "NAT gateway data processing (per GB through each gateway) and interface endpoint data processing.",
    "EBS: node root volumes (the launch templates' and EC2NodeClass' gp3 sizes), persistent volumes, snapshots.",
    "Load balancers the in-cluster controllers create (Services, Ingresses) and the public IPv4 addresses they hold.",
    (
        "Spot price variation: Spot capacity is priced at its On-Demand rate, a ceiling; the real Spot price is lower "
        "and moves."
    ),
    "Karpenter nodes below the ceiling: the min and desired columns count none (they follow pending pods).",
    "CloudWatch Logs storage (retention), Logs Insights queries, metrics and alarms.",
    "KMS requests beyond the free tier, and the $1/month each automatic rotation's backing key adds.",
    (
        "GuardDuty foundational analysis (CloudTrail, VPC flow logs, DNS), EKS audit log monitoring and the 30-day "
        "free trial; the guardduty-data endpoint GuardDuty's automated agent configuration creates outside Pulumi."
    ),
    "SQS (Karpenter's interruption queue), EventBridge rules, CodeBuild build minutes, SES, ECR, S3.",
    (
        "Anything outside the plan: HCP Vault, Spot.io fees, the GitHub runner's minutes, support plans, taxes; "
        "Savings Plans, Reserved Instances and negotiated discounts."
    ),
    "The EKS public API endpoint's addresses (EKS's, not the account's).",
)


@dataclass(frozen=True)
class Scaled:
    """A quantity or an amount at the three scales: the node groups' min, desired and max sizes."""

    min: float
    desired: float
    max: float

    @classmethod
    def flat(cls, value: float) -> Scaled:
        """The same value at every scale."""
        return cls(value, value, value)

    def at(self, scale: Scale) -> float:
        """The value at ``scale``."""
        return float(getattr(self, scale))

    @property
    def varies(self) -> bool:
        """True when the scales differ."""
        return not self.min == self.desired == self.max

    def __add__(self, other: Scaled) -> Scaled:
        """The sum per scale."""
        return Scaled(self.min + other.min, self.desired + other.desired, self.max + other.max)

    def __sub__(self, other: Scaled) -> Scaled:
        """The difference per scale."""
        return Scaled(self.min - other.min, self.desired - other.desired, self.max - other.max)

    def times(self, factor: float) -> Scaled:
        """Every scale multiplied by ``factor``."""
        return Scaled(self.min * factor, self.desired * factor, self.max * factor)


ZERO: Final = Scaled.flat(0.0)


@dataclass(frozen=True)
class LineItem:
    """One priced (or explicitly unpriced) resource: ``quantity`` ``unit``s at ``unit_price`` USD each.

    ``hours`` is how many times a month the unit is billed: `HOURS_PER_MONTH` for an hourly unit, 1 for a monthly
    one. ``unit_price`` None means "not priced" (``notes`` say why); its monthly amounts are None too.
    """

    category: str
    resource: str
    urn: str
    region: str
    quantity: Scaled
    unit: str
    unit_price: float | None
    hours: float
    notes: tuple[str, ...] = ()
    #: Set when ``unit_price`` is not confirmed by its source for ``region`` (`tools.prices.Price.confirmed`).
    unconfirmed: str = ""

    @property
    def priced(self) -> bool:
        """False for a "not priced" line."""
        return self.unit_price is not None

    @property
    def monthly(self) -> Scaled | None:
        """USD per month at each scale (None when not priced)."""
        if self.unit_price is None:
            return None
        return self.quantity.times(self.unit_price * self.hours)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view; money rounded to cents."""
        monthly = self.monthly
        return {
            "category": self.category,
            "resource": self.resource,
            "urn": self.urn,
            "region": self.region,
            "quantity": _scaled_json(self.quantity, 4),
            "unit": self.unit,
            "unitPrice": self.unit_price,
            "hoursPerMonth": self.hours,
            "monthlyUsd": None if monthly is None else _scaled_json(monthly, 2),
            "notes": list(self.notes),
            "unconfirmedPrice": self.unconfirmed or None,
        }


def _scaled_json(value: Scaled, digits: int) -> dict[str, float]:
    return {scale: round(value.at(scale), digits) for scale in SCALES}


@dataclass(frozen=True)
class CostEstimate:
    """The monthly estimate of one plan: its line items, what it assumes and what it leaves out."""

    stack: str
    today: dt.date
    prices_as_of: dt.date
    lines: tuple[LineItem, ...]
    assumptions: tuple[str, ...]
    not_estimated: tuple[str, ...]
    hours_per_month: int = HOURS_PER_MONTH

    @property
    def unpriced(self) -> tuple[LineItem, ...]:
        """The lines no price was found for (left out of every total)."""
        return tuple(line for line in self.lines if not line.priced)

    def category_totals(self) -> dict[str, Scaled]:
        """USD per month per category (priced lines only), in `CATEGORIES` order; categories without lines omitted."""
        totals: dict[str, Scaled] = {}
        for category in CATEGORIES:
            amounts = [line.monthly for line in self.lines if line.category == category]
            if amounts:
                totals[category] = sum((amount for amount in amounts if amount is not None), ZERO)
        return totals

    def total(self, scale: Scale = "desired") -> float:
        """USD per month at ``scale``, rounded to cents (unpriced lines excluded: see `unpriced`)."""
        return round(sum(line_total.at(scale) for line_total in self.category_totals().values()), 2)

    def to_json(self) -> dict[str, Any]:
        """A stable, JSON-ready view (lines in report order, money rounded to cents)."""
        return {
            "stack": self.stack,
            "today": self.today.isoformat(),
            "pricesAsOf": self.prices_as_of.isoformat(),
            "hoursPerMonth": self.hours_per_month,
            "currency": "USD",
            "lines": [line.to_json() for line in self.lines],
            "categoryTotals": {name: _scaled_json(amount, 2) for name, amount in self.category_totals().items()},
            "total": {scale: self.total(scale) for scale in SCALES},
            "unpriced": [line.urn for line in self.unpriced],
            "assumptions": list(self.assumptions),
            "notEstimated": list(self.not_estimated),
        }

    def summary_line(self) -> str:
        """``Estimated cost: $191.58/month at desired (min $191.58, max $3,038.34)``: one line in every format."""
        return (
            f"Estimated cost: {usd(self.total('desired'))}/month at desired "
            f"(min {usd(self.total('min'))}, max {usd(self.total('max'))})"
        )

    def render_markdown(self) -> list[str]:
        """A PR-comment section: the line table with totals, then what is estimated, assumed and left out."""
        lines = [
            f"#### Cost estimate: {self.stack}",
            "",
            (
                f"USD per month ({self.hours_per_month} h), list prices as of {self.prices_as_of.isoformat()}, "
                f"EKS support status on {self.today.isoformat()}. Min / desired / max follow the node groups' sizes; "
                "max includes each Karpenter NodePool at its limits."
            ),
            "",
            "| Category | Resource | Quantity | Unit price | Min | Desired | Max | Notes |",
            "| --- | --- | --- | --- | ---: | ---: | ---: | --- |",
        ]
        for line in self.lines:
            monthly = line.monthly
            amounts = ["not priced"] * 3 if monthly is None else [usd(monthly.at(scale)) for scale in SCALES]
            lines.append(
                f"| {line.category} | `{line.resource}` | {_quantity(line)} | {_unit_price(line)} | "
                f"{' | '.join(amounts)} | {_cell('; '.join(line.notes))} |"
            )
        totals = " | ".join(f"**{usd(self.total(scale))}**" for scale in SCALES)
        unpriced = f"{len(self.unpriced)} line(s) not priced, left out" if self.unpriced else ""
        lines += [f"| **Total** | | | | {totals} | {unpriced} |", ""]
        lines += ["**Estimated:** " + ", ".join(self.category_totals()) + ".", "", "**Not estimated:**", ""]
        lines += [f"- {item}" for item in self.not_estimated]
        lines += ["", "**Assumptions:**", ""]
        lines += [f"- {item}" for item in self.assumptions]
        return lines

    def render_text(self) -> list[str]:
        """A terminal report: one row per line item, the totals, then the assumptions and what is left out."""
        header = f"{'category':<30} {'resource':<44} {'min':>12} {'desired':>12} {'max':>12}"
        lines = [
            (
                f"Cost estimate: {self.stack} (USD/month, {self.hours_per_month} h, prices as of "
                f"{self.prices_as_of.isoformat()}, EKS support on {self.today.isoformat()})"
            ),
            header,
            "-" * len(header),
        ]
        for line in self.lines:
            monthly = line.monthly
            amounts = ["not priced"] * 3 if monthly is None else [usd(monthly.at(scale)) for scale in SCALES]
            lines.append(f"{line.category:<30} {line.resource:<44} {amounts[0]:>12} {amounts[1]:>12} {amounts[2]:>12}")
        totals = [usd(self.total(scale)) for scale in SCALES]
        lines += ["-" * len(header), f"{'total':<75} {totals[0]:>12} {totals[1]:>12} {totals[2]:>12}"]
        if self.unpriced:
            lines.append(f"not priced (left out of the totals): {', '.join(line.resource for line in self.unpriced)}")
        lines += ["", "assumptions:"] + [f"  - {item}" for item in self.assumptions]
        lines += ["not estimated:"] + [f"  - {item}" for item in self.not_estimated]
        return lines


def usd(amount: float) -> str:
    """``$1,234.56``, negative as ``-$1.00``."""
    sign = "-" if round(amount, 2) < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _signed_usd(amount: float) -> str:
    return usd(amount) if round(amount, 2) <= 0 else f"+{usd(amount)}"


def _number(value: float) -> str:
    return f"{value:g}"


def _quantity(line: LineItem) -> str:
    quantity = line.quantity
    shown = (
        " / ".join(_number(quantity.at(scale)) for scale in SCALES) if quantity.varies else _number(quantity.desired)
    )
    return f"{shown} {line.unit}"


def _unit_price(line: LineItem) -> str:
    if line.unit_price is None:
        return "not priced"
    rate = f"{line.unit_price:.6f}".rstrip("0")
    rate = rate + "0" * (2 - len(rate.split(".")[1]))
    per = f" x {line.hours:g} h" if line.hours != 1 else ""
    mark = " (unconfirmed)" if line.unconfirmed else ""
    return f"${rate}{per}{mark}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- estimating ---------------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What the estimators share: the plan, the day, each AWS provider's region and the stack's main region."""

    plan: Plan
    today: dt.date
    provider_regions: dict[str, str]
    region: str
    assumptions: list[str] = field(default_factory=list)
    not_estimated: list[str] = field(default_factory=list)

    def region_of(self, registration: Registration) -> str:
        """The region of ``registration``'s AWS provider (the stack's region for non-AWS resources)."""
        provider_urn = registration.provider.rsplit("::", 1)[0]
        return self.provider_regions.get(provider_urn, self.region)


def _provider_regions(plan: Plan) -> dict[str, str]:
    return {
        provider.urn: str(provider.inputs["region"])
        for provider in plan.by_type("pulumi:providers:aws")
        if isinstance(provider.inputs.get("region"), str)
    }


def _stack_region(plan: Plan, provider_regions: Mapping[str, str]) -> str:
    """The cluster's region (its AWS provider's), else the only AWS provider region, else ``unknown``."""
    clusters = plan.by_type("aws:eks/cluster:Cluster")
    if clusters:
        region = provider_regions.get(clusters[0].provider.rsplit("::", 1)[0])
        if region:
            return region
    regions = sorted(set(provider_regions.values()))
    return regions[0] if len(regions) == 1 else "unknown"


def _line(
    ctx: _Context,
    category: str,
    registration: Registration,
    quantity: Scaled,
    price: Price | None,
    *,
    hourly: bool,
    notes: Iterable[str] = (),
    region: str | None = None,
    unit: str | None = None,
) -> LineItem:
    """A line for ``registration``; no ``price`` makes it "not priced" (with a note naming the region)."""
    where = region or ctx.region_of(registration)
    extra = () if price is not None else (f"no price for {where} in tools/prices.py",)
    return LineItem(
        category=category,
        resource=registration.name,
        urn=registration.urn,
        region=where,
        quantity=quantity,
        unit=unit or (price.unit if price else "unit"),
        unit_price=price.usd if price else None,
        hours=HOURS_PER_MONTH if hourly else 1,
        notes=(*notes, *extra),
        unconfirmed="" if price is None or price.confirmed else price.note,
    )


def support_rate(version: str, policy: str, today: dt.date) -> tuple[Literal["standard", "extended"] | None, str]:
    """Which control-plane rate applies to ``version`` under ``policy`` on ``today``, and why (None: unknown)."""
    release = KUBERNETES_LIFECYCLE.get(version)
    if release is None:
        return None, f"Kubernetes {version} is not in the EKS release calendar of components/versions.py"
    if today < release.end_of_standard:
        note = f"Kubernetes {version} in standard support until {release.end_of_standard.isoformat()}"
        if policy == "EXTENDED" and (release.end_of_standard - today).days <= RATE_CHANGE_NOTICE_DAYS:
            note += f"; extended support (the extended rate) from {release.end_of_standard.isoformat()}"
        return "standard", note
    if policy == "EXTENDED" and today < release.end_of_extended:
        return "extended", (
            f"Kubernetes {version} in extended support since {release.end_of_standard.isoformat()} "
            f"(until {release.end_of_extended.isoformat()}, upgradePolicy EXTENDED)"
        )
    ended = release.end_of_standard if policy == "STANDARD" else release.end_of_extended
    return "standard", (
        f"Kubernetes {version} left its support on {ended.isoformat()}: AWS upgrades the cluster to the next version, "
        "billed at the standard rate"
    )


def _cluster_lines(ctx: _Context) -> Iterator[LineItem]:
    for cluster in ctx.plan.by_type("aws:eks/cluster:Cluster"):
        version = str(cluster.inputs.get("version", ""))
        policy = str((cluster.inputs.get("upgradePolicy") or {}).get("supportType", DEFAULT_UPGRADE_POLICY))
        rate, note = support_rate(version, policy, ctx.today)
        region = ctx.region_of(cluster)
        table = EKS_EXTENDED_HOURLY if rate == "extended" else EKS_STANDARD_HOURLY
        price = table.get(region) if rate else None
        yield _line(ctx, EKS_CONTROL_PLANE, cluster, Scaled.flat(1), price, hourly=True, notes=(note,))


def _flat_hourly(ctx: _Context, type_token: str, category: str, table: Mapping[str, Price]) -> Iterator[LineItem]:
    for registration in ctx.plan.by_type(type_token):
        price = table.get(ctx.region_of(registration))
        yield _line(ctx, category, registration, Scaled.flat(1), price, hourly=True)


def _public_ipv4_lines(ctx: _Context) -> Iterator[LineItem]:
    """Each Elastic IP (the NAT gateways'); subnets that hand out public addresses are noted, not counted."""
    yield from _flat_hourly(ctx, "aws:ec2/eip:Eip", PUBLIC_IPV4, PUBLIC_IPV4_HOURLY)
    mapping = sorted(
        subnet.name for subnet in ctx.plan.by_type("aws:ec2/subnet:Subnet") if subnet.inputs.get("mapPublicIpOnLaunch")
    )
    if mapping:
        ctx.not_estimated.append(
            "Public IPv4 addresses of instances launched in subnets that map one on launch: " + ", ".join(mapping) + "."
        )


@dataclass(frozen=True)
class _NodeChoice:
    """The instance type a node group is priced at, and why."""

    name: str
    instance: InstanceType
    note: str


def _node_choice(ec2: Ec2Prices, types: Sequence[str], capacity: str) -> _NodeChoice | str:
    """The type to price a group at: On-Demand the first listed, Spot the dearest; a reason string if unknown."""
    unknown = [name for name in types if name not in ec2.instance_types]
    if not types:
        return "no instanceTypes on the node group (set by a launch template?)"
    if capacity == "SPOT":
        if unknown:
            return f"instance type(s) {', '.join(unknown)} not in tools/prices.py: no Spot ceiling"
        name = max(types, key=lambda t: (ec2.instance_types[t].hourly_usd, t))
        return _NodeChoice(
            name, ec2.instance_types[name], f"SPOT priced at the dearest On-Demand type, {name} (a ceiling)"
        )
    first = types[0]
    if first in unknown:
        return f"instance type {first} not in tools/prices.py"
    return _NodeChoice(first, ec2.instance_types[first], f"ON_DEMAND fills from the first listed type, {first}")


def _scaling(registration: Registration) -> Scaled:
    config = registration.inputs.get("scalingConfig") or {}
    minimum = float(config.get("minSize", 0))
    return Scaled(minimum, float(config.get("desiredSize", minimum)), float(config.get("maxSize", minimum)))


def _node_groups(ctx: _Context) -> Iterator[tuple[Registration, Scaled, _NodeChoice | str, str]]:
    for group in ctx.plan.by_type("aws:eks/nodeGroup:NodeGroup"):
        region = ctx.region_of(group)
        ec2 = EC2_ON_DEMAND.get(region)
        capacity = str(group.inputs.get("capacityType", "ON_DEMAND"))
        types = [str(name) for name in group.inputs.get("instanceTypes") or []]
        choice = _node_choice(ec2, types, capacity) if ec2 else f"no EC2 prices for {region} in tools/prices.py"
        yield group, _scaling(group), choice, region


def _ec2_price(ec2: Ec2Prices | None, usd_hourly: float, unit: str) -> Price | None:
    if ec2 is None:
        return None
    return Price(usd_hourly, unit, ec2.source, confirmed=ec2.confirmed, note=ec2.note)


def _node_group_lines(ctx: _Context) -> Iterator[LineItem]:
    for group, counts, choice, region in _node_groups(ctx):
        if isinstance(choice, str):
            yield LineItem(NODE_GROUPS, group.name, group.urn, region, counts, "node", None, HOURS_PER_MONTH, (choice,))
            continue
        price = _ec2_price(EC2_ON_DEMAND.get(region), choice.instance.hourly_usd, f"node-hour ({choice.name})")
        yield _line(ctx, NODE_GROUPS, group, counts, price, hourly=True, notes=(choice.note,), unit="node")


# --- Karpenter ------------------------------------------------------------------------------------------------


_QUANTITY = re.compile(r"^(?P<number>[0-9.]+)(?P<suffix>m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
_GIB_PER_SUFFIX: Final[dict[str, float]] = {
    "Ki": 1 / 1024**2,
    "Mi": 1 / 1024,
    "Gi": 1.0,
    "Ti": 1024.0,
    "k": 1e3 / 1024**3,
    "M": 1e6 / 1024**3,
    "G": 1e9 / 1024**3,
    "T": 1e12 / 1024**3,
}


def cpu_quantity(text: object) -> float | None:
    """A Kubernetes CPU quantity in cores (``"32"``, ``"500m"``); None when it is not one."""
    match = _QUANTITY.fullmatch(str(text))
    if match is None or match["suffix"] not in (None, "m"):
        return None
    return float(match["number"]) / (1000 if match["suffix"] == "m" else 1)


def memory_gib(text: object) -> float | None:
    """A Kubernetes memory quantity in GiB (``"128Gi"``, ``"512Mi"``, ``"1T"``); None when it is not one."""
    match = _QUANTITY.fullmatch(str(text))
    if match is None or match["suffix"] == "m":
        return None
    return float(match["number"]) * (_GIB_PER_SUFFIX[match["suffix"]] if match["suffix"] else 1 / 1024**3)


def _requirement_allows(requirement: Mapping[str, Any], value: str | int) -> bool:
    operator, values = requirement.get("operator"), [str(v) for v in requirement.get("values") or []]
    if operator == "In":
        return str(value) in values
    if operator == "NotIn":
        return str(value) not in values
    if operator in ("Gt", "Lt") and values:
        number = int(value)
        return number > int(values[0]) if operator == "Gt" else number < int(values[0])
    return operator in ("Exists", None)


def _family_label(key: str, name: str, family: FamilyPrice) -> str | int | None:
    """The value of the Karpenter label ``key`` on every type of ``family`` (None: a label this table lacks)."""
    if key == "karpenter.k8s.aws/instance-category":
        return family.category
    if key == "karpenter.k8s.aws/instance-generation":
        return family.generation
    if key == "karpenter.k8s.aws/instance-family":
        return name
    return None


def eligible_families(requirements: Sequence[Mapping[str, Any]], ec2: Ec2Prices) -> dict[str, FamilyPrice]:
    """The priced families a NodePool's requirements admit (by category, generation and family; all are amd64).

    Requirements on other labels (capacity type, architecture, zone, size) do not narrow the families here.
    """

    def admits(name: str, family: FamilyPrice) -> bool:
        for requirement in requirements:
            value = _family_label(str(requirement.get("key")), name, family)
            if value is not None and not _requirement_allows(requirement, value):
                return False
        return True

    return {name: family for name, family in ec2.families.items() if admits(name, family)}


@dataclass(frozen=True)
class NodePoolCeiling:
    """A NodePool's most expensive month: the family, its reachable vCPUs and price; the cheapest for comparison."""

    family: str
    vcpus: float
    vcpu_hourly: float
    cheapest_family: str
    cheapest_vcpus: float
    cheapest_vcpu_hourly: float


def _reachable_vcpus(cpu_limit: float | None, memory_limit: float | None, family: FamilyPrice) -> float:
    """How many vCPUs of ``family`` the limits allow: the CPU limit, or memory limit / GiB per vCPU if lower."""
    bounds = [
        bound
        for bound in (cpu_limit, None if memory_limit is None else memory_limit / family.gib_per_vcpu)
        if bound is not None
    ]
    return min(bounds)


def nodepool_ceiling(
    families: Mapping[str, FamilyPrice], cpu_limit: float | None, memory_limit: float | None
) -> NodePoolCeiling | None:
    """The dearest and cheapest month among ``families`` under the limits (None without a limit or a family)."""
    if not families or (cpu_limit is None and memory_limit is None):
        return None

    def cost(name: str, rate: float) -> tuple[float, str]:
        return _reachable_vcpus(cpu_limit, memory_limit, families[name]) * rate, name

    dearest = max(cost(name, family.max_vcpu_hourly) for name, family in families.items())[1]
    cheapest = min(cost(name, family.min_vcpu_hourly) for name, family in families.items())[1]
    return NodePoolCeiling(
        dearest,
        _reachable_vcpus(cpu_limit, memory_limit, families[dearest]),
        families[dearest].max_vcpu_hourly,
        cheapest,
        _reachable_vcpus(cpu_limit, memory_limit, families[cheapest]),
        families[cheapest].min_vcpu_hourly,
    )


def _nodepools(ctx: _Context) -> Iterator[tuple[Registration, NodePoolCeiling | str]]:
    ec2 = EC2_ON_DEMAND.get(ctx.region)
    for pool in ctx.plan.by_type("kubernetes:karpenter.sh/v1:NodePool"):
        spec = pool.inputs.get("spec") or {}
        limits = spec.get("limits") or {}
        requirements = ((spec.get("template") or {}).get("spec") or {}).get("requirements") or []
        cpu = cpu_quantity(limits["cpu"]) if "cpu" in limits else None
        memory = memory_gib(limits["memory"]) if "memory" in limits else None
        if ec2 is None:
            yield pool, f"no EC2 prices for {ctx.region} in tools/prices.py"
            continue
        ceiling = nodepool_ceiling(eligible_families(requirements, ec2), cpu, memory)
        if ceiling is None:
            reason = "no cpu or memory limit: no ceiling" if cpu is None and memory is None else "no priced family"
            yield pool, reason
        else:
            yield pool, ceiling


def _nodepool_lines(ctx: _Context) -> Iterator[LineItem]:
    for pool, ceiling in _nodepools(ctx):
        if isinstance(ceiling, str):
            yield LineItem(KARPENTER, pool.name, pool.urn, ctx.region, ZERO, "vCPU", None, HOURS_PER_MONTH, (ceiling,))
            continue
        limits = (pool.inputs.get("spec") or {}).get("limits") or {}
        cheapest = ceiling.cheapest_vcpus * ceiling.cheapest_vcpu_hourly * HOURS_PER_MONTH
        notes = (
            (
                f"limits {', '.join(f'{key} {value}' for key, value in sorted(limits.items()))}; dearest family "
                f"{ceiling.family} at its highest On-Demand $/vCPU-hour"
            ),
            f"cheapest family {ceiling.cheapest_family}: {usd(cheapest)} at the same limits",
        )
        price = _ec2_price(EC2_ON_DEMAND.get(ctx.region), ceiling.vcpu_hourly, f"vCPU-hour ({ceiling.family})")
        yield _line(
            ctx,
            KARPENTER,
            pool,
            Scaled(0, 0, ceiling.vcpus),
            price,
            hourly=True,
            notes=notes,
            region=ctx.region,
            unit="vCPU",
        )


def _ocean_lines(ctx: _Context) -> Iterator[LineItem]:
    for ocean in ctx.plan.by_type("spotinst:aws/ocean:Ocean"):
        inputs = ocean.inputs
        minimum = float(inputs.get("minSize", 0))
        counts = Scaled(minimum, float(inputs.get("desiredCapacity", minimum)), float(inputs.get("maxSize", minimum)))
        note = "Spot Ocean picks the instance types (its filters, not a list): not priced"
        yield LineItem(
            SPOT_OCEAN,
            ocean.name,
            ocean.urn,
            str(inputs.get("region", ctx.region)),
            counts,
            "node",
            None,
            HOURS_PER_MONTH,
            (note,),
        )


# --- the rest -----------------------------------------------------------------------------------------------------


def _endpoint_lines(ctx: _Context) -> Iterator[LineItem]:
    for endpoint in ctx.plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if endpoint.inputs.get("vpcEndpointType") != "Interface":
            continue
        zones = len(endpoint.inputs.get("subnetIds") or [])
        price = INTERFACE_ENDPOINT_AZ_HOURLY.get(ctx.region_of(endpoint))
        note = f"{endpoint.inputs.get('serviceName', '?')} in {zones} subnet(s), one per AZ"
        yield _line(
            ctx,
            INTERFACE_ENDPOINTS,
            endpoint,
            Scaled.flat(zones),
            price,
            hourly=True,
            notes=(note,),
            unit="endpoint-AZ",
        )


def _kms_lines(ctx: _Context) -> Iterator[LineItem]:
    for key in ctx.plan.by_type("aws:kms/key:Key"):
        notes = (
            ("automatic rotation on: each rotation adds $1/month (not estimated)",)
            if key.inputs.get("enableKeyRotation")
            else ()
        )
        yield _line(
            ctx, KMS_KEYS, key, Scaled.flat(1), KMS_KEY_MONTHLY.get(ctx.region_of(key)), hourly=False, notes=notes
        )


def _runtime_monitoring(ctx: _Context) -> Registration | None:
    """The plan's enabled EKS Runtime Monitoring detector feature, if any."""
    for feature in ctx.plan.by_type("aws:guardduty/detectorFeature:DetectorFeature"):
        if feature.inputs.get("name") in RUNTIME_MONITORING_FEATURES and feature.inputs.get("status") == "ENABLED":
            return feature
    return None


def _guardduty_lines(ctx: _Context) -> Iterator[LineItem]:
    """Monitored vCPUs: each node group's at its sizes, each NodePool's ceiling at max."""
    feature = _runtime_monitoring(ctx)
    if feature is None:
        agent = any(
            addon.inputs.get("addonName") == GUARDDUTY_AGENT_ADDON for addon in ctx.plan.by_type("aws:eks/addon:Addon")
        )
        if agent:
            ctx.not_estimated.append(
                "GuardDuty Runtime Monitoring enabled outside this stack (the agent add-on is installed, no detector "
                "feature is declared): billed to the account per vCPU, not estimated here."
            )
        return
    price = GUARDDUTY_EKS_RUNTIME_VCPU_MONTHLY.get(ctx.region_of(feature))
    for group, counts, choice, _region in _node_groups(ctx):
        if isinstance(choice, str):
            yield LineItem(GUARDDUTY, group.name, group.urn, ctx.region, counts, "node", None, 1, (choice,))
            continue
        vcpus = counts.times(choice.instance.vcpus)
        note = f"{choice.instance.vcpus} vCPU per {choice.name} node"
        yield _line(ctx, GUARDDUTY, group, vcpus, price, hourly=False, notes=(note,), region=ctx.region_of(feature))
    for pool, ceiling in _nodepools(ctx):
        if isinstance(ceiling, NodePoolCeiling):
            note = f"the NodePool's ceiling, {_number(ceiling.vcpus)} vCPU of {ceiling.family}"
            yield _line(
                ctx,
                GUARDDUTY,
                pool,
                Scaled(0, 0, ceiling.vcpus),
                price,
                hourly=False,
                notes=(note,),
                region=ctx.region_of(feature),
            )


def log_group_kind(name: str) -> str:
    """The `LOG_INGESTION_GB_PER_MONTH` kind of a log group, by its name's prefix."""
    return next((kind for prefix, kind in LOG_GROUP_PREFIXES if name.startswith(prefix)), "other")


def _log_lines(ctx: _Context) -> Iterator[LineItem]:
    for group in ctx.plan.by_type("aws:cloudwatch/logGroup:LogGroup"):
        kind = log_group_kind(str(group.inputs.get("name", "")))
        volume = LOG_INGESTION_GB_PER_MONTH[kind]
        price = CLOUDWATCH_LOGS_INGESTION_GB.get(ctx.region_of(group))
        note = f"assumed {_number(volume)} GB/month ({kind})"
        yield _line(ctx, CLOUDWATCH_LOGS, group, Scaled.flat(volume), price, hourly=False, notes=(note,), unit="GB")


ESTIMATORS: Final = (
    _cluster_lines,
    lambda ctx: _flat_hourly(ctx, "aws:ec2/natGateway:NatGateway", NAT_GATEWAYS, NAT_HOURLY),
    _public_ipv4_lines,
    _node_group_lines,
    _nodepool_lines,
    _ocean_lines,
    _endpoint_lines,
    _kms_lines,
    _guardduty_lines,
    _log_lines,
)


#: What every estimate assumes (besides the month, the prices' date and the log volumes, added per estimate).
ASSUMPTIONS: Final = (
    (
        "EKS control plane: standard or extended rate from the cluster's Kubernetes version and upgrade "
        "policy (EXTENDED when unset, EKS's API default) against the release calendar of "
        "components/versions.py."
    ),
    (
        "Node groups: ON_DEMAND at the first listed instance type (EKS fills On-Demand capacity in the listed"
        " order: EKS User Guide, managed-node-groups.html); SPOT at the dearest listed type's On-Demand price"
        " (a ceiling)."
    ),
    (
        "Karpenter NodePools: none running at min and desired; at max, the vCPUs the limits allow (the CPU "
        "limit, or the memory limit / GiB per vCPU if lower) of the eligible amd64 family with the highest "
        "On-Demand $/vCPU-hour in tools/prices.py (Spot capacity at that On-Demand rate); Karpenter can "
        "overshoot its limits by the nodes in flight."
    ),
    (
        "Public IPv4: each Elastic IP (the NAT gateways'); the program's subnets do not map public addresses "
        "on launch unless noted under 'not estimated'."
    ),
    (
        "GuardDuty EKS Runtime Monitoring: the first pricing tier (first 500 vCPUs of the account), for every"
        " vCPU of the node groups at each scale and of each NodePool's ceiling at max."
    ),
)


def _assumptions(ctx: _Context, lines: Sequence[LineItem]) -> list[str]:
    month = (
        f"A month is {HOURS_PER_MONTH} hours; list prices (no Savings Plans, Reserved Instances, credits or free "
        f"tier) as read on {PRICES_AS_OF.isoformat()} (tools/prices.py); each line bills the whole month at the "
        f"rate in effect on {ctx.today.isoformat()}."
    )
    logs = ", ".join(f"{kind} {_number(gb)} GB" for kind, gb in LOG_INGESTION_GB_PER_MONTH.items())
    unconfirmed = {
        f"Unconfirmed price: {line.category} in {line.region}: {line.unconfirmed}."
        for line in lines
        if line.unconfirmed
    }
    return [
        month,
        *ASSUMPTIONS,
        f"CloudWatch Logs ingestion per log group and month: {logs} (LOG_INGESTION_GB_PER_MONTH).",
        *sorted(unconfirmed),
        *ctx.assumptions,
    ]


def estimate(plan: Plan, *, today: dt.date) -> CostEstimate:
    """The monthly estimate of ``plan`` on ``today`` (the day decides the EKS support rate)."""
    provider_regions = _provider_regions(plan)
    ctx = _Context(plan, today, provider_regions, _stack_region(plan, provider_regions))
    lines: list[LineItem] = []
    for estimator in ESTIMATORS:
        lines.extend(estimator(ctx))
    order = {category: index for index, category in enumerate(CATEGORIES)}
    lines.sort(key=lambda line: (order[line.category], line.resource, line.urn))
    return CostEstimate(
        stack=plan.stack,
        today=today,
        prices_as_of=PRICES_AS_OF,
        lines=tuple(lines),
        assumptions=tuple(_assumptions(ctx, lines)),
        not_estimated=(*NOT_ESTIMATED, *ctx.not_estimated),
    )


# --- the delta ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryDelta:
    """One category's monthly USD in the base and the head estimate."""

    category: str
    base: Scaled
    head: Scaled

    @property
    def delta(self) -> Scaled:
        """Head minus base, per scale."""
        return self.head - self.base


@dataclass(frozen=True)
class CostDelta:
    """How the estimate moves from ``base`` to ``head`` (a pull request's change), per category."""

    base: CostEstimate
    head: CostEstimate
    categories: tuple[CategoryDelta, ...]

    def total(self, scale: Scale = "desired") -> float:
        """Head total minus base total at ``scale``, in cents."""
        return round(self.head.total(scale) - self.base.total(scale), 2)

    def summary_line(self) -> str:
        """``Cost delta against the base: +$73.00/month at desired (min +$73.00, max +$219.16)``: always signed."""

        def signed(amount: float) -> str:
            return ("+" if amount >= 0 else "-") + usd(abs(amount))

        return (
            f"Cost delta against the base: {signed(self.total('desired'))}/month at desired "
            f"(min {signed(self.total('min'))}, max {signed(self.total('max'))})"
        )

    def changed(self) -> tuple[CategoryDelta, ...]:
        """The categories whose amount moved by at least a cent at some scale."""
        return tuple(c for c in self.categories if any(round(c.delta.at(scale), 2) for scale in SCALES))

    def render_markdown(self) -> list[str]:
        """A PR-comment section: the totals and each changed category, with base, head and delta."""
        lines = [f"#### Cost delta: {self.base.stack} -> {self.head.stack}", ""]
        changed = self.changed()
        if not changed:
            lines.append(f"No change in the estimate ({usd(self.head.total())} per month at desired).")
        else:
            lines += [
                "| Category | Base (desired) | Head (desired) | Δ min | Δ desired | Δ max |",
                "| --- | ---: | ---: | ---: | ---: | ---: |",
            ]
            for category in changed:
                deltas = " | ".join(_signed_usd(category.delta.at(scale)) for scale in SCALES)
                lines.append(
                    f"| {category.category} | {usd(category.base.desired)} | {usd(category.head.desired)} | {deltas} |"
                )
            deltas = " | ".join(f"**{_signed_usd(self.total(scale))}**" for scale in SCALES)
            lines.append(f"| **Total** | {usd(self.base.total())} | {usd(self.head.total())} | {deltas} |")
        added = sorted({line.resource for line in self.head.unpriced} - {line.resource for line in self.base.unpriced})
        if added:
            lines += [
                "",
                "Not priced in the head (left out of the delta): " + ", ".join(f"`{name}`" for name in added) + ".",
            ]
        return lines


def cost_delta(base: CostEstimate, head: CostEstimate) -> CostDelta:
    """The per-category delta between two estimates (categories of either, in `CATEGORIES` order)."""
    base_totals, head_totals = base.category_totals(), head.category_totals()
    categories = tuple(
        CategoryDelta(name, base_totals.get(name, ZERO), head_totals.get(name, ZERO))
        for name in CATEGORIES
        if name in base_totals or name in head_totals
    )
    return CostDelta(base, head, categories)


# --- the CLI ------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m tools.cost`` options."""
    parser = argparse.ArgumentParser(prog="python -m tools.cost", description="Monthly cost estimate of a stack.")
    add_stack_arguments(parser)
    parser.add_argument(
        "--today", type=dt.date.fromisoformat, default=None, help="the day for EKS support (default: today, UTC)"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print the Markdown section instead of text")
    output.add_argument("--json", action="store_true", help="print the JSON view instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Plan the stack offline and print its estimate; exit 2 on a configuration error."""
    args = build_parser().parse_args(argv)
    plan = plan_or_error(args)
    if plan is None:
        return EXIT_CONFIG_ERROR
    today = args.today or dt.datetime.now(dt.UTC).date()
    result = estimate(plan, today=today)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))  # noqa: T201 - a CLI
    else:
        print("\n".join(result.render_markdown() if args.markdown else result.render_text()))  # noqa: T201 - a CLI
    return 0


if __name__ == "__main__":
    sys.exit(main())
