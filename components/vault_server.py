"""VaultServer: Vault in the cluster, HA on integrated storage (raft), auto-unsealed with AWS KMS, TLS everywhere.

What seed 004 (``../shared/seeds/004_*``: "Install vault") did by hand with Terraform and ``kubectl exec``, declared:

* the ``vault`` chart (``VAULT_CHART``) in the ``vault`` namespace in HA raft mode: ``server.ha.replicas`` pods, each
  with a ``data`` and an ``audit`` volume on the platform's gp3 StorageClass, and the raft configuration
  (`raft_config`): one ``retry_join`` block per pod (``https://vault-<i>.vault-internal:8200``, checked against the
  stack's own CA), ``seal "awskms"`` and ``service_registration "kubernetes" {}``. The agent injector comes with it;
* auto-unseal (Vault ``seal "awskms"``): a customer KMS key (yearly rotation; Vault keeps decrypting with old key
  versions) whose key policy lets the account administer the key without using it and lets only the Vault server's
  IRSA role use it, with exactly the three actions Vault's awskms seal documentation asks for ("Vault needs the
  following permissions on the KMS key: kms:Encrypt, kms:Decrypt, kms:DescribeKey"; hashicorp/vault
  ``website/.../configuration/seal/awskms``). The role is the chart's server ServiceAccount's (IRSA, exactly
  ``system:serviceaccount:vault:vault``; the key policy grants it, so the role holds no IAM policy);
* TLS "as documented" (Vault's Helm examples "Standalone server with TLS" and "Raft HA server with TLS",
  hashicorp/vault ``website/content/docs/platform/k8s/helm/examples/{standalone,ha}-tls.mdx``): a CA and a server
  certificate generated as code (pulumi-tls) whose names cover every pod (``*.vault-internal``, the name each
  ``retry_join`` dials), the chart's services and ``127.0.0.1``; a Secret mounted through ``server.extraVolumes``
  at ``/vault/userconfig/<secret>/``, ``VAULT_CACERT`` for the in-pod CLI, ``global.tlsDisable: false``. The private
  keys are secret Outputs (encrypted in state); the CA certificate is public, an output to trust;
* Kubernetes auth: Vault runs in the cluster, so it reviews tokens with its own ServiceAccount (the "local service
  account token" of Vault's Kubernetes auth API docs: no ``token_reviewer_jwt``, no long-lived token Secret), which
  this component binds to ``system:auth-delegator`` (the chart's own binding is switched off so that the one binding
  is visible here).

Two phases, because Vault's API answers only after ``vault operator init`` (README, "Vault in the cluster"):
``configure=False`` deploys the server (the chart's StatefulSet uses ``OnDelete`` updates, whose readiness Helm's wait
skips: helm/helm ``pkg/kube/ready.go`` ``statefulSetReady``; so the release completes while the pods wait, sealed, for
init); ``configure=True`` (the caller passes a vault
provider reaching the initialised server) adds the ``kubernetes`` auth method and its config, a KV v2 mount, a file
audit device on the audit volume and one Kubernetes auth role per entry of ``spec.roles``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_tls as tls
import pulumi_vault as vault

from components import iam_documents as iam
from components.context import AwsContext, ClusterRef
from components.helm_release import pinned_release, release_name
from components.irsa_role import IrsaRole, IrsaRoleArgs
from components.naming import ROLE_ARN_ANNOTATION, VAULT_INJECTOR_NAMESPACE, NamingContext
from components.scheduling import linux_node_selector
from components.versions import VAULT_CHART

NAMESPACE: Final = VAULT_INJECTOR_NAMESPACE
RELEASE_NAME: Final = "vault"
#: The chart's server ServiceAccount (set explicitly: the IRSA trust and the auth-delegator binding name it).
SERVER_SERVICE_ACCOUNT: Final = "vault"
#: The platform role (``NamingContext.platform_role``) of the server's IRSA role.
SERVER_ROLE: Final = "vault-server"
#: KMS alias purpose of the unseal key (``naming.kms_alias``: ``alias/<cluster>-vault-unseal``).
UNSEAL_KEY_PURPOSE: Final = "vault-unseal"
TLS_SECRET: Final = "vault-tls"  # noqa: S105 - a Secret's name, not its value
#: Where the chart mounts ``server.extraVolumes`` entries: ``/vault/userconfig/<name>``.
TLS_DIR: Final = f"/vault/userconfig/{TLS_SECRET}"
CA_FILE, CERT_FILE, KEY_FILE = "ca.crt", "tls.crt", "tls.key"
API_PORT, CLUSTER_PORT = 8200, 8201
DATA_PATH, AUDIT_PATH = "/vault/data", "/vault/audit"
AUDIT_LOG: Final = f"{AUDIT_PATH}/vault_audit.log"
#: Vault's address inside the cluster (the chart's ``vault`` Service).
INTERNAL_ADDRESS: Final = f"https://{RELEASE_NAME}.{NAMESPACE}.svc:{API_PORT}"
#: The API server as Vault's pods reach it (Kubernetes auth config; CA and reviewer token are the pod's own).
KUBERNETES_HOST: Final = "https://kubernetes.default.svc"
AUTH_DELEGATOR: Final = "system:auth-delegator"
TOKEN_MAX_TTL_FACTOR: Final = 4


@dataclass(frozen=True)
class KubernetesAuthRole:
    """A Vault role of the kubernetes auth method: who may log in as it, and what its tokens get."""

    #: ``(namespace, name)`` ServiceAccounts bound to the role (Vault binds every name in every namespace listed).
    service_accounts: tuple[tuple[str, str], ...]
    policies: tuple[str, ...] = ()
    ttl_seconds: int = 3600


@dataclass(frozen=True)
class VaultServerSpec:
    """The server (``settings.vault.inCluster``, mapped by ``config.vault_server_spec``)."""

    replicas: int = 3
    data_storage_gib: int = 10
    audit_storage_gib: int = 10
    #: The platform's gp3 StorageClass (``cluster.storage.storageClassName``).
    storage_class: str = "gp3"
    ca_validity_hours: int = 87600
    cert_validity_hours: int = 8760
    cert_early_renewal_hours: int = 720
    #: Phase 2: configure auth and secrets through the caller's vault provider (Vault initialised).
    configure: bool = False
    auth_path: str = "kubernetes"
    kv_path: str = "secret"
    roles: Mapping[str, KubernetesAuthRole] = field(default_factory=dict)


def _bindings(accounts: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    return sorted({name for _, name in accounts}), sorted({ns for ns, _ in accounts})


def role_binding_problem(accounts: Sequence[tuple[str, str]]) -> str | None:
    """Why Vault would admit more than ``accounts``: it binds every listed name in every listed namespace."""
    if not accounts:
        return "lists no ServiceAccount"
    names, namespaces = _bindings(accounts)
    extra = sorted({(ns, name) for ns in namespaces for name in names} - set(accounts))
    if extra:
        shown = ", ".join(f"{ns}/{name}" for ns, name in extra)
        return (
            f"Vault binds every listed name in every listed namespace, which would also admit {shown}: split the role"
        )
    return None


def spec_problems(spec: VaultServerSpec) -> list[str]:
    """What in ``spec`` Vault or raft would reject (the settings refuse these with field names first)."""
    problems = []
    if spec.replicas < 1 or spec.replicas % 2 == 0:
        problems.append(f"replicas: raft needs an odd number of voters, got {spec.replicas}")
    if spec.roles and not spec.configure:
        problems.append("roles: applied only with configure (after `vault operator init`)")
    for role, settings in sorted(spec.roles.items()):
        problem = role_binding_problem(settings.service_accounts)
        if problem:
            problems.append(f"roles.{role}.serviceAccounts: {problem}")
    return problems


def pod_names(replicas: int) -> list[str]:
    """The StatefulSet's pods: ``vault-0`` .. ``vault-<n-1>``."""
    return [f"{RELEASE_NAME}-{index}" for index in range(replicas)]


def server_dns_names() -> list[str]:
    """Every name a client or a raft peer dials: each pod through the headless ``vault-internal``, the services."""
    internal = f"{RELEASE_NAME}-internal"
    names = [f"*.{internal}", f"*.{internal}.{NAMESPACE}.svc", f"*.{internal}.{NAMESPACE}.svc.cluster.local"]
    for service in (RELEASE_NAME, f"{RELEASE_NAME}-active", f"{RELEASE_NAME}-standby", internal):
        names += [
            service,
            f"{service}.{NAMESPACE}",
            f"{service}.{NAMESPACE}.svc",
            f"{service}.{NAMESPACE}.svc.cluster.local",
        ]
    return [*names, "localhost"]


SERVER_IP_ADDRESSES: Final = ("127.0.0.1",)


def _hcl(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _block(header: str, body: Mapping[str, str | bool], indent: str = "") -> list[str]:
    inner = indent + "  "
    return [f"{indent}{header} {{", *(f"{inner}{key} = {_hcl(val)}" for key, val in body.items()), f"{indent}}}"]


def raft_config(*, replicas: int, region: str, kms_key_id: str) -> str:
    """``server.ha.raft.config``: TLS listener, raft storage joined to every pod, awskms seal, Kubernetes registration.

    The chart appends ``disable_mlock = true`` and substitutes ``HOSTNAME``/``POD_IP``/... in it (none are used).
    """
    tls_files = {
        "leader_ca_cert_file": f"{TLS_DIR}/{CA_FILE}",
        "leader_client_cert_file": f"{TLS_DIR}/{CERT_FILE}",
        "leader_client_key_file": f"{TLS_DIR}/{KEY_FILE}",
    }
    lines = ["ui = true", ""]
    lines += _block(
        'listener "tcp"',
        {
            "address": f"[::]:{API_PORT}",
            "cluster_address": f"[::]:{CLUSTER_PORT}",
            "tls_disable": False,
            "tls_cert_file": f"{TLS_DIR}/{CERT_FILE}",
            "tls_key_file": f"{TLS_DIR}/{KEY_FILE}",
            "tls_client_ca_file": f"{TLS_DIR}/{CA_FILE}",
        },
    )
    lines += ["", 'storage "raft" {', f"  path = {_hcl(DATA_PATH)}"]
    for pod in pod_names(replicas):
        lines += [
            "",
            *_block(
                "retry_join",
                {"leader_api_addr": f"https://{pod}.{RELEASE_NAME}-internal:{API_PORT}", **tls_files},
                "  ",
            ),
        ]
    lines += ["}", ""]
    lines += _block('seal "awskms"', {"region": region, "kms_key_id": kms_key_id})
    lines += ["", 'service_registration "kubernetes" {}', ""]
    return "\n".join(lines)


def server_values(
    spec: VaultServerSpec,
    *,
    raft: pulumi.Input[str],
    role_arn: pulumi.Input[str],
    tls_secret: pulumi.Input[str],
    node_selector: Mapping[str, pulumi.Input[str]],
    tolerations: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """Helm values of the ``vault`` chart (keys checked against its 0.34.1 values.yaml and templates)."""
    placement = {
        "nodeSelector": linux_node_selector(node_selector),
        "tolerations": [dict(toleration) for toleration in tolerations],
    }
    return {
        "global": {"tlsDisable": False},
        "csi": {"enabled": False},
        "injector": {"enabled": True, "authPath": f"auth/{spec.auth_path}", **placement},
        "server": {
            "enabled": True,
            # Helm's wait skips OnDelete StatefulSets: the first `up` completes while the pods wait for init.
            "updateStrategyType": "OnDelete",
            "extraEnvironmentVars": {"VAULT_CACERT": f"{TLS_DIR}/{CA_FILE}"},
            "extraVolumes": [{"type": "secret", "name": tls_secret}],
            "dataStorage": {
                "enabled": True,
                "size": f"{spec.data_storage_gib}Gi",
                "storageClass": spec.storage_class,
                "mountPath": DATA_PATH,
            },
            "auditStorage": {
                "enabled": True,
                "size": f"{spec.audit_storage_gib}Gi",
                "storageClass": spec.storage_class,
                "mountPath": AUDIT_PATH,
            },
            "serviceAccount": {
                "create": True,
                "name": SERVER_SERVICE_ACCOUNT,
                "annotations": {ROLE_ARN_ANNOTATION: role_arn},
            },
            # This component declares the token reviewer's system:auth-delegator binding itself.
            "authDelegator": {"enabled": False},
            "standalone": {"enabled": False},
            "ha": {
                "enabled": True,
                "replicas": spec.replicas,
                "raft": {"enabled": True, "setNodeId": True, "config": raft},
            },
            **placement,
        },
        "ui": {"enabled": False},
    }


@dataclass(frozen=True)
class VaultServerArgs:
    """Inputs of VaultServer.

    The aws, kubernetes, tls (and, with ``spec.configure``, vault) providers come from the caller's ``providers``.
    """

    naming: NamingContext
    spec: VaultServerSpec
    cluster: ClusterRef
    account: AwsContext
    #: Protect the unseal key and the Vault mounts (a lost key leaves the raft data sealed for good).
    protect: bool = False
    unseal_key_deletion_window_days: int = 30


class VaultServer(pulumi.ComponentResource):
    """Vault in the cluster (see the module docstring).

    Outputs: ``namespace``, ``release_name``, ``server_role_arn``, ``unseal_key_arn``, ``ca_cert_pem``,
    ``internal_address``, ``role_names`` (with ``configure``).
    """

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str]
    server_role_arn: pulumi.Output[str]
    unseal_key_arn: pulumi.Output[str]
    ca_cert_pem: pulumi.Output[str]
    internal_address: str
    role_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: VaultServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = args.spec
        problems = spec_problems(spec)
        if problems:  # before registering anything
            raise ValueError("; ".join(problems))
        super().__init__("eksplatform:platform:VaultServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": NAMESPACE}, opts=child)
        role = IrsaRole(
            f"{name}-server-role",
            IrsaRoleArgs(
                role_name=args.naming.platform_role(SERVER_ROLE),
                oidc=args.cluster.oidc,
                namespace=NAMESPACE,
                service_account=SERVER_SERVICE_ACCOUNT,
                permissions_boundary=args.account.permissions_boundary,
            ),
            opts=child,
        )
        key_policy = role.role_arn.apply(
            lambda arn: json.dumps(
                iam.vault_seal_key_policy(
                    account_id=args.account.account_id, partition=args.account.partition, server_role_arn=arn
                )
            )
        )
        key = aws.kms.Key(
            f"{name}-unseal-key",
            description=f"Vault auto-unseal (awskms seal) of {args.naming.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=args.unseal_key_deletion_window_days,
            policy=key_policy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-unseal-key-alias",
            name=args.naming.kms_alias(UNSEAL_KEY_PURPOSE),
            target_key_id=key.key_id,
            opts=child,
        )

        secret = self._tls(name, spec, namespace, args.naming.cluster_name)
        region = args.account.region
        release = pinned_release(
            f"{name}-release",
            VAULT_CHART,
            name=RELEASE_NAME,
            namespace=namespace.metadata.name,
            values=server_values(
                spec,
                raft=key.key_id.apply(
                    lambda key_id: raft_config(replicas=spec.replicas, region=region, kms_key_id=key_id)
                ),
                role_arn=role.role_arn,
                tls_secret=secret.metadata.name,
                node_selector=args.cluster.system_node_selector,
                tolerations=args.cluster.system_tolerations,
            ),
            timeout=900,
            max_history=10,
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-token-reviewer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{RELEASE_NAME}-server-token-reviewer"),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=AUTH_DELEGATOR
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=SERVER_SERVICE_ACCOUNT, namespace=namespace.metadata.name
                )
            ],
            opts=child,
        )

        self.role_names = self._configure(name, spec, release, args.protect) if spec.configure else {}
        self.namespace = namespace.metadata.name
        self.release_name = release_name(release, RELEASE_NAME)
        self.server_role_arn = role.role_arn
        self.unseal_key_arn = key.arn
        self.internal_address = INTERNAL_ADDRESS
        self.register_outputs(
            {
                "namespace": self.namespace,
                "releaseName": self.release_name,
                "serverRoleArn": self.server_role_arn,
                "unsealKeyArn": self.unseal_key_arn,
                "caCertPem": self.ca_cert_pem,
                "roleNames": self.role_names,
            }
        )

    def _tls(
        self, name: str, spec: VaultServerSpec, namespace: k8s.core.v1.Namespace, cluster_name: str
    ) -> k8s.core.v1.Secret:
        """The stack's CA, the server certificate it signs, and the Secret the pods mount them from."""
        child = pulumi.ResourceOptions(parent=self)
        ca_key = tls.PrivateKey(f"{name}-ca-key", algorithm="ECDSA", ecdsa_curve="P384", opts=child)
        ca = tls.SelfSignedCert(
            f"{name}-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            subject={"common_name": f"Vault CA ({cluster_name})", "organization": "eks-platform"},
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            validity_period_hours=spec.ca_validity_hours,
            opts=child,
        )
        server_key = tls.PrivateKey(f"{name}-server-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        request = tls.CertRequest(
            f"{name}-server-csr",
            private_key_pem=server_key.private_key_pem,
            subject={"common_name": f"{RELEASE_NAME}.{NAMESPACE}.svc", "organization": "eks-platform"},
            dns_names=server_dns_names(),
            ip_addresses=list(SERVER_IP_ADDRESSES),
            opts=child,
        )
        cert = tls.LocallySignedCert(
            f"{name}-server-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            # server_auth for clients and peers; client_auth: retry_join presents it to the leader.
            allowed_uses=["digital_signature", "key_encipherment", "server_auth", "client_auth"],
            validity_period_hours=spec.cert_validity_hours,
            early_renewal_hours=spec.cert_early_renewal_hours,
            opts=child,
        )
        self.ca_cert_pem = ca.cert_pem
        key_pem: pulumi.Output[str] = pulumi.Output.secret(server_key.private_key_pem)
        files: dict[str, pulumi.Input[str]] = {CERT_FILE: cert.cert_pem, KEY_FILE: key_pem, CA_FILE: ca.cert_pem}
        return k8s.core.v1.Secret(
            f"{name}-tls",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TLS_SECRET, namespace=namespace.metadata.name),
            type="kubernetes.io/tls",
            string_data=files,
            opts=child,
        )

    def _configure(
        self, name: str, spec: VaultServerSpec, release: k8s.helm.v3.Release, protect: bool
    ) -> dict[str, pulumi.Output[str]]:
        """Phase 2: Kubernetes auth, its roles, the KV v2 mount and the audit device, in the initialised Vault."""
        # Vault's API answers only once the release runs (and was initialised): no output of it is an input here.
        after_release = pulumi.ResourceOptions(parent=self, protect=protect, depends_on=[release])
        auth = vault.AuthBackend(
            f"{name}-kubernetes-auth",
            type="kubernetes",
            path=spec.auth_path,
            description="Pods log in with their ServiceAccount tokens",
            opts=after_release,
        )
        config = vault.kubernetes.AuthBackendConfig(
            f"{name}-kubernetes-auth-config",
            backend=auth.path,
            # In a pod Vault uses its own CA file and ServiceAccount token (the system:auth-delegator reviewer).
            kubernetes_host=KUBERNETES_HOST,
            opts=pulumi.ResourceOptions(parent=self),
        )
        vault.Mount(
            f"{name}-kv",
            path=spec.kv_path,
            type="kv",
            options={"version": "2"},
            description="Key/value secrets (KV v2)",
            opts=after_release,
        )
        vault.Audit(
            f"{name}-audit",
            type="file",
            options={"file_path": AUDIT_LOG},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        roles = {}
        for role_name, role in sorted(spec.roles.items()):
            names, namespaces = _bindings(role.service_accounts)
            roles[role_name] = vault.kubernetes.AuthBackendRole(
                f"{name}-role-{role_name}",
                backend=config.backend,
                role_name=role_name,
                bound_service_account_names=names,
                bound_service_account_namespaces=namespaces,
                token_policies=list(role.policies),
                token_ttl=role.ttl_seconds,
                token_max_ttl=role.ttl_seconds * TOKEN_MAX_TTL_FACTOR,
                opts=pulumi.ResourceOptions(parent=self),
            ).role_name
        return roles
