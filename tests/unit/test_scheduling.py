"""components/scheduling.py: the one toleration builder, from node-group taints or toleration specs."""

from __future__ import annotations

import ast
import enum
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.eks_cluster import TaintEffect
from components.scheduling import (
    KUBERNETES_EFFECTS,
    Toleration,
    kubernetes_effect,
    node_group_tolerations,
    taint_tolerations,
    tolerations,
)
from config import NodeGroupSettings, Taint

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


@dataclass(frozen=True)
class PlainTaint:
    """A taint as a component's own spec would hold it: the effect as EKS text."""

    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class PlainGroup:
    taints: tuple[PlainTaint, ...]


class NumberedEffect(enum.Enum):
    """An enum whose members are not strings: only ``.value`` carries the EKS spelling."""

    NO_EXECUTE = "NO_EXECUTE"


def test_effects_follow_the_eks_api_and_kubernetes_spellings():
    # AWS CDK aws_eks.TaintEffect (EKS User Guide, node-taints-managed-node-groups): API NO_SCHEDULE,
    # PREFER_NO_SCHEDULE, NO_EXECUTE are Kubernetes' NoSchedule, PreferNoSchedule, NoExecute.
    assert KUBERNETES_EFFECTS == {
        "NO_SCHEDULE": "NoSchedule",
        "NO_EXECUTE": "NoExecute",
        "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    }
    assert set(KUBERNETES_EFFECTS) == {effect.value for effect in TaintEffect}


@pytest.mark.parametrize(
    ("effect", "expected"),
    [
        ("NO_SCHEDULE", "NoSchedule"),
        (TaintEffect.PREFER_NO_SCHEDULE, "PreferNoSchedule"),
        (NumberedEffect.NO_EXECUTE, "NoExecute"),
    ],
)
def test_kubernetes_effect_takes_text_or_an_enum(effect, expected):
    assert kubernetes_effect(effect) == expected


@pytest.mark.parametrize("effect", ["NoSchedule", "no_schedule", ""])
def test_kubernetes_effect_refuses_what_is_not_an_eks_effect(effect):
    with pytest.raises(ValueError, match="is not an EKS taint effect"):
        kubernetes_effect(effect)


def test_equal_carries_the_value_and_exists_does_not():
    assert tolerations(
        [
            Toleration("dedicated", "Equal", "system", "NoSchedule"),
            Toleration("critical", "Equal", "", "PreferNoSchedule"),
            Toleration("CriticalAddonsOnly", "Exists", effect="NoExecute"),
        ]
    ) == [
        {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"},
        {"key": "critical", "operator": "Equal", "value": "", "effect": "PreferNoSchedule"},
        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoExecute"},
    ]


def test_no_effect_tolerates_every_effect():
    assert tolerations([Toleration("CriticalAddonsOnly", operator="Exists")]) == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"}
    ]


def test_key_order_is_stable_for_the_add_ons_json_configuration():
    # The add-ons' configuration values are JSON text: a new key order would be an update of every cluster.
    (rendered,) = tolerations([Toleration("dedicated", "Equal", "system", "NoSchedule")])
    assert (
        json.dumps(rendered) == '{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}'
    )


def test_taints_from_settings_and_from_plain_specs_give_the_same_tolerations():
    settings = NodeGroupSettings(
        taints=[
            Taint(key="dedicated", value="system", effect=TaintEffect.NO_SCHEDULE),
            Taint(key="spot", value="", effect=TaintEffect.NO_EXECUTE),
        ]
    )
    plain = PlainGroup((PlainTaint("dedicated", "system", "NO_SCHEDULE"), PlainTaint("spot", "", "NO_EXECUTE")))
    expected = [
        {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Equal", "value": "", "effect": "NoExecute"},
    ]
    assert node_group_tolerations(settings) == expected
    assert node_group_tolerations(plain) == expected
    assert taint_tolerations(plain.taints) == expected


def test_no_group_or_no_taints_give_no_tolerations():
    assert node_group_tolerations(None) == []
    assert node_group_tolerations(PlainGroup(())) == []


def test_no_other_module_renders_tolerations():
    """Every toleration comes from `components.scheduling`: no component spells the effects or the dict itself."""
    offenders = []
    for path in sorted(COMPONENTS.glob("*.py")):
        if path.name == "scheduling.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in {"NoSchedule", "PreferNoSchedule", "NoExecute"}:
                offenders.append(f"{path.name}:{node.lineno}: {node.value!r}")
            if isinstance(node, ast.Dict):
                keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
                if {"key", "operator", "effect"} <= keys:
                    offenders.append(f"{path.name}:{node.lineno}: a toleration literal")
    assert offenders == []


def test_timed_tolerations_add_the_eviction_delay_only_where_given():
    from components.scheduling import Toleration, timed_tolerations

    rendered = timed_tolerations(
        [
            Toleration("node.kubernetes.io/not-ready", "Exists", effect="NoExecute", toleration_seconds=150),
            Toleration("CriticalAddonsOnly", "Exists"),
        ]
    )
    assert rendered == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 150},
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
    ]
