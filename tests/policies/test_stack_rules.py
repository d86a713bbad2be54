"""Stack policies: role-arn annotations and Vault bound roles point at roles of this stack."""

import json

import pytest

from components import iam_documents as iam
from tests.policies.support import ACCOUNT, ISSUER, OIDC_ARN, UNKNOWN, check_stack, resource

ROLE = "aws:iam/role:Role"
SA = "kubernetes:core/v1:ServiceAccount"
RELEASE = "kubernetes:helm.sh/v3:Release"
ADDON = "aws:eks/addon:Addon"
VAULT_ROLE = "vault:aws/authBackendRole:AuthBackendRole"
ANNOTATION = "eks.amazonaws.com/role-arn"


def role(name: str, namespace: str, service_account: str, arn: str | None = None):
    trust = iam.irsa_trust_policy(
        oidc_provider_arn=OIDC_ARN, issuer_url=f"https://{ISSUER}", namespace=namespace, service_account=service_account
    )
    arn = arn or f"arn:aws:iam::{ACCOUNT}:role/{name}"
    return resource(ROLE, f"{name}-role", {"name": name, "arn": arn, "assumeRolePolicy": json.dumps(trust)})


def service_account(arn: str, namespace: str = "daft", name: str = "daft"):
    return resource(
        SA, f"{name}-sa", {"metadata": {"name": name, "namespace": namespace, "annotations": {ANNOTATION: arn}}}
    )


DAFT = role("eks-platform-prod_DaftRole", "daft", "daft")
KARPENTER = role("eks-platform-prod-karpenter-controller", "kube-system", "karpenter")
DAFT_ARN = f"arn:aws:iam::{ACCOUNT}:role/eks-platform-prod_DaftRole"
KARPENTER_ARN = f"arn:aws:iam::{ACCOUNT}:role/eks-platform-prod-karpenter-controller"


def karpenter_release(arn: str = KARPENTER_ARN, name: str = "karpenter"):
    values = {"serviceAccount": {"create": True, "name": name, "annotations": {ANNOTATION: arn}}, "replicas": 2.0}
    return resource(RELEASE, "karpenter", {"chart": "karpenter", "namespace": "kube-system", "values": values})


def test_annotations_naming_the_roles_built_for_them_pass():
    resources = [DAFT, KARPENTER, service_account(DAFT_ARN), karpenter_release()]
    assert check_stack("irsa-service-account-binding", resources) == []


def test_an_annotation_naming_a_role_outside_the_stack_fails():
    other = f"arn:aws:iam::{ACCOUNT}:role/somebody-elses"
    sa = service_account(other)
    [(message, urn)] = check_stack("irsa-service-account-binding", [DAFT, sa])
    assert message.startswith(f"metadata.annotations: {other} is not a role of this stack.")
    assert "Remediation: annotate with the role_arn of the IrsaRole" in message
    assert urn == sa.urn


def test_an_annotation_naming_a_role_trusting_another_service_account_fails():
    [(message, _)] = check_stack("irsa-service-account-binding", [DAFT, KARPENTER, service_account(KARPENTER_ARN)])
    assert f"metadata.annotations: role {KARPENTER_ARN} trusts ['kube-system/karpenter'], not daft/daft." in message
    [(message, _)] = check_stack("irsa-service-account-binding", [DAFT, karpenter_release(DAFT_ARN)])
    assert (
        f"values.serviceAccount.annotations: role {DAFT_ARN} trusts ['daft/daft'], not kube-system/karpenter."
        in message
    )


def test_eks_addon_service_account_roles_are_checked():
    cni = role("eks-platform-prod-vpc-cni", "kube-system", "aws-node")
    addon = resource(ADDON, "cni", {"addonName": "vpc-cni", "serviceAccountRoleArn": cni.props["arn"]})
    assert check_stack("irsa-service-account-binding", [cni, addon]) == []
    ebs = resource(ADDON, "ebs", {"addonName": "aws-ebs-csi-driver", "serviceAccountRoleArn": cni.props["arn"]})
    [(message, _)] = check_stack("irsa-service-account-binding", [cni, ebs])
    assert "not kube-system/ebs-csi-controller-sa" in message


@pytest.mark.parametrize("where", ["annotation", "role"])
def test_unknown_arns_in_a_preview_are_skipped(where):
    if where == "annotation":
        resources = [DAFT, service_account(UNKNOWN)]
    else:
        resources = [role("eks-platform-prod_DaftRole", "daft", "daft", arn=UNKNOWN), service_account(UNKNOWN)]
    assert check_stack("irsa-service-account-binding", resources) == []


def test_a_known_arn_of_a_role_whose_arn_is_not_known_yet_is_matched_by_name():
    pending = role("eks-platform-prod_DaftRole", "daft", "daft", arn=UNKNOWN)
    assert check_stack("irsa-service-account-binding", [pending, service_account(DAFT_ARN)]) == []
    [(message, _)] = check_stack("irsa-service-account-binding", [pending, service_account(DAFT_ARN, "other", "x")])
    assert "trusts ['daft/daft'], not other/x" in message
    assert check_stack("vault-bound-roles-in-stack", [pending, vault_role(DAFT_ARN)]) == []


def vault_role(*arns: str):
    return resource(VAULT_ROLE, "vault-auth-role", {"authType": "iam", "boundIamPrincipalArns": list(arns)})


def test_vault_roles_bound_to_roles_of_the_stack_pass():
    bound = role("eks-platform-prod-vault-bound-role", "vault-auth", "vault-auth")
    assert check_stack("vault-bound-roles-in-stack", [bound, vault_role(bound.props["arn"])]) == []
    assert (
        check_stack(
            "vault-bound-roles-in-stack", [bound, resource(VAULT_ROLE, "r", {"boundIamPrincipalArns": UNKNOWN})]
        )
        == []
    )


@pytest.mark.parametrize(
    "arn", [f"arn:aws:iam::{ACCOUNT}:role/elsewhere", f"arn:aws:iam::{ACCOUNT}:role/*"], ids=["external", "wildcard"]
)
def test_vault_roles_bound_elsewhere_fail(arn):
    bound = role("eks-platform-prod-vault-bound-role", "vault-auth", "vault-auth")
    vault = vault_role(arn)
    [(message, urn)] = check_stack("vault-bound-roles-in-stack", [bound, vault])
    assert message.startswith(f"boundIamPrincipalArns: {arn} is not a role of this stack.")
    assert "Remediation: bind the Vault role to the role_arn output" in message
    assert urn == vault.urn


def test_external_principals_can_be_allow_listed():
    arn = f"arn:aws:iam::{ACCOUNT}:role/ci"
    assert check_stack("vault-bound-roles-in-stack", [vault_role(arn)], config={"allowedExternalArns": [arn]}) == []
