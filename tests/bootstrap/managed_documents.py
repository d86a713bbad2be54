"""The documents of AWS-managed policies (PowerUserAccess, ReadOnlyAccess, ...) from the pinned npm dataset.

``tests/contracts/iam_dataset.py`` reads the same package (``tools/iam-dataset``) for its ARNs. The documents of the
few policies the bootstrap attaches are cached next to it (``node_modules/.documents.json``, keyed by package
version and file size: ``npm ci`` empties ``node_modules``, so a new install never sees a stale cache).
Install with ``npm ci --prefix tools/iam-dataset --no-audit --no-fund --silent`` (``./dev test`` does).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.contracts.iam_dataset import DATASET_DIR, PACKAGE, PACKAGE_DIR, POLICIES_JSON
from tools.harness import REPO_ROOT

#: What the tests evaluate: the policies the bootstrap attaches, and the administrator's stand-in.
NAMES = ("PowerUserAccess", "ReadOnlyAccess", "AdministratorAccess")
CACHE = DATASET_DIR / "node_modules" / ".documents.json"


def _key() -> dict[str, object]:
    version = json.loads((PACKAGE_DIR / "package.json").read_text())["version"]
    return {"package": PACKAGE, "version": version, "size": POLICIES_JSON.stat().st_size, "names": list(NAMES)}


def load_documents() -> dict[str, dict[str, Any]] | None:
    """``{policy name: its default version's document}``, or None when the dataset is not installed."""
    if not POLICIES_JSON.is_file():
        return None
    key = _key()
    try:
        cached = json.loads(CACHE.read_text())
        if cached["key"] == key:
            return dict(cached["documents"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    policies = json.loads(POLICIES_JSON.read_bytes())
    documents = {name: policies[name]["versions"][policies[name]["latestVersionId"]]["document"] for name in NAMES}
    tmp = CACHE.with_name(f"{CACHE.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "documents": documents}))
        tmp.replace(CACHE)
    except OSError:
        tmp.unlink(missing_ok=True)
    return documents


def require_documents() -> dict[str, dict[str, Any]]:
    """The documents; skips the test when the dataset is absent (fails under ``EKS_PLATFORM_REQUIRE_DATASETS``)."""
    documents = load_documents()
    if documents is None:
        reason = f"{PACKAGE} is not installed ({POLICIES_JSON.relative_to(REPO_ROOT)}); `./dev test` installs it"
        if os.environ.get("EKS_PLATFORM_REQUIRE_DATASETS"):
            pytest.fail(reason)
        pytest.skip(reason)
    return documents
