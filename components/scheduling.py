"""Where pods may run: the one builder of Kubernetes tolerations, from node-group taints or toleration specs.

Pure, no Pulumi imports. Node groups speak the EKS API's spelling of taint effects (``NO_SCHEDULE``); pods speak
Kubernetes' (``NoSchedule``). Every toleration the platform renders (the add-ons' configuration values, the
controllers' Helm values) comes from `tolerations`, so the two spellings are translated in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal, Protocol, TypeVar

T = TypeVar("T")

#: EKS API taint effects and their Kubernetes spelling: "the AWS API format ... NO_SCHEDULE, PREFER_NO_SCHEDULE, or
#: NO_EXECUTE ... Kubernetes ... NoSchedule, PreferNoSchedule, or NoExecute" (AWS CDK ``aws_eks.TaintEffect``,
#: pointing at the EKS User Guide's node-taints-managed-node-groups page).
KUBERNETES_EFFECTS: Final[Mapping[str, str]] = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}

Operator = Literal["Equal", "Exists"]


class Taint(Protocol):
    """A node-group taint: settings' ``Taint`` or a component's spec of one (read-only attributes suffice)."""

    @property
    def key(self) -> str:
        """The taint's key (``dedicated``)."""

    @property
    def value(self) -> str:
        """The taint's value (may be empty)."""

    @property
    def effect(self) -> str | Enum:
        """The EKS spelling, as text or as an enum member whose ``value`` it is (``TaintEffect.NO_SCHEDULE``)."""


class TaintedGroup(Protocol):
    """Anything with the ``taints`` of a node group (its settings or its spec)."""

    @property
    def taints(self) -> Sequence[Taint]:
        """The group's taints."""


@dataclass(frozen=True)
class Toleration:
    """One Kubernetes toleration (Kubernetes spelling of the effect; None tolerates every effect)."""

    key: str
    operator: Operator = "Equal"
    #: Compared with ``Equal`` only; Kubernetes refuses a value with ``Exists``.
    value: str = ""
    effect: str | None = None
    #: How long a ``NoExecute`` taint is tolerated before eviction (None: forever); rendered by `timed_tolerations`.
    toleration_seconds: int | None = None


#: The node label every pod of the platform's charts selects: Linux nodes only (Kubernetes' well-known label).
LINUX: Final[Mapping[str, str]] = {"kubernetes.io/os": "linux"}


def linux_node_selector(node_selector: Mapping[str, T]) -> dict[str, str | T]:
    """A chart's ``nodeSelector``: Linux nodes, and ``node_selector`` (a node group's label; values may be Outputs)."""
    return {**LINUX, **node_selector}


def kubernetes_effect(effect: str | Enum) -> str:
    """The Kubernetes spelling of an EKS taint effect (``NO_SCHEDULE`` -> ``NoSchedule``).

    Raises:
        ValueError: ``effect`` is not an EKS taint effect.
    """
    text = effect.value if isinstance(effect, Enum) else effect
    try:
        return KUBERNETES_EFFECTS[str(text)]
    except KeyError:
        msg = f"{text!r} is not an EKS taint effect (one of {', '.join(KUBERNETES_EFFECTS)})"
        raise ValueError(msg) from None


def tolerations(items: Iterable[Toleration]) -> list[dict[str, str]]:
    """Tolerations as Kubernetes objects: ``key``, ``operator``, ``value`` (``Equal`` only) and ``effect`` (if any).

    The key order is the one the add-ons' configuration values have always had (they are JSON text, so order
    is part of the value).
    """
    rendered: list[dict[str, str]] = []
    for item in items:
        toleration = {"key": item.key, "operator": item.operator}
        if item.operator == "Equal":
            toleration["value"] = item.value
        if item.effect is not None:
            toleration["effect"] = item.effect
        rendered.append(toleration)
    return rendered


def timed_tolerations(items: Iterable[Toleration]) -> list[dict[str, str | int]]:
    """`tolerations` with ``tolerationSeconds`` where a toleration has one (eviction after that long)."""
    listed = list(items)
    return [
        {**rendered, "tolerationSeconds": item.toleration_seconds}
        if item.toleration_seconds is not None
        else {**rendered}
        for item, rendered in zip(listed, tolerations(listed), strict=True)
    ]


def taint_tolerations(taints: Iterable[Taint]) -> list[dict[str, str]]:
    """Tolerations of exactly these taints (``Equal`` on key and value, the effect translated)."""
    return tolerations(Toleration(t.key, "Equal", t.value, kubernetes_effect(t.effect)) for t in taints)


def node_group_tolerations(group: TaintedGroup | None) -> list[dict[str, str]]:
    """Tolerations of a node group's taints (none without a group)."""
    return taint_tolerations(group.taints if group is not None else ())
