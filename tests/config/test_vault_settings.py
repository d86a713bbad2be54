"""`vault.mode` and `vault.inCluster`: hcp stays today's behaviour; in-cluster settings map to the VaultServer spec,
and nonsense is one line naming the stack file and the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.vault_server import KubernetesAuthRole, VaultServerSpec
from config import VaultMode, required_secrets, vault_server_spec
from tests.config.test_settings import KEY, error_of, parse, stack_settings

PHASE_TWO: dict[str, Any] = {
    "configure": True,
    "address": "https://127.0.0.1:8200",
    "caCertFile": "vault-ca.pem",
    "roles": {"hub": {"serviceAccounts": ["hub/backend", "hub/frontend"], "policies": ["hub-read"], "ttl": "30m"}},
}


def in_cluster(stack: str = "prod", **server: Any) -> dict[str, Any]:
    raw = copy.deepcopy(stack_settings(stack))
    raw["vault"] = {"enabled": True, "mode": "in-cluster", **({"inCluster": server} if server else {})}
    return raw


def test_hcp_is_the_default_and_the_stack_files_keep_it() -> None:
    for stack in ("dev", "prod"):
        settings = parse(stack_settings(stack), stack)
        assert settings.vault.mode is VaultMode.HCP
        assert settings.vault.hcp
        assert not settings.vault.in_cluster_server
        assert required_secrets(settings) == {
            "vaultToken": "vault.enabled",
            "vaultAwsAccessKey": "vault.enabled",
            "vaultAwsSecretKey": "vault.enabled",
        }


def test_phase_one_is_the_server_with_secure_defaults_and_needs_no_secret() -> None:
    settings = parse(in_cluster(), "prod")
    assert vault_server_spec(settings) == VaultServerSpec(
        replicas=3, data_storage_gib=10, audit_storage_gib=10, storage_class="gp3", configure=False
    )
    assert required_secrets(settings) == {}


def test_phase_two_maps_roles_and_needs_only_the_vault_token() -> None:
    raw = in_cluster(replicas=5, dataStorageGib=50, auditStorageGib=20, kvPath="kv", **PHASE_TWO)
    raw["cluster"]["storage"]["storageClassName"] = "fast"
    settings = parse(raw, "prod")
    spec = vault_server_spec(settings)
    assert (spec.replicas, spec.data_storage_gib, spec.audit_storage_gib, spec.storage_class, spec.kv_path) == (
        5,
        50,
        20,
        "fast",
        "kv",
    )
    assert spec.configure
    assert spec.roles == {
        "hub": KubernetesAuthRole((("hub", "backend"), ("hub", "frontend")), ("hub-read",), 1800),
    }
    assert required_secrets(settings) == {"vaultToken": "vault.inCluster.configure"}


PREFIX = f"Pulumi.prod.yaml: {KEY}.vault"


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ({"replicas": 4}, ".inCluster.replicas: raft needs an odd number of voters"),
        ({"replicas": 1}, ".inCluster.replicas: a production Vault needs at least 3 raft voters"),
        ({"replicas": 9}, ".inCluster.replicas: Input should be less than or equal to 7"),
        ({"configure": True}, ".inCluster.address: required with configure"),
        ({"configure": True, "address": "https://127.0.0.1:8200"}, ".inCluster.caCertFile: required with configure"),
        ({"address": "https://127.0.0.1:8200"}, ".inCluster.address: used only with configure: true"),
        ({"roles": PHASE_TWO["roles"]}, ".inCluster.roles: used only with configure: true"),
        ({**PHASE_TWO, "kvPath": "kubernetes"}, ".inCluster.kvPath: the kubernetes auth method is mounted there"),
        (
            {**PHASE_TWO, "roles": {"r": {"serviceAccounts": ["a/x", "b/y"]}}},
            (
                ".inCluster.roles.r.serviceAccounts: Vault binds every listed name in every listed namespace, "
                "which would also admit a/y, b/x: split the role"
            ),
        ),
        (
            {**PHASE_TWO, "roles": {"r": {"serviceAccounts": ["x"]}}},
            ".inCluster.roles.r.serviceAccounts: expected <namespace>/<serviceAccount>",
        ),
        ({**PHASE_TWO, "roles": {"r": {"serviceAccounts": ["a/x"], "ttl": "1d"}}}, ".inCluster.roles.r.ttl:"),
        ({"tls": {"certValidityHours": 100000}}, ".inCluster.tls.certValidityHours: the server certificate may not"),
    ],
)
def test_nonsense_in_cluster_settings_are_one_line_naming_the_field(server: dict[str, Any], expected: str) -> None:
    assert error_of(in_cluster(**server), "prod").startswith(PREFIX + expected)


def test_hcp_settings_are_refused_in_cluster_and_in_cluster_settings_with_hcp() -> None:
    raw = in_cluster()
    raw["vault"]["users"] = {"jay@example.com": ["arn:aws:iam::111122223333:role/x"]}
    assert error_of(raw, "prod").startswith(f"{PREFIX}.users: an HCP (mode hcp) setting")
    raw = copy.deepcopy(stack_settings("prod"))
    raw["vault"]["inCluster"] = {"replicas": 3}
    assert error_of(raw, "prod").startswith(f"{PREFIX}.inCluster: only with mode: in-cluster")
    raw = in_cluster()
    raw["vault"]["enabled"] = False
    assert error_of(raw, "prod").startswith(f"{PREFIX}.mode: in-cluster needs enabled: true")


def test_the_server_needs_its_storage_class_a_node_per_pod_and_its_key_alias() -> None:
    raw = in_cluster()
    raw["cluster"]["storage"]["defaultStorageClass"] = False
    assert error_of(raw, "prod").startswith(f"{PREFIX}.inCluster: the data and audit volumes use the platform's gp3")
    raw = in_cluster(replicas=7)
    assert error_of(raw, "prod").startswith(
        f"{PREFIX}.inCluster.replicas: the chart places one Vault pod per node of the system node group, which has "
        "at most 6 nodes"
    )
    raw = in_cluster()
    raw["appRoles"] = {"hub": {"namespace": "hub", "serviceAccount": "hub"}}
    raw["kmsKeys"] = {"vault-unseal": {"description": "x", "appRoles": ["hub"]}}
    assert error_of(raw, "prod").startswith(f"Pulumi.prod.yaml: {KEY}.kmsKeys.vault-unseal: the in-cluster Vault's")


def test_in_cluster_vault_frees_the_hcp_bound_namespace() -> None:
    # boundNamespace is an HCP setting: in-cluster mode claims no namespace but `vault`, so a team may use vault-auth.
    raw = in_cluster()
    raw["argo"]["teams"]["auth"] = {"description": "x", "sourceRepos": ["https://github.com/x/y.git"]}
    raw["argo"]["teams"]["auth"]["namespaces"] = ["vault-auth"]
    assert parse(raw, "prod").vault.in_cluster_server


def test_a_single_voter_is_allowed_outside_production_only() -> None:
    assert vault_server_spec(parse(in_cluster("dev", replicas=1), "dev")).replicas == 1
    assert error_of(in_cluster("prod", replicas=1), "prod").startswith(f"{PREFIX}.inCluster.replicas: a production")


def test_a_cluster_without_egress_cannot_pull_the_server_image() -> None:
    raw = in_cluster("dev")
    raw["vpc"]["natStrategy"] = "none"
    raw["delivery"] = None
    raw["nodeAutoscaler"] = {"engine": "none"}
    raw["argo"]["enabled"] = False
    assert error_of(raw, "dev").startswith(
        f"Pulumi.dev.yaml: {KEY}.vault.mode: the Vault server and injector pull their images from Docker Hub"
    )
