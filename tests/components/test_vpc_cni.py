"""VPC CNI features as typed settings, rendered into the vpc-cni add-on's configuration values."""

import json
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.eks_cluster import POD_SECURITY_GROUP_ENFORCING_MODES, VpcCniSpec, vpc_cni_configuration
from config import VpcCniSettings
from tests.components.test_eks_cluster import cluster_plan
from tests.config.test_settings import KEY, error_of, stack_settings
from tools.harness import run_program

#: The documented keys (EKS User Guide "Amazon VPC CNI"; the add-on's configuration schema takes string booleans).
DOCUMENTED = {"enableNetworkPolicy", "env"}
#: aws/amazon-vpc-cni-k8s README "CNI configuration variables": POD_SECURITY_GROUP_ENFORCING_MODE (v1.11.0+), a
#: string, valid values strict and standard, default strict, read once ENABLE_POD_ENI is true.
ENFORCING_MODE = "POD_SECURITY_GROUP_ENFORCING_MODE"
DOCUMENTED_ENV = {"ENABLE_PREFIX_DELEGATION", "ENABLE_POD_ENI", ENFORCING_MODE}


@given(st.booleans(), st.booleans(), st.booleans(), st.sampled_from([None, "strict", "standard"]))
def test_values_hold_only_documented_keys_with_string_values(network_policy, prefix, pod_sgs, mode):
    mode = mode if pod_sgs else None
    values = vpc_cni_configuration(VpcCniSpec(network_policy, prefix, pod_sgs, mode))
    env = values.get("env", {})
    assert isinstance(env, dict)
    assert set(values) <= DOCUMENTED
    assert set(env) <= DOCUMENTED_ENV
    assert values.get("enableNetworkPolicy", "true") == "true"
    assert all(value == "true" for name, value in env.items() if name != ENFORCING_MODE)
    assert ("enableNetworkPolicy" in values) is network_policy
    assert ("ENABLE_PREFIX_DELEGATION" in env) is prefix
    assert ("ENABLE_POD_ENI" in env) is pod_sgs
    assert env.get(ENFORCING_MODE) == mode


def test_the_enforcing_modes_are_the_plugins():
    assert POD_SECURITY_GROUP_ENFORCING_MODES == ("strict", "standard")
    field = VpcCniSettings.model_fields["pod_security_group_enforcing_mode"].annotation
    assert set(typing.get_args(typing.get_args(field)[0])) == set(POD_SECURITY_GROUP_ENFORCING_MODES)
    # Unset is the plugin's own default (strict): nothing is rendered.
    assert vpc_cni_configuration(VpcCniSpec(pod_security_groups=True)) == {"env": {"ENABLE_POD_ENI": "true"}}


@pytest.mark.parametrize(
    "spec",
    [
        VpcCniSpec(pod_security_group_enforcing_mode="standard"),
        VpcCniSpec(pod_security_groups=True, pod_security_group_enforcing_mode="loose"),
    ],
    ids=["without-pod-security-groups", "unknown-mode"],
)
def test_the_builder_refuses_a_mode_the_plugin_would_not_read(spec):
    with pytest.raises(ValueError, match="strict or standard, and only with pod security groups"):
        vpc_cni_configuration(spec)


def test_the_defaults_leave_the_add_on_at_eks_defaults():
    addon = cluster_plan("preview").one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert "configurationValues" not in addon.inputs


def test_the_stack_settings_reach_the_add_on():
    raw = stack_settings("prod")
    raw["cluster"]["vpcCni"] = {
        "networkPolicy": True,
        "prefixDelegation": True,
        "podSecurityGroups": True,
        "podSecurityGroupEnforcingMode": "standard",
    }
    addon = run_program("prod", "update", config_overrides={KEY: raw}).one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert json.loads(addon.inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true",
        "env": {"ENABLE_PREFIX_DELEGATION": "true", "ENABLE_POD_ENI": "true", ENFORCING_MODE: "standard"},
    }


@pytest.mark.parametrize(
    ("vpc_cni", "expected"),
    [
        ({"podSecurityGroupEnforcingMode": "standard"}, "podSecurityGroupEnforcingMode: only with podSecurityGroups"),
        ({"podSecurityGroups": True, "podSecurityGroupEnforcingMode": "loose"}, "podSecurityGroupEnforcingMode: Input"),
    ],
)
def test_the_enforcing_mode_is_strict_or_standard_and_needs_pod_security_groups(vpc_cni, expected):
    raw = stack_settings("prod")
    raw["cluster"]["vpcCni"] = vpc_cni
    assert f"{KEY}.cluster.vpcCni.{expected}" in error_of(raw, "prod")


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_a_setting_is_a_real_boolean(value):
    raw = stack_settings("prod")
    raw["cluster"]["vpcCni"] = {"networkPolicy": value}
    assert "eks-platform:settings.cluster.vpcCni.networkPolicy" in error_of(raw, "prod")
