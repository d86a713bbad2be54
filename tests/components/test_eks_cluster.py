"""EksCluster under mocks: encryption, logs, endpoint, access, OIDC, add-ons, node groups, kube provider."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from components.context import AwsContext
from components.eks_cluster import (
    AccessEntrySpec,
    EksCluster,
    EksClusterArgs,
    NodeGroupSpec,
    TaintEffect,
    TaintSpec,
    kubeconfig,
    taint_tolerations,
)
from components.naming import NamingContext, short_hash
from components.versions import EKS_ADDON_VERSIONS, GUARDDUTY_AGENT_ADDON
from tools.harness import MODES, UNKNOWN, Mode, Plan, run_callable
from tools.mocks import OIDC_ISSUER_URL

NAMING = NamingContext("eks-platform", "test")
TAGS = {"Project": "eks-platform", "Environment": "test", "Owner": "o", "CostCenter": "c", "ManagedBy": "pulumi"}
SYSTEM = NodeGroupSpec(
    instance_types=("m6i.large",),
    min_size=2,
    max_size=4,
    desired_size=2,
    labels={"dedicated": "system"},
    taints=(TaintSpec(key="dedicated", value="system", effect=TaintEffect.NO_SCHEDULE),),
)
#: The nodes' subnets by zone, in zone order.
ZONE_SUBNETS = {"us-west-2a": "subnet-a", "us-west-2b": "subnet-b"}
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"


def cluster_plan(mode: Mode, **changes: object) -> Plan:
    args = {
        "naming": NAMING,
        "kubernetes_version": "1.34",
        "node_subnets": ZONE_SUBNETS,
        "control_plane_subnet_ids": ["subnet-ia", "subnet-ib"],
        "account": AwsContext(account_id="123456789012", partition="aws", region="us-west-2", tags=TAGS),
        "node_groups": {"system": SYSTEM},
        "admin_role_arns": [ADMIN],
        "protect": True,
    } | changes

    def body() -> None:
        provider = aws.Provider("aws", region="us-west-2")
        cluster = EksCluster("eks", EksClusterArgs(**args), pulumi.ResourceOptions(providers=[provider]))  # type: ignore[arg-type]
        pulumi.export("kubeconfig", cluster.kubeconfig)

    return run_callable(body, mode=mode)


@pytest.fixture(scope="module", params=MODES)
def plan(request: pytest.FixtureRequest) -> Plan:
    return cluster_plan(request.param)


def test_cluster_encrypts_secrets_with_a_rotating_protected_key(plan):
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    key = plan.one("aws:kms/key:Key", "eks-secrets-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect
    assert cluster.protect
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.inputs["encryptionConfig"]["provider"]["keyArn"] == plan.seen(key, "arn")
    assert cluster.inputs["deletionProtection"] is True


def test_cluster_ships_all_control_plane_logs_to_a_retained_group(plan):
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    log_group = plan.one("aws:cloudwatch/logGroup:LogGroup", "eks-control-plane-logs")
    assert cluster.inputs["enabledClusterLogTypes"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    assert log_group.inputs["name"] == "/aws/eks/eks-platform-test/cluster"
    assert log_group.inputs["retentionInDays"] == 365
    assert log_group.urn in cluster.dependencies


def test_endpoint_is_private_by_default_in_the_intra_subnets(plan):
    vpc_config = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config
    assert vpc_config["subnetIds"] == ["subnet-ia", "subnet-ib"]


@pytest.mark.parametrize("mode", MODES)
def test_public_endpoint_is_limited_to_the_given_cidrs(mode):
    plan = cluster_plan(mode, public_access=True, public_access_cidrs=["203.0.113.0/24"], protect=False)
    cluster = plan.one("aws:eks/cluster:Cluster", "eks-cluster")
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert not cluster.protect
    assert not plan.one("aws:kms/key:Key", "eks-secrets-key").protect


def test_access_is_api_mode_with_admin_entries_and_no_implicit_creator_admin(plan):
    access = plan.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    key = f"platform-admin-{short_hash(ADMIN)}"
    entry_reg = plan.one("aws:eks/accessEntry:AccessEntry", f"eks-admin-{key}")
    entry = entry_reg.inputs
    assert entry["principalArn"] == ADMIN
    assert entry["type"] == "STANDARD"
    # The key moved from the ARN's last segment to the whole ARN: the old logical name stays an alias.
    assert [alias["spec"]["name"] for alias in entry_reg.aliases] == ["eks-admin-platform-admin"]
    association = plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"eks-admin-{key}-policy")
    assert [alias["spec"]["name"] for alias in association.aliases] == ["eks-admin-platform-admin-policy"]
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}


def test_oidc_provider_uses_the_cluster_issuer_and_the_sts_audience(plan):
    oidc = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "eks-oidc-provider")
    assert oidc.inputs["url"] == plan.computed(OIDC_ISSUER_URL)
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.protect


def test_addons_are_pinned_and_the_cni_and_ebs_driver_use_irsa(plan):
    addons = {r.inputs["addonName"]: r for r in plan.by_type("aws:eks/addon:Addon")}
    pinned = {name: version for name, version in EKS_ADDON_VERSIONS["1.34"].items() if name != GUARDDUTY_AGENT_ADDON}
    assert {name: r.inputs["addonVersion"] for name, r in addons.items()} == pinned  # the agent: GuardDuty's
    roles = {r.name: r for r in plan.by_type("aws:iam/role:Role")}
    for addon, role, sa in (
        ("vpc-cni", "eks-vpc-cni-role", "aws-node"),
        ("aws-ebs-csi-driver", "eks-ebs-csi-role", "ebs-csi-controller-sa"),
    ):
        assert addons[addon].inputs["serviceAccountRoleArn"] == plan.seen(roles[role], "arn")
        if plan.mode == "preview":  # the trust names the OIDC provider and issuer, unknown until they exist
            assert roles[role].inputs["assumeRolePolicy"] == UNKNOWN
            continue
        trust = json.loads(roles[role].inputs["assumeRolePolicy"])
        conditions = trust["Statement"][0]["Condition"]["StringEquals"]
        issuer = OIDC_ISSUER_URL.removeprefix("https://")
        assert conditions == {
            f"{issuer}:sub": f"system:serviceaccount:kube-system:{sa}",
            f"{issuer}:aud": "sts.amazonaws.com",
        }


def test_platform_addons_tolerate_the_system_pool_and_wait_for_nodes(plan):
    addons = {r.inputs["addonName"]: r for r in plan.by_type("aws:eks/addon:Addon")}
    toleration = {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    assert json.loads(addons["coredns"].inputs["configurationValues"]) == {"tolerations": [toleration]}
    assert json.loads(addons["aws-ebs-csi-driver"].inputs["configurationValues"]) == {
        "controller": {"tolerations": [toleration]}
    }
    node_group = plan.one("aws:eks/nodeGroup:NodeGroup", "eks-system")
    assert node_group.urn in addons["coredns"].dependencies
    assert addons["vpc-cni"].urn in node_group.dependencies


def test_launch_template_enforces_imdsv2_encrypted_gp3_and_tags_instances(plan):
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-system-lt").inputs
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    (root,) = template["blockDeviceMappings"]
    assert root["ebs"]["encrypted"] == "true"
    assert root["ebs"]["volumeType"] == "gp3"
    assert root["ebs"]["volumeSize"] == 50
    kinds = {spec["resourceType"]: spec["tags"] for spec in template["tagSpecifications"]}
    assert set(kinds) == {"instance", "volume", "network-interface"}
    assert all(tags.items() >= TAGS.items() for tags in kinds.values())


def test_node_group_takes_labels_taints_sizes_and_the_template(plan):
    group = plan.one("aws:eks/nodeGroup:NodeGroup", "eks-system")
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-system-lt")
    assert group.inputs["labels"] == {"dedicated": "system"}
    assert group.inputs["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]
    assert group.inputs["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2}
    assert group.inputs["capacityType"] == "ON_DEMAND"
    assert group.inputs["launchTemplate"]["id"] == plan.seen(template, "id")
    assert group.ignore_changes == ["scalingConfig.desiredSize"]
    # A replacement keeps the physical name, which EKS holds unique per cluster: the old group must go first.
    assert group.delete_before_replace is True
    node_role = plan.one("aws:iam/role:Role", "eks-node-role")
    attached = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("eks-node-")
    }
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonSSMManagedInstanceCore",
    }
    assert json.loads(node_role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }


def test_kubernetes_provider_and_kubeconfig_are_secret_and_use_get_token(plan):
    provider = plan.one("pulumi:providers:kubernetes", "eks-k8s")
    assert provider.parent == plan.one("eksplatform:platform:EksCluster", "eks").urn
    exported = plan.outputs["kubeconfig"]
    assert isinstance(exported, dict)
    assert exported.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270"


def test_kubeconfig_document():
    config = json.loads(kubeconfig(cluster_name="c", endpoint="https://e", ca_data="Y2E=", region="eu-west-1"))
    user = config["users"][0]["user"]["exec"]
    assert user["command"] == "aws"
    assert user["args"] == ["eks", "get-token", "--cluster-name", "c", "--region", "eu-west-1", "--output", "json"]
    assert config["clusters"][0]["cluster"] == {"server": "https://e", "certificate-authority-data": "Y2E="}


def test_taint_tolerations_translate_the_effect_spelling():
    assert taint_tolerations(SYSTEM) == [
        {"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}
    ]
    assert taint_tolerations(None) == []


DEVELOPERS = "arn:aws:iam::123456789012:role/teams/developers"
USER_ADMIN = "arn:aws:iam::123456789012:user/admin"
CI_DEPLOY = "arn:aws:iam::123456789012:role/eks-platform-github-deploy-test"
ACCESS = {
    "developers": AccessEntrySpec(
        DEVELOPERS,
        policies=("AmazonEKSAdminViewPolicy", "AmazonEKSEditPolicy"),
        namespaces=("idp", "idp-worker"),
        kubernetes_groups=("developers",),
    ),
    "admin-user": AccessEntrySpec(USER_ADMIN, policies=("AmazonEKSClusterAdminPolicy",)),
    "ci": AccessEntrySpec(CI_DEPLOY, policies=("AmazonEKSClusterAdminPolicy",)),
}


@pytest.mark.parametrize("mode", MODES)
def test_access_entries_grant_their_policies_in_their_scope(mode):
    plan = cluster_plan(mode, access_entries=ACCESS, deployer_principal_arn=CI_DEPLOY)
    entries = {r.name: r.inputs for r in plan.by_type("aws:eks/accessEntry:AccessEntry") if "-access-" in r.name}
    assert entries["eks-access-developers"]["principalArn"] == DEVELOPERS
    assert entries["eks-access-developers"]["kubernetesGroups"] == ["developers"]
    assert entries["eks-access-admin-user"]["principalArn"] == USER_ADMIN
    assert {e["type"] for e in entries.values()} == {"STANDARD"}
    associations = {
        r.name: r.inputs
        for r in plan.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if "-access-" in r.name
    }
    namespaced = {"type": "namespace", "namespaces": ["idp", "idp-worker"]}
    assert associations["eks-access-developers-AmazonEKSEditPolicy"]["accessScope"] == namespaced
    assert associations["eks-access-developers-AmazonEKSAdminViewPolicy"]["policyArn"] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
    )
    assert associations["eks-access-admin-user-AmazonEKSClusterAdminPolicy"]["accessScope"] == {"type": "cluster"}
    # The deployer is listed: no second entry for it (one per principal), and the provider waits for its access.
    assert not [r for r in plan.by_type("aws:eks/accessEntry:AccessEntry") if r.name == "eks-admin-deployer"]
    ci = plan.one(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-access-ci-AmazonEKSClusterAdminPolicy"
    )
    assert ci.urn in plan.one("pulumi:providers:kubernetes", "eks-k8s").dependencies


def test_an_admin_entry_keyed_by_the_whole_arn_keeps_its_old_name_as_an_alias():
    # The entry moved from `eks-admin-<role name>` to `eks-admin-<role name>-<hash of the ARN>`: no replacement.
    plan = cluster_plan("preview")
    aliases = {r.name: r.aliases for r in plan.resources if "-admin-platform-admin" in r.name}
    assert aliases == {
        "eks-admin-platform-admin-ce910ad9": [{"spec": {"name": "eks-admin-platform-admin", "parentUrn": ""}}],
        "eks-admin-platform-admin-ce910ad9-policy": [
            {"spec": {"name": "eks-admin-platform-admin-policy", "parentUrn": ""}}
        ],
    }
