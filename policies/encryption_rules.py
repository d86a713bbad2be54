"""Encryption at rest: EKS secrets envelope encryption, KMS key rotation, encrypted node volumes."""

from __future__ import annotations

from typing import Any

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from policies.common import as_list, dig, is_unknown, json_document, plain_props, truthy
from policies.settings import PackContext

CLUSTER_TYPE = "aws:eks/cluster:Cluster"
KMS_KEY_TYPE = "aws:kms/key:Key"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
OCEAN_TYPE = "spotinst:aws/ocean:Ocean"
#: Key specs that support automatic rotation (symmetric encryption keys).
ROTATABLE_KEY_SPECS = ("SYMMETRIC_DEFAULT",)


def check_secrets_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """EKS clusters encrypt Kubernetes secrets with a KMS key (envelope encryption)."""
    if args.resource_type != CLUSTER_TYPE:
        return
    config = plain_props(args.props).get("encryptionConfig")
    if is_unknown(config):
        return
    resources = dig(config, "resources")
    key_arn = dig(config, "provider", "keyArn")
    if is_unknown(resources):
        return
    if "secrets" not in as_list(resources) or not (is_unknown(key_arn) or (isinstance(key_arn, str) and key_arn)):
        report(
            "Kubernetes secrets are not envelope-encrypted with a KMS key.\n"
            "Remediation: set encryptionConfig={provider: {keyArn: <a rotating KMS key>}, resources: ['secrets']}.",
            None,
        )


def check_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Symmetric KMS keys rotate their key material automatically."""
    if args.resource_type != KMS_KEY_TYPE:
        return
    props = plain_props(args.props)
    spec = props.get("customerMasterKeySpec") or props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if is_unknown(spec) or spec not in ROTATABLE_KEY_SPECS:
        return  # asymmetric and HMAC keys cannot rotate automatically
    rotation = props.get("enableKeyRotation")
    if is_unknown(rotation) or truthy(rotation):
        return
    report(
        "automatic key rotation is off.\nRemediation: set enable_key_rotation=True on the key.",
        None,
    )


def open_key_statements(policy: dict[str, Any]) -> list[str]:
    """Sids (or positions) of Allow statements of a key policy that name any principal (``*``) without a Condition.

    A key policy is the key's only gate besides IAM: ``"Principal": "*"`` (or ``{"AWS": "*"}``) lets every AWS
    account use or manage the key unless a condition narrows it (AWS KMS Developer Guide, "Key policies": "*" as
    principal). Statements with a Condition are left to review (e.g. ``kms:CallerAccount``, ``aws:PrincipalOrgID``).
    """
    found = []
    for index, statement in enumerate(as_list(policy.get("Statement"))):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        principals = as_list(principal.get("AWS")) if isinstance(principal, dict) else as_list(principal)
        if "*" in principals:
            found.append(str(statement.get("Sid") or f"Statement[{index}]"))
    return found


def check_key_policy_principals(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """KMS key policies grant nothing to every principal (``*``) without a condition."""
    if args.resource_type != KMS_KEY_TYPE:
        return
    policy = json_document(plain_props(args.props).get("policy"))
    if not isinstance(policy, dict):
        return  # unknown in a preview, or no policy: KMS then applies its default (the account only)
    for sid in open_key_statements(policy):
        report(
            f"key policy statement {sid} allows Principal '*' without a Condition: any AWS account may use the key.\n"
            "Remediation: name the roles or accounts that may use the key (kmsKeys.<name>.appRoles), or add a "
            "condition such as kms:CallerAccount.",
            None,
        )


def _unencrypted(mappings: object, *, path: str) -> list[str]:
    problems = []
    for index, mapping in enumerate(as_list(mappings)):
        ebs = dig(mapping, "ebs")
        if ebs is None or is_unknown(ebs):
            continue
        encrypted = dig(ebs, "encrypted")
        if not (is_unknown(encrypted) or truthy(encrypted)):
            device = dig(mapping, "deviceName")
            problems.append(f"{path}[{index}] ({device}) is not encrypted")
    return problems


def check_node_volume_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Node volumes (launch templates, Karpenter EC2NodeClasses, Spot Oceans) are encrypted, every mapping of them.

    AL2023 templates map one root volume; Bottlerocket ones two, the OS volume and the data volume containers live on
    (components/versions.py BOTTLEROCKET_OS_DEVICE, BOTTLEROCKET_DATA_DEVICE): each must be encrypted.
    """
    props = plain_props(args.props)
    if args.resource_type == LAUNCH_TEMPLATE_TYPE:
        mappings = props.get("blockDeviceMappings")
        if is_unknown(mappings):
            return
        problems = _unencrypted(mappings, path="blockDeviceMappings")
        if not as_list(mappings):
            problems.append("no blockDeviceMappings: the root volume is created unencrypted from the AMI's snapshot")
    elif args.resource_type == EC2_NODE_CLASS_TYPE:
        # Without blockDeviceMappings Karpenter uses its per-AMI-family defaults, which are encrypted.
        mappings = dig(props, "spec", "blockDeviceMappings")
        if is_unknown(mappings):
            return
        problems = _unencrypted(mappings, path="spec.blockDeviceMappings")
    elif args.resource_type == OCEAN_TYPE:
        # Without blockDeviceMappings (rootVolumeSize alone) the root volume comes from the AMI's unencrypted snapshot.
        mappings = props.get("blockDeviceMappings")
        if is_unknown(mappings):
            return
        problems = _unencrypted(mappings, path="blockDeviceMappings")
        if not as_list(mappings):
            problems.append("no blockDeviceMappings: the root volume is created unencrypted from the AMI's snapshot")
    else:
        return
    for problem in problems:
        report(
            f"{problem}.\nRemediation: declare the volume with encrypted=true (gp3); Bottlerocket nodes: both the OS "
            "and the data volume.",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The encryption policies (mandatory on production stacks, advisory elsewhere)."""
    level = ctx.security_level
    return [
        ResourceValidationPolicy(
            name="eks-secrets-encryption",
            description="EKS clusters envelope-encrypt Kubernetes secrets with a KMS key.",
            validate=check_secrets_encryption,
            enforcement_level=level,
            remediation_steps="Set encryptionConfig with a KMS key and resources=['secrets'].",
        ),
        ResourceValidationPolicy(
            name="kms-key-rotation",
            description="Symmetric KMS keys have automatic rotation enabled.",
            validate=check_key_rotation,
            enforcement_level=level,
            remediation_steps="Set enable_key_rotation=True.",
        ),
        ResourceValidationPolicy(
            name="kms-key-policy-principals",
            description="KMS key policies grant nothing to every principal ('*') without a condition.",
            validate=check_key_policy_principals,
            enforcement_level=level,
            remediation_steps="Name the principals that may use the key, or narrow '*' with a condition.",
        ),
        ResourceValidationPolicy(
            name="node-volume-encryption",
            description="Node volumes from launch templates and Karpenter EC2NodeClasses are encrypted.",
            validate=check_node_volume_encryption,
            enforcement_level=level,
            remediation_steps="Declare block device mappings with encrypted=true.",
        ),
    ]
