"""WorkloadKey: a customer KMS key for applications, usable by the app roles named in its settings only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.naming import NamingContext


@dataclass(frozen=True)
class WorkloadKeyArgs:
    """Inputs of a WorkloadKey."""

    naming: NamingContext
    account: AwsContext
    #: The key's name in the settings (``kmsKeys.<name>``): its alias is ``naming.kms_alias(name)``.
    key_name: str
    description: str
    #: The roles that may use the key, by app role key: their ARNs become the key policy's only users.
    user_role_arns: Mapping[str, pulumi.Input[str]]
    deletion_window_days: int = 30
    protect: bool = True


class WorkloadKey(pulumi.ComponentResource):
    """Outputs: ``key_arn``, ``key_id`` and ``alias_name``."""

    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(self, name: str, args: WorkloadKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:WorkloadKey", name, None, opts)
        roles = [pulumi.Output.from_input(arn) for _, arn in sorted(args.user_role_arns.items())]
        policy = pulumi.Output.all(*roles).apply(
            lambda arns: json.dumps(
                iam.workload_key_policy(
                    account_id=args.account.account_id, partition=args.account.partition, user_role_arns=list(arns)
                )
            )
        )
        key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            # KMS refuses a key policy naming a role that does not exist yet: the ARNs are inputs, so the roles
            # are created first.
            policy=policy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        alias = aws.kms.Alias(
            f"{name}-alias",
            name=args.naming.kms_alias(args.key_name),
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.key_arn, self.key_id, self.alias_name = key.arn, key.key_id, alias.name
        self.register_outputs({"keyArn": self.key_arn, "keyId": self.key_id, "aliasName": self.alias_name})
