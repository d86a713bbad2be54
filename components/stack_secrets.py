"""The secrets the program reads (project config keys, set per stack with ``pulumi config set --secret``).

Pure constants, shared by the settings (which decide when each is needed) and the offline tools (which stand in
for the ones a fresh clone has not set). Not declared in ``Pulumi.yaml``: the CLI demands a declared key without
a default of every stack, and a secret cannot have a plain default.
"""

from __future__ import annotations

from typing import Final

#: Vault's admin token (HCP; the in-cluster Vault's with `vault.inCluster.configure`).
VAULT_TOKEN: Final = "vaultToken"  # noqa: S105 - a config key, not its value
#: Vault's admin token and the access key pair of the IAM user its aws auth method and secrets engine use.
VAULT_SECRETS: Final = (VAULT_TOKEN, "vaultAwsAccessKey", "vaultAwsSecretKey")
#: The Argo CD OIDC client's secret (with ``argo.sso``).
ARGO_SSO_SECRET: Final = "argocdOidcClientSecret"  # noqa: S105 - a config key, not its value
#: The Spot API token (with ``nodeAutoscaler.engine: spot-ocean``).
SPOT_TOKEN_SECRET: Final = "spotToken"  # noqa: S105 - a config key, not its value
#: Every secret the program may read.
PROGRAM_SECRETS: Final = (*VAULT_SECRETS, ARGO_SSO_SECRET, SPOT_TOKEN_SECRET)
