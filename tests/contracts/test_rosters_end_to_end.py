"""A prod stack whose app roles live in a roster file plans clean through the real pack: the program and the pack
read the roster the same way (the role names follow the roster's own roleName pattern)."""

from pathlib import Path

import yaml

from tools import plan as plan_cli
from tools.harness import copy_project, run_program


def project_with_roster(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project")
    (project / "rosters").mkdir()
    roles = {
        f"team-{i}": {"namespace": f"team-{i}", "serviceAccount": "app", "roleName": "eks-{service}-{env}"}
        for i in range(12)
    }
    (project / "rosters" / "prod-roles.yaml").write_text(yaml.safe_dump(roles))
    stack_file = project / "Pulumi.prod.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["eks-platform:settings"]["appRolesFiles"] = ["rosters/prod-roles.yaml"]
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def test_roster_roles_plan_and_pass_the_mandatory_gate(tmp_path, capsys):
    project = project_with_roster(tmp_path)
    plan = run_program("prod", "update", project_dir=project)
    names = sorted(r.inputs["name"] for r in plan.by_type("aws:iam/role:Role") if r.name.startswith("app-team-"))
    assert names == sorted(f"eks-team-{i}-prod" for i in range(12))
    assert plan_cli.main(["--stack", "prod", "--project-dir", str(project), "--no-lint"]) == 0
    assert "Policy violations: 0 mandatory, 0 advisory" in capsys.readouterr().out
