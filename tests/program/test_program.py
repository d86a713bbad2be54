"""The whole program per stack, in both modes: composition, providers, tags, protection, stack specifics."""

import json

import pytest

from components.tagging import REQUIRED_TAG_KEYS
from tools import plan as plan_cli
from tools.aws_schema import is_taggable
from tools.harness import MODES, UNKNOWN, ConfigurationError, Plan, copy_project, run_program

STACKS = ("dev", "prod")
COMPONENTS = {"eksplatform:platform:Vpc", "eksplatform:platform:EksCluster", "eksplatform:platform:GuardDuty"}
STATEFUL = [
    ("aws:eks/cluster:Cluster", "eks-cluster"),
    ("aws:kms/key:Key", "eks-secrets-key"),
    ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "eks-oidc-provider"),
    ("aws:guardduty/detector:Detector", "guardduty-detector"),
]


@pytest.fixture(scope="module", params=[(s, m) for s in STACKS for m in MODES], ids=lambda p: f"{p[0]}-{p[1]}")
def plan(request: pytest.FixtureRequest) -> Plan:
    stack, mode = request.param
    return run_program(stack, mode)


def test_the_platform_components_are_composed(plan):
    types = {r.type for r in plan.resources}
    assert types >= COMPONENTS
    assert plan.by_type("eksplatform:platform:IrsaRole")
    stack = plan.stack_resource
    top = {r.type for r in plan.resources if r.parent == stack.urn}
    assert top >= COMPONENTS | {"pulumi:providers:aws"}


def test_every_resource_goes_through_an_explicit_provider(plan):
    aws_provider = plan.one("pulumi:providers:aws", "aws")
    for resource in plan.resources:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            continue
        assert resource.provider, f"{resource.urn} uses a default provider"
        if resource.type.startswith("aws:"):
            assert resource.provider.startswith(aws_provider.urn + "::"), resource.urn


def test_default_tags_carry_the_required_tags_for_this_stack(plan):
    provider = plan.one("pulumi:providers:aws", "aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tuple(tags) == REQUIRED_TAG_KEYS
    assert tags["Environment"] == plan.stack
    assert tags["Project"] == "eks-platform"
    assert all(value.strip() for value in tags.values())


def test_no_taggable_resource_overrides_a_required_tag(plan):
    provider = plan.one("pulumi:providers:aws", "aws")
    required = json.loads(provider.inputs["defaultTags"])["tags"]
    taggable = [r for r in plan.resources if r.custom and is_taggable(r.type)]
    assert len(taggable) > 20
    for resource in taggable:
        explicit = resource.inputs.get("tags") or {}
        clashes = {k: v for k, v in explicit.items() if k in required and v != required[k]}
        assert not clashes, f"{resource.urn} overrides {clashes}"


def test_launch_templates_tag_what_default_tags_do_not_reach(plan):
    provider = plan.one("pulumi:providers:aws", "aws")
    required = json.loads(provider.inputs["defaultTags"])["tags"]
    templates = plan.by_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert templates
    for template in templates:
        specs = {spec["resourceType"]: spec["tags"] for spec in template.inputs["tagSpecifications"]}
        assert {"instance", "volume"} <= set(specs)
        assert all(tags.items() >= required.items() for tags in specs.values())


def test_logical_names_are_unique_and_keyed_by_identity(plan):
    names = [(r.type, r.name) for r in plan.resources]
    assert len(names) == len(set(names))
    assert not [n for _, n in names if n.rsplit("-", 1)[-1].isdigit()]


def test_stateful_resources_are_protected_in_prod_only(plan):
    for type_token, name in STATEFUL:
        assert plan.one(type_token, name).protect is (plan.stack == "prod"), name
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert cluster.inputs["deletionProtection"] is (plan.stack == "prod")


def test_stack_specific_network_and_endpoint(plan):
    nats = plan.by_type("aws:ec2/natGateway:NatGateway")
    vpc_config = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]
    if plan.stack == "dev":
        assert len(nats) == 1
        assert vpc_config["endpointPublicAccess"] is True
        assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24"]
    else:
        assert len(nats) == 3
        assert vpc_config["endpointPublicAccess"] is False


def test_node_pools_per_stack(plan):
    (group,) = plan.by_type("aws:eks/nodeGroup:NodeGroup")
    if plan.stack == "dev":
        assert group.inputs["capacityType"] == "SPOT"
        assert group.inputs["taints"] == []
    else:
        assert group.inputs["capacityType"] == "ON_DEMAND"
        assert group.inputs["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]


def test_the_daft_application_role_in_dev(plan):
    roles = {r.name: r for r in plan.by_type("aws:iam/role:Role")}
    if plan.stack != "dev":
        assert "app-daft-role" not in roles
        return
    role = roles["app-daft-role"]
    assert role.inputs["name"] == "eks-platform-dev_DaftRole"
    if plan.mode == "preview":  # the trust names the OIDC issuer, unknown until the cluster exists
        assert role.inputs["assumeRolePolicy"] == UNKNOWN
    else:
        conditions = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
        assert "system:serviceaccount:daft:daft" in conditions.values()
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "app-daft-s3-access").inputs["policy"])
    assert policy["Statement"][1]["Resource"] == ["arn:aws:s3:::eventual-dev-user-data/*"]
    account = plan.one("kubernetes:core/v1:ServiceAccount", "app-daft-service-account")
    assert account.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == plan.seen(role, "arn")


def test_exports(plan):
    assert set(plan.outputs) >= {"vpcId", "clusterName", "clusterEndpoint", "oidcProviderArn", "kubeconfig"}
    assert plan.outputs["clusterName"] == f"eks-platform-{plan.stack}"


def test_plans_are_deterministic():
    first, second = run_program("prod", "update").to_json(), run_program("prod", "update").to_json()
    assert first == second


BROKEN = [
    (
        {"vpc": {"cidr": "10.0.0.0/33"}},
        "Pulumi.prod.yaml: eks-platform:settings.vpc.cidr: Input is not a valid IPv4 network",
    ),
    (
        {"cluster": {"endpoint": {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}}},
        "Pulumi.prod.yaml: eks-platform:settings.cluster.endpoint.publicAccessCidrs: a production stack may not open",
    ),
    ({"vpc": {"azCount": 5}}, "Pulumi.prod.yaml: eks-platform:settings.vpc.azCount: 5 zones requested"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
@pytest.mark.parametrize("mode", MODES)
def test_bad_settings_stop_before_any_resource_is_registered(change, expected, mode):
    from tests.config.test_settings import stack_settings

    settings = stack_settings("prod")
    for section, values in change.items():
        settings[section] = {**settings[section], **values}
    with pytest.raises(ConfigurationError) as caught:
        run_program("prod", mode, config_overrides={"eks-platform:settings": settings})
    assert str(caught.value).startswith(expected)
    registered = {r.type for r in caught.value.registrations} - {"pulumi:pulumi:Stack"}
    if "azCount" in expected:  # found by an invoke through the provider: only the provider exists
        assert registered == {"pulumi:providers:aws"}
    else:
        assert registered == set()


def test_plan_cli_exits_2_with_one_line_on_bad_settings(tmp_path, capsys):
    project = copy_project(tmp_path / "project")
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("minSize: 1", "minSize: 9"))
    assert plan_cli.main(["--stack", "dev", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "error: Pulumi.dev.yaml: eks-platform:settings.cluster.nodeGroups.system: minSize (9) is greater than maxSize (3)"  # noqa: E501
    )
