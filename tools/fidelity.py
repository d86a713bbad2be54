"""Chart values and custom resources against upstream: the chart's ``values.yaml`` and CRDs at the pinned version.

Helm renders a release with whatever values it is given and silently ignores a key no template reads, so a
misspelt or moved key (``server.replica`` for ``server.replicas``, a key renamed between chart versions) deploys
the chart's default without a word. Kubernetes prunes unknown fields of a custom resource the same way (structural
schemas). Both are checked offline here against the upstream files:

* ``values_problems(values, upstream)``: every key path of ``values`` must exist in the chart's ``values.yaml``
  (or be read by a template: ``template-paths.txt``), except below a map the chart passes through whole
  (``toYaml``), an empty map or list upstream (``podAnnotations: {}``), or a map a template ranges over (the caller
  names those, with the template that does it). A map where upstream has a scalar, or a scalar where upstream has
  a non-empty map, is a problem too.
* ``custom_resource_problems(obj, crds)``: the object validates against its CRD version's ``openAPIV3Schema`` with
  unknown fields refused wherever the schema does not preserve them (what the API server would prune).

The upstream files live outside the repository, in ``../shared/fidelity-data/`` (read-only: the upstream set the
project is given) and in the folders ``$FIDELITY_DATA`` lists (``os.pathsep``-separated, searched first: files
``tools/fidelity_extract.py`` writes from repositories fetched to ``/work/.mirror``), one file per chart version,
the first line naming its source (``owner/repo@tag:path``); none of it is committed. Tests skip when a file is
absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tools.harness import REPO_ROOT, unwrap

SHARED_DATA = REPO_ROOT.parent / "shared" / "fidelity-data"


def data_dirs() -> tuple[Path, ...]:
    """Where the upstream files are, in search order: each folder of ``$FIDELITY_DATA``, then the shared set."""
    extra = [Path(part) for part in os.environ.get("FIDELITY_DATA", "").split(os.pathsep) if part]
    return (*extra, SHARED_DATA)


def data_dir() -> Path:
    """The first folder of ``data_dirs()`` (where ``tools/fidelity_extract.py`` writes)."""
    return data_dirs()[0]


def have_data() -> bool:
    """Whether any upstream folder exists (without one, every fidelity test skips)."""
    return any(folder.is_dir() for folder in data_dirs())


def upstream_file(name: str) -> Path | None:
    """``<folder>/<name>`` from the first folder of ``data_dirs()`` that has it."""
    for folder in data_dirs():
        path = folder / name
        if path.is_file():
            return path
    return None


def source_line(path: Path) -> str:
    """The first line of an upstream file: where it came from (``owner/repo@tag:path``)."""
    with path.open(encoding="utf-8") as handle:
        return handle.readline().lstrip("# ").strip()


@dataclass(frozen=True)
class ChartValues:
    """A chart's ``values.yaml`` at one version, and the value paths its templates read."""

    chart: str
    version: str
    source: str
    defaults: Mapping[str, Any]
    #: Dotted paths the templates read (``template-paths.txt``), and those they pass through whole.
    template_paths: frozenset[str] = frozenset()
    passthrough: frozenset[str] = frozenset()


@cache
def chart_values(chart: str, version: str) -> ChartValues | None:
    """``<chart>-<version>.values.yaml`` (+ ``.template-paths.txt``) from the data folder, None if absent."""
    path = upstream_file(f"{chart}-{version}.values.yaml")
    if path is None:
        return None
    defaults = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    paths: set[str] = set()
    passthrough: set[str] = set()
    listing = upstream_file(f"{chart}-{version}.template-paths.txt")
    if listing is not None:
        for line in listing.read_text(encoding="utf-8").splitlines()[1:]:
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            dotted, _, how = entry.partition(" ")
            paths.add(dotted)
            if how == "toYaml":
                passthrough.add(dotted)
    return ChartValues(chart, version, source_line(path), defaults, frozenset(paths), frozenset(passthrough))


#: Values keys that hold a Kubernetes object field the templates copy as it is (labels, a node selector, resource
#: requirements, a security context): their contents are Kubernetes', not the chart's.
KUBERNETES_FIELDS = frozenset(
    {
        "nodeSelector",
        "annotations",
        "labels",
        "podAnnotations",
        "podLabels",
        "resources",
        "affinity",
        "securityContext",
        "podSecurityContext",
        "containerSecurityContext",
        "serviceAccountAnnotations",
    }
)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _prefixes(path: tuple[str, ...]) -> Iterator[str]:
    for end in range(1, len(path) + 1):
        yield _dotted(path[:end])


def chart_name(chart: str) -> str:
    """A release's ``chart`` input as the chart's name (``oci://public.ecr.aws/karpenter/karpenter`` -> karpenter)."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def values_problems(
    values: Mapping[str, Any],
    upstream: ChartValues,
    *,
    free_maps: Iterable[str] = (),
    subcharts: Mapping[str, ChartValues] | None = None,
) -> list[str]:
    """Key paths of ``values`` the chart does not know, or whose shape contradicts the chart's default.

    ``free_maps``: dotted paths of maps a template ranges over (``configs.cm``: every key becomes a ConfigMap
    entry); anything below them is the user's. ``subcharts``: the values of the chart's dependencies by their
    key (``redis-ha``), checked against the subchart's own ``values.yaml`` (its condition key, ``enabled``, is the
    parent's).
    """
    free = set(free_maps) | set(upstream.passthrough)
    problems: list[str] = []
    ours = dict(unwrap(values))
    for key, sub in (subcharts or {}).items():
        given = ours.pop(key, None)
        if isinstance(given, Mapping):
            declared = upstream.defaults.get(key) or {}
            rest = {k: v for k, v in given.items() if not (isinstance(declared, Mapping) and k in declared)}
            problems += values_problems(rest, sub)

    def walk(ours: Mapping[str, Any], theirs: Any, path: tuple[str, ...]) -> None:  # noqa: ANN401
        for key, value in ours.items():
            here = (*path, str(key))
            dotted = _dotted(here)
            if any(prefix in free for prefix in _prefixes(here)) or any(p in KUBERNETES_FIELDS for p in path):
                continue
            declared = isinstance(theirs, Mapping) and key in theirs
            default = theirs[key] if declared else None
            if not declared:
                if dotted in upstream.template_paths:
                    continue
                problems.append(f"{upstream.chart} {upstream.version}: unknown values key {dotted!r}")
                continue
            if isinstance(value, Mapping):
                if isinstance(default, Mapping):
                    if default:
                        walk(value, default, here)
                    # an empty map upstream takes any keys (podAnnotations: {})
                elif default is not None and not isinstance(default, list):
                    problems.append(
                        f"{upstream.chart} {upstream.version}: {dotted!r} is a {type(default).__name__} upstream, "
                        "given a map"
                    )
            elif isinstance(default, Mapping) and default and value is not None:
                problems.append(
                    f"{upstream.chart} {upstream.version}: {dotted!r} is a map upstream, given {type(value).__name__}"
                )

    walk(ours, upstream.defaults, ())
    return problems


# ------------------------------------------------------------------------------------------------ CRDs


@dataclass(frozen=True)
class Crd:
    """One CustomResourceDefinition: group, kind and each served version's schema."""

    group: str
    kind: str
    source: str
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def load_crds(*names: str) -> dict[tuple[str, str], Crd]:
    """CRDs from the data folder by file name, keyed by (``group/version``, kind); absent files are skipped."""
    crds: dict[tuple[str, str], Crd] = {}
    for name in names:
        path = upstream_file(name)
        if path is None:
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            crds |= crd_versions(document, source_line(path))
    return crds


def crd_versions(document: Any, source: str) -> dict[tuple[str, str], Crd]:  # noqa: ANN401 - any YAML document
    """The served versions of ``document``, keyed by (``group/version``, kind); {} unless it is a CRD.

    Also for the CRDs a stack declares itself (a `manifests` stage's), checked against their own custom resources.
    """
    if not isinstance(document, Mapping) or document.get("kind") != "CustomResourceDefinition":
        return {}
    spec = document["spec"]
    schemas = {
        version["name"]: version["schema"]["openAPIV3Schema"]
        for version in spec["versions"]
        if version.get("served", True) and "schema" in version
    }
    crd = Crd(spec["group"], spec["names"]["kind"], source, schemas)
    return {(f"{spec['group']}/{version}", crd.kind): crd for version in schemas}


def _strict(schema: Any) -> Any:  # noqa: ANN401 - a JSON schema node
    """An openAPIV3Schema as a JSON Schema that refuses the fields the API server would prune."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items() if not key.startswith("x-kubernetes-")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
    if (
        schema.get("type") == "object"
        and "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def custom_resource_problems(obj: Mapping[str, Any], crds: Mapping[tuple[str, str], Crd]) -> list[str]:
    """Why ``obj`` (apiVersion, kind, metadata, spec, ...) would be refused or pruned; [] when it is valid.

    Raises:
        KeyError: no CRD of ``crds`` defines the object's apiVersion and kind.
    """
    import jsonschema  # noqa: PLC0415 - a test-time dependency (dev group)

    body = unwrap(dict(obj))
    key = (str(body.get("apiVersion")), str(body.get("kind")))
    crd = crds[key]
    schema = _strict(crd.schemas[key[0].rsplit("/", 1)[1]])
    # metadata is the API server's ObjectMeta, not the CRD's to describe; apiVersion and kind are never pruned
    # either (structural schemas may leave all three out).
    properties = schema.setdefault("properties", {})
    properties["metadata"] = {"type": "object"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{key[1]} {'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    ]
