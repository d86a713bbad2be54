"""Manifests: Kustomize directories and plain YAML files applied in a declared order (the Eventual seed's hub).

The seed ran ``kubectl apply -k eventual-hub/_pre`` (CustomResourceDefinitions, namespaces) and then
``kubectl apply -k eventual-hub/installs/cluster_dev``. Here each of those is a *stage*, applied in order:

* a Kustomize stage is a v1 ``kubernetes.kustomize.Directory``: the kubernetes provider runs ``kustomize build``
  itself (the invoke ``kubernetes:kustomize:directory``, krusty with legacy ordering, root-only loading, no Helm or
  plugins; no kubectl needed at ``pulumi preview``/``up``), and the SDK registers every object it returns as a
  child resource of its own type (``kubernetes:apps/v1:Deployment``, ``kubernetes:example.com/v1:Widget``);
* a files stage is a v1 ``kubernetes.yaml.ConfigGroup`` (one ``ConfigFile`` per file, decoded by the invoke
  ``kubernetes:yaml:decode``).

Not the v2 ``kustomize.Directory``/``yaml.ConfigGroup``: those are remote components, one opaque registration
without children offline, so no policy or test would see the objects.

**Order.** The v1 SDK (pulumi-kubernetes 4.34.2, ``yaml/yaml.py`` ``_parse_yaml_object``) registers the objects of
one directory concurrently: it does not put CRDs before custom resources within one group. Ordering is therefore
per stage: every object of a stage depends on every object of the stage before it (`_after`), so a ``pre`` stage's
CRDs and Namespaces exist before the next stage's custom resources and namespaced objects are created.

**Names.** The SDK names a child ``<prefix>-<namespace>/<name>`` (``<prefix>-<name>`` when cluster-scoped). The
prefix is ``<component>-<stage name>``: two stages may hold objects of one name without their URNs clashing, and
inserting a stage before another renames nothing (identity is the stage's name, never its position).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.context import ClusterRef


@dataclass(frozen=True)
class ManifestStage:
    """One stage: exactly one of ``kustomize`` (a directory) and ``files``.

    ``kustomize`` is an absolute path: the provider resolves a relative one against its own working directory
    and, when nothing is there, fetches it as a git URL. ``files`` are relative to the project directory (the
    program's working directory), as written in the settings: each file becomes a ``ConfigFile`` named by its path.
    """

    name: str
    kustomize: str | None = None
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kustomize is None) == (not self.files):
            msg = f"manifest stage {self.name!r}: give exactly one of kustomize and files"
            raise ValueError(msg)


@dataclass(frozen=True)
class ManifestsArgs:
    """The stages in apply order, the cluster they go to, and what the first stage waits for."""

    stages: Sequence[ManifestStage]
    cluster: ClusterRef
    #: Resources the first stage waits for (the node groups: Deployments are awaited until their pods are ready).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)


def stage_prefix(component: str, stage: str) -> str:
    """The ``resource_prefix`` of a stage's objects: keyed by the stage's name."""
    return f"{component}-{stage}"


def object_name(prefix: str, manifest: Mapping[str, Any]) -> str:
    """The logical name the v1 SDK gives ``manifest`` under ``prefix``: ``<prefix>-[<namespace>/]<name>``."""
    metadata = manifest.get("metadata") or {}
    namespace = metadata.get("namespace")
    key = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
    return f"{prefix}-{key}"


def object_identity(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name) of a manifest: what Kubernetes keys an object by (versions aside)."""
    api_version = str(obj.get("apiVersion", ""))
    metadata = obj.get("metadata") or {}
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group, str(obj.get("kind", "")), str(metadata.get("namespace") or ""), str(metadata.get("name", ""))


def _resources_of(group: k8s.kustomize.Directory | k8s.yaml.ConfigGroup) -> pulumi.Output[list[pulumi.Resource]]:
    """Every object a stage registered (its ``resources`` output: ``{"<gvk>:<name>": resource}``)."""
    return group.resources.apply(lambda resources: list(dict(resources).values()))


class Manifests(pulumi.ComponentResource):
    """The stages of `ManifestsArgs`, each a v1 Directory or ConfigGroup, applied one after another."""

    def __init__(self, name: str, args: ManifestsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:Manifests", name, None, opts)
        #: Stage name -> its Directory or ConfigGroup, in apply order.
        self.stages: dict[str, k8s.kustomize.Directory | k8s.yaml.ConfigGroup] = {}
        #: Every object the stages hold, by identity, and its stage: two stages may not declare one object.
        self._owners: dict[tuple[str, str, str, str], str] = {}
        self._order = {stage.name: index for index, stage in enumerate(args.stages)}
        previous: pulumi.Input[Sequence[pulumi.Resource]] = list(args.after)
        for stage in args.stages:
            group = self._stage(name, stage, args.cluster, previous)
            self.stages[stage.name] = group
            previous = _resources_of(group)
        self.stage_names = list(self.stages)
        self.register_outputs({"stages": self.stage_names})

    def _stage(
        self,
        name: str,
        stage: ManifestStage,
        cluster: ClusterRef,
        previous: pulumi.Input[Sequence[pulumi.Resource]],
    ) -> k8s.kustomize.Directory | k8s.yaml.ConfigGroup:
        # The SDK registers the group as `<resource_prefix>-<name>`: `manifests-<stage>-kustomize` (or `-files`), and
        # its objects as `<resource_prefix>-[<namespace>/]<name>`.
        prefix = stage_prefix(name, stage.name)
        opts = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        transformations = [self._claim(stage.name), _after(previous)]
        if stage.kustomize is not None:
            return k8s.kustomize.Directory(
                "kustomize", stage.kustomize, opts=opts, transformations=transformations, resource_prefix=prefix
            )
        return k8s.yaml.ConfigGroup(
            "files", files=list(stage.files), opts=opts, transformations=transformations, resource_prefix=prefix
        )

    def _claim(self, stage: str) -> Any:  # noqa: ANN401 - the SDK's transformation type
        """A v1 transformation recording each object's stage, refusing an object an earlier stage declared.

        Two Pulumi resources for one Kubernetes object fail at `pulumi up` (the second create finds it existing) and
        would fight over its fields; the plan stops at the second one instead, naming both stages.
        """

        def transformation(obj: dict[str, Any], _opts: pulumi.ResourceOptions) -> None:
            identity = object_identity(obj)
            owner = self._owners.setdefault(identity, stage)
            if owner != stage:
                # Named in the declared order, whichever stage's objects registered first.
                first, second = sorted((owner, stage), key=self._order.__getitem__)
                group, kind, namespace, object_name = identity
                where = f"{namespace}/{object_name}" if namespace else object_name
                msg = (
                    f"manifests: stage {second!r} declares {kind} {where} ({group or 'core'}) that stage {first!r} "
                    "declares already; keep one of them"
                )
                raise pulumi.RunError(msg)

        return transformation


def _after(previous: pulumi.Input[Sequence[pulumi.Resource]]) -> Any:  # noqa: ANN401 - the SDK's transformation type
    """A v1 transformation making each object of a stage depend on every object of the stage before it.

    Why a ``depends_on`` and not a data edge: no input of a manifest refers to the stage before. A ``pre``
    stage's CRDs must exist before a custom resource of the next stage is previewed or created: the kubernetes
    provider fails the preview and the apply of an object whose kind the API server does not know yet; likewise
    a Namespace before the objects in it. ``depends_on`` on the Directory itself would not reach its children
    (the SDK's child options keep only ``parent``, ``version`` and ``plugin_download_url``), and a component in
    ``depends_on`` is expanded to the children it has *so far*, which for a v1 Directory (children registered
    once its invoke answers) may be none. So each object depends on the previous stage's ``resources`` output,
    which resolves to all of them.
    """

    def transformation(_obj: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        opts.depends_on = previous

    return transformation
