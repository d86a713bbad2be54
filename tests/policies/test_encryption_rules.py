"""Encryption policies: EKS secrets envelope encryption, KMS rotation, encrypted node volumes."""

import json

import pytest

from tests.policies.support import UNKNOWN, check

CLUSTER = "aws:eks/cluster:Cluster"
KEY = "aws:kms/key:Key"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
ENCRYPTION = {"provider": {"keyArn": "arn:aws:kms:us-west-2:123456789012:key/k"}, "resources": ["secrets"]}


def test_cluster_encrypting_secrets_passes():
    assert check("eks-secrets-encryption", CLUSTER, {"encryptionConfig": ENCRYPTION}) == []
    assert (
        check("eks-secrets-encryption", CLUSTER, {"encryptionConfig": {**ENCRYPTION, "provider": {"keyArn": UNKNOWN}}})
        == []
    )


@pytest.mark.parametrize(
    "props",
    [{}, {"encryptionConfig": {**ENCRYPTION, "resources": []}}, {"encryptionConfig": {"resources": ["secrets"]}}],
    ids=["absent", "no-resources", "no-key"],
)
def test_cluster_without_secrets_encryption_fails(props):
    [message] = check("eks-secrets-encryption", CLUSTER, props)
    assert message.startswith("Kubernetes secrets are not envelope-encrypted with a KMS key.")
    assert "Remediation: set encryptionConfig=" in message


def test_kms_key_rotation():
    assert check("kms-key-rotation", KEY, {"enableKeyRotation": True}) == []
    [message] = check("kms-key-rotation", KEY, {"enableKeyRotation": False})
    assert message == "automatic key rotation is off.\nRemediation: set enable_key_rotation=True on the key."
    assert check("kms-key-rotation", KEY, {})
    assert check("kms-key-rotation", KEY, {"customerMasterKeySpec": "RSA_2048"}) == []


def key_policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def test_a_key_policy_naming_its_principals_passes():
    from components.iam_documents import workload_key_policy

    named = workload_key_policy(
        account_id="123456789012", partition="aws", user_role_arns=["arn:aws:iam::123456789012:role/app"]
    )
    assert check("kms-key-policy-principals", KEY, {"policy": json.dumps(named)}) == []
    conditioned: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012"}},
    }
    assert check("kms-key-policy-principals", KEY, key_policy(conditioned)) == []
    assert check("kms-key-policy-principals", KEY, {"policy": UNKNOWN}) == []


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "*"]}])
def test_a_key_policy_open_to_every_principal_fails(principal):
    statement: dict[str, object] = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "kms:*",
        "Resource": "*",
    }
    [message] = check("kms-key-policy-principals", KEY, key_policy(statement))
    assert message.startswith("key policy statement Open allows Principal '*' without a Condition")
    # A Deny of every principal is how policies narrow access: not a grant.
    assert check("kms-key-policy-principals", KEY, key_policy({**statement, "Effect": "Deny"})) == []


def launch_template(encrypted: object = "true") -> dict[str, object]:
    return {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeType": "gp3", "encrypted": encrypted}}]}


def test_launch_template_with_encrypted_root_volume_passes():
    assert check("node-volume-encryption", LT, launch_template()) == []
    assert check("node-volume-encryption", LT, launch_template(encrypted=True)) == []


def test_launch_template_with_unencrypted_volume_fails():
    [message] = check("node-volume-encryption", LT, launch_template("false"))
    assert message.startswith("blockDeviceMappings[0] (/dev/xvda) is not encrypted.")
    assert "Remediation: declare the volume with encrypted=true (gp3); Bottlerocket nodes: both" in message
    [message] = check("node-volume-encryption", LT, {"name": "x"})
    assert message.startswith("no blockDeviceMappings: the root volume is created unencrypted")


#: A Bottlerocket node's template (components/eks_cluster.py node_block_devices): OS and data volume.
BOTTLEROCKET = {
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 4.0, "volumeType": "gp3", "encrypted": "true"}},
        {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": 100.0, "volumeType": "gp3", "encrypted": "true"}},
    ]
}


def test_a_bottlerocket_template_with_both_volumes_encrypted_passes():
    assert check("node-volume-encryption", LT, BOTTLEROCKET) == []


@pytest.mark.parametrize(("index", "device"), [(0, "/dev/xvda"), (1, "/dev/xvdb")])
def test_a_bottlerocket_template_with_either_volume_unencrypted_fails(index, device):
    mappings = [dict(m) for m in BOTTLEROCKET["blockDeviceMappings"]]
    mappings[index] = {**mappings[index], "ebs": {**mappings[index]["ebs"], "encrypted": "false"}}
    [message] = check("node-volume-encryption", LT, {"blockDeviceMappings": mappings})
    assert message.startswith(f"blockDeviceMappings[{index}] ({device}) is not encrypted.")


def test_ec2_node_class_volumes():
    def spec(*, encrypted: bool) -> dict[str, object]:
        return {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": encrypted}}]}

    assert check("node-volume-encryption", NODE_CLASS, {"spec": spec(encrypted=True)}) == []
    assert check("node-volume-encryption", NODE_CLASS, {"spec": {}}) == []  # Karpenter's defaults are encrypted
    [message] = check("node-volume-encryption", NODE_CLASS, {"spec": spec(encrypted=False)})
    assert message.startswith("spec.blockDeviceMappings[0] (/dev/xvda) is not encrypted")
