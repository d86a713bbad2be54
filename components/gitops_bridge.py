"""The GitOps bridge's vocabulary: what the infrastructure publishes for add-ons that GitOps installs.

An add-on with ``install: gitops`` gets its AWS side here (its IRSA role) and its Kubernetes side from the GitOps
engine: with Argo CD, an ApplicationSet whose cluster generator selects the cluster Secret by the add-on's label and
reads its role ARN from the Secret's annotations; with Flux, a Kustomization whose ``postBuild.substituteFrom``
reads the same facts from a ConfigMap. `BridgedAddon` is that contract, shared by the add-on catalog (which fills
it) and the GitOps components (which consume it).

Pure module, no Pulumi resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    import pulumi

    from components.context import AwsContext, ClusterRef

GitopsEngine = Literal["argocd", "flux"]

#: Prefix of the bridge's labels and annotations (and of the team label on namespaces).
BRIDGE: Final = "platform.eks/"
#: Label value that switches an add-on on for a cluster generator.
ENABLED: Final = "enabled"


def addon_label(name: str) -> str:
    """The cluster Secret label that enables add-on ``name``: ``platform.eks/addon-<name>``."""
    return f"{BRIDGE}addon-{name}"


def fact_reference(engine: GitopsEngine, fact: str) -> str:
    """How a bridged add-on's values name a bridge fact, for the engine to fill in.

    Facts: ``cluster-name``, ``region``, ``vpc-id``, ``<role>-role-arn``. Argo CD: a cluster generator parameter
    over the cluster Secret's annotation ``platform.eks/<fact>`` (fasttemplate, the ApplicationSet default). Flux: a
    post-build variable of the ``platform-bridge`` ConfigMap, ``${<fact>}`` with dashes and dots as underscores
    (kustomize-controller "Post build variable substitution").
    """
    if engine == "flux":
        return "${" + fact.replace("-", "_").replace(".", "_") + "}"
    return "{{metadata.annotations." + BRIDGE + fact + "}}"


@dataclass(frozen=True)
class BridgedAddon:
    """An add-on the GitOps engine installs from its chart, with what the infrastructure made for it."""

    #: Short name (``aws-load-balancer-controller``): the label ``platform.eks/addon-<name>`` and the role key.
    name: str
    #: Helm repository URL (``https://...`` or ``oci://...``), chart and pinned version.
    repo_url: str
    chart: str
    version: str
    namespace: str
    #: Chart values; a string may carry ``{{...}}`` templates of the engine (Argo: cluster generator fields).
    values: Mapping[str, Any] = field(default_factory=dict)
    #: The ServiceAccount the IRSA role trusts (None: the add-on needs no AWS access).
    service_account: str | None = None
    #: Sync wave (Argo) / dependency order: CRD-providing add-ons first.
    wave: int = 0


@dataclass(frozen=True)
class BridgeFacts:
    """What a GitOps engine (ArgoBootstrap, FluxBootstrap) runs on and publishes to what it installs.

    The cluster (its name; the controllers run on its system node group), the account and region, the VPC, the
    environment (the stack; plain text: it becomes labels), the IRSA role ARNs add-ons need by short name, and the
    add-ons installed through GitOps (their role ARNs under the add-on's name in ``role_arns``).
    """

    cluster: ClusterRef
    account: AwsContext
    vpc_id: pulumi.Input[str]
    environment: str
    role_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    bridged_addons: Sequence[BridgedAddon] = ()
