"""`vault.mode: in-cluster` through the whole program (`__main__.py`), phase 1: the server without a Vault provider."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from tests.config.test_settings import KEY, stack_settings
from tools.harness import Plan, run_program


def phase_one() -> dict[str, Any]:
    raw = copy.deepcopy(stack_settings("prod"))
    raw["vault"] = {"enabled": True, "mode": "in-cluster"}
    return raw


@cache
def plan() -> Plan:
    return run_program("prod", "update", config_overrides={KEY: phase_one()}, offline_secrets=())


def test_phase_one_declares_the_server_and_nothing_of_hcp_and_needs_no_secret() -> None:
    result = plan()
    types = {r.type for r in result.resources}
    assert "eksplatform:platform:VaultServer" in types
    assert "eksplatform:platform:VaultAwsAuth" not in types
    assert not [t for t in types if t.startswith("vault:") or t == "pulumi:providers:vault"]
    assert result.offline_secrets == []  # run with no stand-ins: the stack file's secrets are not needed


def test_pulumi_tls_goes_through_an_explicit_provider() -> None:
    # The stack files disable default providers: every tls resource names the program's `tls` provider.
    result = plan()
    (provider,) = result.by_type("pulumi:providers:tls")
    certificates = [r for r in result.resources if r.type.startswith("tls:")]
    assert len(certificates) == 5  # CA key and certificate, server key, request, certificate
    assert all(r.provider.startswith(provider.urn) for r in certificates)


def test_the_outputs_name_the_server_role_key_ca_and_address() -> None:
    result = plan()
    role = result.one("aws:iam/role:Role", "vault-server-server-role-role")
    key = result.one("aws:kms/key:Key", "vault-server-unseal-key")
    ca = result.one("tls:index/selfSignedCert:SelfSignedCert", "vault-server-ca")
    assert result.outputs["vaultServerRoleArn"] == role.outputs["arn"]
    assert result.outputs["vaultUnsealKeyArn"] == key.outputs["arn"]
    assert result.outputs["vaultCaCertPem"] == ca.outputs["certPem"]
    assert result.outputs["vaultInternalAddress"] == "https://vault.vault.svc:8200"
    assert key.protect  # production
    release = result.one("kubernetes:helm.sh/v3:Release", "vault-server-release")
    assert release.inputs["values"]["server"]["dataStorage"]["storageClass"] == "gp3"
