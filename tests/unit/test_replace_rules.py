"""The replace-on-change table: complete for every registered type, keyed by real inputs, and the matching rules."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from functools import cache
from pathlib import Path

import pytest

from tests.contracts import test_chart_fidelity as fidelity
from tools import aws_schema
from tools.replace_rules import REPLACE_ON_CHANGE, SOURCES, replacing_paths, rules_for

_MODULES = re.compile(r'resource_modules="""(.*?)"""', re.DOTALL)
_K8S = re.compile(r"^kubernetes:(?P<group>[^/:]+)/(?P<version>[^:]+):(?P<kind>\w+)$")


@cache
def _registered_custom_types() -> frozenset[str]:
    return frozenset(
        r.type for variant in fidelity.VARIANTS for r in fidelity.variant_plan(variant).resources if r.custom
    )


@cache
def _sdk_classes(package: str) -> dict[str, tuple[str, str]]:
    """Type token -> (module, class) from a Pulumi SDK's registration table (as tools.aws_schema reads pulumi_aws)."""
    spec = importlib.util.find_spec(f"pulumi_{package}")
    assert spec is not None
    assert spec.origin is not None
    match = _MODULES.search(Path(spec.origin).read_text(encoding="utf-8"))
    assert match is not None
    return {
        token: (entry["fqn"], cls) for entry in json.loads(match.group(1)) for token, cls in entry["classes"].items()
    }


def _resource_class(type_token: str) -> type:
    if type_token.startswith("pulumi:providers:"):
        return importlib.import_module(f"pulumi_{type_token.rsplit(':', 1)[1]}").Provider
    if type_token.startswith("aws:"):
        cls = aws_schema.resource_class(type_token)
        assert cls is not None, type_token
        return cls
    module, name = _sdk_classes(type_token.split(":", 1)[0])[type_token]
    return getattr(importlib.import_module(module), name)


def _args_class(cls: type) -> type:
    """A resource's input class: ``<Class>Args`` beside it, or ``<Class>InitArgs`` in its package (Kubernetes)."""
    module = importlib.import_module(cls.__module__)
    if cls.__module__.startswith("pulumi_kubernetes.") and not cls.__name__.startswith("Provider"):
        package = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
        return getattr(package, f"{cls.__name__}InitArgs", None) or getattr(module, f"{cls.__name__}Args")
    return getattr(module, f"{cls.__name__}Args")


def _wire_inputs(cls: type) -> frozenset[str]:
    """The wire names of a resource's inputs: its input class's getters carry them (``@pulumi.getter(name=...)``)."""
    args = _args_class(cls)
    getters = [vars(prop.fget) for prop in vars(args).values() if isinstance(prop, property) and prop.fget is not None]
    return frozenset(attrs["_pulumi_name"] for attrs in getters if "_pulumi_name" in attrs)


def _input_keys(type_token: str) -> frozenset[str]:
    """A type's top-level input keys; a custom resource (no SDK class for its kind) offers metadata, spec, ..."""
    if type_token.startswith("kubernetes:") and type_token not in _sdk_classes("kubernetes"):
        return frozenset({"apiVersion", "kind", "metadata", "spec"})
    return _wire_inputs(_resource_class(type_token))


def test_every_registered_custom_type_has_rules_and_a_source() -> None:
    types = _registered_custom_types()
    assert len(types) == 87
    assert types - REPLACE_ON_CHANGE.keys() == set()
    assert types - SOURCES.keys() == set()
    assert set(SOURCES) == set(REPLACE_ON_CHANGE)


def test_sources_name_a_repository_file() -> None:
    for type_token, source in SOURCES.items():
        assert re.search(r"[\w-]+/[\w-]+[@:#]", source), (type_token, source)


@pytest.mark.parametrize("type_token", sorted(REPLACE_ON_CHANGE))
def test_every_rule_starts_at_an_input_of_its_type(type_token: str) -> None:
    keys = _input_keys(type_token)
    for rule in REPLACE_ON_CHANGE[type_token]:
        assert rule.split(".", 1)[0] in keys, (type_token, rule)


def test_custom_resources_replace_only_on_name_and_namespace() -> None:
    for type_token in (
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:argoproj.io/v1alpha1:Application",
        "kubernetes:example.com/v1:Widget",
    ):
        assert REPLACE_ON_CHANGE[type_token] == ("metadata.name", "metadata.namespace")
    assert rules_for("kubernetes:unseen.example.org/v2beta1:Gadget") == ("metadata.name", "metadata.namespace")
    assert "custom resource" in SOURCES["kubernetes:karpenter.sh/v1:NodePool"]


def test_kinds_outside_the_program_are_derived_from_the_table() -> None:
    assert "spec.serviceName" in rules_for("kubernetes:apps/v1:StatefulSet")
    assert rules_for("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") == (
        "metadata.name",
        "metadata.namespace",
        "roleRef",
    )
    assert "spec.containers.image" in rules_for("kubernetes:core/v1:Pod")
    # apps/v1beta1 Deployment has no selector rule in diff.go (only after v1beta1).
    assert rules_for("kubernetes:apps/v1beta1:Deployment") == ("metadata.name", "metadata.namespace")


def test_an_unknown_type_of_another_provider_is_refused() -> None:
    with pytest.raises(KeyError, match="aws:s3/bucket:Bucket"):
        rules_for("aws:s3/bucket:Bucket")
    with pytest.raises(KeyError):
        replacing_paths("aws:s3/bucket:Bucket", ["bucket"])


@pytest.mark.parametrize(
    ("type_token", "changed", "replacing"),
    [
        ("aws:ec2/subnet:Subnet", ["cidrBlock"], ["cidrBlock"]),
        ("kubernetes:apps/v1:Deployment", ["spec.selector.matchLabels.app"], ["spec.selector.matchLabels.app"]),
        ("aws:eks/nodeGroup:NodeGroup", ["launchTemplate"], ["launchTemplate"]),
        ("aws:eks/nodeGroup:NodeGroup", ["launchTemplate.version"], []),
        ("aws:ec2/subnet:Subnet", ["tags.Name", "mapPublicIpOnLaunch"], []),
        ("aws:eks/nodeGroup:NodeGroup", ["subnetIds[1]", "scalingConfig.desiredSize"], ["subnetIds[1]"]),
        (
            "aws:guardduty/detectorFeature:DetectorFeature",
            ["additionalConfigurations[0].name", "additionalConfigurations[0].status"],
            ["additionalConfigurations[0].name"],
        ),
        (
            "aws:guardduty/detectorFeature:DetectorFeature",
            ["additionalConfigurations[2]"],
            ["additionalConfigurations[2]"],
        ),
        ("kubernetes:core/v1:Service", ["spec.clusterIPs[0]", "spec.clusterIP"], ["spec.clusterIP"]),
        ("kubernetes:core/v1:Namespace", ["metadata", "metadata.labels.team"], ["metadata"]),
    ],
)
def test_replacing_paths(type_token: str, changed: list[str], replacing: list[str]) -> None:
    assert replacing_paths(type_token, changed) == replacing


def test_replacing_paths_keeps_the_order_of_the_changed_paths() -> None:
    changed = ["vpcId", "tags", "availabilityZone", "cidrBlock"]
    assert replacing_paths("aws:ec2/subnet:Subnet", iter(changed)) == ["vpcId", "availabilityZone", "cidrBlock"]


def test_pinned_facts_from_the_provider_sources() -> None:
    assert replacing_paths("aws:ec2/subnet:Subnet", ["cidrBlock"]) == ["cidrBlock"]
    assert replacing_paths("aws:eks/nodeGroup:NodeGroup", ["subnetIds"]) == ["subnetIds"]
    assert replacing_paths("aws:eks/nodeGroup:NodeGroup", ["instanceTypes[0]"]) == ["instanceTypes[0]"]
    # terraform-provider-aws updates an EKS cluster's subnets and security groups in place (since 5.25.0).
    assert replacing_paths("aws:eks/cluster:Cluster", ["vpcConfig.subnetIds", "vpcConfig.securityGroupIds"]) == []
    assert replacing_paths("aws:eks/cluster:Cluster", ["roleArn", "version"]) == ["roleArn"]
    assert replacing_paths("aws:kms/key:Key", ["customerMasterKeySpec", "description"]) == ["customerMasterKeySpec"]
    assert replacing_paths("aws:iam/role:Role", ["path", "assumeRolePolicy"]) == ["path"]
    assert replacing_paths("kubernetes:core/v1:ConfigMap", ["data.config.yaml"]) == ["data.config.yaml"]
    assert replacing_paths("kubernetes:core/v1:Secret", ["stringData.token"]) == ["stringData.token"]
    assert replacing_paths("kubernetes:apps/v1:Deployment", ["spec.replicas"]) == []
    assert replacing_paths("kubernetes:helm.sh/v3:Release", ["name", "values.replicaCount"]) == ["name"]
    assert replacing_paths("kubernetes:storage.k8s.io/v1:StorageClass", ["parameters.type"]) == ["parameters.type"]
    assert replacing_paths("tls:index/privateKey:PrivateKey", ["rsaBits"]) == ["rsaBits"]
    assert REPLACE_ON_CHANGE["aws:iam/user:User"] == ()
    assert REPLACE_ON_CHANGE["spotinst:aws/ocean:Ocean"] == ()
    assert REPLACE_ON_CHANGE["pulumi:providers:aws"] == ()
