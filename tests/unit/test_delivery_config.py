"""Delivery configuration that tools read but nothing else exercises: Renovate's managers, workflow pins."""

import json
import re
from pathlib import Path

import yaml

from components import versions

ROOT = Path(__file__).resolve().parents[2]


def renovate_patterns() -> list[re.Pattern[str]]:
    config = json.loads((ROOT / "renovate.json").read_text())
    return [
        re.compile(pattern.replace("(?<", "(?P<"))
        for manager in config["customManagers"]
        for pattern in manager["matchStrings"]
    ]


def test_renovate_sees_every_pinned_chart():
    text = (ROOT / "components/versions.py").read_text()
    found = {match["currentValue"] for pattern in renovate_patterns() for match in pattern.finditer(text)}
    charts = [versions.KARPENTER_CHART, versions.CLUSTER_AUTOSCALER_CHART, versions.ARGO_CD_CHART, versions.VAULT_CHART]
    assert {chart[2] for chart in charts} <= found


def test_every_requirement_is_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for raw in (ROOT / name).read_text().splitlines():
            requirement = raw.split("#", 1)[0].strip()
            if requirement and not requirement.startswith("-r"):
                assert re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", requirement), f"{name}: {requirement}"


def test_workflow_actions_are_pinned_by_commit_and_permissions_are_explicit():
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}:{name}"
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (
                        f"{path.name}:{name}: {step['uses']}"
                    )


def test_prod_deploys_after_dev_in_its_own_environment_and_concurrency_group():
    jobs = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]
    assert jobs["up-prod"]["needs"] == "up-dev"
    for stack in ("dev", "prod"):
        job = jobs[f"up-{stack}"]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
