"""CI's preview role reads the cluster, and a plan it saves is the plan the deploy role applies.

`pulumi up --plan` fails with "expected resource operations for <urn> but none were seen" when the update skips
a step the plan holds (pulumi/pulumi ``pkg/resource/deploy/plan.go``): if the program planned something for
whoever runs it (an admin entry for an unlisted deployer), the preview role's plan would never apply.
"""

import pytest

from components.eks_cluster import VIEWER_POLICY
from tests.contracts.eks_access_policies import EKS_ACCESS_POLICIES
from tools.harness import MODES, run_program

ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_role_plans_exactly_what_the_deploy_role_applies(stack, mode):
    as_deployer = run_program(stack, mode)
    as_previewer = run_program(stack, mode, ci_role="preview")
    assert [r.urn for r in as_previewer.resources] == [r.urn for r in as_deployer.resources]
    assert [r.inputs for r in as_previewer.resources] == [r.inputs for r in as_deployer.resources]
    assert not [r for r in as_previewer.resources if r.name.endswith("-deployer")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preview_role_can_read_the_cluster(stack):
    plan = run_program(stack, "update", ci_role="preview")
    account = {"dev": "111122223333", "prod": "444455556666"}[stack]
    preview_role = f"arn:aws:iam::{account}:role/eks-platform-github-preview-{stack}"
    (association,) = [r for r in plan.by_type(ASSOCIATION) if r.inputs["principalArn"] == preview_role]
    assert association.inputs["policyArn"] == f"arn:aws:eks::aws:cluster-access-policy/{VIEWER_POLICY}"
    assert association.inputs["accessScope"] == {"type": "cluster"}


def test_the_viewer_policy_is_an_eks_access_policy():
    assert VIEWER_POLICY in EKS_ACCESS_POLICIES


def test_a_role_is_either_admin_or_viewer():
    from config import ClusterSettings

    arn = "arn:aws:iam::111122223333:role/eks-platform-github-preview-dev"
    with pytest.raises(ValueError, match=r"viewerRoleArns: .* also in adminRoleArns"):
        ClusterSettings.model_validate({"adminRoleArns": [arn], "viewerRoleArns": [arn]})
