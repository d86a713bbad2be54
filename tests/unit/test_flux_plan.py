"""FluxBootstrap's pure planning: chart values, bridge variables, substitution, sources, ECR access."""

from __future__ import annotations

import base64
import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import flux_bootstrap as fb
from components.gitops_bridge import BridgedAddon

TOLERATIONS = [{"key": "dedicated", "operator": "Equal", "value": "system", "effect": "NoSchedule"}]
ROLE = "arn:aws:iam::444455556666:role/eks-platform-prod-flux-source-controller"
SOURCE = fb.GitSourceSpec(
    url="ssh://git@github.com/example-org/platform-gitops.git",
    branch="main",
    interval="5m",
    paths={
        "infrastructure": fb.ClusterPathSpec(path="./clusters/prod/infrastructure"),
        "apps": fb.ClusterPathSpec(path="./clusters/prod/apps", prune=False, depends_on=("infrastructure",)),
    },
)


def test_the_chart_values_lock_flux_down_for_tenants():
    values = fb.helm_values(node_selector={"dedicated": "system"}, tolerations=TOLERATIONS)
    # charts/flux2/templates/{kustomize,helm}-controller.yaml: with multitenancy.enabled the controllers get
    # --no-cross-namespace-refs=true and --default-service-account=<defaultServiceAccount>; privileged false binds
    # them to the impersonation ClusterRole only (cluster-reconciler-impersonator-clusterrole.yaml).
    assert values["multitenancy"] == {
        "enabled": True,
        "defaultServiceAccount": "flux-reconciler",
        "privileged": False,
    }
    assert values["kustomizeController"]["container"]["additionalArgs"] == ["--no-remote-bases=true"]
    assert values["imageAutomationController"] == {"create": False}
    assert values["imageReflectionController"] == {"create": False}
    assert values["installCRDs"] is True
    assert values["crds"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert "serviceAccount" not in values["sourceController"]


def test_every_controller_runs_on_the_system_node_group():
    values = fb.helm_values(node_selector={"dedicated": "system"}, tolerations=TOLERATIONS)
    for controller in ("sourceController", "kustomizeController", "helmController", "notificationController", "cli"):
        assert values[controller]["nodeSelector"] == {"kubernetes.io/os": "linux", "dedicated": "system"}
        assert values[controller]["tolerations"] == TOLERATIONS


def test_the_source_controller_service_account_carries_its_ecr_role():
    values = fb.helm_values(node_selector={}, tolerations=[], source_controller_role_arn=ROLE)
    assert values["sourceController"]["serviceAccount"] == {"annotations": {"eks.amazonaws.com/role-arn": ROLE}}


def test_the_bridge_holds_the_infrastructure_facts_and_role_arns_as_variables():
    data = fb.bridge_data(
        cluster_name="eks-platform-prod",
        region="us-west-2",
        account_id="444455556666",
        vpc_id="vpc-1",
        environment="prod",
        role_arns={"node-autoscaler": "arn:k", "app-daft": "arn:d"},
    )
    assert data == {
        "cluster_name": "eks-platform-prod",
        "region": "us-west-2",
        "account_id": "444455556666",
        "vpc_id": "vpc-1",
        "environment": "prod",
        "app_daft_role_arn": "arn:d",
        "node_autoscaler_role_arn": "arn:k",
    }


def test_two_role_names_making_one_variable_are_refused():
    with pytest.raises(ValueError, match="both make the variable 'a_b_role_arn'"):
        fb.bridge_data(
            cluster_name="c",
            region="r",
            account_id="a",
            vpc_id="v",
            environment="e",
            role_arns={"a-b": "1", "a_b": "2"},
        )
    with pytest.raises(ValueError, match="does not make a substitution variable"):
        fb.variable_name("1st")


def test_substitution_replaces_bridge_variables_anywhere_in_values():
    values = {
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "${lbc_role_arn}"}},
        "clusterName": "${cluster_name}",
        "args": ["--region=${region}", 3, True],
        "plain": "$notavar {x}",
    }
    variables = {"lbc_role_arn": "arn:lbc", "cluster_name": "c1", "region": "us-west-2"}
    assert fb.referenced_variables(values) == {"lbc_role_arn", "cluster_name", "region"}
    assert fb.substitute(values, variables) == {
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:lbc"}},
        "clusterName": "c1",
        "args": ["--region=us-west-2", 3, True],
        "plain": "$notavar {x}",
    }
    with pytest.raises(ValueError, match=r"\$\{vpcid\} is not a bridge variable"):
        fb.substitute({"v": "${vpcid}"}, variables)


_NAMES = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)


@given(st.dictionaries(_NAMES, st.text(alphabet=string.printable.replace("$", ""), max_size=20), max_size=5))
def test_substitution_of_every_referenced_variable_leaves_no_reference(variables):
    values = {"a": [f"x-${{{name}}}-y" for name in variables], "b": {name: f"${{{name}}}" for name in variables}}
    assert fb.referenced_variables(values) == set(variables)
    substituted = fb.substitute(values, variables)
    assert fb.referenced_variables(substituted) == set()
    assert substituted["b"] == variables


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("ssh://git@github.com/example-org/repo.git", "github.com"),
        ("ssh://git@github.com:22/example-org/repo.git", "github.com"),
        ("ssh://git@git.example.com:2222/repo.git", "[git.example.com]:2222"),
    ],
)
def test_the_known_hosts_host_of_an_ssh_url(url, host):
    assert fb.ssh_host(url) == host


def test_scp_like_urls_are_refused():
    with pytest.raises(ValueError, match="scp-like"):
        fb.ssh_host("git@github.com:example-org/repo.git")


def test_known_hosts_must_name_the_host():
    assert fb.known_hosts_problem("ssh://git@github.com/o/r.git", fb.GITHUB_KNOWN_HOSTS) is None
    assert fb.known_hosts_problem("ssh://git@gitlab.com/o/r.git", fb.GITHUB_KNOWN_HOSTS) == (
        "no known_hosts line names gitlab.com (Flux refuses a host key it cannot verify)"
    )
    assert fb.known_hosts_problem("ssh://git@b.example/r.git", ["a.example,b.example ssh-ed25519 AAAA"]) is None


def _fingerprint(line: str) -> str:
    blob = base64.b64decode(line.split()[2])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_the_default_known_hosts_are_githubs_published_keys():
    # docs.github.com "GitHub's SSH key fingerprints": the published SHA256 fingerprints of these very keys.
    assert {line.split()[1]: _fingerprint(line) for line in fb.GITHUB_KNOWN_HOSTS} == {
        "ssh-ed25519": "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
        "ecdsa-sha2-nistp256": "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
        "ssh-rsa": "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    }
    assert {line.split()[0] for line in fb.GITHUB_KNOWN_HOSTS} == {"github.com"}


def test_paths_are_ordered_after_their_dependencies():
    assert fb.path_order(SOURCE.paths) == ["infrastructure", "apps"]
    paths = {
        "c": fb.ClusterPathSpec("./c", depends_on=("a", "b")),
        "b": fb.ClusterPathSpec("./b", depends_on=("a",)),
        "a": fb.ClusterPathSpec("./a"),
    }
    assert fb.path_order(paths) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cycle among a, b"):
        fb.path_order(
            {"a": fb.ClusterPathSpec("./a", depends_on=("b",)), "b": fb.ClusterPathSpec("./b", depends_on=("a",))}
        )


def test_a_git_repository_follows_the_branch_with_the_deploy_key():
    assert fb.git_repository_spec(SOURCE, "platform-git-credentials") == {
        "url": "ssh://git@github.com/example-org/platform-gitops.git",
        "ref": {"branch": "main"},
        "interval": "5m",
        "secretRef": {"name": "platform-git-credentials"},
    }


def test_a_kustomization_reconciles_as_the_reconciler_with_the_bridge_substituted():
    spec = fb.kustomization_spec(
        "platform", "apps", SOURCE, repository="platform", service_account="flux-reconciler", bridge="platform-bridge"
    )
    assert spec == {
        "interval": "5m",
        "path": "./clusters/prod/apps",
        "prune": False,
        "sourceRef": {"kind": "GitRepository", "name": "platform"},
        "serviceAccountName": "flux-reconciler",
        "timeout": "5m",
        "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "platform-bridge"}]},
        "dependsOn": [{"name": "platform-infrastructure"}],
    }
    first = fb.kustomization_spec("platform", "infrastructure", SOURCE, repository="p", service_account="s", bridge="b")
    assert "dependsOn" not in first
    assert first["prune"] is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "oci://444455556666.dkr.ecr.us-west-2.amazonaws.com/charts",
            {"type": "oci", "provider": "aws"},
        ),
        ("oci://public.ecr.aws/karpenter", {"type": "oci", "provider": "generic"}),
        ("https://kubernetes-sigs.github.io/metrics-server", {}),
    ],
)
def test_helm_repositories_are_oci_with_the_aws_provider_on_ecr(url, expected):
    spec = fb.helm_repository_spec(url)
    assert spec == {"url": url, "interval": "1h", **expected}


def test_source_controller_may_pull_only_from_the_configured_ecr_prefixes():
    policy = fb.ecr_pull_policy(
        [
            "oci://444455556666.dkr.ecr.us-west-2.amazonaws.com/charts",
            "oci://111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        ],
        partition="aws",
    )
    login, pull = policy["Statement"]
    assert login == {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    assert pull["Resource"] == [
        "arn:aws:ecr:eu-west-1:111122223333:repository/*",
        "arn:aws:ecr:us-west-2:444455556666:repository/charts/*",
    ]
    assert "ecr:BatchGetImage" in pull["Action"]
    assert not any(action.startswith(("ecr:Put", "ecr:Delete", "ecr:Upload")) for action in pull["Action"])
    with pytest.raises(ValueError, match="not an ECR OCI URL"):
        fb.ecr_pull_policy(["oci://ghcr.io/x"], partition="aws")


def test_a_bridged_addon_installs_into_its_namespace_after_lower_waves():
    crds = BridgedAddon(
        name="cert-manager",
        repo_url="https://charts.jetstack.io",
        chart="cert-manager",
        version="1",
        namespace="cert-manager",
    )
    lbc = BridgedAddon(
        name="aws-load-balancer-controller",
        repo_url="https://aws.github.io/eks-charts",
        chart="aws-load-balancer-controller",
        version="3.0.0",
        namespace="kube-system",
        wave=1,
    )
    lbc_ns = BridgedAddon(**{**lbc.__dict__, "namespace": "aws-lbc"})
    spec = fb.helm_release_spec(
        lbc_ns,
        [crds, lbc_ns],
        repository="addon-aws-load-balancer-controller",
        values={"a": 1},
        service_account="flux-reconciler",
    )
    assert spec["releaseName"] == "aws-load-balancer-controller"
    assert spec["serviceAccountName"] == "flux-reconciler"
    assert (spec["targetNamespace"], spec["storageNamespace"]) == ("aws-lbc", "aws-lbc")
    assert spec["chart"]["spec"] == {
        "chart": "aws-load-balancer-controller",
        "version": "3.0.0",
        "sourceRef": {"kind": "HelmRepository", "name": "addon-aws-load-balancer-controller"},
        "interval": "1h",
    }
    assert spec["dependsOn"] == [{"name": "cert-manager"}]
    assert spec["values"] == {"a": 1}
    assert spec["install"]["createNamespace"] is True
    assert "dependsOn" not in fb.helm_release_spec(crds, [crds, lbc_ns], repository="r", values={}, service_account="s")
