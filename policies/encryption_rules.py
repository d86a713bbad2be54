"""Encryption at rest: EKS secrets envelope encryption, KMS key rotation, encrypted node volumes."""

from __future__ import annotations

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from policies.common import as_list, dig, is_unknown, plain_props, truthy
from policies.settings import PackContext

CLUSTER_TYPE = "aws:eks/cluster:Cluster"
KMS_KEY_TYPE = "aws:kms/key:Key"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
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
    """Node volumes (launch templates, Karpenter EC2NodeClasses) are encrypted: every mapping, however many.

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
            name="node-volume-encryption",
            description="Node volumes from launch templates and Karpenter EC2NodeClasses are encrypted.",
            validate=check_node_volume_encryption,
            enforcement_level=level,
            remediation_steps="Declare block device mappings with encrypted=true.",
        ),
    ]
