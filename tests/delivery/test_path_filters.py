"""`deploy` runs on pushes that change the deployment, and only on those."""

import re
import subprocess
import sys

import pytest

from tools.delivery_check import github_path_matches, push_paths
from tools.harness import REPO_ROOT

DEPLOY = REPO_ROOT / ".github" / "workflows" / "deploy.yml"


def deploys(path: str) -> bool:
    return any(github_path_matches(pattern, path) for pattern in push_paths(DEPLOY))


def program_files() -> set[str]:
    """Repository files a plan of each stack opens (modules, stack files, rosters), seen by an audit hook."""
    code = (
        "import os, sys\n"
        "root = os.getcwd() + '/'\n"
        "opened = set()\n"
        "def hook(event, args):\n"
        "    if event == 'open' and isinstance(args[0], str) and args[0].startswith(root):\n"
        "        opened.add(args[0][len(root):])\n"
        "sys.addaudithook(hook)\n"
        "from tools.harness import run_program\n"
        "run_program('prod', 'update'); run_program('dev', 'update')\n"
        "print('\\n'.join(sorted(opened)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    # A module imported from its cached bytecode opens `<dir>/__pycache__/<name>.cpython-3XX.pyc`, not its source.
    sources = {re.sub(r"__pycache__/([^/]+?)\.cpython-\d+(\.opt-\d)?\.pyc$", r"\1.py", f) for f in out.stdout.split()}
    return {f for f in sources if not f.startswith(("tools/", "tests/", "venv/", "."))}


def tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_every_file_the_program_reads_triggers_a_deploy():
    files = program_files()
    assert {"__main__.py", "config.py", "components/ci_runner.py", "components/eks_cluster.py"} <= files
    stack_files = ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]
    policy_files = tracked("policies/")
    assert [f for f in sorted(files) + stack_files + policy_files if not deploys(f)] == []


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "CHANGELOG.md",
        "docs/decisions/0003-in-vpc-runner.md",
        "tests/delivery/test_path_filters.py",
        "tools/plan.py",
        ".github/workflows/pull-request.yml",
        "renovate.json",
    ],
)
def test_docs_tests_and_tooling_do_not_deploy(path):
    assert not deploys(path)


def test_dependency_and_workflow_changes_deploy():
    for path in ("pyproject.toml", "uv.lock", ".github/workflows/deploy.yml", "policies/stack-config/prod.json"):
        assert deploys(path), path


def test_github_filter_patterns():
    # GitHub Docs "Filter pattern cheat sheet": `*` stops at `/`, `**` does not.
    assert github_path_matches("components/**", "components/a/b.py")
    assert not github_path_matches("components/*", "components/a/b.py")
    assert github_path_matches("Pulumi.*.yaml", "Pulumi.prod.yaml")
    assert not github_path_matches("Pulumi.*.yaml", "bootstrap/Pulumi.admin.yaml")
    assert github_path_matches("policies/stack-config/*.json", "policies/stack-config/prod.json")
    assert not github_path_matches("policies/*.json", "policies/stack-config/prod.json")
