"""VPC CNI features as typed settings, rendered into the vpc-cni add-on's configuration values."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.eks_cluster import VpcCniSpec, vpc_cni_configuration
from tests.components.test_eks_cluster import cluster_plan
from tests.config.test_settings import KEY, error_of, stack_settings
from tools.harness import run_program

#: The documented keys (EKS User Guide "Amazon VPC CNI"; the add-on's configuration schema takes string booleans).
DOCUMENTED = {"enableNetworkPolicy", "env"}
DOCUMENTED_ENV = {"ENABLE_PREFIX_DELEGATION", "ENABLE_POD_ENI"}


@given(st.booleans(), st.booleans(), st.booleans())
def test_values_hold_only_documented_keys_with_string_booleans(network_policy, prefix, pod_sgs):
    values = vpc_cni_configuration(VpcCniSpec(network_policy, prefix, pod_sgs))
    env = values.get("env", {})
    assert isinstance(env, dict)
    assert set(values) <= DOCUMENTED
    assert set(env) <= DOCUMENTED_ENV
    assert values.get("enableNetworkPolicy", "true") == "true"
    assert all(value == "true" for value in env.values())
    assert ("enableNetworkPolicy" in values) is network_policy
    assert ("ENABLE_PREFIX_DELEGATION" in env) is prefix
    assert ("ENABLE_POD_ENI" in env) is pod_sgs


def test_the_defaults_leave_the_add_on_at_eks_defaults():
    addon = cluster_plan("preview").one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert "configurationValues" not in addon.inputs


def test_the_stack_settings_reach_the_add_on():
    raw = stack_settings("prod")
    raw["cluster"]["vpcCni"] = {"networkPolicy": True, "prefixDelegation": True, "podSecurityGroups": True}
    addon = run_program("prod", "update", config_overrides={KEY: raw}).one("aws:eks/addon:Addon", "eks-addon-vpc-cni")
    assert json.loads(addon.inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true",
        "env": {"ENABLE_PREFIX_DELEGATION": "true", "ENABLE_POD_ENI": "true"},
    }


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_a_setting_is_a_real_boolean(value):
    raw = stack_settings("prod")
    raw["cluster"]["vpcCni"] = {"networkPolicy": value}
    assert "eks-platform:settings.cluster.vpcCni.networkPolicy" in error_of(raw, "prod")
