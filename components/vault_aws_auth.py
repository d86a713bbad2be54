"""VaultAwsAuth: Vault's AWS auth method and AWS secrets engine (HCP Vault), and the agent injector.

What the Eventual seed did by hand with the Vault CLI, declared once:

* the ``aws`` auth method at ``vault.auth_path`` with its client config (the IAM user's keys, used by Vault
  to resolve bound ARNs with ``iam:GetRole``); the ``<cluster>-vault-bound-role`` IAM role, assumable only by
  ``system:serviceaccount:<boundNamespace>:<boundServiceAccount>`` (IRSA; the namespace and the annotated
  ServiceAccount are created); and the Vault role ``vault.auth_role`` (``auth_type=iam``) bound to that role's
  ARN with the ``read-all-user-roles`` policy;
* the ``aws`` secrets engine at ``vault.secrets_path`` with the IAM user's keys as root credentials, the
  ``read-all-user-roles`` policy (``read``/``update`` on ``<secrets_path>/sts/userrole-*``) and one
  ``userrole-<user>`` role (``assumed_role``) per entry of ``vault.users``: adding a user is one config line;
* the Vault Agent Injector (the ``vault`` chart with ``server.enabled=false`` and ``global.externalVaultAddr``)
  in the ``vault`` namespace, on the system node group.

Pods get AWS credentials for a user with ``injector_annotations(...)`` (the seed's annotations) and must run as
the bound ServiceAccount, in the bound namespace: the IRSA trust admits exactly that one ServiceAccount. The bound
IAM role has no permissions: ``sts:GetCallerIdentity``, all Vault's IAM login needs, requires none.

Coupling between the IAM role and the Vault role (read before touching either):
    Vault resolves a bound IAM role ARN to the role's unique id (``AROA...``) when the Vault role is written
    (``resolve_aws_unique_ids=true``, the secure default). A deleted and re-created IAM role of the same name
    has a new unique id, so logins fail until the Vault role is written again. Therefore

    * ``bound_iam_principal_arns`` is the IrsaRole's ``role_arn`` Output (a data edge: a renamed role updates
      the Vault role in the same ``pulumi up``);
    * the Vault role carries ``replacement_trigger=<the IAM role's unique_id>`` with ``delete_before_replace``:
      whenever the IAM role is re-created (renamed, ``--replace``d, or re-created after someone deleted it),
      Pulumi deletes and re-writes the Vault role in the same ``pulumi up``, and Vault resolves the new id.
      Delete first, because both are the same Vault path: create-then-delete would delete the new role;
    * the Vault role's ``backend`` is the client config's ``backend`` Output, so the role is written only once
      Vault has the credentials it needs to resolve the ARN;
    * the bound role's name comes from a fixed pattern (``BOUND_ROLE_PATTERN``), not from the stack's
      ``serviceRoleNamePattern``, so editing that setting never replaces it.

One stack per Vault namespace: mount paths, the policy and the role names live in the namespace, so two stacks
sharing one (HCP ``admin``) would overwrite each other's objects. The policy is written with
``allow_overwrite=False`` so that a clash fails instead of silently taking the other stack's policy over.

Adopting the hand-made objects of the seed (instead of failing on "path is already in use")::

    pulumi import vault:index/authBackend:AuthBackend <name>-auth aws
    pulumi import vault:aws/authBackendClient:AuthBackendClient <name>-auth-client auth/aws/config/client
    pulumi import vault:aws/authBackendRole:AuthBackendRole <name>-auth-role auth/aws/role/daft-service-role
    pulumi import vault:aws/secretBackend:SecretBackend <name>-secrets aws
    pulumi import vault:index/policy:Policy <name>-policy read-all-user-roles
    pulumi import vault:aws/secretBackendRole:SecretBackendRole <name>-userrole-<user> aws/roles/userrole-<user>

Secrets (the IAM user's keys, the Vault token) are Pulumi secrets: encrypted in state, masked in output. That
IAM user (hand-made in the seed) needs ``iam:GetRole`` on the bound role (to resolve its unique id) and
``sts:AssumeRole`` on the users' roles, whose trust policies must admit it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault

from components.context import AwsContext, ClusterRef
from components.helm_release import pinned_release, release_name
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.limits import PATTERNS, name_problem
from components.naming import (
    BUILT_IN_NAMESPACES,
    VAULT_BOUND_ROLE_PATTERN,
    VAULT_BOUND_ROLE_SERVICE,
    VAULT_INJECTOR_NAMESPACE,
    NamingContext,
)
from components.scheduling import linux_node_selector
from components.vault_names import USER_ROLE_PREFIX, user_role_name
from components.versions import VAULT_CHART

#: The bound IAM role's name pattern (the seed's ``<cluster>-vault-bound-role``). Fixed: see the module docstring.
BOUND_ROLE_PATTERN: Final = VAULT_BOUND_ROLE_PATTERN
BOUND_ROLE_SERVICE: Final = VAULT_BOUND_ROLE_SERVICE
POLICY_NAME: Final = "read-all-user-roles"
INJECTOR_NAMESPACE: Final = VAULT_INJECTOR_NAMESPACE
RELEASE_NAME: Final = "vault"
#: Vault token lifetimes of the auth role (the seed used the mount's 32-day default).
TOKEN_TTL_SECONDS: Final = 3600
TOKEN_MAX_TTL_SECONDS: Final = 4 * 3600
#: The injected file (``/vault/secrets/<name>``) and how long the STS credentials in it live.
CREDENTIALS_FILE: Final = "aws-credentials"
DEFAULT_CREDENTIALS_TTL: Final = "1h"

ANNOTATION_PREFIX: Final = "vault.hashicorp.com/"

#: Vault's ``framework.GenericNameRegex`` (auth roles) and ``GenericNameWithAtRegex`` (AWS secrets roles);
#: Go's ``\w`` is ASCII-only.
_VAULT_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_ANNOTATION_NAME_MAX = 63


@dataclass(frozen=True)
class VaultSpec:
    """The Vault side (``settings.vault``, mapped by ``config.vault_spec``): where it is and what to configure."""

    #: Vault's address (https) and namespace (``admin`` on HCP; None: the root namespace).
    address: str
    namespace: str | None
    #: Mount paths of the aws auth method and of the aws secrets engine.
    auth_path: str
    secrets_path: str
    #: The Vault role pods log in as, and the one ServiceAccount (``<bound_namespace>/<bound_service_account>``)
    #: whose IRSA role it is bound to.
    auth_role: str
    bound_namespace: str
    bound_service_account: str
    #: User (e.g. e-mail) -> IAM role ARNs Vault may assume for them (one ``userrole-<user>`` each).
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class UserRole:
    """One user's Vault AWS secrets role: ``<secrets_path>/roles/<role_name>``."""

    user: str
    role_name: str
    role_arns: tuple[str, ...]


def user_role_plan(users: Mapping[str, Sequence[str]]) -> dict[str, UserRole]:
    """One role per user, sorted by user.

    Raises:
        ValueError: a user gives no Vault role name, or two users give the same one.
    """
    plan = {user: UserRole(user, user_role_name(user), tuple(arns)) for user, arns in sorted(users.items())}
    seen: dict[str, str] = {}
    for role in plan.values():
        if role.role_name in seen:
            msg = f"vault.users: {seen[role.role_name]!r} and {role.user!r} both map to Vault role {role.role_name!r}"
            raise ValueError(msg)
        seen[role.role_name] = role.user
    return plan


def read_all_user_roles_policy(secrets_path: str) -> str:
    """The seed's ``read-all-user-roles`` policy (HCL): STS credentials of every user role of the engine."""
    return f'path "{secrets_path}/sts/{USER_ROLE_PREFIX}*" {{\n  capabilities = ["read", "update"]\n}}\n'


def bound_role_name(naming: NamingContext) -> str:
    """Physical name of the IAM role the Vault role is bound to (``<cluster>-vault-bound-role``)."""
    return naming.service_role_name(BOUND_ROLE_PATTERN, BOUND_ROLE_SERVICE)


def spec_problems(spec: VaultSpec, *, bound_role: str) -> list[str]:
    """What in ``spec`` (and the bound role's name) Vault, IAM or this component would reject.

    Field-level rules (role-name characters, the injector's namespace) are enforced by the settings
    (``config.VaultSettings``) already.
    """
    problems: list[str] = []
    if name_problem(bound_role, "iam_role"):
        problems.append(f"bound IAM role name {bound_role!r} is not a valid IAM role name")
    try:
        user_role_plan(spec.users)
    except ValueError as err:
        problems.append(str(err))
    return problems


def vault_provider_args(spec: VaultSpec, *, token: pulumi.Input[str]) -> dict[str, Any]:
    """Keyword arguments of ``vault.Provider``: address, namespace (``admin`` on HCP) and the token.

    ``token`` should be ``pulumi.Config().require_secret("vaultToken")`` so that it stays a secret.
    """
    args: dict[str, Any] = {"address": spec.address, "token": token}
    if spec.namespace:
        args["namespace"] = spec.namespace
    return args


def credentials_template(sts_path: str, *, ttl: str = DEFAULT_CREDENTIALS_TTL) -> str:
    """Agent template rendering STS credentials as ``export AWS_...`` lines (the seed's template)."""
    return (
        f'{{{{ with secret "{sts_path}" "ttl={ttl}" -}}}}\n'
        'export AWS_ACCESS_KEY_ID="{{ .Data.access_key }}"\n'
        'export AWS_SECRET_ACCESS_KEY="{{ .Data.secret_key }}"\n'
        'export AWS_SESSION_TOKEN="{{ .Data.security_token }}"\n'
        "{{- end }}\n"
    )


def injector_annotations(
    *,
    user: str,
    auth_role: str,
    auth_path: str,
    secrets_path: str,
    namespace: str | None = None,
    secret_name: str = CREDENTIALS_FILE,
    ttl: str = DEFAULT_CREDENTIALS_TTL,
) -> dict[str, str]:
    """Pod annotations that make the injector write ``user``'s AWS credentials to ``/vault/secrets/<secret_name>``.

    The seed's annotations: log in as ``auth_role`` with the aws method (``iam`` flavour) at ``auth/<auth_path>``,
    read ``<secrets_path>/sts/userrole-<user>`` once in an init container (no sidecar), render it with
    `credentials_template`. ``namespace`` is the Vault namespace (``admin`` on HCP). The pod must run as the
    bound ServiceAccount.

    Raises:
        ValueError: ``secret_name`` cannot be part of an annotation name, or ``user`` gives no Vault role name.
    """
    if (
        not PATTERNS["dns_label"].fullmatch(secret_name)
        or len(f"agent-inject-template-{secret_name}") > _ANNOTATION_NAME_MAX
    ):
        msg = f"secret name {secret_name!r} must be a short DNS label (it becomes part of annotation names)"
        raise ValueError(msg)
    sts_path = f"{secrets_path}/sts/{user_role_name(user)}"
    annotations = {"agent-inject": "true"}
    if namespace:
        annotations["namespace"] = namespace
    annotations |= {
        "role": auth_role,
        "auth-type": "aws",
        "auth-path": f"auth/{auth_path}",
        "auth-config-type": "iam",
        "agent-pre-populate-only": "true",
        f"agent-inject-secret-{secret_name}": sts_path,
        f"agent-inject-template-{secret_name}": credentials_template(sts_path, ttl=ttl),
    }
    return {ANNOTATION_PREFIX + key: value for key, value in annotations.items()}


def injector_values(
    *,
    vault_address: str,
    auth_path: str,
    namespace: str | None,
    node_selector: Mapping[str, pulumi.Input[str]],
    tolerations: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """Helm values of the ``vault`` chart: the agent injector only, talking to the external (HCP) Vault.

    ``injector.authPath`` and the injector's defaults (``AGENT_INJECT_VAULT_AUTH_TYPE``/``_NAMESPACE``) make the
    aws method at ``auth/<auth_path>`` the default, so pods may omit those annotations.
    """
    env = {"AGENT_INJECT_VAULT_AUTH_TYPE": "aws"}
    if namespace:
        env["AGENT_INJECT_VAULT_NAMESPACE"] = namespace
    return {
        "global": {"externalVaultAddr": vault_address},
        "server": {"enabled": False},
        "csi": {"enabled": False},
        "injector": {
            "enabled": True,
            "authPath": f"auth/{auth_path}",
            "extraEnvironmentVars": env,
            "nodeSelector": linux_node_selector(node_selector),
            "tolerations": [dict(toleration) for toleration in tolerations],
        },
    }


@dataclass(frozen=True)
class VaultAwsAuthArgs:
    """Inputs of VaultAwsAuth. The vault provider comes from the caller's ``providers``."""

    naming: NamingContext
    #: Vault's address, mounts, roles and users.
    vault: VaultSpec
    #: The cluster: its OIDC provider trusts the bound role; the injector runs on its system node group.
    cluster: ClusterRef
    #: Region of the secrets engine's AWS calls; the bound role's permissions boundary.
    account: AwsContext
    #: The IAM user's keys (secrets) for the auth method's client config and the secrets engine's root config.
    aws_access_key: pulumi.Input[str]
    aws_secret_key: pulumi.Input[str]
    #: Protect the two Vault mounts (unmounting revokes every token or lease they issued).
    protect: bool = False


class VaultAwsAuth(pulumi.ComponentResource):
    """Vault AWS auth and secrets for the cluster's pods, and the agent injector.

    Outputs: ``bound_role_arn``, ``auth_role_name``, ``policy_name``, ``user_role_names`` (by user),
    ``injector_release_name``, and the bound ``namespace`` and ``service_account`` pods must use.
    """

    bound_role_arn: pulumi.Output[str]
    auth_role_name: pulumi.Output[str]
    policy_name: pulumi.Output[str]
    user_role_names: dict[str, pulumi.Output[str]]
    injector_release_name: pulumi.Output[str]
    namespace: str
    service_account: str

    def __init__(self, name: str, args: VaultAwsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = args.vault
        role_name = bound_role_name(args.naming)
        problems = spec_problems(spec, bound_role=role_name)
        if problems:  # before registering anything
            raise ValueError("; ".join(problems))
        super().__init__("eksplatform:platform:VaultAwsAuth", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        mount = pulumi.ResourceOptions(parent=self, protect=args.protect)

        bound = IrsaRole(
            f"{name}-bound-role",
            IrsaRoleArgs(
                role_name=role_name,
                oidc=args.cluster.oidc,
                namespace=spec.bound_namespace,
                service_account=spec.bound_service_account,
                create_service_account=True,
                permissions_boundary=args.account.permissions_boundary,
                # A built-in namespace (kube-system, default, ...) exists already: never declare it.
                create_namespace=spec.bound_namespace not in BUILT_IN_NAMESPACES,
            ),
            opts=child,
        )
        auth = vault.AuthBackend(
            f"{name}-auth", type="aws", path=spec.auth_path, description="EKS pods (IRSA) log in", opts=mount
        )
        client = vault.aws.AuthBackendClient(
            f"{name}-auth-client",
            backend=auth.path,
            access_key=args.aws_access_key,
            secret_key=args.aws_secret_key,
            opts=child,
        )
        policy = vault.Policy(
            f"{name}-policy",
            name=POLICY_NAME,
            policy=read_all_user_roles_policy(spec.secrets_path),
            opts=child,
        )
        auth_role = vault.aws.AuthBackendRole(
            f"{name}-auth-role",
            backend=client.backend,
            role=spec.auth_role,
            auth_type="iam",
            bound_iam_principal_arns=[bound.role_arn],
            resolve_aws_unique_ids=True,
            token_policies=[policy.name],
            token_ttl=TOKEN_TTL_SECONDS,
            token_max_ttl=TOKEN_MAX_TTL_SECONDS,
            opts=pulumi.ResourceOptions(
                parent=self, replacement_trigger=bound.role_unique_id, delete_before_replace=True
            ),
        )

        secrets = vault.aws.SecretBackend(
            f"{name}-secrets",
            path=spec.secrets_path,
            access_key=args.aws_access_key,
            secret_key=args.aws_secret_key,
            region=args.account.region,
            description="STS credentials of users' roles (userrole-<user>)",
            opts=mount,
        )
        user_roles = {
            user: vault.aws.SecretBackendRole(
                f"{name}-{role.role_name}",
                backend=secrets.path,
                name=role.role_name,
                credential_type="assumed_role",
                role_arns=list(role.role_arns),
                opts=child,
            )
            for user, role in user_role_plan(spec.users).items()
        }

        namespace = k8s.core.v1.Namespace(
            f"{name}-injector-namespace", metadata={"name": INJECTOR_NAMESPACE}, opts=child
        )
        release = pinned_release(
            f"{name}-injector",
            VAULT_CHART,
            name=RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=injector_values(
                vault_address=spec.address,
                auth_path=spec.auth_path,
                namespace=spec.namespace,
                node_selector=args.cluster.system_node_selector,
                tolerations=args.cluster.system_tolerations,
            ),
            opts=child,
        )

        self.bound_role_arn = bound.role_arn
        self.auth_role_name = auth_role.role
        self.policy_name = policy.name
        self.user_role_names = {user: role.name for user, role in user_roles.items()}
        self.injector_release_name = release_name(release, RELEASE_NAME)
        self.namespace, self.service_account = spec.bound_namespace, spec.bound_service_account
        self.register_outputs(
            {
                "boundRoleArn": self.bound_role_arn,
                "authRoleName": self.auth_role_name,
                "policyName": self.policy_name,
                "userRoleNames": self.user_role_names,
                "injectorReleaseName": self.injector_release_name,
            }
        )
