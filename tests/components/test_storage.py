"""The default StorageClass and the EBS CSI driver's customer key, as EksCluster and the program declare them."""

import json

import pytest

from components.eks_cluster import StorageClassSpec
from tests.components.test_eks_cluster import cluster_plan
from tests.config.test_settings import KEY, error_of, stack_settings
from tools.harness import MODES, run_program
from tools.linters import lint_plan

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"


@pytest.mark.parametrize("mode", MODES)
def test_the_default_class_is_encrypted_gp3_bound_where_the_pod_lands_and_waits_for_the_driver(mode):
    plan = cluster_plan(mode)
    storage = plan.one(STORAGE_CLASS, "eks-storage-class")
    assert storage.inputs["metadata"] == {
        "name": "gp3",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    }
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage.inputs["parameters"] == {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    assert storage.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage.inputs["allowVolumeExpansion"] is True
    assert storage.inputs["reclaimPolicy"] == "Delete"
    driver = plan.one("aws:eks/addon:Addon", "eks-addon-aws-ebs-csi-driver")
    assert driver.urn in storage.dependencies
    assert storage.provider.startswith(plan.one("pulumi:providers:kubernetes", "eks-k8s").urn)


def test_a_customer_key_by_alias_encrypts_the_volumes_and_only_it_is_granted_to_the_driver():
    plan = cluster_plan(
        "update", storage_class=StorageClassSpec(reclaim_policy="Retain", kms_key_alias="alias/ebs-data")
    )
    storage = plan.one(STORAGE_CLASS, "eks-storage-class").inputs
    assert storage["reclaimPolicy"] == "Retain"
    assert storage["parameters"]["kmsKeyId"] == "arn:aws:kms:us-west-2:123456789012:alias/ebs-data"
    (policy,) = [r for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if r.name.startswith("eks-ebs-csi")]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    # An alias cannot be a policy Resource: the key is matched by its alias.
    assert statement["Resource"] == "arn:aws:kms:us-west-2:123456789012:key/*"
    assert statement["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/ebs-data"}}
    assert sorted(statement["Action"]) == ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"]


def test_no_default_class_when_turned_off():
    assert cluster_plan("preview", storage_class=None).by_type(STORAGE_CLASS) == []


def test_the_stack_with_a_key_alias_lints_clean():
    raw = stack_settings("prod")
    raw["cluster"]["storage"] = {"reclaimPolicy": "Retain", "kmsKeyAlias": "alias/eks-platform-prod-volumes"}
    report = lint_plan(run_program("prod", "update", config_overrides={KEY: raw}))
    assert report.failing == []
    assert report.manifests >= 9  # the StorageClass among them, validated by kubernetes-validate --strict


@pytest.mark.parametrize("alias", ["alias/aws/ebs", "ebs-data", "alias/bad name"])
def test_a_bad_key_alias_is_one_line(alias):
    raw = stack_settings("prod")
    raw["cluster"]["storage"] = {"kmsKeyAlias": alias}
    message = error_of(raw, "prod")
    assert "eks-platform:settings.cluster.storage.kmsKeyAlias" in message
