"""Network shapes in the settings: dual stack and IPv6 clusters, NAT subnets, no NAT, interface endpoints."""

import copy
import textwrap

import pytest
import yaml

from components.network_plan import PRIVATE_CLUSTER_ENDPOINTS
from config import NatStrategy
from tests.config.test_settings import ROOT, error_of, parse, stack_settings


def variant(stack: str, **sections: dict | None) -> dict:
    """The stack file's settings with sections merged in (None drops a section)."""
    raw = copy.deepcopy(stack_settings(stack))
    for section, values in sections.items():
        if values is None:
            raw.pop(section, None)
        else:
            raw[section] = {**raw.get(section, {}), **values}
    return raw


#: A private cluster (dev's settings): no NAT, nothing that needs the internet.
PRIVATE: dict[str, dict | None] = {
    "vpc": {"natStrategy": "none"},
    "nodeAutoscaler": {"engine": "none"},
    "argo": {"enabled": False},
    "vault": {"enabled": False},
    "delivery": None,
}


CONNECTION = "arn:aws:codeconnections:us-west-2:111122223333:connection/8a3e00a4-7223-5a9c-b05b-200fdd307b78"


def test_the_stack_files_keep_ipv4_and_their_nat():
    for stack in ("dev", "prod"):
        settings = parse(stack_settings(stack), stack)
        assert not settings.vpc.ipv6
        assert not settings.vpc.nat_subnets
        assert settings.vpc.endpoint_services == []
        assert settings.cluster.ip_family == "ipv4"


# --- IPv6 ----------------------------------------------------------------------------------------------------


def test_an_ipv6_cluster_on_a_dual_stack_vpc_is_accepted():
    raw = variant("prod", vpc={"ipv6": True}, cluster={"ipFamily": "ipv6"}, argo={"highAvailability": False})
    settings = parse(raw, "prod")
    assert settings.vpc.ipv6
    assert settings.cluster.ip_family == "ipv6"


def test_a_dual_stack_vpc_may_carry_an_ipv4_cluster():
    assert parse(variant("prod", vpc={"ipv6": True}), "prod").cluster.ip_family == "ipv4"


@pytest.mark.parametrize(
    ("sections", "field", "problem"),
    [
        (
            {"cluster": {"ipFamily": "ipv6"}},
            "cluster.ipFamily",
            "ipv6 needs IPv6 subnets: set vpc.ipv6: true",
        ),
        (
            {
                "vpc": {"ipv6": True},
                "cluster": {"ipFamily": "ipv6", "nodeGroups": {"system": {"instanceTypes": ["m4.large", "m5.large"]}}},
            },
            "cluster.nodeGroups.system.instanceTypes",
            "an IPv6 cluster runs on Nitro instances only; m4.large run on Xen",
        ),
        (
            {
                "vpc": {"ipv6": True},
                "cluster": {"ipFamily": "ipv6"},
                "nodeAutoscaler": {"karpenter": {"instanceGenerationMin": 4, "instanceCategories": ["c", "m"]}},
            },
            "nodeAutoscaler.karpenter.instanceGenerationMin",
            "generations up to 4 include Xen families (c4, m4, r4, t2, ...): use 5 or more",
        ),
        (
            {"vpc": {"ipv6": True}, "cluster": {"ipFamily": "ipv6"}},
            "argo.highAvailability",
            "Argo CD's HA install (redis-ha) does not support IPv6-only clusters",
        ),
        ({"cluster": {"ipFamily": "IPv6"}}, "cluster.ipFamily", "Input should be 'ipv4' or 'ipv6'"),
        ({"vpc": {"ipv6": "yes"}}, "vpc.ipv6", "Input should be a valid boolean"),
    ],
    ids=["needs-dual-stack", "xen-node-group", "xen-karpenter-generations", "argo-ha", "spelling", "boolean"],
)
def test_impossible_ipv6_combinations_are_refused(sections, field, problem):
    message = error_of(variant("prod", **sections), "prod")
    assert message.startswith(f"Pulumi.prod.yaml: eks-platform:settings.{field}: ")
    assert problem in message


def test_nitro_bare_metal_of_a_xen_family_is_accepted_for_ipv6():
    group = {"instanceTypes": ["i3.metal"], "minSize": 1, "maxSize": 2}
    raw = variant("dev", vpc={"ipv6": True}, cluster={"ipFamily": "ipv6", "nodeGroups": {"system": group}})
    assert parse(raw).cluster.node_groups["system"].instance_types == ["i3.metal"]


def test_karpenter_generations_do_not_matter_without_ipv6_or_without_karpenter():
    karpenter = {"karpenter": {"instanceGenerationMin": 4, "instanceCategories": ["c", "m"]}}
    assert parse(variant("prod", nodeAutoscaler=karpenter), "prod")
    engine = {**karpenter, "engine": "cluster-autoscaler"}
    raw = variant(
        "prod",
        vpc={"ipv6": True},
        cluster={"ipFamily": "ipv6"},
        argo={"highAvailability": False},
        nodeAutoscaler=engine,
    )
    assert parse(raw, "prod").node_autoscaler.engine == "cluster-autoscaler"


# --- NAT subnets -----------------------------------------------------------------------------------------------


def test_nat_subnets_are_planned_without_moving_anything():
    assert parse(variant("prod", vpc={"natSubnets": True}), "prod").vpc.nat_subnets


@pytest.mark.parametrize(
    ("vpc", "field", "problem"),
    [
        ({"natSubnets": True, "natStrategy": "none"}, "vpc.natSubnets", "natStrategy none has no NAT gateway"),
        (
            {"natSubnets": True, "cidr": "10.40.0.0/23"},  # fits without NAT subnets: only /28 slots are left
            "vpc.cidr",
            "10.40.0.0/23 cannot hold public, private, intra and NAT subnets (/28 at least) for 3 zones",
        ),
        (
            {
                "natSubnets": True,
                "subnets": {
                    "public": ["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"],
                    "private": ["10.40.64.0/18", "10.40.128.0/18", "10.40.192.0/18"],
                    "intra": ["10.40.3.0/24", "10.40.4.0/24", "10.40.5.0/24"],
                    "nat": ["10.40.6.0/28"],
                },
            },
            "vpc.subnets.nat",
            "has 1 CIDRs but natSubnets with natStrategy one_per_az puts up 3 NAT gateways",
        ),
        (
            {
                "subnets": {
                    "public": ["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"],
                    "private": ["10.40.64.0/18", "10.40.128.0/18", "10.40.192.0/18"],
                    "intra": ["10.40.3.0/24", "10.40.4.0/24", "10.40.5.0/24"],
                    "nat": ["10.40.6.0/28"],
                }
            },
            "vpc.subnets.nat",
            "has 1 CIDRs but natSubnets is false",
        ),
        (
            {
                "natSubnets": True,
                "subnets": {
                    "public": ["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"],
                    "private": ["10.40.64.0/18", "10.40.128.0/18", "10.40.192.0/18"],
                    "intra": ["10.40.3.0/24", "10.40.4.0/24", "10.40.5.0/24"],
                    "nat": ["10.40.6.0/28", "10.40.6.16/28", "10.40.2.0/28"],
                },
            },
            "vpc.subnets",
            "10.40.2.0/24 overlaps 10.40.2.0/28",
        ),
    ],
    ids=["no-nat", "small-vpc", "count", "without-nat-subnets", "overlap"],
)
def test_bad_nat_subnets_are_refused(vpc, field, problem):
    message = error_of(variant("prod", vpc=vpc), "prod")
    assert message.startswith(f"Pulumi.prod.yaml: eks-platform:settings.{field}: ")
    assert problem in message


def test_a_vpc_too_small_for_nat_subnets_holds_the_others():
    assert parse(variant("prod", vpc={"cidr": "10.40.0.0/23"}), "prod").vpc.cidr.prefixlen == 23


def test_eks_needs_two_zones():
    # EKS User Guide, "View Amazon EKS networking requirements": subnets in at least two Availability Zones.
    message = error_of(variant("prod", vpc={"azCount": 1}), "prod")
    assert message.startswith(
        "Pulumi.prod.yaml: eks-platform:settings.vpc.azCount: Input should be greater than or equal to 2"
    )


def test_a_single_nat_takes_one_explicit_nat_subnet():
    subnets = {
        "public": ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"],
        "private": ["10.20.64.0/18", "10.20.128.0/18", "10.20.192.0/18"],
        "intra": ["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24"],
        "nat": ["10.20.6.0/28"],
    }
    settings = parse(variant("dev", vpc={"natSubnets": True, "subnets": subnets}))
    assert settings.vpc.subnets is not None
    assert [str(net) for net in settings.vpc.subnets.nat] == ["10.20.6.0/28"]
    assert settings.vpc.nat_gateway_count == 1


# --- no NAT: a private cluster -------------------------------------------------------------------------------------


def test_a_private_cluster_gets_the_endpoints_it_needs_and_any_extra_ones():
    raw = variant("dev", **PRIVATE)
    raw["vpc"]["interfaceEndpoints"] = ["secretsmanager", "sts"]
    settings = parse(raw)
    assert settings.vpc.nat_strategy is NatStrategy.NONE
    assert settings.vpc.nat_gateway_count == 0
    assert settings.vpc.endpoint_services == [*PRIVATE_CLUSTER_ENDPOINTS, "secretsmanager"]  # sts once


def test_a_private_cluster_may_keep_a_public_api_endpoint_and_an_external_runner():
    delivery = {
        "runner": "external",
        "runnerEgressCidrs": ["203.0.113.10/32"],
        "githubRepository": "example-org/eks-platform",
    }
    raw = variant("dev", **{**PRIVATE, "delivery": delivery})
    settings = parse(raw)
    assert settings.cluster.endpoint.public_access
    assert settings.delivery is not None


def test_interface_endpoints_work_with_nat_too():
    settings = parse(variant("prod", vpc={"interfaceEndpoints": ["ecr.api", "ecr.dkr"]}), "prod")
    assert settings.vpc.endpoint_services == ["ecr.api", "ecr.dkr"]


@pytest.mark.parametrize(
    ("sections", "field", "problem"),
    [
        (
            {
                **PRIVATE,
                "delivery": {
                    "runner": "codebuild",
                    "githubRepository": "o/r",
                    "connectionArn": CONNECTION,
                },
            },
            "delivery.runner",
            "the codebuild runner runs in the private subnets and must reach GitHub",
        ),
        (
            {**PRIVATE, "nodeAutoscaler": {"engine": "karpenter"}},
            "nodeAutoscaler.engine",
            "karpenter pulls its image from public.ecr.aws (ECR Public has no VPC endpoint)",
        ),
        (
            {**PRIVATE, "nodeAutoscaler": {"engine": "cluster-autoscaler"}},
            "nodeAutoscaler.engine",
            "cluster-autoscaler pulls its image from registry.k8s.io",
        ),
        ({**PRIVATE, "argo": {"enabled": True}}, "argo.enabled", "Argo CD pulls its images from quay.io"),
        (
            {**PRIVATE, "vault": {"enabled": True}},
            "vault.enabled",
            "the Vault injector pulls its images from Docker Hub",
        ),
    ],
    ids=["codebuild", "karpenter", "cluster-autoscaler", "argo", "vault"],
)
def test_what_needs_the_internet_is_refused_without_nat(sections, field, problem):
    message = error_of(variant("dev", **sections))
    assert message.startswith(f"Pulumi.dev.yaml: eks-platform:settings.{field}: ")
    assert problem in message
    assert "vpc.natStrategy none leaves the private subnets no route to the internet" in message


@pytest.mark.parametrize(
    ("endpoints", "problem"),
    [
        (["sts", "sts"], "lists a service twice"),
        (["s3"], "s3 has the VPC's gateway endpoint already"),
        (["com.amazonaws.us-west-2.sts"], "give the service name after com.amazonaws.<region>. (e.g. sts)"),
        (["Secrets Manager"], "String should match pattern"),
    ],
)
def test_bad_interface_endpoints_are_refused(endpoints, problem):
    message = error_of(variant("prod", vpc={"interfaceEndpoints": endpoints}), "prod")
    assert "eks-platform:settings.vpc.interfaceEndpoints" in message
    assert problem in message


# --- the README's examples are valid settings -------------------------------------------------------------------------


def readme_examples() -> list[dict]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("**Network shapes**") : text.index("**One role for an application's components**")]
    blocks = section.split("```yaml\n")[1:]
    return [yaml.safe_load(textwrap.dedent(block.split("```", 1)[0])) for block in blocks]


def merged(stack: str, example: dict) -> dict:
    raw = copy.deepcopy(stack_settings(stack))
    for section, values in example.items():
        raw[section] = {**raw.get(section, {}), **values} if isinstance(values, dict) else values
    return raw


def test_the_readme_examples_are_valid_settings():
    ipv6, nat_subnets, private = readme_examples()
    assert parse(merged("prod", ipv6), "prod").cluster.ip_family == "ipv6"
    subnets = parse(merged("prod", nat_subnets), "prod").vpc.subnets
    assert subnets is not None
    assert len(subnets.nat) == 3
    settings = parse(merged("dev", private))
    assert settings.vpc.endpoint_services == [*PRIVATE_CLUSTER_ENDPOINTS, "secretsmanager", "xray"]
    readme = (ROOT / "README.md").read_text()
    assert ", ".join(f"`{name}`" for name in PRIVATE_CLUSTER_ENDPOINTS) in readme.replace("\n", " ")
