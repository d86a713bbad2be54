"""Pure planning of VaultAwsAuth: policy HCL, role names, pod annotations, Helm values, provider args."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.naming import NamingContext
from components.vault_aws_auth import (
    INJECTOR_NAMESPACE,
    VaultSpec,
    bound_role_name,
    credentials_template,
    injector_annotations,
    injector_values,
    read_all_user_roles_policy,
    spec_problems,
    user_role_plan,
    vault_provider_args,
)
from components.vault_names import user_role_name
from config import VaultSettings, vault_spec

JAY = "jay@eventualcomputing.com"
JAY_ARN = "arn:aws:iam::941892620273:role/jay-eventual-access"

#: The seed's ``vault policy write read-all-user-roles`` heredoc, verbatim.
SEED_POLICY = """path "aws/sts/userrole-*" {
  capabilities = ["read", "update"]
}
"""

#: The seed's pod annotations, verbatim (comments dropped).
SEED_ANNOTATIONS = """
vault.hashicorp.com/agent-inject: "true"
vault.hashicorp.com/namespace: admin
vault.hashicorp.com/role: daft-service-role
vault.hashicorp.com/auth-type: aws
vault.hashicorp.com/auth-path: auth/aws
vault.hashicorp.com/auth-config-type: iam
vault.hashicorp.com/agent-pre-populate-only: "true"
vault.hashicorp.com/agent-inject-secret-aws-credentials: aws/sts/userrole-jay@eventualcomputing.com
vault.hashicorp.com/agent-inject-template-aws-credentials: |
  {{ with secret "aws/sts/userrole-jay@eventualcomputing.com" "ttl=1h" -}}
  export AWS_ACCESS_KEY_ID="{{ .Data.access_key }}"
  export AWS_SECRET_ACCESS_KEY="{{ .Data.secret_key }}"
  export AWS_SESSION_TOKEN="{{ .Data.security_token }}"
  {{- end }}
"""

#: Vault's GenericNameWithAtRegex (AWS secrets role names), anchored as Vault anchors path patterns.
VAULT_NAME_WITH_AT = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.@-]*[A-Za-z0-9_])?$")


def enabled(**changes: object) -> VaultSettings:
    base: dict[str, object] = {
        "enabled": True,
        "address": "https://vault.example.hashicorp.cloud:8200",
        "users": {JAY: [JAY_ARN]},
    }
    return VaultSettings.model_validate(base | changes)


def spec(**changes: object) -> VaultSpec:
    return vault_spec(enabled(**changes))


def test_policy_is_the_seeds_text() -> None:
    assert read_all_user_roles_policy("aws") == SEED_POLICY


def test_policy_follows_the_secrets_mount() -> None:
    assert read_all_user_roles_policy("aws-dev").splitlines()[0] == 'path "aws-dev/sts/userrole-*" {'


def test_annotations_are_the_seeds() -> None:
    annotations = injector_annotations(
        user=JAY, auth_role="daft-service-role", auth_path="aws", secrets_path="aws", namespace="admin"
    )
    assert annotations == yaml.safe_load(SEED_ANNOTATIONS)
    assert all(isinstance(value, str) for value in annotations.values())  # Kubernetes wants strings


def test_annotations_without_vault_namespace_and_custom_mounts() -> None:
    annotations = injector_annotations(
        user="sam@example.com", auth_role="ci", auth_path="aws-dev", secrets_path="aws-creds", secret_name="sam"
    )
    assert "vault.hashicorp.com/namespace" not in annotations
    assert annotations["vault.hashicorp.com/auth-path"] == "auth/aws-dev"
    assert annotations["vault.hashicorp.com/agent-inject-secret-sam"] == "aws-creds/sts/userrole-sam@example.com"
    assert annotations["vault.hashicorp.com/agent-inject-template-sam"] == credentials_template(
        "aws-creds/sts/userrole-sam@example.com"
    )


@pytest.mark.parametrize("secret_name", ["AWS", "aws_credentials", "-x", "x" * 42])
def test_annotation_secret_name_must_fit_an_annotation_name(secret_name: str) -> None:
    with pytest.raises(ValueError, match="DNS label"):
        injector_annotations(user=JAY, auth_role="r", auth_path="aws", secrets_path="aws", secret_name=secret_name)


def test_credentials_template_ttl() -> None:
    assert credentials_template("aws/sts/userrole-x", ttl="15m").startswith(
        '{{ with secret "aws/sts/userrole-x" "ttl=15m" -}}\n'
    )


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (JAY, "userrole-jay@eventualcomputing.com"),  # '@' and '.' are allowed: the seed's name as is
        ("Jay_Lee@example.co.uk", "userrole-Jay_Lee@example.co.uk"),
        ("jay+ci@example.com", "userrole-jay-ci@example.com"),  # '+' is not: sanitised
        ("team data", "userrole-team-data"),
    ],
)
def test_user_role_names(user: str, expected: str) -> None:
    assert user_role_name(user) == expected


@pytest.mark.parametrize("user", ["", "jay-", "jay@", "jay!", "jäy ü"])
def test_user_role_names_vault_rejects(user: str) -> None:
    with pytest.raises(ValueError, match="not a Vault role name"):
        user_role_name(user)


@given(st.text(max_size=40))
def test_user_role_name_is_a_vault_name_or_refused(user: str) -> None:
    try:
        name = user_role_name(user)
    except ValueError:
        return
    assert VAULT_NAME_WITH_AT.match(name)
    assert name == user_role_name(user)  # deterministic: the same user always gets the same role


def test_user_role_plan_is_keyed_by_user_and_keeps_arns() -> None:
    second = "arn:aws:iam::111122223333:role/other"
    plan = user_role_plan({"zed@x.com": [second], JAY: [JAY_ARN, second]})
    assert list(plan) == [JAY, "zed@x.com"]
    assert plan[JAY].role_name == "userrole-jay@eventualcomputing.com"
    assert plan[JAY].role_arns == (JAY_ARN, second)


def test_user_role_plan_refuses_two_users_on_one_role() -> None:
    with pytest.raises(ValueError, match=re.escape("both map to Vault role 'userrole-a-b@x.com'")):
        user_role_plan({"a+b@x.com": [JAY_ARN], "a-b@x.com": [JAY_ARN]})


def test_injector_values() -> None:
    toleration = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    values = injector_values(
        vault_address="https://vault.example:8200",
        auth_path="aws",
        namespace="admin",
        node_selector={"dedicated": "system"},
        tolerations=[toleration],
    )
    assert values == {
        "global": {"externalVaultAddr": "https://vault.example:8200"},
        "server": {"enabled": False},
        "csi": {"enabled": False},
        "injector": {
            "enabled": True,
            "authPath": "auth/aws",
            "extraEnvironmentVars": {"AGENT_INJECT_VAULT_AUTH_TYPE": "aws", "AGENT_INJECT_VAULT_NAMESPACE": "admin"},
            "nodeSelector": {"kubernetes.io/os": "linux", "dedicated": "system"},
            "tolerations": [toleration],
        },
    }


def test_injector_values_without_vault_namespace() -> None:
    values = injector_values(
        vault_address="https://v", auth_path="aws", namespace=None, node_selector={}, tolerations=[]
    )
    assert values["injector"]["extraEnvironmentVars"] == {"AGENT_INJECT_VAULT_AUTH_TYPE": "aws"}
    assert values["injector"]["tolerations"] == []


def test_vault_provider_args() -> None:
    token = object()
    assert vault_provider_args(spec(namespace="admin"), token=token) == {  # type: ignore[arg-type]
        "address": "https://vault.example.hashicorp.cloud:8200",
        "namespace": "admin",
        "token": token,
    }
    assert "namespace" not in vault_provider_args(spec(namespace=None), token="t")


def test_bound_role_name_is_the_seeds_pattern_and_fits_iam() -> None:
    assert bound_role_name(NamingContext("eks-platform", "dev")) == "eks-platform-dev-vault-bound-role"
    long_name = bound_role_name(NamingContext("a-very-long-project-name-for-the-platform", "production-eu"))
    assert len(long_name) <= 64
    assert long_name == bound_role_name(NamingContext("a-very-long-project-name-for-the-platform", "production-eu"))


def test_spec_problems_accepts_the_defaults() -> None:
    assert spec_problems(spec(), bound_role="eks-platform-dev-vault-bound-role") == []


def test_spec_problems_refuse_a_bound_role_name_iam_would() -> None:
    (problem,) = spec_problems(spec(), bound_role="x" * 65)
    assert "not a valid IAM role name" in problem


def test_spec_problems_refuse_users_sharing_a_vault_role() -> None:
    # The settings refuse these already; the component checks what it is given anyway.
    users = {"a+b@x.com": (JAY_ARN,), "a-b@x.com": (JAY_ARN,)}
    (problem,) = spec_problems(dataclasses.replace(spec(), users=users), bound_role="r")
    assert "both map to Vault role 'userrole-a-b@x.com'" in problem


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"auth_role": "daft@role"}, "String should match pattern"),
        ({"bound_namespace": INJECTOR_NAMESPACE}, "'vault' is the agent injector's namespace"),
    ],
)
def test_settings_refuse_what_vault_would(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        enabled(**changes)


def test_two_users_sharing_a_vault_role_are_refused_by_the_settings() -> None:
    # Caught before anything registers, not by the component after the cluster is declared.
    with pytest.raises(
        ValueError, match=r"users\.a-b@x\.com: maps to Vault role 'userrole-a-b@x\.com', as 'a\+b@x\.com' does"
    ):
        enabled(users={"a+b@x.com": [JAY_ARN], "a-b@x.com": [JAY_ARN]})
