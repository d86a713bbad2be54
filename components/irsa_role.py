"""IrsaRole: an IAM role for one Kubernetes ServiceAccount (IAM Roles for Service Accounts).

The trust policy admits exactly ``system:serviceaccount:<namespace>:<name>`` with the STS audience
through the cluster's OIDC provider; never a wildcard. Optionally creates the namespace and the
ServiceAccount annotated with ``eks.amazonaws.com/role-arn`` (through the parent's kubernetes provider).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam_documents as iam
from components.context import OidcIssuer
from components.naming import ROLE_ARN_ANNOTATION


@dataclass(frozen=True)
class IrsaRoleArgs:
    """Inputs of an IrsaRole."""

    #: Physical IAM role name (see ``NamingContext.service_role_name``).
    role_name: str
    #: The cluster's OIDC provider (``ClusterRef.oidc``).
    oidc: OidcIssuer
    namespace: str
    service_account: str
    #: Managed policies keyed by a stable short name (e.g. ``AmazonEBSCSIDriverPolicy``).
    managed_policy_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Earlier keys of a managed policy (its logical name moved): ``{key: (old key, ...)}``, kept as aliases.
    policy_aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: Inline policies (JSON documents) keyed by name.
    inline_policies: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Create the annotated ServiceAccount; False when another owner (an add-on, a chart) creates it.
    create_service_account: bool = False
    #: Also create the namespace (only with ``create_service_account``).
    create_namespace: bool = False
    #: More ``(namespace, name)`` ServiceAccounts the role trusts (not created here), e.g. one app's components.
    additional_service_accounts: Sequence[tuple[str, str]] = ()
    #: ``(namespace pattern, name pattern)`` subjects trusted with ``StringLike`` (declared exceptions).
    wildcard_service_accounts: Sequence[tuple[str, str]] = ()
    #: IAM permissions boundary of every role this creates (the bootstrap's ``<project>-<env>-permissions-boundary``).
    permissions_boundary: str | None = None


class IrsaRole(pulumi.ComponentResource):
    """Outputs: ``role_arn``, ``role_name``, ``role_unique_id``, ``service_account`` (name), ``namespace``."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    #: The role's unique id (``AROA...``): what Vault and other binders resolve an ARN to.
    role_unique_id: pulumi.Output[str]
    namespace: str
    service_account: str

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:IrsaRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(args.oidc.provider_arn, args.oidc.issuer_url).apply(
            lambda values: json.dumps(
                iam.irsa_trust_policy(
                    oidc_provider_arn=values[0],
                    issuer_url=values[1],
                    namespace=args.namespace,
                    service_account=args.service_account,
                    additional_service_accounts=args.additional_service_accounts,
                    wildcard_service_accounts=args.wildcard_service_accounts,
                )
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            assume_role_policy=trust,
            description=f"IRSA role for {args.namespace}/{args.service_account}",
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        for policy_name, arn in sorted(args.managed_policy_arns.items()):
            aliases = [pulumi.Alias(name=f"{name}-{old}") for old in args.policy_aliases.get(policy_name, ())]
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy_name}",
                role=role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=self, aliases=aliases or None),
            )
        for policy_name, document in sorted(args.inline_policies.items()):
            aws.iam.RolePolicy(f"{name}-{policy_name}", role=role.id, name=policy_name, policy=document, opts=child)

        if args.create_service_account:
            namespace: pulumi.Input[str] = args.namespace
            if args.create_namespace:
                ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": args.namespace}, opts=child)
                namespace = ns.metadata.name
            k8s.core.v1.ServiceAccount(
                f"{name}-service-account",
                metadata={
                    "name": args.service_account,
                    "namespace": namespace,
                    "annotations": {ROLE_ARN_ANNOTATION: role.arn},
                },
                opts=child,
            )

        self.role_arn, self.role_name, self.role_unique_id = role.arn, role.name, role.unique_id
        self.namespace, self.service_account = args.namespace, args.service_account
        self.register_outputs({"roleArn": self.role_arn, "roleName": self.role_name})
