"""Delivery configuration that tools read but nothing else exercises: Renovate's managers, workflow pins."""

import json
import re
import tomllib
from collections.abc import Iterator
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
    # The Python pins live in pyproject.toml (runtime and dev group; uv.lock holds them and the transitive ones).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = project["dependency-groups"]
    requirements = [*project["project"]["dependencies"], *(r for group in groups.values() for r in group)]
    assert len(requirements) > 10
    for requirement in requirements:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.]+", requirement), f"pyproject.toml: {requirement}"


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


def test_each_environment_is_previewed_then_applied_from_the_reviewed_plan_and_prod_after_dev():
    jobs = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]
    assert jobs["preview-prod"]["needs"] == ["up-dev", "network-prod"]
    assert jobs["network-prod"]["needs"] == "up-dev"
    for stack in ("dev", "prod"):
        preview, up = jobs[f"preview-{stack}"], jobs[f"up-{stack}"]
        assert up["needs"] == f"preview-{stack}"
        assert f"needs.preview-{stack}.result == 'success'" in up["if"]
        # The preview runs before the approval, under the read-only role of the `<env>-preview` environment.
        assert preview["environment"] == f"{stack}-preview"
        assert up["environment"] == stack
        assert up["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        for job in (preview, up):
            assert job["permissions"] == {"contents": "read", "id-token": "write"}
        (saved,) = [s["with"] for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert saved["command"] == "preview"
        assert saved["plan"] == f"plan-{stack}.json"
        assert saved["policyPacks"] == "policies"
        assert saved["comment-on-summary"] is True
        upload = next(s for s in preview["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
        download = next(s for s in up["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
        assert upload["with"]["name"] == download["with"]["name"] == f"plan-{stack}"
        (applied,) = [s["with"] for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert applied["command"] == "up"
        # `pulumi up --plan` (pkg/cmd/pulumi/operations/up.go): the update may do nothing the plan does not hold.
        assert applied["plan"] == f"${{{{ !inputs.first-deploy && 'plan-{stack}.json' || '' }}}}"
        only_creates = next(s for s in up["steps"] if "--only-creates" in s.get("run", ""))
        assert only_creates["if"] == "inputs.first-deploy"


def pulumi_steps() -> Iterator[tuple[str, dict]]:
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if step.get("uses", "").startswith("pulumi/actions@"):
                    yield f"{path.name}:{name}:{index}", step.get("with", {})


def test_every_pulumi_action_installs_the_cli_of_the_pinned_sdk():
    # pulumi/actions installs `^3` unless told (src/config.ts); the CLI and the SDK are released together.
    import importlib.metadata

    sdk = importlib.metadata.version("pulumi")
    steps = dict(pulumi_steps())
    assert len(steps) == 11  # network (preview, up), preview and up per environment; drift x2; PR preview
    assert {where: inputs.get("pulumi-version") for where, inputs in steps.items()} == dict.fromkeys(steps, sdk)


def test_drift_detection_refreshes_expects_no_changes_and_reports_every_stack():
    workflow = yaml.safe_load((ROOT / ".github/workflows/drift.yml").read_text())
    assert workflow[True]["schedule"]
    for stack in ("dev", "prod"):
        job = workflow["jobs"][f"drift-{stack}"]
        assert job["environment"] == f"{stack}-preview"
        (inputs,) = [s["with"] for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert (inputs["command"], inputs["refresh"], inputs["expect-no-changes"]) == ("preview", True, True)
        report = job["steps"][-1]
        assert report["if"] == "failure()"
        assert "issues.create" in report["with"]["script"]
        assert job["permissions"]["issues"] == "write"


def test_renovate_bumps_the_workflow_cli_in_the_pulumi_packages_pr():
    config = json.loads((ROOT / "renovate.json").read_text())
    (manager,) = [m for m in config["customManagers"] if m.get("depNameTemplate") == "pulumi"]
    assert manager["datasourceTemplate"] == "pypi"
    files = re.compile(manager["managerFilePatterns"][0].strip("/"))
    (pattern,) = [re.compile(p.replace("(?<", "(?P<")) for p in manager["matchStrings"]]
    pins = dict(pulumi_steps())
    found = []
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        assert files.search(f".github/workflows/{path.name}")
        found += [m["currentValue"] for m in pattern.finditer(path.read_text())]
    assert len(found) == len(pins)
    assert set(found) == {inputs["pulumi-version"] for inputs in pins.values()}
    # Later package rules win: the CLI's rule comes after the charts' and joins the SDK's group.
    rules = config["packageRules"]
    cli = next(i for i, r in enumerate(rules) if r.get("matchDatasources") == ["pypi"])
    assert rules[cli]["groupName"] == "pulumi packages"
    assert all("pypi" not in r.get("matchDatasources", []) for r in rules[cli + 1 :])


def test_every_repository_script_a_workflow_runs_exists():
    # A `run:` line is shell the tests never execute: at least every `./script` and `python -m tools.x` it names
    # must exist, or the job fails with 127 on the runner.
    scripts = re.compile(r"(?:^|[\s;&|(])\./([\w./-]+)")
    modules = re.compile(r"-m (tools\.\w+)")
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                run = step.get("run", "")
                for script in scripts.findall(run):
                    target = ROOT / script
                    assert target.is_file(), f"{path.name}:{name}: ./{script}"
                    assert target.stat().st_mode & 0o111, f"{path.name}:{name}: ./{script} is not executable"
                for module in modules.findall(run):
                    assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{path.name}:{name}: {module}"


#: The inputs of pulumi/actions at the pinned commit 8e5e406f (v7.0.0, its action.yml). GitHub only warns about an
#: unexpected input and runs the step without it: a misspelt `plan` would apply an unreviewed update.
PULUMI_ACTION_INPUTS = frozenset(
    [
        "command",
        "stack-name",
        "pulumi-version",
        "pulumi-version-file",
        "work-dir",
        "comment-on-pr",
        "comment-on-pr-number",
        "comment-on-summary",
        "github-token",
        "cloud-url",
        "secrets-provider",
        "parallel",
        "message",
        "config-map",
        "expect-no-changes",
        "diff",
        "replace",
        "exclude",
        "exclude-dependents",
        "target",
        "target-dependents",
        "policyPacks",
        "policyPackConfigs",
        "refresh",
        "upsert",
        "remove",
        "edit-pr-comment",
        "color",
        "exclude-protected",
        "plan",
        "suppress-outputs",
        "suppress-progress",
        "always-include-summary",
        "continue-on-error",
        "log-verbosity",
        "log-flow",
        "debug",
    ]
)


def test_every_pulumi_action_input_exists_at_the_pinned_version():
    for where, inputs in pulumi_steps():
        assert set(inputs) <= PULUMI_ACTION_INPUTS, (where, sorted(set(inputs) - PULUMI_ACTION_INPUTS))


def test_the_codebuild_runner_label_has_the_documented_shape():
    # AWS CodeBuild User Guide, "Tutorial: Configure a CodeBuild-hosted GitHub Actions runner":
    # runs-on: codebuild-<project-name>-${{ github.run_id }}-${{ github.run_attempt }}
    from components.delivery import codebuild_runs_on

    assert codebuild_runs_on("eks-platform-prod-ci-runner") == (
        "codebuild-eks-platform-prod-ci-runner-${{ github.run_id }}-${{ github.run_attempt }}"
    )
