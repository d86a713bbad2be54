"""VaultServer: its pure builders (the raft HCL parsed back, the chart values) and the component under the recording
mocks (``run_callable``), in preview and update modes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_tls as tls
import pulumi_vault as vault
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import vault_server as vs
from components.context import AwsContext, ClusterRef
from components.iam_documents import KMS_KEY_ADMIN_ACTIONS, VAULT_SEAL_KEY_ACTIONS
from components.naming import NamingContext
from components.versions import VAULT_CHART
from tools.harness import MODES, UNKNOWN, Mode, Plan, Registration, run_callable
from tools.mocks import OIDC_ISSUER_HOST, OIDC_ISSUER_URL

PROJECT, STACK = "eks-platform", "test"
ACCOUNT = "123456789012"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_ISSUER_HOST}"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
ROLES = {
    "hub": vs.KubernetesAuthRole((("hub", "backend"), ("hub", "frontend")), ("hub-read",), 3600),
    "jobs": vs.KubernetesAuthRole((("batch", "runner"),), ("jobs-read", "jobs-write"), 600),
}

KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
RELEASE = "kubernetes:helm.sh/v3:Release"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
SECRET = "kubernetes:core/v1:Secret"
AUTH_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"


# ------------------------------------------------------------------ a parser for the HCL subset raft_config writes


def parse_hcl(text: str) -> list[tuple[str, Any]]:
    """``[(block header or key, body or value)]``: blocks nest, values are JSON literals (strings, booleans)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]

    def body(index: int) -> tuple[list[tuple[str, Any]], int]:
        items: list[tuple[str, Any]] = []
        while index < len(lines):
            line = lines[index]
            if line == "}":
                return items, index + 1
            if line.endswith("{}"):
                items.append((line[:-2].strip(), []))
                index += 1
            elif line.endswith("{"):
                inner, index = body(index + 1)
                items.append((line[:-1].strip(), inner))
            else:
                key, _, value = line.partition(" = ")
                items.append((key, json.loads(value)))
                index += 1
        return items, index

    parsed, _ = body(0)
    return parsed


def blocks(items: list[tuple[str, Any]], header: str) -> list[dict[str, Any]]:
    return [dict(value) for key, value in items if key == header]


@given(replicas=st.integers(min_value=0, max_value=3).map(lambda n: 2 * n + 1), key=st.from_regex(r"^[0-9a-f-]{36}$"))
def test_the_raft_config_joins_every_pod_over_tls_seals_with_kms_and_registers(replicas: int, key: str) -> None:
    config = parse_hcl(vs.raft_config(replicas=replicas, region="eu-west-1", kms_key_id=key))
    (storage,) = [value for header, value in config if header == 'storage "raft"']
    joins = blocks(storage, "retry_join")
    assert len(joins) == replicas
    assert [join["leader_api_addr"] for join in joins] == [
        f"https://vault-{i}.vault-internal:8200" for i in range(replicas)
    ]
    for join in joins:
        assert join["leader_ca_cert_file"] == "/vault/userconfig/vault-tls/ca.crt"
        assert join["leader_client_cert_file"] == "/vault/userconfig/vault-tls/tls.crt"
        assert join["leader_client_key_file"] == "/vault/userconfig/vault-tls/tls.key"
    assert dict(storage)["path"] == "/vault/data"
    assert blocks(config, 'seal "awskms"') == [{"region": "eu-west-1", "kms_key_id": key}]
    assert blocks(config, 'service_registration "kubernetes"') == [{}]
    (listener,) = blocks(config, 'listener "tcp"')
    assert listener["tls_disable"] is False
    assert listener["tls_cert_file"] == "/vault/userconfig/vault-tls/tls.crt"
    assert listener["tls_client_ca_file"] == "/vault/userconfig/vault-tls/ca.crt"


def test_the_raft_config_holds_none_of_the_words_the_chart_substitutes() -> None:
    # vault-helm templates/_helpers.tpl "vault.args": sed replaces these in the config; tpl renders {{ }}.
    text = vs.raft_config(replicas=5, region="us-west-2", kms_key_id="k")
    for word in ("HOST_IP", "POD_IP", "HOSTNAME", "API_ADDR", "TRANSIT_ADDR", "RAFT_ADDR", "{{"):
        assert word not in text


def test_the_server_certificate_names_every_pod_and_service() -> None:
    names = vs.server_dns_names()
    assert "*.vault-internal" in names  # what each retry_join dials: vault-<i>.vault-internal
    for service in ("vault", "vault-active", "vault-standby"):
        assert f"{service}.vault.svc" in names
        assert f"{service}.vault.svc.cluster.local" in names
    assert vs.SERVER_IP_ADDRESSES == ("127.0.0.1",)  # kubectl port-forward
    assert all(re.fullmatch(r"(\*\.)?[a-z0-9.-]+", name) for name in names)


def test_the_values_run_ha_raft_on_the_gp3_class_with_tls_and_the_irsa_annotation() -> None:
    spec = vs.VaultServerSpec(replicas=5, data_storage_gib=20, audit_storage_gib=5, storage_class="gp3")
    values = vs.server_values(
        spec, raft="RAFT", role_arn="ROLE", tls_secret="vault-tls", node_selector={"a": "b"}, tolerations=[TOLERATION]
    )
    server = values["server"]
    assert values["global"] == {"tlsDisable": False}
    assert server["ha"] == {
        "enabled": True,
        "replicas": 5,
        "raft": {"enabled": True, "setNodeId": True, "config": "RAFT"},
    }
    assert server["dataStorage"] == {"enabled": True, "size": "20Gi", "storageClass": "gp3", "mountPath": "/vault/data"}
    assert server["auditStorage"] == {
        "enabled": True,
        "size": "5Gi",
        "storageClass": "gp3",
        "mountPath": "/vault/audit",
    }
    assert server["serviceAccount"] == {
        "create": True,
        "name": "vault",
        "annotations": {"eks.amazonaws.com/role-arn": "ROLE"},
    }
    assert server["extraVolumes"] == [{"type": "secret", "name": "vault-tls"}]
    assert server["extraEnvironmentVars"] == {"VAULT_CACERT": "/vault/userconfig/vault-tls/ca.crt"}
    assert server["authDelegator"] == {"enabled": False}
    assert server["updateStrategyType"] == "OnDelete"  # Helm's wait skips it: the first up ends before init
    assert server["nodeSelector"] == {"kubernetes.io/os": "linux", "a": "b"}
    assert server["tolerations"] == [TOLERATION]
    assert values["injector"]["authPath"] == "auth/kubernetes"


@pytest.mark.parametrize(
    ("accounts", "problem"),
    [
        ((("a", "x"),), None),
        ((("a", "x"), ("a", "y")), None),
        ((("a", "x"), ("b", "x")), None),
        ((("a", "x"), ("b", "y")), "which would also admit a/y, b/x: split the role"),
        ((), "lists no ServiceAccount"),
    ],
)
def test_a_role_admits_exactly_its_service_accounts(accounts: tuple[tuple[str, str], ...], problem: str | None) -> None:
    found = vs.role_binding_problem(accounts)
    assert (found is None) if problem is None else (found is not None and found.endswith(problem))


def test_the_component_refuses_nonsense_before_registering() -> None:
    assert vs.spec_problems(vs.VaultServerSpec(replicas=4)) == ["replicas: raft needs an odd number of voters, got 4"]
    assert vs.spec_problems(vs.VaultServerSpec(roles=ROLES)) == [
        "roles: applied only with configure (after `vault operator init`)"
    ]
    with pytest.raises(ValueError, match="odd number"):
        run_callable(program(vs.VaultServerSpec(replicas=2)))


# ------------------------------------------------------------------ the component under mocks


def program(spec: vs.VaultServerSpec) -> Callable[[], None]:
    def build() -> None:
        providers: list[pulumi.ProviderResource] = [
            aws.Provider("aws", region="us-west-2"),
            k8s.Provider("k8s", kubeconfig="{}"),
            tls.Provider("tls"),
        ]
        if spec.configure:
            token = pulumi.Output.secret("hvs.offline")
            providers.append(vault.Provider("vault", address="https://127.0.0.1:8200", token=token))
        vs.VaultServer(
            "vault-server",
            vs.VaultServerArgs(
                naming=NamingContext(PROJECT, STACK),
                spec=spec,
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
                account=AwsContext(account_id=ACCOUNT, partition="aws", region="us-west-2", tags={}),
                protect=True,
            ),
            pulumi.ResourceOptions(providers=providers),
        )

    return build


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param


@pytest.fixture(scope="module")
def plan(mode: Mode) -> Plan:
    return run_callable(program(vs.VaultServerSpec(configure=True, roles=ROLES)), mode=mode)


def server_role(plan: Plan) -> Registration:
    return plan.one(ROLE, "vault-server-server-role-role")


def values(plan: Plan) -> dict[str, Any]:
    return plan.one(RELEASE, "vault-server-release").inputs["values"]


def test_the_unseal_key_is_used_by_the_server_role_only(plan: Plan) -> None:
    key = plan.one(KEY, "vault-server-unseal-key")
    assert key.protect
    assert key.inputs["enableKeyRotation"] is True
    assert server_role(plan).urn in key.property_dependencies["policy"]  # KMS refuses a principal that is not yet
    if plan.mode == "preview":
        assert key.inputs["policy"] == UNKNOWN  # the role's ARN is not known before it exists
        return
    policy = json.loads(key.inputs["policy"])
    users: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "Condition" not in statement
        users.setdefault(statement["Principal"]["AWS"], set()).update(statement["Action"])
    role_arn = server_role(plan).outputs["arn"]
    assert users == {
        f"arn:aws:iam::{ACCOUNT}:root": set(KMS_KEY_ADMIN_ACTIONS),
        role_arn: {"kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"},
    }
    crypto = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:*"}
    assert [arn for arn, actions in users.items() if actions & crypto] == [role_arn]
    assert set(VAULT_SEAL_KEY_ACTIONS) == users[role_arn]


def test_the_server_role_trusts_exactly_the_charts_server_service_account(plan: Plan) -> None:
    role = server_role(plan)
    assert role.inputs["name"] == "eks-platform-test-vault-server"
    if plan.mode == "preview":
        return
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": OIDC_ARN}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{OIDC_ISSUER_HOST}:sub": "system:serviceaccount:vault:vault",
            f"{OIDC_ISSUER_HOST}:aud": "sts.amazonaws.com",
        }
    }
    assert not plan.by_type("aws:iam/rolePolicy:RolePolicy")  # the key policy grants the role: no IAM policy


def test_the_release_is_the_pinned_chart_with_the_seal_key_and_the_role(plan: Plan) -> None:
    release = plan.one(RELEASE, "vault-server-release")
    repo, chart, version = VAULT_CHART
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]) == (
        chart,
        version,
        {"repo": repo},
    )
    assert release.inputs["namespace"] == "vault"
    assert release.inputs["atomic"] is True
    server = values(plan)["server"]
    assert server["extraVolumes"] == [{"type": "secret", "name": "vault-tls"}]
    deps = release.property_dependencies["values"]
    assert plan.one(SECRET, "vault-server-tls").urn in deps  # the pods mount it
    assert plan.one(KEY, "vault-server-unseal-key").urn in deps  # the seal names it
    if plan.mode == "preview":
        assert server["ha"]["raft"]["config"] == UNKNOWN
        return
    key_id = plan.one(KEY, "vault-server-unseal-key").outputs["keyId"]
    assert blocks(parse_hcl(server["ha"]["raft"]["config"]), 'seal "awskms"') == [
        {"region": "us-west-2", "kms_key_id": key_id}
    ]
    assert server["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": server_role(plan).outputs["arn"]}


def test_the_tls_secret_holds_the_stacks_certificates_and_keeps_the_key_secret(plan: Plan) -> None:
    secret = plan.one(SECRET, "vault-server-tls")
    wire = secret.inputs["stringData"]
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert wire[SECRET_SIG]  # the whole stringData is a secret on the wire (the private key in it), in both modes
    data = wire["value"]
    cert = plan.one("tls:index/locallySignedCert:LocallySignedCert", "vault-server-server-cert")
    ca = plan.one("tls:index/selfSignedCert:SelfSignedCert", "vault-server-ca")
    assert ca.inputs["isCaCertificate"] is True
    assert set(cert.inputs["allowedUses"]) >= {"server_auth", "client_auth"}
    csr = plan.one("tls:index/certRequest:CertRequest", "vault-server-server-csr")
    assert csr.inputs["dnsNames"] == vs.server_dns_names()
    assert csr.inputs["ipAddresses"] == ["127.0.0.1"]
    if plan.mode == "preview":  # keys and certificates are generated on create: unknown before
        assert data == UNKNOWN
    else:
        assert data["tls.crt"] == cert.outputs["certPem"]
        assert data["ca.crt"] == ca.outputs["certPem"]
        assert (
            data["tls.key"]
            == plan.one("tls:index/privateKey:PrivateKey", "vault-server-server-key").outputs["privateKeyPem"]
        )


def test_the_token_reviewer_is_the_server_service_account_bound_to_auth_delegator(plan: Plan) -> None:
    binding = plan.one(BINDING, "vault-server-token-reviewer")
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:auth-delegator",
    }
    assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": "vault", "namespace": "vault"}]
    assert values(plan)["server"]["authDelegator"] == {"enabled": False}  # one binding: this one


def test_kubernetes_auth_kv2_and_roles_bound_to_the_named_service_accounts(plan: Plan) -> None:
    auth = plan.one("vault:index/authBackend:AuthBackend", "vault-server-kubernetes-auth")
    assert auth.inputs["type"] == "kubernetes"
    assert auth.protect
    config = plan.one("vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault-server-kubernetes-auth-config")
    assert config.inputs == {"backend": "kubernetes", "kubernetesHost": "https://kubernetes.default.svc"}
    kv = plan.one("vault:index/mount:Mount", "vault-server-kv")
    assert (kv.inputs["path"], kv.inputs["type"], kv.inputs["options"]) == ("secret", "kv", {"version": "2"})
    audit = plan.one("vault:index/audit:Audit", "vault-server-audit")
    assert audit.inputs["options"] == {"file_path": "/vault/audit/vault_audit.log"}
    roles = {r.name: r.inputs for r in plan.by_type(AUTH_ROLE)}
    assert roles == {
        "vault-server-role-hub": {
            "backend": "kubernetes",
            "roleName": "hub",
            "boundServiceAccountNames": ["backend", "frontend"],
            "boundServiceAccountNamespaces": ["hub"],
            "tokenPolicies": ["hub-read"],
            "tokenTtl": 3600.0,
            "tokenMaxTtl": 14400.0,
        },
        "vault-server-role-jobs": {
            "backend": "kubernetes",
            "roleName": "jobs",
            "boundServiceAccountNames": ["runner"],
            "boundServiceAccountNamespaces": ["batch"],
            "tokenPolicies": ["jobs-read", "jobs-write"],
            "tokenTtl": 600.0,
            "tokenMaxTtl": 2400.0,
        },
    }


def test_vault_is_configured_only_after_the_release(plan: Plan) -> None:
    release = plan.one(RELEASE, "vault-server-release").urn
    for name in ("vault-server-kubernetes-auth", "vault-server-kv", "vault-server-audit"):
        (registration,) = [r for r in plan.resources if r.name == name]
        assert release in registration.dependencies
    config = plan.one("vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault-server-kubernetes-auth-config")
    for role in plan.by_type(AUTH_ROLE):
        assert role.property_dependencies["backend"] == [config.urn]


def test_phase_one_declares_no_vault_objects(mode: Mode) -> None:
    first = run_callable(program(vs.VaultServerSpec()), mode=mode)
    assert [r.type for r in first.resources if r.type.startswith(("vault:", "pulumi:providers:vault"))] == []
    assert first.one(RELEASE, "vault-server-release").inputs["values"]["server"]["ha"]["replicas"] == 3.0
