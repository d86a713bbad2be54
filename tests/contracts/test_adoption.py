"""Adopting what exists (issue 11, item 2): `adopt` settings become Pulumi's `import` option on exactly the resource.

Contracts: the engine's import semantics (pulumi/pulumi developer-docs/architecture/import.md: the option may stay
once imported; the program's inputs must match the existing resource) and each type's import id, as the pinned
SDK's "Import" section documents it (`pulumi import <type> <name> <id>`).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from components.adoption import ADOPTABLE
from tests.config.test_settings import KEY, stack_settings
from tools.harness import MODES, ConfigurationError, run_program

SDK = Path(importlib.import_module("pulumi_aws").__file__).parent  # type: ignore[arg-type]
#: The settings for one adoption of each family on the dev stack (names as dev's settings give them).
ADOPT = {
    "vpc": "vpc-0123456789abcdef0",
    "internetGateway": "igw-0123456789abcdef0",
    "subnets": {"private-a": "subnet-0123456789abcdef0"},
    "cluster": "eks-platform-dev",
    "controlPlaneLogGroup": "/aws/eks/eks-platform-dev/cluster",
    "clusterRole": "eks-platform-dev-cluster",
    "nodeRole": "eks-platform-dev-node",
    "oidcProvider": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF",
    "secretsKey": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "appRoles": {"daft": "eks-platform-dev_DaftRole"},
}


def sdk_import_example(type_token: str) -> str:
    """The id in the SDK's ``pulumi import <type> <name> <id>`` example for ``type_token``."""
    for path in SDK.rglob("*.py"):
        text = path.read_text()
        match = re.search(rf"\$ pulumi import {re.escape(type_token)} \S+ (\S+)", text)
        if match:
            return match.group(1)
    msg = f"no import example for {type_token} in the SDK"
    raise LookupError(msg)


@pytest.mark.parametrize("family", sorted(set(ADOPTABLE) - {"oidcProvider"}))
def test_each_import_id_has_the_shape_the_sdk_documents(family):
    kind = ADOPTABLE[family]
    example = sdk_import_example(kind.type)
    if family == "controlPlaneLogGroup":
        example = "/aws/eks/example/cluster"  # the SDK's example is any log group's name ("yada"): the id is the name
        assert sdk_import_example(kind.type) == "yada"
    assert kind.id_pattern.fullmatch(example), (family, example)


def test_the_oidc_provider_is_imported_by_its_arn():
    # The SDK's example is a Google provider's ARN; an EKS cluster's has the oidc.eks.<region> issuer path.
    example = sdk_import_example(ADOPTABLE["oidcProvider"].type)
    assert example.startswith("arn:aws:iam::123456789012:oidc-provider/")
    assert ADOPTABLE["oidcProvider"].id_pattern.fullmatch(str(ADOPT["oidcProvider"]))


@pytest.fixture(scope="module", params=MODES)
def adopted(request):
    raw = stack_settings("dev")
    raw["adopt"] = ADOPT
    return run_program("dev", request.param, config_overrides={KEY: raw})


def test_every_adopted_resource_is_imported_by_its_id_and_protected(adopted):
    for family, value in ADOPT.items():
        kind = ADOPTABLE[family]
        members = value.items() if isinstance(value, dict) else [("", value)]
        for key, resource_id in members:
            registration = adopted.one(kind.type, kind.logical_name.format(key=key))
            assert registration.import_id == resource_id, family
            assert registration.protect is True, family
            # The engine reads an imported resource in a preview too: its id is known.
            assert registration.id == resource_id
    imported = [r for r in adopted.resources if r.import_id]
    assert len(imported) == sum(len(v) if isinstance(v, dict) else 1 for v in ADOPT.values())


def test_nothing_is_imported_or_newly_protected_without_adopt():
    plan = run_program("dev", "preview")
    assert [r.name for r in plan.resources if r.import_id] == []
    assert not plan.one("aws:ec2/vpc:Vpc", "network-vpc").protect


@pytest.mark.parametrize(
    ("adopt", "message"),
    [
        ({"cluster": "dpe-k8", "clusterRole": "eks-platform-dev-cluster"}, "adopt.cluster: 'dpe-k8' is not the name"),
        ({"cluster": "eks-platform-dev"}, "adopt.clusterRole: a cluster is adopted with its role"),
        ({"subnets": {"private-a": "subnet-0123456789abcdef0"}}, "adopt.subnets: subnets are adopted with their VPC"),
        ({"nodeRole": "eks-node"}, "adopt.nodeRole: 'eks-node' is not the name these settings give it"),
        ({"nodeGroups": {"system": "eks-platform-dev:eks-platform-dev-system"}}, "adopt.nodeGroups: Extra inputs"),
        ({"vpc": "vpc-123"}, "adopt.vpc: String should match pattern"),
        ({"appRoles": {"daft": "other"}}, "adopt.appRoles.daft: 'other' is not 'eks-platform-dev_DaftRole'"),
    ],
)
def test_an_adoption_that_would_fail_the_import_stops_in_settings(adopt, message):
    raw = stack_settings("dev")
    raw["adopt"] = adopt
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides={KEY: raw})
    assert f"Pulumi.dev.yaml: {KEY}.{message}" in str(caught.value)
    # Only the provider and the account lookups ran: no resource of the platform registered.
    assert [r.type for r in caught.value.registrations if not r.type.startswith("pulumi:")] == []


def test_a_subnet_in_a_zone_the_stack_does_not_use():
    raw = stack_settings("dev")
    raw["adopt"] = {"vpc": "vpc-0123456789abcdef0", "subnets": {"private-d": "subnet-0123456789abcdef0"}}
    with pytest.raises(ConfigurationError) as caught:
        run_program("dev", "preview", config_overrides={KEY: raw})
    assert f"{KEY}.adopt.subnets.private-d: the stack's zones are us-west-2a, us-west-2b, us-west-2c" in str(
        caught.value
    )
