"""IAM policy documents as plain data. Pure functions: every document the platform writes is built here.

Documents are dicts in IAM JSON shape; components serialise them with ``json.dumps`` inside an apply
when a value is an Output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

PolicyDocument = dict[str, Any]

VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
#: IAM's size limits (characters, whitespace excluded) for the documents we write.
MANAGED_POLICY_MAX_CHARS = 6144
INLINE_ROLE_POLICIES_MAX_CHARS = 10240
TRUST_POLICY_MAX_CHARS = 2048
#: AWS-managed policies of a node role (managed node groups and Karpenter nodes). No AmazonEKS_CNI_Policy:
#: the VPC CNI gets it through its own IRSA role.
NODE_ROLE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")


def document(*statements: dict[str, Any]) -> PolicyDocument:
    """A policy document holding ``statements``."""
    return {"Version": VERSION, "Statement": list(statements)}


def service_trust_policy(*services: str) -> PolicyDocument:
    """Trust policy letting AWS services (``eks.amazonaws.com``, ...) assume a role."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": sorted(services) if len(services) > 1 else services[0]},
            "Action": "sts:AssumeRole",
        }
    )


def issuer_host_path(issuer_url: str) -> str:
    """An OIDC issuer URL without its scheme, as IAM condition keys use it."""
    return issuer_url.removeprefix("https://")


def irsa_trust_policy(
    *,
    oidc_provider_arn: str,
    issuer_url: str,
    namespace: str,
    service_account: str,
    additional_service_accounts: Sequence[tuple[str, str]] = (),
    wildcard_service_accounts: Sequence[tuple[str, str]] = (),
) -> PolicyDocument:
    """Trust policy for IAM Roles for Service Accounts: exact namespace/ServiceAccount subjects, STS audience.

    One subject is a string; with ``additional_service_accounts`` (``(namespace, name)`` pairs, e.g. the components
    of one application) the ``:sub`` condition lists them all, still ``StringEquals``: any of them, none other.
    ``wildcard_service_accounts`` (patterns, e.g. ``("i-*", "ecr-credentials-sync")``) get a statement of their own
    with ``StringLike`` on ``:sub``: conditions of one statement all apply, so they cannot share the exact one's.
    """
    issuer = issuer_host_path(issuer_url)
    subjects = list(
        dict.fromkeys(
            f"system:serviceaccount:{ns}:{name}"
            for ns, name in [(namespace, service_account), *additional_service_accounts]
        )
    )
    exact = {
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{issuer}:sub": subjects[0] if len(subjects) == 1 else subjects,
                f"{issuer}:aud": STS_AUDIENCE,
            }
        },
    }
    if not wildcard_service_accounts:
        return document(exact)
    patterns = list(dict.fromkeys(f"system:serviceaccount:{ns}:{name}" for ns, name in wildcard_service_accounts))
    wildcard = {
        "Sid": "DeclaredWildcardSubjects",
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringLike": {f"{issuer}:sub": patterns[0] if len(patterns) == 1 else patterns},
            "StringEquals": {f"{issuer}:aud": STS_AUDIENCE},
        },
    }
    return document(exact, wildcard)


def s3_access_policy(bucket_arns: list[str], *, read_only: bool = False) -> PolicyDocument:
    """Access to objects in the given buckets (the seeds' Daft application role)."""
    object_actions = ["s3:GetObject"] if read_only else ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    return document(
        {
            "Sid": "ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": sorted(bucket_arns),
        },
        {
            "Sid": "ObjectAccess",
            "Effect": "Allow",
            "Action": object_actions,
            "Resource": sorted(f"{arn}/*" for arn in bucket_arns),
        },
    )


def flow_logs_policy(log_group_arn: str) -> PolicyDocument:
    """Lets the VPC Flow Logs service write to one log group (DescribeLogGroups takes only Resource "*")."""
    return document(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
    )


def codebuild_runner_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    log_group_arn: str,
    subnet_ids: list[str],
    connection_arn: str,
) -> PolicyDocument:
    """The CI runner's CodeBuild service role: its logs, its ENIs in the given subnets, its GitHub connection.

    AWS CodeBuild User Guide: "Allow CodeBuild access to AWS services required to create a VPC network
    interface" (the Describe/Create/DeleteNetworkInterface actions take only ``"*"``; CreateNetworkInterfacePermission
    is limited to the subnets and to CodeBuild as the authorised service) and "GitHub App connections", step 2
    (GetConnectionToken and GetConnection on the connection; the action prefix is the ARN's service,
    ``codeconnections`` or the older ``codestar-connections``). Deploy credentials never come from this role: jobs
    assume the environment's deploy role through GitHub OIDC.
    """
    ec2 = f"arn:{partition}:ec2:{region}:{account_id}"
    connections = connection_arn.split(":")[2]
    return document(
        {
            "Sid": "GitHubConnection",
            "Effect": "Allow",
            "Action": [f"{connections}:GetConnectionToken", f"{connections}:GetConnection"],
            "Resource": connection_arn,
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {
            "Sid": "VpcNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            "Resource": "*",
        },
        {
            "Sid": "NetworkInterfacePermissionInRunnerSubnets",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": f"{ec2}:network-interface/*",
            "Condition": {
                "StringEquals": {
                    "ec2:Subnet": [f"{ec2}:subnet/{subnet}" for subnet in subnet_ids],
                    "ec2:AuthorizedService": "codebuild.amazonaws.com",
                }
            },
        },
    )


def ebs_csi_kms_policy(*, partition: str, region: str, account_id: str, key_alias: str) -> PolicyDocument:
    """The EBS CSI driver's use of the customer key behind ``key_alias`` for encrypted volumes.

    Actions: aws-ebs-csi-driver ``docs/install.md`` ("Encrypted EBS Volumes via KMS": Decrypt,
    GenerateDataKeyWithoutPlaintext, CreateGrant). An alias cannot be the Resource of a policy statement, so the
    statement names the account's keys and matches the key by alias (``kms:ResourceAliases``, multi-valued:
    ``ForAnyValue:StringEquals``; AWS KMS Developer Guide, "Using aliases to control access to KMS keys").
    """
    return document(
        {
            "Sid": "VolumeKeyByAlias",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant"],
            "Resource": f"arn:{partition}:kms:{region}:{account_id}:key/*",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias}},
        }
    )


#: What the VPC CNI needs in an IPv6 cluster, which the managed AmazonEKS_CNI_Policy (IPv4 actions only) does not
#: grant. EKS User Guide, "Create IAM policy for clusters that use the IPv6 family" (the AmazonEKS_CNI_IPv6_Policy
#: document, awsdocs/amazon-eks-user-guide latest/ug/iam_policies/AmazonEKS_CNI_IPv6_Policy.json @ 2ef9e38):
#: AssignIpv6Addresses, DescribeInstances, DescribeTags, DescribeNetworkInterfaces, DescribeInstanceTypes; plus
#: DescribeSubnets and DescribeSecurityGroups, which the plugin's own IPv6-mode policy adds since it discovers
#: subnets and security groups (aws/amazon-vpc-cni-k8s docs/iam-policy.md, "IPv6 mode", commit 00fe9f4).
VPC_CNI_IPV6_ACTIONS = (
    "ec2:AssignIpv6Addresses",
    "ec2:DescribeInstances",
    "ec2:DescribeTags",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)


def vpc_cni_ipv6_policy(partition: str) -> PolicyDocument:
    """The VPC CNI's policy in an IPv6 cluster (``VPC_CNI_IPV6_ACTIONS``; tags on network interfaces only)."""
    return document(
        {"Sid": "AssignIpv6", "Effect": "Allow", "Action": list(VPC_CNI_IPV6_ACTIONS), "Resource": "*"},
        {
            "Sid": "TagNetworkInterfaces",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": [f"arn:{partition}:ec2:*:*:network-interface/*"],
        },
    )


def kms_key_policy(*, account_id: str, partition: str, service_principals: list[str]) -> PolicyDocument:
    """Key policy: the account administers the key; listed services may use it through grants."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service_principals:
        statements.append(
            {
                "Sid": "ServicesUseKey",
                "Effect": "Allow",
                "Principal": {"Service": sorted(service_principals)},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    return document(*statements)


#: The key administrators statement of KMS's default key policy: manage the key, never use it (AWS KMS Developer
#: Guide, "Default key policy", "Allows key administrators to administer the KMS key").
KMS_KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    # Added to the console's administrators statement with on-demand rotation (KMS API Reference, RotateKeyOnDemand).
    "kms:RotateKeyOnDemand",
)
#: The key users statement for a symmetric encryption key (same guide, "Allows key users to use the KMS key").
KMS_KEY_USER_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def workload_key_policy(*, account_id: str, partition: str, user_role_arns: list[str]) -> PolicyDocument:
    """Key policy of a workload's key: the account administers it without using it; only the named roles use it.

    The account statement holds the key administrators' actions only, so no IAM policy in the account can grant
    encryption or decryption with the key: the roles named here are its only users (as principals of a key policy,
    they need no IAM permission of their own). Key administrators can still rewrite the policy (``kms:Put*``): the
    guide's warning, which the deploy role needs to keep the key managed.
    """
    return document(
        {
            "Sid": "AccountAdministersWithoutUse",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": list(KMS_KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "NamedRolesUseKey",
            "Effect": "Allow",
            "Principal": {"AWS": sorted(user_role_arns)},
            "Action": list(KMS_KEY_USER_ACTIONS),
            "Resource": "*",
        },
    )


def compact_length(doc: PolicyDocument) -> int:
    """The length IAM counts against its limits (JSON without insignificant whitespace)."""
    return len(json.dumps(doc, separators=(",", ":")))


def arn_name(arn: str) -> str:
    """The name at the end of an IAM role or policy ARN, without its path (``.../role/a/b/name`` -> ``name``)."""
    return arn.rsplit("/", 1)[-1]


def managed_policy_arn(partition: str, name: str) -> str:
    """ARN of an AWS-managed policy, e.g. ``AmazonEKSClusterPolicy``."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def guardduty_data_endpoint_policy(account_id: str) -> PolicyDocument:
    """The ``guardduty-data`` interface endpoint's policy: only principals of ``account_id`` may use it.

    Verbatim the policy of the GuardDuty User Guide, "Prerequisite - Creating an Amazon VPC endpoint"
    (eksrunmon-prereq-deploy-security-agent.html, step 7; checked 2026-12-01): an Allow of everything and a Deny of
    every principal whose ``aws:PrincipalAccount`` is not the account holding the VPC and the endpoint.
    """
    return document(
        {"Action": "*", "Resource": "*", "Effect": "Allow", "Principal": "*"},
        {
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": account_id}},
            "Action": "*",
            "Resource": "*",
            "Effect": "Deny",
            "Principal": "*",
        },
    )


#: What the SES SMTP interface authorises a send as: the SMTP password is the access key's secret signed for
#: ``SendRawEmail`` (SES Developer Guide, "Obtaining Amazon SES SMTP credentials": the ``AmazonSesSendingAccess``
#: policy allows ``ses:SendRawEmail`` only).
SES_SMTP_ACTION = "ses:SendRawEmail"


def ses_identity_arn(*, partition: str, region: str, account_id: str, identity: str) -> str:
    """``arn:<partition>:ses:<region>:<account>:identity/<domain or address>`` (Service Authorization Ref.)."""
    return f"arn:{partition}:ses:{region}:{account_id}:identity/{identity}"


def ses_configuration_set_arn(*, partition: str, region: str, account_id: str, name: str) -> str:
    """``arn:<partition>:ses:<region>:<account>:configuration-set/<name>`` (Service Authorization Reference, SES)."""
    return f"arn:{partition}:ses:{region}:{account_id}:configuration-set/{name}"


def ses_smtp_send_policy(resource_arns: Sequence[str]) -> PolicyDocument:
    """The SMTP user's policy: ``ses:SendRawEmail`` on the stack's identities (and configuration set), nothing else.

    ``SendRawEmail`` authorises the identity (required) and the configuration set a message uses (Service
    Authorization Reference, Amazon SES: resource types ``identity*`` and ``configuration-set``), so a configuration
    set the identities send with is listed too.
    """
    return document(
        {
            "Sid": "SmtpSendFromOwnIdentities",
            "Effect": "Allow",
            "Action": SES_SMTP_ACTION,
            "Resource": sorted(resource_arns),
        }
    )


#: What Vault's awskms seal needs on its key: "Vault needs the following permissions on the KMS key: kms:Encrypt,
#: kms:Decrypt, kms:DescribeKey" (hashicorp/vault website docs, configuration/seal/awskms, "Authentication").
VAULT_SEAL_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:DescribeKey")


def vault_seal_key_policy(*, account_id: str, partition: str, server_role_arn: str) -> PolicyDocument:
    """Key policy of Vault's auto-unseal key: the account administers it, only the Vault server's role uses it.

    The account holds the key administrators' actions, never encrypt or decrypt; the server's role holds the seal's
    three actions (no ``ReEncrypt``/``GenerateDataKey``: the seal does not call them).
    """
    return document(
        {
            "Sid": "AccountAdministersWithoutUse",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": list(KMS_KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "VaultServerUnseals",
            "Effect": "Allow",
            "Principal": {"AWS": server_role_arn},
            "Action": list(VAULT_SEAL_KEY_ACTIONS),
            "Resource": "*",
        },
    )
