"""EKS policies: control-plane logs, public endpoint exposure, IMDSv2 on node launch templates."""

import pytest

from tests.policies.support import UNKNOWN, check

CLUSTER = "aws:eks/cluster:Cluster"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def test_control_plane_logs():
    logs = ["api", "audit", "authenticator", "scheduler"]
    assert check("eks-control-plane-logging", CLUSTER, {"enabledClusterLogTypes": logs}) == []
    [message] = check("eks-control-plane-logging", CLUSTER, {"enabledClusterLogTypes": ["api", "authenticator"]})
    assert message.startswith("control-plane log types not enabled: audit.")
    assert "Remediation: add them to enabled_cluster_log_types" in message
    assert check("eks-control-plane-logging", CLUSTER, {"enabledClusterLogTypes": UNKNOWN}) == []


@pytest.mark.parametrize(
    "vpc",
    [
        {"endpointPublicAccess": False, "endpointPrivateAccess": True},
        {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
        {"endpointPublicAccess": True, "publicAccessCidrs": UNKNOWN},
        {"endpointPublicAccess": True, "publicAccessCidrs": [UNKNOWN]},
        {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/2", "203.0.113.0/24"]},
        {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/1", UNKNOWN]},
    ],
    ids=["private", "restricted", "unknown", "unknown-entry", "three-quarters", "half-and-unknown"],
)
def test_private_or_restricted_endpoints_pass(vpc):
    assert check("eks-public-endpoint-restricted", CLUSTER, {"vpcConfig": vpc}) == []


@pytest.mark.parametrize(
    ("vpc", "expected"),
    [
        (
            {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
            "the public API endpoint is open to 0.0.0.0/0.",
        ),
        ({"endpointPublicAccess": True}, "the public API endpoint lists no CIDRs"),
        ({"subnetIds": ["s"]}, "the public API endpoint lists no CIDRs"),
        (
            {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
            "the public API endpoint is open to 0.0.0.0/1, 128.0.0.0/1 (together the whole IPv4 internet).",
        ),
        (
            {"endpointPublicAccess": True, "publicAccessCidrs": [UNKNOWN, "0.0.0.0/0"]},
            "the public API endpoint is open to 0.0.0.0/0.",
        ),
        (
            {"endpointPublicAccess": True, "publicAccessCidrs": ["::/1", "8000::/1", "203.0.113.0/24"]},
            "the public API endpoint is open to ::/1, 8000::/1 (together the whole IPv6 internet).",
        ),
    ],
    ids=["open", "no-cidrs", "eks-default", "split", "unknown-and-open", "ipv6-split"],
)
def test_an_endpoint_open_to_the_internet_fails(vpc, expected):
    [message] = check("eks-public-endpoint-restricted", CLUSTER, {"vpcConfig": vpc})
    assert message.startswith(expected)
    assert "Remediation: keep the endpoint private" in message


def test_a_stack_can_forbid_public_endpoints_altogether():
    vpc = {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    [message] = check(
        "eks-public-endpoint-restricted", CLUSTER, {"vpcConfig": vpc}, config={"allowPublicEndpoint": False}
    )
    assert "allows private endpoints only" in message


IMDS = {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1.0}


def test_imdsv2_launch_template_passes():
    assert check("node-imdsv2-required", LT, {"metadataOptions": IMDS}) == []
    assert check("node-imdsv2-required", LT, {"metadataOptions": {**IMDS, "httpPutResponseHopLimit": 2.0}}) == []
    assert check("node-imdsv2-required", LT, {"metadataOptions": {"httpEndpoint": "disabled"}}) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({**IMDS, "httpTokens": "optional"}, "httpTokens is 'optional', not 'required'"),
        ({**IMDS, "httpPutResponseHopLimit": 3.0}, "httpPutResponseHopLimit is 3, above 2"),
        (None, "no metadata options: instances accept IMDSv1"),
    ],
    ids=["optional-tokens", "hop-limit", "absent"],
)
def test_imdsv1_or_a_high_hop_limit_fails(options, expected):
    props = {} if options is None else {"metadataOptions": options}
    [message] = check("node-imdsv2-required", LT, props)
    assert message.startswith(expected)
    assert "Remediation: set metadata options httpTokens='required'" in message


def test_ec2_node_class_metadata_options_and_configurable_hop_limit():
    assert check("node-imdsv2-required", NODE_CLASS, {"spec": {}}) == []
    assert check("node-imdsv2-required", NODE_CLASS, {"spec": {"metadataOptions": IMDS}}) == []
    [message] = check(
        "node-imdsv2-required", NODE_CLASS, {"spec": {"metadataOptions": {**IMDS, "httpTokens": "optional"}}}
    )
    assert "httpTokens is 'optional'" in message
    two_hops = {"metadataOptions": {**IMDS, "httpPutResponseHopLimit": 2.0}}
    assert check("node-imdsv2-required", LT, two_hops, config={"maxHopLimit": 1})


ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


def test_an_existing_access_policy_passes():
    props = {
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
        "accessScope": {"type": "cluster"},
    }
    assert check("eks-access-policy-exists", ASSOCIATION, props) == []
    assert check("eks-access-policy-exists", ASSOCIATION, {"policyArn": UNKNOWN}) == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSSuperUserPolicy",
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    ],
)
def test_an_access_policy_eks_does_not_have_is_refused(arn):
    (message,) = check("eks-access-policy-exists", ASSOCIATION, {"policyArn": arn})
    assert "is not an EKS access policy" in message
