"""``python -m tools.plan`` as a PR gate: policy and lint sections, Markdown summary, exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from tools import plan as plan_cli
from tools import plan_terminal
from tools.diagram import markdown_block
from tools.harness import copy_project, run_program
from tools.policy_runner import PolicyInfo, PolicyReport, Violation


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = plan_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prod_passes_the_policies_and_writes_stable_json_and_markdown(tmp_path, capsys):
    outputs = []
    for attempt in range(2):
        json_file, markdown = tmp_path / f"plan{attempt}.json", tmp_path / f"plan{attempt}.md"
        code, out, _ = run(
            capsys, "--stack", "prod", "--no-lint", "--json", str(json_file), "--markdown", str(markdown)
        )
        assert code == 0
        outputs.append((json_file.read_text(), markdown.read_text(), out))
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0][0])
    assert data["policy"]["pack"] == {"name": "eks-platform", "version": "0.1.0"}
    assert len(data["policy"]["policies"]) == 29
    assert data["policy"]["violations"] == []
    assert "lint" not in data
    text = outputs[0][1]
    assert text.startswith("### `eks-platform/prod`: offline plan (preview)\n")
    assert "policy pack `eks-platform@0.1.0`: **0 mandatory**, 0 advisory violations" in text
    assert "| eksplatform:platform:EksCluster eks |" in text
    assert "None: 29 policies passed." in text
    assert "Policy violations: 0 mandatory, 0 advisory" in outputs[0][2]


def test_the_linters_report_into_the_same_output(tmp_path, capsys):
    json_file = tmp_path / "plan.json"
    code, out, _ = run(capsys, "--stack", "dev", "--mode", "update", "--json", str(json_file))
    lint = json.loads(json_file.read_text())["lint"]
    failing = [f for f in lint["findings"] if f["severity"] in {"MEDIUM", "HIGH", "CRITICAL"} and not f["allowed"]]
    assert code == (plan_cli.EXIT_CHECKS_FAILED if failing else 0)
    assert lint["iamDocuments"] > 10
    assert lint["manifests"] > 5
    assert lint["kubernetesVersion"] == "1.35"  # the dev stack's version
    assert any(f["allowed"] for f in lint["findings"])
    assert "Linters: parliament on" in out
    assert "Linter findings:" in out


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory) -> Path:
    """A copy of the project whose prod stack is dev-like, not production, with the API open to the internet."""
    project = tmp_path_factory.mktemp("broken") / "project"
    copy_project(project)
    stack_file = project / "Pulumi.prod.yaml"
    config = yaml.safe_load(stack_file.read_text())
    settings = config["config"]["eks-platform:settings"]
    settings["production"] = False
    settings["cluster"]["endpoint"] = {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    stack_file.write_text(yaml.safe_dump(config))
    return project


def test_mandatory_violations_fail_the_plan(broken_project, tmp_path, capsys):
    json_file, markdown = tmp_path / "plan.json", tmp_path / "plan.md"
    code, out, _ = run(
        capsys,
        "--stack",
        "prod",
        "--project-dir",
        str(broken_project),
        "--no-lint",
        "--json",
        str(json_file),
        "--markdown",
        str(markdown),
    )
    assert code == plan_cli.EXIT_CHECKS_FAILED
    violations = json.loads(json_file.read_text())["policy"]["violations"]
    assert {(v["policy"], v["level"]) for v in violations} == {
        ("eks-public-endpoint-restricted", "mandatory"),
        ("stateful-resources-protected", "mandatory"),
    }
    assert "  eks-public-endpoint-restricted [mandatory]: 1 violation(s)" in out
    assert "  stateful-resources-protected [mandatory]: 4 violation(s)" in out
    assert "Policy violations: 5 mandatory, 0 advisory" in out
    text = markdown.read_text()
    assert "**5 mandatory**" in text
    # The picture: the same Mermaid block tools.diagram draws for this plan, inside the comment.
    block = "\n".join(markdown_block(run_program("prod", "preview", broken_project)))
    assert block in text
    assert (
        "| mandatory | `eks-public-endpoint-restricted` | `aws:eks/cluster:Cluster` eks-cluster | "
        "the public API endpoint is open to 0.0.0.0/0.<br>Remediation:" in text
    )


def test_without_policies_the_plan_only_reports(broken_project, tmp_path, capsys):
    json_file = tmp_path / "plan.json"
    code, out, _ = run(
        capsys, "--stack", "prod", "--project-dir", str(broken_project), "--no-policy", "--json", str(json_file)
    )
    assert code == 0
    assert "policy" not in json.loads(json_file.read_text())
    assert "Policy pack" not in out


def test_a_pack_that_cannot_run_exits_4(tmp_path, capsys):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text(textwrap.dedent("raise SystemExit('no policies here')\n"))
    code, _, err = run(capsys, "--stack", "dev", "--policy-pack", str(pack), "--no-lint")
    assert code == plan_cli.EXIT_POLICY_ERROR
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert error.startswith("error: policy checks could not run: policy pack exited with code 1 before serving")
    assert "no policies here" in err


def test_the_plan_says_which_secrets_it_stood_in_for(capsys, tmp_path):
    json_file = tmp_path / "plan.json"
    code, _, err = run(capsys, "--stack", "dev", "--no-policy", "--no-lint", "--json", str(json_file))
    assert code == 0
    assert "note: Pulumi.dev.yaml sets none of the secrets vaultToken, vaultAwsAccessKey, vaultAwsSecretKey" in err
    assert json.loads(json_file.read_text())["offlineSecrets"][:3] == [
        "vaultToken",
        "vaultAwsAccessKey",
        "vaultAwsSecretKey",
    ]


def test_rich_output_colours_violations_and_keeps_the_facts(broken_project, capsys):
    code, out, _ = run(capsys, "--stack", "prod", "--project-dir", str(broken_project), "--no-lint", "--format", "rich")
    assert code == plan_cli.EXIT_CHECKS_FAILED
    assert "\x1b[1;31mmandatory" in out  # the level cell, bold red
    assert "eks-public-endpoint-restricted" in out
    assert "Remediation:" in out
    assert "Policy violations: 5 mandatory, 0 advisory" in out
    assert "aws:eks/cluster:Cluster" in out  # the tree's type column


def test_auto_is_plain_off_a_terminal_and_honours_no_color(monkeypatch, capsys):
    code, out, _ = run(capsys, "--stack", "dev", "--no-policy", "--format", "auto")
    assert code == 0
    assert "\x1b[" not in out
    assert "pulumi:pulumi:Stack eks-platform-dev" in out.splitlines()

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert plan_terminal.wants_rich("auto", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not plan_terminal.wants_rich("auto", Terminal())
    assert plan_terminal.wants_rich("rich", Terminal())


def test_a_policy_s_remediation_is_shown_when_its_message_has_none(capsys):
    report = PolicyReport(
        pack="p",
        version="1",
        stack="s",
        policies=[PolicyInfo("tags-required", "d", "advisory", "resource", remediation="add the owner tag")],
        violations=[Violation("tags-required", "advisory", "urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "d\nno owner")],
    )
    plan_terminal.print_policy(plan_terminal.make_console(), report)
    out = capsys.readouterr().out
    assert "Remediation: add the owner tag" in out
    assert "\x1b[33madvisory" in out
