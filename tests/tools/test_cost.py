"""The cost estimate (`tools.cost`) against figures computed by hand here from the price table and the stack files.

Each expected figure is written out (count x hours x price) from `tools.prices` and the settings of
``Pulumi.<stack>.yaml``; none calls the estimator's internals.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from functools import cache

import pytest

from tests.config.test_settings import KEY, stack_settings
from tools.cost import CostEstimate, cost_delta, estimate
from tools.harness import Plan, run_program
from tools.prices import (
    CLOUDWATCH_LOGS_INGESTION_GB,
    EKS_EXTENDED_HOURLY,
    EKS_STANDARD_HOURLY,
    GUARDDUTY_EKS_RUNTIME_VCPU_MONTHLY,
    INSTANCE_FAMILIES,
    INSTANCE_TYPES,
    KMS_KEY_MONTHLY,
    NAT_HOURLY,
    PUBLIC_IPV4_HOURLY,
)

TODAY = dt.date(2026, 12, 2)
REGION = "us-west-2"
H = 730  # hours in the estimate's month

EKS = EKS_STANDARD_HOURLY[REGION].usd
NAT = NAT_HOURLY[REGION].usd
IPV4 = PUBLIC_IPV4_HOURLY[REGION].usd
KMS = KMS_KEY_MONTHLY[REGION].usd
GD = GUARDDUTY_EKS_RUNTIME_VCPU_MONTHLY[REGION].usd
LOGS = CLOUDWATCH_LOGS_INGESTION_GB[REGION].usd
M5_LARGE = INSTANCE_TYPES["m5.large"].hourly_usd
M6I_LARGE = INSTANCE_TYPES["m6i.large"].hourly_usd
# The dearest $/vCPU-hour among the families the NodePools admit (c, m gen > 4 in dev; c, m, r gen > 5 in prod): the
# metal size of m8azn, read off the table by eye (the test below checks no admitted family is dearer).
M8AZN = INSTANCE_FAMILIES["m8azn"].max_vcpu_hourly
# Log groups: the CI runner's (1 GB), the control plane's (10 GB) and the flow logs (5 GB).
LOGS_MONTH = (1 + 10 + 5) * LOGS


@cache
def plan_of(stack: str) -> Plan:
    return run_program(stack, "update")


def planned(stack: str, **cluster_or_vpc: dict) -> Plan:
    """The stack planned with some of its settings changed (``cluster=``, ``vpc=``, or any top-level section)."""
    settings = copy.deepcopy(stack_settings(stack))
    for section, values in cluster_or_vpc.items():
        settings[section] = {**settings.get(section, {}), **values}
    return run_program(stack, "update", config_overrides={KEY: settings})


def by_category(result: CostEstimate) -> dict[str, tuple[float, float, float]]:
    return {
        name: (round(total.min, 2), round(total.desired, 2), round(total.max, 2))
        for name, total in result.category_totals().items()
    }


def cents(value: float) -> float:
    return round(value, 2)


def test_dev_figures_by_hand():
    result = estimate(plan_of("dev"), today=TODAY)
    # dev: 1.35 in standard support; NAT single (1 gateway, 1 EIP); system group SPOT [t3.large, t3a.large,
    # m5.large] min 1 / desired 1 / max 3, priced at the dearest On-Demand type (m5.large); Karpenter cpuLimit 32,
    # memoryLimitGib 128: m8azn (4 GiB/vCPU) reaches all 32 vCPUs; one KMS key; runtime monitoring on.
    ng = (1 * M5_LARGE * H, 1 * M5_LARGE * H, 3 * M5_LARGE * H)
    karpenter = 32 * M8AZN * H
    gd = (1 * 2 * GD, 1 * 2 * GD, 3 * 2 * GD + 32 * GD)
    assert by_category(result) == {
        "EKS control plane": (cents(EKS * H),) * 3,
        "NAT gateways": (cents(1 * NAT * H),) * 3,
        "Public IPv4": (cents(1 * IPV4 * H),) * 3,
        "Node groups": tuple(cents(v) for v in ng),
        "Karpenter ceiling": (0.0, 0.0, cents(karpenter)),
        "KMS keys": (cents(KMS),) * 3,
        "GuardDuty runtime monitoring": tuple(cents(v) for v in gd),
        "CloudWatch Logs ingestion": (cents(LOGS_MONTH),) * 3,
    }
    fixed = EKS * H + NAT * H + IPV4 * H + KMS + LOGS_MONTH
    assert result.total("min") == cents(fixed + ng[0] + gd[0]) == 191.58
    assert result.total("desired") == cents(fixed + ng[1] + gd[1]) == 191.58
    assert result.total("max") == cents(fixed + ng[2] + karpenter + gd[2]) == 3038.34
    assert result.unpriced == ()


def test_prod_figures_by_hand():
    result = estimate(plan_of("prod"), today=TODAY)
    # prod: NAT one_per_az over 3 AZs (3 gateways, 3 EIPs); system group ON_DEMAND [m6i.large, m6a.large] 3 / 3 / 6,
    # priced at the first listed type; Karpenter cpuLimit 512, memoryLimitGib 2048: m8azn reaches 512 vCPUs (r
    # families only 2048 / 8 = 256).
    ng = (3 * M6I_LARGE * H, 3 * M6I_LARGE * H, 6 * M6I_LARGE * H)
    karpenter = 512 * M8AZN * H
    gd = (3 * 2 * GD, 3 * 2 * GD, 6 * 2 * GD + 512 * GD)
    assert by_category(result) == {
        "EKS control plane": (cents(EKS * H),) * 3,
        "NAT gateways": (cents(3 * NAT * H),) * 3,
        "Public IPv4": (cents(3 * IPV4 * H),) * 3,
        "Node groups": tuple(cents(v) for v in ng),
        "Karpenter ceiling": (0.0, 0.0, cents(karpenter)),
        "KMS keys": (cents(KMS),) * 3,
        "GuardDuty runtime monitoring": tuple(cents(v) for v in gd),
        "CloudWatch Logs ingestion": (cents(LOGS_MONTH),) * 3,
    }
    fixed = EKS * H + 3 * NAT * H + 3 * IPV4 * H + KMS + LOGS_MONTH
    assert result.total("desired") == cents(fixed + ng[1] + gd[1]) == 410.74
    assert result.total("max") == cents(fixed + ng[2] + karpenter + gd[2]) == 43839.55


def test_the_karpenter_ceiling_is_the_dearest_admitted_family():
    dev_families = [f for f in INSTANCE_FAMILIES.values() if f.category in "cm" and f.generation > 4]
    assert max(f.max_vcpu_hourly for f in dev_families) == M8AZN
    line = next(line for line in estimate(plan_of("dev"), today=TODAY).lines if line.category == "Karpenter ceiling")
    assert line.unit == "vCPU"
    assert (line.quantity.min, line.quantity.desired, line.quantity.max) == (0, 0, 32)
    assert "dearest family m8azn" in line.notes[0]
    # the cheapest admitted family, c6a ($0.03825 per vCPU-hour, below c5a's $0.0385), at the same 32 vCPUs
    assert (
        line.notes[1]
        == f"cheapest family c6a: ${32 * INSTANCE_FAMILIES['c6a'].min_vcpu_hourly * H:,.2f} at the same limits"
    )


def test_spot_node_group_is_priced_at_its_dearest_on_demand_type():
    line = next(line for line in estimate(plan_of("dev"), today=TODAY).lines if line.category == "Node groups")
    # t3.large 0.0832, t3a.large 0.0752, m5.large 0.096: the ceiling is m5.large
    assert max(INSTANCE_TYPES[t].hourly_usd for t in ("t3.large", "t3a.large", "m5.large")) == M5_LARGE
    assert line.unit_price == M5_LARGE
    assert line.notes == ("SPOT priced at the dearest On-Demand type, m5.large (a ceiling)",)
    assert line.monthly is not None
    assert cents(line.monthly.max) == cents(3 * 0.096 * 730) == 210.24


def test_extended_support_starts_on_the_end_of_standard_support():
    plan = planned("dev", cluster={"upgradePolicy": "EXTENDED"})
    # Kubernetes 1.35: standard support until 2027-03-27 (components/versions.py)
    before = estimate(plan, today=dt.date(2027, 3, 26))
    on = estimate(plan, today=dt.date(2027, 3, 27))
    assert by_category(before)["EKS control plane"] == (cents(0.10 * 730),) * 3 == (73.0,) * 3
    assert by_category(on)["EKS control plane"] == (cents(EKS_EXTENDED_HOURLY[REGION].usd * 730),) * 3 == (438.0,) * 3
    assert "extended support (the extended rate) from 2027-03-27" in before.lines[0].notes[0]
    assert on.total("desired") - before.total("desired") == pytest.approx(0.50 * 730)
    # STANDARD: AWS upgrades the cluster instead, the rate stays standard
    standard = estimate(plan_of("dev"), today=dt.date(2027, 3, 27))
    assert by_category(standard)["EKS control plane"] == (73.0,) * 3
    assert "AWS upgrades the cluster" in standard.lines[0].notes[0]


def test_more_nat_gateways_and_a_bigger_max_move_the_delta_by_hand():
    base = estimate(plan_of("dev"), today=TODAY)
    system = {**stack_settings("dev")["cluster"]["nodeGroups"]["system"], "maxSize": 5}
    head_plan = planned("dev", vpc={"natStrategy": "one_per_az"}, cluster={"nodeGroups": {"system": system}})
    delta = cost_delta(base, estimate(head_plan, today=TODAY))
    moved = {c.category: (cents(c.delta.min), cents(c.delta.desired), cents(c.delta.max)) for c in delta.changed()}
    # two more NAT gateways and their EIPs; two more m5.large nodes (2 vCPU each) at max
    assert moved == {
        "NAT gateways": (cents(2 * NAT * H),) * 3,
        "Public IPv4": (cents(2 * IPV4 * H),) * 3,
        "Node groups": (0.0, 0.0, cents(2 * M5_LARGE * H)),
        "GuardDuty runtime monitoring": (0.0, 0.0, cents(2 * 2 * GD)),
    }
    assert delta.total("desired") == cents(2 * NAT * H + 2 * IPV4 * H) == 73.0
    assert delta.total("max") == cents(2 * NAT * H + 2 * IPV4 * H + 2 * M5_LARGE * H + 2 * 2 * GD) == 219.16
    markdown = delta.render_markdown()
    assert "| NAT gateways | $32.85 | $98.55 | +$65.70 | +$65.70 | +$65.70 |" in markdown
    assert "| **Total** | $191.58 | $264.58 | **+$73.00** | **+$73.00** | **+$219.16** |" in markdown


def test_no_change_says_so():
    result = estimate(plan_of("dev"), today=TODAY)
    assert cost_delta(result, result).render_markdown() == [
        "#### Cost delta: dev -> dev",
        "",
        "No change in the estimate ($191.58 per month at desired).",
    ]


def test_an_unknown_instance_type_is_an_explicit_not_priced_line():
    system = {**stack_settings("prod")["cluster"]["nodeGroups"]["system"], "instanceTypes": ["m7i.large"]}
    result = estimate(planned("prod", cluster={"nodeGroups": {"system": system}}), today=TODAY)
    line = next(line for line in result.lines if line.category == "Node groups")
    assert (line.priced, line.monthly, line.notes) == (False, None, ("instance type m7i.large not in tools/prices.py",))
    assert [line.resource for line in result.unpriced] == ["eks-system", "eks-system"]  # node group and its vCPUs
    assert "Node groups" not in {c for c, t in result.category_totals().items() if t.max}
    table = result.render_markdown()
    assert any(row.startswith("| Node groups | `eks-system` |") and "not priced | not priced" in row for row in table)
    assert any(row.startswith("| **Total** |") and row.endswith("| 2 line(s) not priced, left out |") for row in table)


def test_an_unknown_region_prices_nothing_and_says_so():
    plan = plan_of("dev")
    resources = [
        dataclasses.replace(r, inputs={**r.inputs, "region": "eu-west-1"}) if r.type == "pulumi:providers:aws" else r
        for r in plan.resources
    ]
    result = estimate(dataclasses.replace(plan, resources=resources), today=TODAY)
    assert result.total("max") == 0.0
    assert len(result.unpriced) == len(result.lines) == 10  # the NodePool's vCPUs get no GuardDuty line
    assert all(line.region == "eu-west-1" for line in result.lines)
    assert {line.notes[-1] for line in result.lines if line.category == "NAT gateways"} == {
        "no price for eu-west-1 in tools/prices.py"
    }


def test_reports_are_stable_and_state_what_is_left_out():
    first, second = estimate(plan_of("prod"), today=TODAY), estimate(run_program("prod", "update"), today=TODAY)
    assert json.dumps(first.to_json(), sort_keys=True) == json.dumps(second.to_json(), sort_keys=True)
    view = first.to_json()
    assert view["total"] == {"min": 410.74, "desired": 410.74, "max": 43839.55}
    assert view["hoursPerMonth"] == 730
    assert any(item.startswith("NAT gateway data processing") for item in view["notEstimated"])
    assert any(item.startswith("Unconfirmed price: Node groups in us-west-2") for item in view["assumptions"])
    markdown = first.render_markdown()
    assert "| EKS control plane | `eks-cluster` | 1 cluster-hour | $0.10 x 730 h | $73.00 | $73.00 | $73.00 |" in (
        markdown[6][: markdown[6].index(" | Kubernetes")] + " |"
    )
    assert "| **Total** | | | | **$410.74** | **$410.74** | **$43,839.55** |  |" in markdown
    text = first.render_text()
    assert text[-1] == "  - The EKS public API endpoint's addresses (EKS's, not the account's)."
    assert any(row.startswith("total") and row.endswith("$43,839.55") for row in text)
