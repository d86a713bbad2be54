"""VaultAwsAuth under the harness's recording mocks (``run_callable``), in preview and update modes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_vault as vault
import pytest
import yaml

from components import vault_aws_auth as vaa
from components.context import AwsContext, ClusterRef
from components.naming import NamingContext
from components.versions import DEFAULT_KUBERNETES_VERSION, VAULT_CHART
from config import VaultSettings, vault_spec
from tools.harness import MODES, UNKNOWN, Mode, Plan, Registration, run_callable
from tools.mocks import OIDC_ISSUER_HOST, OIDC_ISSUER_URL

PROJECT, STACK = "eks-platform", "test"  # run_callable's defaults
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the wire sentinel key of a secret value
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"
OIDC_ARN = f"arn:aws:iam::123456789012:oidc-provider/{OIDC_ISSUER_HOST}"
ADDRESS = "https://vault-cluster.vault.11eb-example.aws.hashicorp.cloud:8200"
ACCESS_KEY, SECRET_KEY, TOKEN = "AKIAOFFLINEEXAMPLE", "offline-secret-key", "hvs.offline-token"
JAY, SAM = "jay@eventualcomputing.com", "sam+ci@eventualcomputing.com"
JAY_ARNS = ["arn:aws:iam::941892620273:role/jay-eventual-access"]
SAM_ARNS = ["arn:aws:iam::111122223333:role/sam-a", "arn:aws:iam::111122223333:role/sam-b"]
TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}

ROLE = "aws:iam/role:Role"
VAULT_ROLE = "vault:aws/authBackendRole:AuthBackendRole"
CLIENT = "vault:aws/authBackendClient:AuthBackendClient"
SECRETS = "vault:aws/secretBackend:SecretBackend"
USER_ROLE = "vault:aws/secretBackendRole:SecretBackendRole"
POLICY = "vault:index/policy:Policy"
AUTH = "vault:index/authBackend:AuthBackend"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def settings(**changes: Any) -> vaa.VaultSpec:
    base: dict[str, Any] = {
        "enabled": True,
        "address": ADDRESS,
        "namespace": "admin",
        "bound_namespace": "daft",
        "bound_service_account": "vault-role-sa",
        "users": {JAY: JAY_ARNS, SAM: SAM_ARNS},
    }
    return vault_spec(VaultSettings.model_validate(base | changes))


def program(spec: vaa.VaultSpec) -> Callable[[], None]:
    def build() -> None:
        aws_provider = aws.Provider("aws", region="us-west-2")
        k8s_provider = k8s.Provider("k8s", kubeconfig="{}")
        vault_provider = vault.Provider("vault", **vaa.vault_provider_args(spec, token=pulumi.Output.secret(TOKEN)))
        vaa.VaultAwsAuth(
            "vault",
            vaa.VaultAwsAuthArgs(
                naming=NamingContext(PROJECT, STACK),
                vault=spec,
                cluster=ClusterRef(
                    name="eks-platform-test",
                    endpoint="https://example.gr7.us-west-2.eks.amazonaws.com",
                    oidc_provider_arn=OIDC_ARN,
                    oidc_issuer_url=OIDC_ISSUER_URL,
                    security_group_id="sg-0123456789abcdef0",
                    kubernetes_version="1.35",
                    system_node_selector={"dedicated": "system"},
                    system_tolerations=[TOLERATION],
                ),
                account=AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags={}),
                aws_access_key=pulumi.Output.secret(ACCESS_KEY),
                aws_secret_key=pulumi.Output.secret(SECRET_KEY),
            ),
            pulumi.ResourceOptions(providers=[aws_provider, k8s_provider, vault_provider]),
        )

    return build


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param


@pytest.fixture(scope="module")
def plan(mode: Mode) -> Plan:
    return run_callable(program(settings()), mode=mode)


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: SECRET_VALUE_SIG, "value": value}


def without_secrets(value: Any) -> Any:
    """``value`` with every secret on the wire replaced by ``"[secret]"``."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE_SIG:
            return "[secret]"
        return {key: without_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def bound_role(plan: Plan) -> Registration:
    return plan.one(ROLE, "vault-bound-role-role")


def test_auth_role_is_bound_to_the_iam_role(plan: Plan) -> None:
    vault_role, iam_role = plan.one(VAULT_ROLE, "vault-auth-role"), bound_role(plan)
    assert iam_role.inputs["name"] == "eks-platform-test-vault-bound-role"
    assert vault_role.inputs == {
        "backend": "aws",
        "role": "daft-service-role",
        "authType": "iam",
        "boundIamPrincipalArns": [plan.seen(iam_role, "arn")],
        "resolveAwsUniqueIds": True,
        "tokenPolicies": ["read-all-user-roles"],
        "tokenTtl": 3600.0,
        "tokenMaxTtl": 14400.0,
    }
    assert plan.seen(iam_role, "arn") == plan.computed(
        "arn:aws:iam::123456789012:role/eks-platform-test-vault-bound-role"
    )


def test_auth_role_data_edges(plan: Plan) -> None:
    deps = plan.one(VAULT_ROLE, "vault-auth-role").property_dependencies
    assert bound_role(plan).urn in deps["boundIamPrincipalArns"]
    assert plan.one(POLICY, "vault-policy").urn in deps["tokenPolicies"]
    # written only after Vault has the client credentials it resolves the bound ARN with
    assert deps["backend"] == [plan.one(CLIENT, "vault-auth-client").urn]
    assert plan.one(CLIENT, "vault-auth-client").property_dependencies["backend"] == [plan.one(AUTH, "vault-auth").urn]


def test_iam_role_recreation_replaces_the_vault_role(mode: Mode) -> None:
    plan = run_callable(program(settings()), mode=mode)
    vault_role = plan.one(VAULT_ROLE, "vault-auth-role")
    assert vault_role.replacement_trigger == plan.seen(bound_role(plan), "uniqueId")
    assert str(plan.seen(bound_role(plan), "uniqueId")).startswith("AROA" if mode == "update" else UNKNOWN)
    assert vault_role.delete_before_replace  # same Vault path: create-then-delete would delete the new role
    assert bound_role(plan).urn in vault_role.dependencies
    assert [r.urn for r in plan.resources if r.replacement_trigger is not None] == [vault_role.urn]


def test_auth_method_and_client(plan: Plan) -> None:
    assert plan.one(AUTH, "vault-auth").inputs == {
        "type": "aws",
        "path": "aws",
        "description": "EKS pods (IRSA) log in",
    }
    assert plan.one(CLIENT, "vault-auth-client").inputs == {
        "backend": "aws",
        "accessKey": secret(ACCESS_KEY),
        "secretKey": secret(SECRET_KEY),
    }


def test_policy_is_the_seeds_hcl(plan: Plan) -> None:
    assert plan.one(POLICY, "vault-policy").inputs == {
        "name": "read-all-user-roles",
        "policy": 'path "aws/sts/userrole-*" {\n  capabilities = ["read", "update"]\n}\n',
    }


def test_secrets_engine(plan: Plan) -> None:
    assert plan.one(SECRETS, "vault-secrets").inputs == {
        "path": "aws",
        "accessKey": secret(ACCESS_KEY),
        "secretKey": secret(SECRET_KEY),
        "region": "us-west-2",
        "description": "STS credentials of users' roles (userrole-<user>)",
    }


def test_one_backend_role_per_user(plan: Plan) -> None:
    roles = {r.name: r for r in plan.by_type(USER_ROLE)}
    assert sorted(roles) == ["vault-userrole-jay@eventualcomputing.com", "vault-userrole-sam-ci@eventualcomputing.com"]
    assert roles["vault-userrole-jay@eventualcomputing.com"].inputs == {
        "backend": "aws",
        "name": "userrole-jay@eventualcomputing.com",
        "credentialType": "assumed_role",
        "roleArns": JAY_ARNS,
    }
    assert roles["vault-userrole-sam-ci@eventualcomputing.com"].inputs["roleArns"] == SAM_ARNS
    secrets_urn = plan.one(SECRETS, "vault-secrets").urn
    assert all(r.property_dependencies["backend"] == [secrets_urn] for r in roles.values())


def test_adding_a_user_adds_one_role_and_changes_nothing_else(plan: Plan, mode: Mode) -> None:
    new_user = "kim@eventualcomputing.com"
    more = run_callable(program(settings(users={JAY: JAY_ARNS, SAM: SAM_ARNS, new_user: JAY_ARNS})), mode=mode)
    before = {r.urn: (r.inputs, r.property_dependencies) for r in plan.resources}
    after = {r.urn: (r.inputs, r.property_dependencies) for r in more.resources}
    added = sorted(set(after) - set(before))
    assert [urn.rsplit("::", 1)[-1] for urn in added] == ["vault-userrole-kim@eventualcomputing.com"]
    assert {urn: after[urn] for urn in before} == before


def test_secrets_are_secret_on_the_wire(plan: Plan) -> None:
    provider = plan.one("pulumi:providers:vault", "vault")
    assert provider.inputs["token"] == secret(TOKEN)
    assert provider.inputs["address"] == ADDRESS
    assert provider.inputs["namespace"] == "admin"
    plain = json.dumps([without_secrets(r.inputs) for r in plan.resources])
    for value in (ACCESS_KEY, SECRET_KEY, TOKEN):
        assert value not in plain, f"{value} appears outside a secret"


def test_injector_release(plan: Plan) -> None:
    release = plan.one(RELEASE, "vault-injector")
    repo, chart, version = VAULT_CHART
    inputs = release.inputs
    assert (inputs["name"], inputs["chart"], inputs["version"], inputs["repositoryOpts"]) == (
        "vault",
        chart,
        version,
        {"repo": repo},
    )
    assert version.count(".") == 2
    assert version[0].isdigit()
    assert (inputs["namespace"], inputs["atomic"], inputs["cleanupOnFail"]) == ("vault", True, True)
    assert release.property_dependencies["namespace"] == [plan.one(NAMESPACE, "vault-injector-namespace").urn]
    values = inputs["values"]
    assert values["global"] == {"externalVaultAddr": ADDRESS}
    assert values["server"] == {"enabled": False}
    assert values["injector"]["enabled"] is True
    assert values["injector"]["authPath"] == "auth/aws"
    assert values["injector"]["tolerations"] == [TOLERATION]
    assert values["injector"]["nodeSelector"] == {"kubernetes.io/os": "linux", "dedicated": "system"}
    assert values["injector"]["extraEnvironmentVars"]["AGENT_INJECT_VAULT_NAMESPACE"] == "admin"


def test_irsa_trust_admits_exactly_the_bound_service_account(plan: Plan) -> None:
    trust = json.loads(bound_role(plan).inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{OIDC_ISSUER_HOST}:sub": "system:serviceaccount:daft:vault-role-sa",
                    f"{OIDC_ISSUER_HOST}:aud": "sts.amazonaws.com",
                }
            },
        }
    ]
    # Vault's IAM login signs sts:GetCallerIdentity, which needs no permission: the role has none
    assert not plan.by_type("aws:iam/rolePolicy:RolePolicy")
    assert not plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_service_account_carries_the_bound_role(plan: Plan) -> None:
    account = plan.one(SERVICE_ACCOUNT, "vault-bound-role-service-account")
    assert account.inputs["metadata"] == {
        "name": "vault-role-sa",
        "namespace": "daft",
        "annotations": {"eks.amazonaws.com/role-arn": bound_role(plan).outputs["arn"]},
    }
    names = sorted(ns.inputs["metadata"]["name"] for ns in plan.by_type(NAMESPACE))
    assert names == ["daft", "vault"]


def test_manifests_validate_strictly(plan: Plan, tmp_path: Path) -> None:
    kinds = {NAMESPACE: ("v1", "Namespace"), SERVICE_ACCOUNT: ("v1", "ServiceAccount")}
    manifests = [
        {"apiVersion": kinds[r.type][0], "kind": kinds[r.type][1], **r.inputs}
        for r in plan.resources
        if r.type in kinds
    ]
    assert len(manifests) == 3
    path = tmp_path / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(manifests))
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("kubernetes-validate")),
            "--strict",
            "--kubernetes-version",
            f"{DEFAULT_KUBERNETES_VERSION}.0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_children_use_the_given_providers(plan: Plan) -> None:
    names = {"vault": "vault", "kubernetes": "k8s", "aws": "aws"}
    refs = {
        package: provider.reference
        for package, name in names.items()
        for provider in [plan.one(f"pulumi:providers:{package}", name)]
    }
    custom = [r for r in plan.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    assert sorted(r.type for r in custom) == sorted(
        [ROLE, NAMESPACE, NAMESPACE, SERVICE_ACCOUNT, RELEASE, AUTH, CLIENT, VAULT_ROLE, POLICY, SECRETS]
        + [USER_ROLE] * 2
    )
    for registration in custom:
        assert registration.provider == refs[registration.type.split(":")[0]], registration.urn


def test_component_outputs(plan: Plan) -> None:
    [outputs] = [
        out for urn, out in plan.component_outputs.items() if urn.endswith("eksplatform:platform:VaultAwsAuth::vault")
    ]
    assert outputs["boundRoleArn"] == plan.computed("arn:aws:iam::123456789012:role/eks-platform-test-vault-bound-role")
    assert outputs["authRoleName"] == "daft-service-role"
    assert outputs["policyName"] == "read-all-user-roles"
    assert outputs["userRoleNames"] == {
        JAY: "userrole-jay@eventualcomputing.com",
        SAM: "userrole-sam-ci@eventualcomputing.com",
    }
    assert outputs["injectorReleaseName"] == "vault"


def test_users_vault_would_refuse_register_nothing(mode: Mode) -> None:
    # The settings refuse two users sharing a role name; a spec built without them meets the component's check.
    spec = dataclasses.replace(settings(), users={"a+b@x.com": tuple(JAY_ARNS), "a-b@x.com": tuple(JAY_ARNS)})
    with pytest.raises(ValueError, match=r"'a\+b@x\.com' and 'a-b@x\.com' both map to Vault role"):
        run_callable(program(spec), mode=mode)
