"""An application role trusted by several ServiceAccounts (one app's components), still with exact subjects."""

import json

import pytest

from components import iam_documents as iam
from tests.config.test_settings import KEY, error_of, stack_settings
from tests.policies.support import check
from tools.harness import run_program

ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = (
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)
AIRFLOW = {
    "namespace": "airflow",
    "serviceAccount": "airflow-worker",
    "additionalServiceAccounts": [
        "airflow/airflow-scheduler",
        "airflow/airflow-webserver",
        "airflow/airflow-triggerer",
    ],
    "s3BucketArns": ["arn:aws:s3:::example-airflow-logs"],
}


def test_one_subject_stays_a_string_and_several_are_a_list():
    one = iam.irsa_trust_policy(oidc_provider_arn=PROVIDER, issuer_url=ISSUER, namespace="a", service_account="b")
    sub = one["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER.removeprefix('https://')}:sub"]
    assert sub == "system:serviceaccount:a:b"
    several = iam.irsa_trust_policy(
        oidc_provider_arn=PROVIDER,
        issuer_url=ISSUER,
        namespace="a",
        service_account="b",
        additional_service_accounts=[("a", "c"), ("a", "b"), ("d", "e")],
    )
    subs = several["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER.removeprefix('https://')}:sub"]
    assert subs == ["system:serviceaccount:a:b", "system:serviceaccount:a:c", "system:serviceaccount:d:e"]
    # The pack's scoped-trust policy accepts the list: every entry is an exact subject.
    assert check("irsa-trust-scoped", "aws:iam/role:Role", {"assumeRolePolicy": json.dumps(several)}) == []


def test_an_airflow_role_trusts_its_four_components_and_creates_one_service_account():
    raw = stack_settings("dev")
    raw["appRoles"] = raw.get("appRoles", {}) | {"airflow": AIRFLOW}
    plan = run_program("dev", "update", config_overrides={KEY: raw})
    role = plan.one("aws:iam/role:Role", "app-airflow-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    (subjects,) = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [
        "system:serviceaccount:airflow:airflow-worker",
        "system:serviceaccount:airflow:airflow-scheduler",
        "system:serviceaccount:airflow:airflow-webserver",
        "system:serviceaccount:airflow:airflow-triggerer",
    ]
    accounts = [r for r in plan.by_type("kubernetes:core/v1:ServiceAccount") if r.name.startswith("app-airflow")]
    assert [a.inputs["metadata"]["name"] for a in accounts] == ["airflow-worker"]


@pytest.mark.parametrize("entry", ["airflow", "airflow/Scheduler", "a/b/c", "/b"])
def test_a_bad_additional_service_account_is_one_line(entry):
    raw = stack_settings("dev")
    raw["appRoles"] = {"airflow": AIRFLOW | {"additionalServiceAccounts": [entry]}}
    assert "eks-platform:settings.appRoles.airflow.additionalServiceAccounts" in error_of(raw)
