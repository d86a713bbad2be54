"""Every CI job that runs Pulumi on a stack can reach that stack's API as the stack is configured."""

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components.delivery import cidr_within, codebuild_runs_on, reachability_problem, runner_project_name
from components.naming import NamingContext
from config import Settings
from tools.delivery_check import load_stacks, problems, stack_jobs
from tools.harness import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def copy_repo_config(tmp_path: Path) -> Path:
    """The stack files, Pulumi.yaml and workflows in a scratch directory, to mutate."""
    for path in [REPO_ROOT / "Pulumi.yaml", *REPO_ROOT.glob("Pulumi.*.yaml")]:
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(WORKFLOWS, tmp_path / ".github" / "workflows")
    return tmp_path


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_stack_job_reaches_its_api_and_every_stack_is_deployed():
    assert problems() == []


def test_private_stacks_run_on_their_in_vpc_runner_and_prod_only_from_main_workflows():
    jobs, unresolved = stack_jobs(WORKFLOWS)
    assert unresolved == []
    stacks = load_stacks(REPO_ROOT)
    assert not stacks["prod"].cluster.endpoint.public_access
    prod_label = codebuild_runs_on(runner_project_name(NamingContext("eks-platform", "prod")))
    prod_jobs = [job for job in jobs if job.stack == "prod" and job.phase is None]
    assert {job.runs_on for job in prod_jobs} == {prod_label}
    assert {job.workflow_name for job in prod_jobs} == {"deploy", "drift"}
    assert {(job.workflow_file, job.command) for job in jobs if job.stack == "prod"} == {
        ("deploy.yml", "up"),
        ("deploy.yml", "preview"),
        ("drift.yml", "preview"),
    }


def test_a_private_stack_deployed_from_a_github_hosted_runner_is_refused(tmp_path):
    root = copy_repo_config(tmp_path)
    edit_yaml(root / ".github/workflows/deploy.yml", lambda w: w["jobs"]["up-prod"].update({"runs-on": "ubuntu-24.04"}))
    (found,) = problems(root)
    assert found.startswith("deploy.yml:up-prod (prod): runs on 'ubuntu-24.04', outside the VPC, but the API endpoint")


def test_a_public_stack_outside_the_vpc_needs_its_runner_egress_in_the_allowed_cidrs(tmp_path):
    root = copy_repo_config(tmp_path)
    edit_yaml(root / ".github/workflows/deploy.yml", lambda w: w["jobs"]["up-dev"].update({"runs-on": "ubuntu-24.04"}))
    (found,) = problems(root)
    assert "declares no runner egress CIDRs" in found


def test_a_job_whose_workflow_the_runner_does_not_take_is_refused(tmp_path):
    root = copy_repo_config(tmp_path)

    def drop_pull_requests(stack_file):
        stack_file["config"]["eks-platform:settings"]["delivery"]["workflows"] = ["deploy", "drift"]

    edit_yaml(root / "Pulumi.dev.yaml", drop_pull_requests)
    (found,) = problems(root)
    assert found.startswith("pull-request.yml:preview (dev): workflow 'pull-request' is not in delivery.workflows")


def test_a_stack_without_a_deploy_job_is_refused(tmp_path):
    root = copy_repo_config(tmp_path)
    shutil.copy(root / "Pulumi.dev.yaml", root / "Pulumi.staging.yaml")
    assert "deploy.yml: no `up` job deploys stack staging" in problems(root)


def test_a_network_only_deploy_outside_first_deploy_is_refused(tmp_path):
    root = copy_repo_config(tmp_path)
    edit_yaml(root / ".github/workflows/deploy.yml", lambda w: w["jobs"]["network-prod"].pop("if"))
    found = problems(root)
    # Both of its Pulumi steps (the preview and the up).
    assert (
        found
        == ["deploy.yml:network-prod: a network-only deploy must run only for first-deploy (its `if:` names no input)"]
        * 2
    )


def external_settings(*, public: bool, allowed: list[str], egress: list[str]) -> dict:
    endpoint = {"publicAccess": public, "publicAccessCidrs": allowed} if public else {}
    return {
        "region": "us-west-2",
        "owner": "o",
        "costCenter": "c",
        "production": False,
        "cluster": {"endpoint": endpoint},
        "delivery": {"runner": "external", "runnerEgressCidrs": egress},
    }


def test_an_external_runner_is_checked_against_the_endpoint_when_settings_load():
    Settings.model_validate(external_settings(public=True, allowed=["198.51.100.0/24"], egress=["198.51.100.7/32"]))
    with pytest.raises(ValueError, match=r"runnerEgressCidrs\) inside|is not inside"):
        Settings.model_validate(external_settings(public=True, allowed=["198.51.100.0/24"], egress=["203.0.113.7/32"]))
    with pytest.raises(ValueError, match="the API endpoint is private"):
        Settings.model_validate(external_settings(public=False, allowed=[], egress=["203.0.113.7/32"]))


def test_the_codebuild_runner_needs_its_repository_and_connection():
    base = external_settings(public=False, allowed=[], egress=[])
    base["delivery"] = {"runner": "codebuild", "githubRepository": "example-org/eks-platform"}
    with pytest.raises(ValueError, match=r"connectionArn: required for the codebuild runner"):
        Settings.model_validate(base)


@given(
    st.ip_addresses(v=4),
    st.integers(min_value=8, max_value=32),
    st.integers(min_value=0, max_value=8),
)
def test_an_egress_block_is_allowed_exactly_when_it_lies_inside_an_allowed_block(address, prefix, widen):
    inner = f"{address}/{prefix}"
    import ipaddress

    inner_net = ipaddress.ip_network(inner, strict=False)
    outer_net = inner_net.supernet(prefixlen_diff=min(widen, prefix))
    assert cidr_within(inner, [str(outer_net)])
    sibling = outer_net.supernet() if outer_net.prefixlen > 0 else None
    if sibling is not None:
        other = next(net for net in sibling.subnets() if net != outer_net)
        assert not cidr_within(inner, [str(other)])
        problem = reachability_problem(
            runs_on="r",
            in_vpc_label=None,
            public_access=True,
            public_access_cidrs=[str(other)],
            runner_egress_cidrs=[inner],
        )
        assert problem is not None
        assert "is not inside" in problem
