"""Settings and IAM documents of the bootstrap project. Pure: no Pulumi resources."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
LOCKS_PREFIX = ".pulumi/locks/"

Document = dict[str, Any]


class BootstrapSettings(BaseModel):
    """The value of `eks-platform-bootstrap:settings`."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region of the state bucket.")
    owner: str = Field(min_length=1, description="Owner tag.")
    cost_center: str = Field(min_length=1, description="CostCenter tag.")
    state_bucket_name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", description="Globally unique name of the state bucket."
    )
    github_repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name of the GitHub repository.")
    environments: list[str] = Field(min_length=1, description="Stacks deployed from GitHub environments of that name.")
    create_github_oidc_provider: bool = Field(
        default=True, description="Create the account's GitHub OIDC provider (one per account): false to adopt one."
    )
    project: str = Field(default="eks-platform", description="The platform project whose roles deploy roles manage.")
    noncurrent_version_days: int = Field(default=90, ge=1, description="Keep old state versions this long.")


def github_trust(*, provider_arn: str, repository: str, subject: str) -> Document:
    """Trust for GitHub Actions OIDC: exact audience and subject (no wildcard subject)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": GITHUB_AUDIENCE,
                        "token.actions.githubusercontent.com:sub": f"repo:{repository}:{subject}",
                    }
                },
            }
        ],
    }


def tls_only_bucket_policy(bucket_arn: str) -> Document:
    """Deny any request to the state bucket that does not use TLS 1.2+."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyOldTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            },
        ],
    }


def state_access_policy(*, bucket_arn: str, key_arn: str, read_only_state: bool) -> Document:
    """State bucket and secrets key access: previews may only take locks; deploys write state."""
    writable = f"{bucket_arn}/{LOCKS_PREFIX}*" if read_only_state else f"{bucket_arn}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListState",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            },
            {"Sid": "ReadState", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{bucket_arn}/*"},
            {
                "Sid": "WriteState",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": writable,
            },
            {
                "Sid": "SecretsProvider",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": key_arn,
            },
        ],
    }


def platform_iam_policy(*, account_id: str, partition: str, project: str, environment: str) -> Document:
    """IAM the platform's `pulumi up` needs, limited to its own roles, policies and OIDC providers.

    PowerUserAccess (attached too) excludes IAM; this adds back only what the program manages.
    """
    iam = f"arn:{partition}:iam::{account_id}"
    prefix = re.sub(r"[^\w+=,.@-]", "", f"{project}-{environment}")
    owned = [f"{iam}:role/{prefix}*", f"{iam}:role/eks-*-{environment}", f"{iam}:policy/{prefix}*"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ManageOwnRolesAndPolicies",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:UpdateRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:AttachRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                    "iam:PassRole",
                    "iam:CreatePolicy",
                    "iam:DeletePolicy",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                ],
                "Resource": owned,
            },
            {
                "Sid": "ManageClusterOidcProviders",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateOpenIDConnectProvider",
                    "iam:DeleteOpenIDConnectProvider",
                    "iam:GetOpenIDConnectProvider",
                    "iam:TagOpenIDConnectProvider",
                    "iam:UpdateOpenIDConnectProviderThumbprint",
                    "iam:AddClientIDToOpenIDConnectProvider",
                ],
                "Resource": f"{iam}:oidc-provider/oidc.eks.*",
            },
            {
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"{iam}:role/aws-service-role/*",
                "Condition": {
                    "StringEquals": {
                        "iam:AWSServiceName": [
                            "eks.amazonaws.com",
                            "eks-nodegroup.amazonaws.com",
                            "autoscaling.amazonaws.com",
                            "spot.amazonaws.com",
                            "guardduty.amazonaws.com",
                            "malware-protection.guardduty.amazonaws.com",
                        ]
                    }
                },
            },
        ],
    }
