"""Helm policy: exact chart versions from the repositories pinned in components/versions.py."""

import pytest

from components import versions
from policies.helm_rules import pinned_repositories
from tests.policies.support import UNKNOWN, check

RELEASE = "kubernetes:helm.sh/v3:Release"
KARPENTER = {"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.14.1", "namespace": "kube-system"}
ARGO = {"chart": "argo-cd", "version": "10.1.1", "repositoryOpts": {"repo": "https://argoproj.github.io/argo-helm"}}


def test_the_default_repositories_are_the_pinned_ones():
    assert versions.ARGO_CD_CHART[0] in pinned_repositories()
    assert versions.KARPENTER_CHART[0] in pinned_repositories()


@pytest.mark.parametrize("props", [KARPENTER, ARGO, {**ARGO, "version": UNKNOWN}], ids=["oci", "repo", "unknown"])
def test_pinned_releases_pass(props):
    assert check("helm-release-pinned", RELEASE, props) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({**ARGO, "version": "^10.1"}, "chart version '^10.1' is a range, not an exact version."),
        ({**ARGO, "version": "10.x"}, "chart version '10.x' is a range"),
        ({k: v for k, v in ARGO.items() if k != "version"}, "no chart version: Helm installs whatever is latest."),
        (
            {**ARGO, "repositoryOpts": {"repo": "https://charts.example.com"}},
            "chart repository 'https://charts.example.com' is not",
        ),
        ({"chart": "./charts/local", "version": "1.0.0"}, "chart './charts/local' comes from no repository"),
    ],
    ids=["caret", "x-range", "no-version", "other-repo", "local"],
)
def test_unpinned_releases_fail(props, expected):
    [message] = check("helm-release-pinned", RELEASE, props)
    assert message.startswith(expected)
    assert "Remediation: take (repository, chart, version) from components/versions.py" in message


def test_repositories_are_configurable():
    props = {**ARGO, "repositoryOpts": {"repo": "https://charts.example.com/"}}
    assert (
        check("helm-release-pinned", RELEASE, props, config={"allowedRepositories": ["https://charts.example.com"]})
        == []
    )
