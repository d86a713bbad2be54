"""The platform's Helm releases: one builder for a pinned chart installed as ``kubernetes:helm.sh/v3:Release``.

A chart is a ``(repository, chart, version)`` pin of `components.versions` (an ``oci://`` repository carries the chart
in the URL, as Helm addresses OCI charts; an HTTP one goes into ``repositoryOpts``). Every release is ``atomic`` (a
failed install or upgrade rolls back) and cleans up what a failed upgrade created. v3 ``Release``, not v4 ``Chart``:
one custom resource whose chart, version and values the policy pack and the offline checks read (v4 is an opaque
remote component offline).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def chart_source(chart: tuple[str, str, str]) -> dict[str, Any]:
    """``chart``, ``version`` and ``repository_opts`` of a release of the pinned ``(repository, chart, version)``."""
    repository, name, version = chart
    if repository.startswith("oci://"):
        return {"chart": f"{repository}/{name}", "version": version}
    return {"chart": name, "version": version, "repository_opts": {"repo": repository}}


def pinned_release(
    resource_name: str,
    chart: tuple[str, str, str],
    *,
    name: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    values: pulumi.Input[dict[str, Any]] | None = None,
    timeout: int | None = None,
    max_history: int | None = None,
    **settings: Any,  # noqa: ANN401 - further Release arguments (skip_crds, ...)
) -> k8s.helm.v3.Release:
    """The release ``name`` of ``chart`` in ``namespace``: atomic, cleaned up on failure."""
    return k8s.helm.v3.Release(
        resource_name,
        name=name,
        namespace=namespace,
        **chart_source(chart),
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=timeout,
        max_history=max_history,
        opts=opts,
        **settings,
    )


def release_name(release: k8s.helm.v3.Release, default: str) -> pulumi.Output[str]:
    """The release's name as Helm knows it (``default``, the name it was given, while a preview does not know it)."""
    return release.name.apply(lambda name: name or default)


def after_release(release: k8s.helm.v3.Release, value: pulumi.Input[str]) -> pulumi.Output[str]:
    """``value`` (a namespace name) once ``release`` is installed.

    The ``metadata.namespace`` of a custom resource of a CRD the chart installs: the data edge orders it after the
    release, and a preview does not look its kind up before the CRD exists.
    """
    return pulumi.Output.all(release.status, value).apply(lambda resolved: str(resolved[1]))
