"""Node facts against their sources: the EKS API's AMI types (botocore's service model, AWS's own API description),
the device names of each AMI family's volumes, and the architecture each family and instance type runs."""

import gzip
import json
from importlib import resources

from components.instance_types import is_arm64_instance_type
from components.versions import (
    BOTTLEROCKET_DATA_DEVICE,
    BOTTLEROCKET_OS_DEVICE,
    BOTTLEROCKET_OS_VOLUME_GIB,
    NODE_AMI_TYPE,
    NODE_AMI_TYPES,
    ROOT_DEVICE,
    is_bottlerocket,
)


def eks_ami_types() -> list[str]:
    """The ``AMITypes`` enum of the EKS API: botocore's eks service model (botocore is in the lock, via parliament)."""
    models = resources.files("botocore") / "data" / "eks"
    (version,) = [entry for entry in models.iterdir() if entry.is_dir()]
    model = json.loads(gzip.decompress((version / "service-2.json.gz").read_bytes()))
    enum = model["shapes"]["AMITypes"]["enum"]
    assert isinstance(enum, list)
    return [str(value) for value in enum]


def test_every_ami_type_is_one_the_eks_api_takes():
    api = eks_ami_types()
    assert set(NODE_AMI_TYPES) <= set(api)
    assert NODE_AMI_TYPE in NODE_AMI_TYPES
    # The spellings the CDK enum names would suggest are not the API's values.
    assert "BOTTLEROCKET_X86_64" not in api
    assert "AL2023_X86_64_STANDARD" not in api


def test_each_ami_type_names_its_architecture():
    for ami_type, architecture in NODE_AMI_TYPES.items():
        assert ("_ARM_64" in ami_type) is (architecture == "arm64")
        assert ("_x86_64" in ami_type) is (architecture == "x86_64")
    assert [t for t in NODE_AMI_TYPES if is_bottlerocket(t)] == ["BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"]


def test_the_volume_devices_are_the_documented_ones():
    # AL2023: one root volume, /dev/xvda; Bottlerocket: OS /dev/xvda (4 GiB), data /dev/xvdb (karpenter-provider-aws
    # pkg/providers/amifamily al2023.go and bottlerocket.go DefaultBlockDeviceMappings; bottlerocket TESTING.md).
    assert ROOT_DEVICE == BOTTLEROCKET_OS_DEVICE == "/dev/xvda"
    assert BOTTLEROCKET_DATA_DEVICE == "/dev/xvdb"
    assert BOTTLEROCKET_OS_VOLUME_GIB == 4


def test_graviton_families_are_arm64():
    # EC2 instance type naming: a "g" among the attributes is a Graviton processor; a1 is the first Graviton.
    assert all(is_arm64_instance_type(t) for t in ("m7g.large", "c7gn.xlarge", "r8g.2xlarge", "t4g.small", "a1.large"))
    assert not any(is_arm64_instance_type(t) for t in ("m6i.large", "g5.xlarge", "g4dn.xlarge", "inf2.xlarge"))
