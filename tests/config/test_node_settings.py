"""Node settings: AMI family per group and its architecture, per-zone groups, webhook ports."""

from typing import Any

import pytest
import yaml

from components.instance_types import is_arm64_instance_type
from components.limits import NODE_GROUP_LABEL
from components.versions import NODE_AMI_TYPE, NODE_AMI_TYPES
from tests.config.test_settings import KEY, ROOT, error_of, parse, stack_settings, with_change

SYSTEM = "cluster.nodeGroups.system"
ARM_TYPES = ["m7g.large", "c7gn.xlarge", "t4g.medium", "a1.large", "x2gd.large"]
X86_TYPES = ["m6i.large", "c7a.large", "t3.large", "u-6tb1.metal"]


def group(**fields: object) -> dict[str, object]:
    return {"instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 2} | fields


def with_groups(groups: dict[str, dict[str, object]], stack: str = "dev") -> dict:
    raw = stack_settings(stack)
    raw["cluster"]["nodeGroups"] |= groups
    return raw


def test_the_stack_files_keep_todays_nodes():
    for stack in ("dev", "prod"):
        settings = parse(stack_settings(stack), stack)
        assert settings.cluster.webhook_ports == []
        for node_group in settings.cluster.node_groups.values():
            assert node_group.ami_type == NODE_AMI_TYPE == "AL2023_x86_64_STANDARD"
            assert not node_group.per_zone


@pytest.mark.parametrize("ami_type", sorted(NODE_AMI_TYPES))
def test_each_ami_family_takes_the_instance_types_of_its_architecture(ami_type):
    arm = NODE_AMI_TYPES[ami_type] == "arm64"
    fitting, other = (ARM_TYPES, X86_TYPES) if arm else (X86_TYPES, ARM_TYPES)
    assert all(is_arm64_instance_type(t) is arm for t in fitting)
    settings = parse(with_groups({"workers": group(amiType=ami_type, instanceTypes=fitting)}))
    assert settings.cluster.node_groups["workers"].ami_type == ami_type
    message = error_of(with_groups({"workers": group(amiType=ami_type, instanceTypes=[fitting[0], other[0]])}))
    kind = "x86_64" if arm else "arm64 (Graviton)"
    assert message == (
        f"Pulumi.dev.yaml: {KEY}.cluster.nodeGroups.workers.instanceTypes: {kind} instance types cannot run the "
        f"{ami_type} AMI: {other[0]}"
    )


@pytest.mark.parametrize("ami_type", ["AL2_x86_64", "BOTTLEROCKET_X86_64", "al2023_x86_64_standard", "CUSTOM"])
def test_other_ami_types_are_refused(ami_type):
    message = error_of(with_change("dev", f"{SYSTEM}.amiType", ami_type))
    assert message.startswith(f"Pulumi.dev.yaml: {KEY}.{SYSTEM}.amiType: {ami_type!r} is not one of the AMI types")


def test_a_group_may_be_per_zone_with_per_zone_sizes():
    settings = parse(with_groups({"workers": group(perZone=True, minSize=1, maxSize=3)}))
    workers = settings.cluster.node_groups["workers"]
    assert workers.per_zone
    assert (workers.min_size, workers.max_size, workers.desired) == (1, 3, 1)
    assert "perZone" in error_of(with_groups({"workers": group(perZone="yes")}))


@pytest.mark.parametrize("clash", ["workers-a", "workers-f"])
def test_no_group_may_take_the_name_of_a_zones_group(clash):
    message = error_of(with_groups({"workers": group(perZone=True), clash: group()}))
    assert message == (
        f"Pulumi.dev.yaml: {KEY}.cluster.nodeGroups.{clash}: is the name of a zone's group of the per-zone group "
        "'workers'"
    )
    # Without perZone the two names are merely alike.
    assert parse(with_groups({"workers": group(), clash: group()}))


def test_the_platform_node_label_is_not_a_setting():
    message = error_of(with_change("dev", f"{SYSTEM}.labels", {NODE_GROUP_LABEL: "system"}))
    assert f"{KEY}.{SYSTEM}.labels: invalid label key(s): '{NODE_GROUP_LABEL}' is set by the platform" in message


def test_webhook_ports_are_tcp_ports_each_once():
    ports = [15017, 6443, 8443, 9443]
    assert parse(with_change("dev", "cluster.webhookPorts", ports)).cluster.webhook_ports == ports
    for bad, expected in (
        ([0], "not TCP ports (1-65535): 0"),
        ([15017, 65536], "not TCP ports (1-65535): 65536"),
        ([443, 443], "lists 443 more than once"),
    ):
        assert error_of(with_change("dev", "cluster.webhookPorts", bad)) == (
            f"Pulumi.dev.yaml: {KEY}.cluster.webhookPorts: {expected}"
        )
    for not_a_number in ("15017", True):
        assert f"{KEY}.cluster.webhookPorts[0]: Input should be a valid integer" in error_of(
            with_change("dev", "cluster.webhookPorts", [not_a_number])
        )


def readme_example(marker: str) -> dict[str, Any]:
    """The YAML example following ``marker`` in the README's Settings section."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(marker) :].split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed = yaml.safe_load(block)
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.parametrize("marker", ["**Pod networking**", "**Nodes**"])
def test_the_readme_examples_are_valid_settings(marker):
    raw = stack_settings("prod")
    example = readme_example(marker)["cluster"]
    raw["cluster"] = {**raw["cluster"], **example}
    settings = parse(raw, "prod")
    if marker == "**Nodes**":
        groups = settings.cluster.node_groups
        assert groups["workers"].per_zone
        assert groups["workers"].ami_type == "AL2023_ARM_64_STANDARD"
        assert groups["storage"].ami_type == "BOTTLEROCKET_x86_64"
    else:
        assert settings.cluster.webhook_ports == [15017, 6443, 8443, 9443]
        assert settings.cluster.vpc_cni.pod_security_group_enforcing_mode == "standard"


def test_the_settings_take_the_component_s_taint_effects():
    # One source of truth: the settings' Taint model uses the component's enum (EKS API spelling).
    from components.eks_cluster import TaintEffect
    from config import Taint

    assert Taint.model_fields["effect"].annotation is TaintEffect
