"""Tear-down and the AWS Load Balancer Controller: it outlives what it made load balancers for, and the VPC goes only
once nothing tagged ``elbv2.k8s.aws/cluster: <cluster>`` is left."""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.config.test_settings import KEY
from tests.program.test_variants import variant_plan, variant_settings
from tools import teardown
from tools.harness import run_program
from tools.teardown import StateResource, order_violations, plan_phases

CLUSTER = "eks-platform-prod"


def offline_phases() -> dict[str, list[StateResource]]:
    plan = variant_plan("addons")
    return plan_phases(
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id) for r in plan.resources
    )


def test_the_controller_and_what_it_needs_go_after_everything_else_in_the_cluster():
    phases = offline_phases()
    late = {r.urn.rsplit("::", 1)[-1] for r in phases["load-balancer-controller"]}
    # cert-manager issues the controller's webhook certificate (enableCertManager): it goes with it.
    assert late == {"addons-aws-load-balancer-controller", "addons-cert-manager", "addons-ns-cert-manager"}
    in_cluster = {r.urn.rsplit("::", 1)[-1] for r in phases["in-cluster"]}
    assert {"addons-external-dns", "argocd-release", "node-autoscaler-release"} <= in_cluster
    assert order_violations(phases) == []


def phases_of(plan) -> dict[str, list[StateResource]]:
    return plan_phases(
        StateResource(r.urn, r.type, r.parent, r.custom, r.protect, tuple(r.dependencies), r.id) for r in plan.resources
    )


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_a_controller_installed_by_gitops_also_outlives_the_applications(engine):
    settings = copy.deepcopy(variant_settings("flux" if engine == "flux" else "addons"))
    settings["addons"] = {"awsLoadBalancerController": {"install": "gitops"}}
    phases = phases_of(run_program("prod", "update", config_overrides={KEY: settings}))
    installer = {
        "argocd": ("kubernetes:argoproj.io/v1alpha1:ApplicationSet", "argocd-addon-aws-load-balancer-controller"),
        "flux": ("kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease", "flux-addon-aws-load-balancer-controller"),
    }[engine]
    late = {(r.type, r.urn.rsplit("::", 1)[-1]) for r in phases["load-balancer-controller"]}
    assert installer in late
    assert installer not in {(r.type, r.urn.rsplit("::", 1)[-1]) for r in phases["applications"]}
    # What it needs stays up with it (the engine's release, its namespace), and nothing is deleted too early.
    assert ("kubernetes:helm.sh/v3:Release", f"{'argocd' if engine == 'argocd' else 'flux'}-release") in late
    assert order_violations(phases) == []


def urn(name: str, kind: str = "test:index:Thing") -> str:
    return f"urn:pulumi:prod::eks-platform::{kind}::{name}"


EXPORT = {
    "deployment": {
        "resources": [
            {"urn": urn("net", "eksplatform:platform:Vpc"), "type": "eksplatform:platform:Vpc"},
            {
                "urn": urn("vpc"),
                "type": "aws:ec2/vpc:Vpc",
                "custom": True,
                "parent": urn("net", "eksplatform:platform:Vpc"),
                "id": "vpc-0abc",
            },
            {"urn": urn("cluster"), "type": "aws:eks/cluster:Cluster", "custom": True},
            {"urn": urn("addons", "eksplatform:platform:Addons"), "type": "eksplatform:platform:Addons"},
            {
                "urn": urn("addons-aws-load-balancer-controller"),
                "type": "kubernetes:helm.sh/v3:Release",
                "custom": True,
                "parent": urn("addons", "eksplatform:platform:Addons"),
            },
            {"urn": urn("app-ingress"), "type": "kubernetes:networking.k8s.io/v1:Ingress", "custom": True},
        ]
    }
}


@pytest.fixture
def script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(EXPORT))
    assert teardown.main(["--stack", "prod", "--state", str(state)]) == 0
    return capsys.readouterr().out.splitlines()


def test_the_script_waits_for_the_controller_s_load_balancers_before_removing_it_and_the_vpc(script):
    destroys = [i for i, line in enumerate(script) if line.startswith("pulumi destroy")]
    in_cluster, controller, cluster, network = destroys
    assert script[in_cluster].endswith(f"--target {urn('app-ingress')}")
    assert script[controller].endswith(f"--target {urn('addons-aws-load-balancer-controller')}")
    assert script[cluster].endswith(f"--target {urn('cluster')}")
    waits = [
        i
        for i, line in enumerate(script)
        if line.startswith(f"for _ in $(seq {teardown.LB_WAIT_POLLS});") and "elbv2.k8s.aws/cluster" in line
    ]
    # Bounded: a load balancer nobody deletes stops the script at the pre-network check instead of hanging it.
    assert any(in_cluster < i < controller for i in waits)
    assert all("break; sleep 15; done" in script[i] for i in waits)
    check = next(i for i, line in enumerate(script) if line.startswith('left="$('))
    assert cluster < check < network
    wait_line = script[waits[0]]
    assert "--resource-type-filters elasticloadbalancing:loadbalancer elasticloadbalancing:targetgroup" in wait_line
    assert f"--tag-filters Key=elbv2.k8s.aws/cluster,Values={CLUSTER}" in wait_line
    groups = next(line for line in script if "describe-security-groups" in line and "elbv2" in line)
    assert f"Name=vpc-id,Values=vpc-0abc Name=tag:elbv2.k8s.aws/cluster,Values={CLUSTER}" in groups


def run_leftovers(tmp_path: Path, lb_answers: list[str]) -> tuple[int, list[str], str]:
    """Run `remove_lb_controller_leftovers` under bash with a fake ``aws`` answering ``lb_answers`` in turn."""
    answers = tmp_path / "answers"
    answers.write_text("\n".join(lb_answers) + "\n")
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "aws"
    fake.parent.mkdir()
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {log}\n'
        'case "$1" in\n'
        f"  resourcegroupstaggingapi) head -n1 {answers}; sed -i 1d {answers} ;;\n"
        '  ec2) [ "$2" = describe-security-groups ] && echo sg-0lbc ;;\n'
        "esac\nexit 0\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    body = "\n".join(
        ["set -euo pipefail", "sleep() { :; }", *teardown.remove_lb_controller_leftovers(CLUSTER, "vpc-0abc")]
    )
    done = subprocess.run(
        ["bash", "-c", body],
        env={**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, log.read_text().splitlines() if log.exists() else [], done.stderr


def test_leftover_security_groups_go_once_the_load_balancers_are_gone(tmp_path):
    code, calls, _ = run_leftovers(tmp_path, ["arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/app/k8s-x/1", ""])
    assert code == 0
    assert calls[-1] == "ec2 delete-security-group --group-id sg-0lbc"


def test_load_balancers_that_stay_stop_the_script_before_the_vpc(tmp_path):
    arn = "arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/k8s-x/1"
    code, calls, stderr = run_leftovers(tmp_path, [arn] * (teardown.LB_WAIT_POLLS + 1))
    assert code == 1
    assert f"load balancers of the cluster are left: {arn}" in stderr
    assert not any("delete-security-group" in call for call in calls)
