"""Custom statements of application roles: rendered into the role's inline policy and linted with parliament."""

import json

import pytest

from tests.config.test_settings import KEY, error_of, stack_settings
from tools.harness import run_program
from tools.linters import lint_plan

STATEMENTS = [
    {
        "sid": "AirflowSecrets",
        "actions": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "resources": ["arn:aws:secretsmanager:us-west-2:111122223333:secret:airflow/*"],
    },
    {
        "sid": "SendMail",
        "actions": ["ses:SendRawEmail"],
        "resources": ["arn:aws:ses:us-west-2:111122223333:identity/example.com"],
        "conditions": {"StringEquals": {"ses:FromAddress": "airflow@example.com"}},
    },
    {
        "sid": "OneZone",
        "actions": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
        "resources": ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"],
    },
]


def with_statements(statements: list) -> dict:
    raw = stack_settings("dev")
    raw["appRoles"] = raw["appRoles"] | {
        "airflow": {"namespace": "airflow", "serviceAccount": "airflow-worker", "statements": statements}
    }
    return raw


def test_statements_become_the_custom_inline_policy_and_lint_clean():
    plan = run_program("dev", "update", config_overrides={KEY: with_statements(STATEMENTS)})
    (policy,) = [r for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if r.name == "app-airflow-custom"]
    document = json.loads(policy.inputs["policy"])
    assert [s["Sid"] for s in document["Statement"]] == ["AirflowSecrets", "SendMail", "OneZone"]
    assert document["Statement"][1]["Condition"] == {"StringEquals": {"ses:FromAddress": "airflow@example.com"}}
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    report = lint_plan(plan)
    assert [f for f in report.findings if "app-airflow-custom" in f.urn and f.failing] == []


def test_parliament_reports_a_misspelled_action():
    # IAM stores a policy with an unknown action (it grants nothing); parliament reports it (LOW, shown in the plan).
    bad = [{"actions": ["secretsmanager:GetSecretValues"], "resources": ["*"]}]
    report = lint_plan(run_program("dev", "update", config_overrides={KEY: with_statements(bad)}))
    found = {(f.issue, f.severity) for f in report.findings if "app-airflow-custom" in f.urn}
    assert ("UNKNOWN_ACTION", "LOW") in found


@pytest.mark.parametrize(
    ("statement", "field"),
    [
        ({"actions": ["*"], "resources": ["*"]}, "actions[0]"),
        ({"actions": ["*:*"], "resources": ["*"]}, "actions[0]"),
        ({"actions": ["s3:GetObject"], "resources": ["my-bucket"]}, "resources[0]"),
        ({"actions": [], "resources": ["*"]}, "actions"),
        ({"actions": ["s3:GetObject"], "resources": ["*"], "effect": "Maybe"}, "effect"),
    ],
)
def test_a_bad_statement_is_one_line(statement, field):
    message = error_of(with_statements([statement]))
    assert f"eks-platform:settings.appRoles.airflow.statements[0].{field}" in message
