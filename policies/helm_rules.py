"""Helm: releases are pinned to an exact chart version from one of the expected repositories.

The expected repositories default to the ones pinned in ``components/versions.py`` (every ``*_CHART``
``(repository, chart, version)`` entry), so adding a chart there is all a new chart source needs.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from components import versions
from policies.common import UNKNOWN, Unknown, dig, is_unknown, plain_props
from policies.settings import PackContext, policy_config, schema, string_list

RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
OCI = "oci://"


def pinned_repositories() -> list[str]:
    """The repositories of every ``*_CHART`` entry in ``components.versions``."""
    repos = {
        value[0].rstrip("/")
        for name, value in vars(versions).items()
        if name.endswith("_CHART") and isinstance(value, tuple) and value and isinstance(value[0], str)
    }
    return sorted(repos)


HELM_SCHEMA = schema(
    {
        "allowedRepositories": string_list(
            "Chart repositories releases may install from (default: those in components/versions.py).",
            pinned_repositories(),
        )
    }
)


def chart_source(props: dict[str, Any]) -> str | Unknown | None:
    """The repository a release installs from: ``repositoryOpts.repo``, or the OCI URL's parent; None if local."""
    repo = dig(props, "repositoryOpts", "repo")
    if is_unknown(repo):
        return UNKNOWN
    if isinstance(repo, str) and repo:
        return repo.rstrip("/")
    chart = props.get("chart")
    if isinstance(chart, str) and chart.startswith(OCI) and "/" in chart.removeprefix(OCI):
        return chart.rsplit("/", 1)[0]
    return None


def release_problems(props: dict[str, Any], allowed: list[str]) -> list[str]:
    """Why a release is not pinned: a missing or ranged version, or an unexpected chart source."""
    problems = []
    version = props.get("version")
    if not is_unknown(version):
        if not isinstance(version, str) or not version.strip():
            problems.append("no chart version: Helm installs whatever is latest")
        elif not EXACT_VERSION.match(version):
            problems.append(f"chart version {version!r} is a range, not an exact version")
    source = chart_source(props)
    if not is_unknown(source):
        if source is None:
            problems.append(f"chart {props.get('chart')!r} comes from no repository (a local path or repo alias)")
        elif source not in {repo.rstrip("/") for repo in allowed}:
            problems.append(f"chart repository {source!r} is not one of the expected repositories {allowed}")
    return problems


def check_release_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Helm releases name an exact chart version from an expected repository."""
    if args.resource_type not in RELEASE_TYPES:
        return
    cfg = policy_config(args.get_config(), HELM_SCHEMA)
    for problem in release_problems(plain_props(args.props), list(cfg["allowedRepositories"])):
        report(
            f"{problem}.\nRemediation: take (repository, chart, version) from components/versions.py and pass "
            "version= and repository_opts={'repo': ...} (or the oci:// chart URL).",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The Helm policies (mandatory on production stacks, advisory elsewhere)."""
    return [
        ResourceValidationPolicy(
            name="helm-release-pinned",
            description="Helm releases install an exact chart version from an expected repository.",
            validate=check_release_pinned,
            enforcement_level=ctx.security_level,
            config_schema=HELM_SCHEMA,
            remediation_steps="Pin the chart version and repository in components/versions.py.",
        )
    ]
