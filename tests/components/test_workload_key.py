"""Workload KMS keys (issue 11, item 5): usable by the named app roles only, administered by the account."""

from __future__ import annotations

import json

import pytest

from components.iam_documents import KMS_KEY_ADMIN_ACTIONS, KMS_KEY_USER_ACTIONS, workload_key_policy
from tests.config.test_settings import KEY, error_of, stack_settings
from tools.harness import MODES, run_program

AIRFLOW = {
    "namespace": "airflow",
    "serviceAccount": "airflow-worker",
    "additionalServiceAccounts": ["airflow/airflow-scheduler"],
}


def keyed_settings(stack: str = "prod") -> dict:
    raw = stack_settings(stack)
    raw["appRoles"] = {
        **raw.get("appRoles", {}),
        "airflow": AIRFLOW,
        "reports": {"namespace": "reports", "serviceAccount": "reports"},
    }
    raw["kmsKeys"] = {"airflow-data": {"description": "Airflow connections and variables", "appRoles": ["airflow"]}}
    return raw


@pytest.fixture(scope="module", params=MODES)
def plan(request):
    return run_program("prod", request.param, config_overrides={KEY: keyed_settings()})


def test_the_key_rotates_is_protected_and_is_aliased_by_the_naming_pattern(plan):
    key = plan.one("aws:kms/key:Key", "kms-airflow-data-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.inputs["description"] == "Airflow connections and variables"
    assert key.protect is True
    alias = plan.one("aws:kms/alias:Alias", "kms-airflow-data-alias")
    assert alias.inputs["name"] == "alias/eks-platform-prod-airflow-data"
    assert key.parent == plan.one("eksplatform:platform:WorkloadKey", "kms-airflow-data").urn


def test_only_the_named_role_may_use_it_and_the_key_waits_for_the_role(plan):
    key = plan.one("aws:kms/key:Key", "kms-airflow-data-key")
    airflow = plan.one("aws:iam/role:Role", "app-airflow-role")
    assert airflow.urn in key.property_dependencies["policy"]
    if plan.mode == "preview":
        return  # the role's ARN is unknown until it exists: the policy is too
    policy = json.loads(key.inputs["policy"])
    admin, users = policy["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}
    assert not set(admin["Action"]) & {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:*"}
    assert users["Principal"] == {"AWS": [plan.seen(airflow, "arn")]}
    reports = plan.one("aws:iam/role:Role", "app-reports-role")
    assert plan.seen(reports, "arn") not in json.dumps(policy)


def test_the_key_policy_s_actions_are_the_kms_guide_s_default_statements():
    # AWS KMS Developer Guide, "Default key policy": the key administrators and key users statements.
    assert len(KMS_KEY_ADMIN_ACTIONS) == 15
    assert "kms:ScheduleKeyDeletion" in KMS_KEY_ADMIN_ACTIONS
    assert set(KMS_KEY_USER_ACTIONS) == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    }
    document = workload_key_policy(
        account_id="111122223333",
        partition="aws",
        user_role_arns=["arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/a"],
    )
    assert document["Statement"][1]["Principal"]["AWS"] == [
        "arn:aws:iam::111122223333:role/a",
        "arn:aws:iam::111122223333:role/b",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"kmsKeys": {"data": {"description": "x", "appRoles": ["nobody"]}}},
            "kmsKeys.data.appRoles: not keys of appRoles: nobody",
        ),
        (
            {"kmsKeys": {"secrets": {"description": "x", "appRoles": ["airflow"]}}},
            "kmsKeys.secrets: the cluster's secrets key",
        ),
        (
            {"kmsKeys": {"data": {"description": "x", "appRoles": []}}},
            "kmsKeys.data.appRoles: List should have at least 1",
        ),
        (
            {"kmsKeys": {"data": {"description": "x", "appRoles": ["airflow"], "deletionWindowDays": 3}}},
            "kmsKeys.data.deletionWindowDays",
        ),
    ],
)
def test_bad_keys_stop_in_settings(change, message):
    raw = keyed_settings()
    raw.update(change)
    assert f"{KEY}.{message}" in error_of(raw, "prod")


def test_a_stack_with_a_workload_key_passes_the_prod_gate_and_the_linters():
    from tests.policies.test_pack_grpc import started_with
    from tools.linters import lint_plan

    settings = keyed_settings()
    plan = run_program("prod", "update", config_overrides={KEY: settings})
    pack = started_with("prod", settings)
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    assert report.violations == []
    lint = lint_plan(plan)
    assert lint.failing == []
