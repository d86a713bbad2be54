"""Spot Ocean (`nodeAutoscaler.engine: spot-ocean`): the Ocean cluster, its node identity, the controller chart and
its credentials, the settings that shape them, and the policies that now read the Ocean.

The program-level tests plan `examples/variants/spot-ocean.yaml` as prod (the real `__main__.py`), so subnets,
security groups and the cluster's CA are the ones the program wires in.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from email import message_from_string
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.spot_ocean import (
    CHART_DEFAULT_TOLERATIONS,
    OCEAN_SECRET,
    AutomaticHeadroom,
    InstanceFilters,
    ManualHeadroom,
    SpotOceanSpec,
    ami_parameter,
    autoscaler_settings,
    instance_filters,
    nodeadm_user_data,
)
from components.versions import OCEAN_AMI_RELEASE, OCEAN_CONTROLLER_CHART
from config import (
    NodeAutoscalerSettings,
    Settings,
    SpotOceanHeadroomSettings,
    SpotOceanSettings,
    required_secrets,
    spot_ocean_spec,
)
from tests.config.test_settings import KEY, error_of, stack_settings
from tests.policies.support import check
from tests.program.test_variants import variant_plan, variant_settings
from tools.harness import MODES, PLACEHOLDER_SECRET, SECRET_SIG_KEY, SECRET_SIG_VALUE, UNKNOWN, Plan, run_program
from tools.mocks import CLUSTER_CA_DATA, cluster_endpoint
from tools.teardown import StateResource, order_violations, plan_phases

OCEAN = "spotinst:aws/ocean:Ocean"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
ROLE = "aws:iam/role:Role"
CLUSTER_NAME = "eks-platform-prod"


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return variant_plan("spot-ocean", request.param)


@pytest.fixture(scope="module")
def update() -> Plan:
    return variant_plan("spot-ocean", "update")


def secret_wrapped(value: object) -> Any:
    assert isinstance(value, dict)
    assert value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE, value
    return value["value"]


def only_part(mime: Message) -> Message:
    """The one part of a multi-part message."""
    parts = mime.get_payload()
    assert isinstance(parts, list)
    (part,) = parts
    assert isinstance(part, Message)
    return part


# --- the Ocean cluster ------------------------------------------------------------------------------------


def test_the_ocean_joins_this_cluster_in_its_private_subnets_with_the_node_groups_security_group(plan):
    ocean = plan.one(OCEAN, "spot-ocean-ocean")
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    inputs = ocean.inputs
    assert inputs["controllerId"] == CLUSTER_NAME
    assert inputs["region"] == "us-west-2"
    private = [plan.seen(plan.one("aws:ec2/subnet:Subnet", f"network-private-{z}"), "id") for z in "abc"]
    assert inputs["subnetIds"] == private
    # No webhook ports in the variant: the managed groups' nodes get the cluster security group, and so do Ocean's.
    security_group = UNKNOWN if plan.mode == "preview" else cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert inputs["securityGroups"] == [security_group]
    assert inputs["iamInstanceProfile"] == plan.seen(
        plan.one("aws:iam/instanceProfile:InstanceProfile", "spot-ocean-node-profile"), "arn"
    )
    assert inputs["associatePublicIpAddress"] is False
    # Through the component's own spotinst provider, whose account is the settings' and whose token is secret.
    provider = plan.one("pulumi:providers:spotinst", "spot-ocean-spotinst")
    assert ocean.provider.startswith(provider.urn)
    assert provider.inputs["account"] == "act-0a1b2c3d"
    assert secret_wrapped(provider.inputs["token"]) == PLACEHOLDER_SECRET


def test_the_ocean_requires_imdsv2_and_an_encrypted_gp3_root_volume(plan):
    inputs = plan.one(OCEAN, "spot-ocean-ocean").inputs
    assert inputs["instanceMetadataOptions"] == {"httpTokens": "required", "httpPutResponseHopLimit": 1.0}
    assert inputs["blockDeviceMappings"] == [
        {
            "deviceName": "/dev/xvda",
            "ebs": {"volumeType": "gp3", "volumeSize": 50.0, "encrypted": True, "deleteOnTermination": True},
        }
    ]
    assert "rootVolumeSize" not in inputs  # the mapping sizes the root volume; Spot refuses both together


def test_the_ocean_tags_instances_and_volumes_with_the_required_tags_and_cluster_ownership(plan):
    inputs = plan.one(OCEAN, "spot-ocean-ocean").inputs
    tags = {tag["key"]: tag["value"] for tag in inputs["tags"]}
    assert tags == {
        "Project": "eks-platform",
        "Environment": "prod",
        "Owner": "platform-team",
        "CostCenter": "CC-1001",
        "ManagedBy": "pulumi",
        "Name": "eks-platform-prod-spot-ocean",
        f"kubernetes.io/cluster/{CLUSTER_NAME}": "owned",
    }
    assert inputs["resourceTagSpecifications"] == [{"shouldTagVolumes": True}]


def test_capacity_strategy_headroom_scale_down_and_filters_come_from_the_settings(plan):
    inputs = plan.one(OCEAN, "spot-ocean-ocean").inputs
    assert (inputs["minSize"], inputs["maxSize"], inputs["desiredCapacity"]) == (0.0, 30.0, 2.0)
    assert inputs["spotPercentage"] == 100.0
    assert inputs["fallbackToOndemand"] is True
    assert inputs["utilizeReservedInstances"] is True
    assert inputs["drainingTimeout"] == 120.0
    assert inputs["autoscaler"] == {
        "autoscaleIsEnabled": True,
        "autoscaleIsAutoConfig": True,
        "autoHeadroomPercentage": 5.0,
        "autoscaleDown": {"maxScaleDownPercentage": 10.0, "isAggressiveScaleDownEnabled": False},
        "resourceLimits": {"maxVcpu": 512.0, "maxMemoryGib": 2048.0},
    }
    assert inputs["filters"] == {
        "architectures": ["x86_64"],
        "categories": ["General_purpose", "Compute_optimized", "Memory_optimized"],
        "minVcpu": 2.0,
        "maxVcpu": 32.0,
        "minMemoryGib": 4.0,
        "maxMemoryGib": 256.0,
        "excludeFamilies": ["t2", "m4", "c4", "r4"],
        "excludeMetal": True,
    }
    ocean = plan.one(OCEAN, "spot-ocean-ocean")
    assert ocean.ignore_changes == ["desiredCapacity"]  # Ocean's autoscaler owns it once the cluster runs


def test_the_image_is_the_pinned_al2023_release_from_its_ssm_public_parameter(update):
    ocean = update.one(OCEAN, "spot-ocean-ocean")
    assert re.fullmatch(r"ami-[0-9a-f]{17}", ocean.inputs["imageId"])
    assert ami_parameter("1.35", "x86_64") == (
        "/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/"
        f"amazon-eks-node-al2023-x86_64-standard-1.35-{OCEAN_AMI_RELEASE}/image_id"
    )
    assert OCEAN_AMI_RELEASE == "v20260714"
    with pytest.raises(ValueError, match="architecture 'i386'"):
        ami_parameter("1.35", "i386")


def test_user_data_is_a_nodeadm_node_config_for_this_cluster(update):
    ocean = update.one(OCEAN, "spot-ocean-ocean")
    mime = message_from_string(base64.b64decode(ocean.inputs["userData"]).decode())
    assert mime.get_content_type() == "multipart/mixed"
    part = only_part(mime)
    assert part.get_content_type() == "application/node.eks.aws"
    config = json.loads(str(part.get_payload()).removeprefix("---\n"))
    assert config == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {
                "name": CLUSTER_NAME,
                "apiServerEndpoint": cluster_endpoint("us-west-2"),
                "certificateAuthority": CLUSTER_CA_DATA,
                "cidr": "172.20.0.0/16",
            }
        },
    }


def test_the_ocean_waits_for_its_node_role_policies_and_access_entry(plan):
    ocean = plan.one(OCEAN, "spot-ocean-ocean")
    for name in (
        "spot-ocean-node-access",
        "spot-ocean-node-AmazonEKSWorkerNodePolicy",
        "spot-ocean-node-AmazonEC2ContainerRegistryPullOnly",
        "spot-ocean-node-AmazonSSMManagedInstanceCore",
    ):
        assert any(dep.endswith(f"::{name}") for dep in ocean.dependencies), name


def test_the_ocean_id_is_spots_and_unknown_in_a_preview(plan):
    ocean = plan.one(OCEAN, "spot-ocean-ocean")
    if plan.mode == "preview":
        assert ocean.id == ""
    else:
        assert re.fullmatch(r"o-[0-9a-f]{8}", ocean.id)


# --- node identity -------------------------------------------------------------------------------------


def test_the_node_role_has_the_platforms_node_policies_a_profile_and_an_ec2_linux_entry(plan):
    role = plan.one(ROLE, "spot-ocean-node-role")
    assert role.inputs["name"] == "eks-platform-prod-spot-ocean-node"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert role.inputs["permissionsBoundary"].endswith(":policy/eks-platform-prod-permissions-boundary")
    attached = {
        r.inputs["policyArn"]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("spot-ocean-node-")
    }
    # The cluster's node role's set: the VPC CNI has an IRSA role of its own, so no AmazonEKS_CNI_Policy on nodes.
    assert attached == {
        f"arn:aws:iam::aws:policy/{name}"
        for name in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")
    }
    profile = plan.one("aws:iam/instanceProfile:InstanceProfile", "spot-ocean-node-profile")
    assert profile.inputs["role"] == (
        "eks-platform-prod-spot-ocean-node" if plan.mode == "update" else role.inputs["name"]
    )
    entry = plan.one("aws:eks/accessEntry:AccessEntry", "spot-ocean-node-access")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == plan.seen(role, "arn")
    assert entry.inputs["clusterName"] == CLUSTER_NAME


def test_no_karpenter_or_cluster_autoscaler_runs_beside_ocean(plan):
    assert plan.by_type("eksplatform:platform:NodeAutoscaler") == []
    assert {r.inputs["chart"] for r in plan.by_type(RELEASE)} >= {"ocean-kubernetes-controller"}
    assert not any("karpenter" in str(r.inputs["chart"]) for r in plan.by_type(RELEASE))


# --- the controller and its credentials ------------------------------------------------------------------


def test_the_controller_release_is_pinned_and_reads_the_credentials_secret_by_name(plan):
    release = plan.one(RELEASE, "spot-ocean-controller")
    repository, chart, version = OCEAN_CONTROLLER_CHART
    assert (
        (release.inputs["repositoryOpts"]["repo"], release.inputs["chart"], release.inputs["version"])
        == (
            "https://charts.spot.io",
            "ocean-kubernetes-controller",
            "0.1.74",
        )
        == (repository, chart, version)
    )
    assert release.inputs["namespace"] == "kube-system"
    assert release.inputs["atomic"] is True
    assert release.inputs["cleanupOnFail"] is True
    values = release.inputs["values"]
    assert values["spotinst"] == {"clusterIdentifier": CLUSTER_NAME, "disableAutoUpdate": True}
    assert values["secret"] == {"create": False, "name": OCEAN_SECRET}
    assert values["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "eks.amazonaws.com/nodegroup": "eks-platform-prod-system",
    }
    # The chart's own tolerations stay (a values list replaces them), then the system group's taint.
    assert values["tolerations"][: len(CHART_DEFAULT_TOLERATIONS)] == [
        {k: float(v) if isinstance(v, int) else v for k, v in t.items()} for t in CHART_DEFAULT_TOLERATIONS
    ]
    assert values["tolerations"][-1] == {
        "key": "dedicated",
        "operator": "Equal",
        "value": "system",
        "effect": "NoSchedule",
    }
    assert values["metrics-server"] == {"deployChart": True}
    assert any(dep.endswith("::spot-ocean-credentials") for dep in release.dependencies)
    assert any(dep.endswith("::spot-ocean-ocean") for dep in release.dependencies)  # clusterIdentifier is its output


def test_the_token_is_nowhere_in_the_releases_values(plan):
    release = plan.one(RELEASE, "spot-ocean-controller")
    text = json.dumps(release.inputs)
    assert PLACEHOLDER_SECRET not in text
    assert SECRET_SIG_VALUE not in text  # not even as a secret-wrapped value
    assert "token" not in release.inputs["values"]["spotinst"]
    assert "account" not in release.inputs["values"]["spotinst"]


def test_the_credentials_are_a_pulumi_secret_in_the_kubernetes_secret(plan):
    secret = plan.one(SECRET, "spot-ocean-credentials")
    assert secret.inputs["metadata"] == {"name": OCEAN_SECRET, "namespace": "kube-system"}
    assert secret_wrapped(secret.inputs["stringData"]) == {"token": PLACEHOLDER_SECRET, "account": "act-0a1b2c3d"}
    assert "spotToken" in plan.offline_secrets  # the stack file sets none: the plan stood in for it


def test_webhook_ports_add_the_node_security_group_beside_the_cluster_group():
    settings = copy.deepcopy(variant_settings("spot-ocean"))
    settings["cluster"]["webhookPorts"] = [9443]
    plan = run_program("prod", "update", config_overrides={KEY: settings})
    node_group = plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert plan.one(OCEAN, "spot-ocean-ocean").inputs["securityGroups"] == [
        cluster.outputs["vpcConfig"]["clusterSecurityGroupId"],
        node_group.id,
    ]


# --- pure planning ---------------------------------------------------------------------------------------


def spec(**changes: Any) -> SpotOceanSpec:
    base = SpotOceanSpec(
        account_id="act-0a1b2c3d",
        min_size=0,
        max_size=10,
        desired_capacity=1,
        headroom=AutomaticHeadroom(5),
        max_scale_down_percentage=10,
    )
    return SpotOceanSpec(**{**base.__dict__, **changes})


def test_manual_headroom_gives_units_and_turns_automatic_headroom_off():
    settings = autoscaler_settings(spec(headroom=ManualHeadroom(cpu_millicores=500, memory_mib=512, units=3)))
    assert settings["autoscale_is_auto_config"] is False
    assert settings["autoscale_headroom"] == {"cpu_per_unit": 500, "memory_per_unit": 512, "num_of_units": 3}
    assert "auto_headroom_percentage" not in settings
    assert "resource_limits" not in settings  # no cluster-wide limits given


def test_unset_filter_bounds_are_left_out():
    assert instance_filters(spec()) == {"architectures": ["x86_64"], "exclude_metal": True}
    arm = instance_filters(spec(architecture="arm64", filters=InstanceFilters(include_families=("m7g",))))
    assert arm == {"architectures": ["arm64"], "exclude_metal": True, "include_families": ["m7g"]}


@given(
    name=st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True),
    cidr=st.sampled_from(["172.20.0.0/16", "10.100.0.0/16"]),
    ca=st.binary(min_size=1, max_size=64).map(lambda b: base64.b64encode(b).decode()),
)
def test_user_data_carries_exactly_its_cluster(name, cidr, ca):
    text = base64.b64decode(
        nodeadm_user_data(
            cluster_name=name, endpoint="https://x.eks.amazonaws.com", certificate_authority=ca, service_cidr=cidr
        )
    ).decode()
    part = only_part(message_from_string(text))
    cluster = json.loads(str(part.get_payload()).removeprefix("---\n"))["spec"]["cluster"]
    assert cluster == {
        "name": name,
        "apiServerEndpoint": "https://x.eks.amazonaws.com",
        "certificateAuthority": ca,
        "cidr": cidr,
    }


# --- settings --------------------------------------------------------------------------------------------


def ocean_settings(**ocean: Any) -> dict[str, Any]:
    settings = stack_settings("prod")
    settings["nodeAutoscaler"] = {"engine": "spot-ocean", "spotOcean": {"accountId": "act-0a1b2c3d", **ocean}}
    return settings


@pytest.mark.parametrize(
    ("ocean", "expected"),
    [
        (None, "nodeAutoscaler.spotOcean: engine spot-ocean needs its settings"),
        ({"accountId": "act-XYZ"}, "nodeAutoscaler.spotOcean.accountId: String should match pattern"),
        ({"accountId": "123456789012"}, "nodeAutoscaler.spotOcean.accountId: String should match pattern"),
        (
            {"headroom": {"automaticPercentage": 5, "cpuPerUnit": 100}},
            "spotOcean.headroom.automaticPercentage: give automatic headroom or manual units",
        ),
        ({"headroom": {"cpuPerUnit": 100}}, "spotOcean.headroom.cpuPerUnit: manual headroom needs cpuPerUnit"),
        ({"capacity": {"minSize": 3, "maxSize": 2}}, "spotOcean.capacity.minSize: 3 is more than maxSize 2"),
        ({"capacity": {"desiredCapacity": 50}}, "spotOcean.capacity.desiredCapacity: 50 is not between"),
        ({"spotPercentage": 101}, "spotOcean.spotPercentage: Input should be less than or equal to 100"),
        ({"scaleDown": {"maxScaleDownPercentage": 0}}, "spotOcean.scaleDown.maxScaleDownPercentage"),
        ({"filters": {"minVcpu": 8, "maxVcpu": 4}}, "spotOcean.filters.minVcpu: 8 is more than its maximum 4"),
        ({"filters": {"categories": ["Burstable"]}}, "spotOcean.filters.categories[0]: Input should be"),
        ({"rootVolumeSizeGib": 10}, "spotOcean.rootVolumeSizeGib"),
        ({"token": "abc"}, "spotOcean.token: Extra inputs are not permitted"),  # the token is a secret, never here
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_spot_ocean_settings_are_one_line_naming_the_field(ocean, expected):
    settings = stack_settings("prod")
    if ocean is None:
        settings["nodeAutoscaler"] = {"engine": "spot-ocean"}
    else:
        account = {} if "accountId" in ocean else {"accountId": "act-0a1b2c3d"}
        settings["nodeAutoscaler"] = {"engine": "spot-ocean", "spotOcean": {**account, **ocean}}
    message = error_of(settings, "prod")
    assert message.startswith("Pulumi.prod.yaml: eks-platform:settings.nodeAutoscaler.")
    assert expected in message


def test_spot_ocean_refuses_an_ipv6_cluster():
    settings = ocean_settings()
    settings["vpc"]["ipv6"] = True
    settings["cluster"]["ipFamily"] = "ipv6"
    assert ".nodeAutoscaler.engine: the platform's Spot Ocean nodes are IPv4" in error_of(settings, "prod")


def test_the_token_is_a_required_secret_only_with_spot_ocean():
    ocean = Settings.model_validate(ocean_settings())
    assert required_secrets(ocean)["spotToken"] == "nodeAutoscaler.engine spot-ocean"
    assert "spotToken" not in required_secrets(Settings.model_validate(stack_settings("prod")))


def test_the_defaults_map_to_automatic_headroom_and_spot_with_on_demand_fallback():
    settings = NodeAutoscalerSettings.model_validate(
        {"engine": "spot-ocean", "spotOcean": {"accountId": "act-0a1b2c3d"}}
    )
    assert settings.spot_ocean is not None
    mapped = spot_ocean_spec(settings.spot_ocean)
    assert mapped.headroom == AutomaticHeadroom(5)
    assert (mapped.spot_percentage, mapped.fallback_to_ondemand) == (100, True)
    assert (mapped.min_size, mapped.max_size, mapped.desired_capacity) == (0, 10, 1)
    assert mapped.filters.exclude_metal is True
    assert mapped.root_volume_size_gib == 50


# --- policies read the Ocean as they read launch templates --------------------------------------------------


IMDS = {"httpTokens": "required", "httpPutResponseHopLimit": 1.0}
ENCRYPTED = [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True, "volumeType": "gp3", "volumeSize": 50.0}}]


def test_the_imdsv2_policy_reads_the_oceans_metadata_options():
    assert check("node-imdsv2-required", OCEAN, {"instanceMetadataOptions": IMDS}) == []
    [absent] = check("node-imdsv2-required", OCEAN, {})
    assert absent.startswith("no metadata options: instances accept IMDSv1")
    [optional] = check("node-imdsv2-required", OCEAN, {"instanceMetadataOptions": {**IMDS, "httpTokens": "optional"}})
    assert optional.startswith("httpTokens is 'optional'")


def test_the_volume_policy_refuses_an_ocean_without_an_encrypted_root_mapping():
    assert check("node-volume-encryption", OCEAN, {"blockDeviceMappings": ENCRYPTED}) == []
    [missing] = check("node-volume-encryption", OCEAN, {"rootVolumeSize": 50.0})
    assert missing.startswith("no blockDeviceMappings")
    plain = [{"deviceName": "/dev/xvda", "ebs": {"encrypted": False}}]
    [unencrypted] = check("node-volume-encryption", OCEAN, {"blockDeviceMappings": plain})
    assert unencrypted.startswith("blockDeviceMappings[0] (/dev/xvda) is not encrypted")


def test_the_launched_tags_policy_reads_the_oceans_key_value_tags_and_volume_tagging(update):
    good = update.one(OCEAN, "spot-ocean-ocean").inputs
    props = {"tags": good["tags"], "resourceTagSpecifications": [{"shouldTagVolumes": True}]}
    assert check("launched-resources-tagged", OCEAN, props) == []
    without_owner = [tag for tag in good["tags"] if tag["key"] != "Owner"]
    [missing] = check("launched-resources-tagged", OCEAN, {**props, "tags": without_owner})
    assert missing.startswith("tags: missing or empty required tags: Owner")
    [volumes] = check("launched-resources-tagged", OCEAN, {"tags": good["tags"]})
    assert volumes.startswith("resourceTagSpecifications does not tag volumes")


def test_the_readme_example_sets_every_setting_and_is_the_variants():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Spot Ocean\n", 1)[1].split("\n## ", 1)[0]
    assert "pulumi config set --secret spotToken" in section
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = yaml.safe_load(block)["nodeAutoscaler"]
    assert example == variant_settings("spot-ocean")["nodeAutoscaler"]
    ocean = example["spotOcean"]
    fields = {field.alias or name for name, field in SpotOceanSettings.model_fields.items()}
    assert set(ocean) == fields  # every setting has its line
    assert set(ocean["headroom"]) | {"cpuPerUnit", "memoryPerUnit", "numOfUnits"} == {
        f.alias for f in SpotOceanHeadroomSettings.model_fields.values()
    }


def test_teardown_removes_the_controller_before_the_ocean_and_the_ocean_with_the_cluster(update):
    resources = [
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id)
        for r in update.resources
    ]
    phases = plan_phases(resources)
    assert order_violations(phases) == []
    names = {phase: {r.urn.rsplit("::", 1)[-1] for r in members} for phase, members in phases.items()}
    assert {"spot-ocean-controller", "spot-ocean-credentials"} <= names["in-cluster"]
    # Ocean terminates its nodes when deleted: before the subnets and security groups of the network phase.
    assert {"spot-ocean-ocean", "spot-ocean-node-role", "spot-ocean-node-access"} <= names["cluster"]
