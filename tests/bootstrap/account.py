"""The account a bootstrap plan (update mode) would leave: every role's policies, the bucket and key policies.

`Account.decide` asks `tools.iam_eval` about one request, with the rendered documents of the plan and the real
AWS-managed policies the roles have attached. Principals the bootstrap does not create (the administrators, the
runner) get AdministratorAccess as their identity policy: the worst case for what the resource policies allow them.
`Account.with_role` adds a role the platform would create: its identity policies and its permissions boundary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tools.harness import Plan
from tools.iam_eval import Decision, evaluate

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY = "aws:iam/policy:Policy"
KEY = "aws:kms/key:Key"
SUB = "token.actions.githubusercontent.com:sub"

Document = dict[str, Any]


def delegating_key_policy(account_id: str) -> Document:
    """An account-root delegation (KMS's default key policy, and the old bootstrap's): IAM policies decide."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


@dataclass(frozen=True)
class Account:
    """Documents by principal and by resource; ``decide`` evaluates one request against them."""

    account_id: str
    bucket_arn: str
    managed: Mapping[str, list[Document]]
    inline: Mapping[str, list[Document]]
    bucket_policy: Document | None
    key_policies: Mapping[str, Document]
    keys: Mapping[str, str]
    state_key: str
    trust: Mapping[str, set[str]]
    #: Customer-managed policies the bootstrap creates (the permissions boundaries), by ARN.
    policies: Mapping[str, Document] = field(default_factory=dict)
    #: The permissions boundary (a policy ARN) of each principal that has one.
    boundary_of: Mapping[str, str] = field(default_factory=dict)
    admin_identity: list[Document] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan, documents: Mapping[str, Document]) -> Account:
        assert plan.mode == "update", "documents that depend on created resources are unknown in a preview"
        roles = {r.inputs["name"]: r.outputs["arn"] for r in plan.by_type(ROLE)}
        managed: dict[str, list[Document]] = {arn: [] for arn in roles.values()}
        for attachment in plan.by_type(ATTACHMENT):
            name = attachment.inputs["policyArn"].rsplit("/", 1)[-1]
            managed[roles[attachment.inputs["role"]]].append(documents[name])
        inline: dict[str, list[Document]] = {arn: [] for arn in roles.values()}
        for policy in plan.by_type(ROLE_POLICY):
            inline[roles[policy.inputs["role"]]].append(json.loads(policy.inputs["policy"]))
        keys = {
            r.name.removeprefix("secrets-key-"): r.outputs["arn"] for r in plan.by_type(KEY) if r.name != "state-key"
        }
        trust = {}
        for role in plan.by_type(ROLE):
            (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
            subjects = statement["Condition"]["StringEquals"][SUB]
            trust[role.outputs["arn"]] = {subjects} if isinstance(subjects, str) else set(subjects)
        bucket = plan.one("aws:s3/bucket:Bucket", "state")
        return cls(
            account_id=next(iter(roles.values())).split(":")[4],
            bucket_arn=bucket.outputs["arn"],
            managed=managed,
            inline=inline,
            bucket_policy=json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", "state-policy").inputs["policy"]),
            key_policies={r.outputs["arn"]: json.loads(r.inputs["policy"]) for r in plan.by_type(KEY)},
            keys=keys,
            state_key=plan.one(KEY, "state-key").outputs["arn"],
            trust=trust,
            policies={r.outputs["arn"]: json.loads(r.inputs["policy"]) for r in plan.by_type(POLICY)},
            admin_identity=[documents["AdministratorAccess"]],
        )

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{name}"

    def ci(self, kind: str, environment: str) -> str:
        return self.role(f"eks-platform-github-{kind}-{environment}")

    def object(self, key: str) -> str:
        return f"{self.bucket_arn}/{key}"

    def boundary(self, environment: str) -> str:
        """The ARN of ``environment``'s permissions boundary (the platform's convention)."""
        return f"arn:aws:iam::{self.account_id}:policy/eks-platform-{environment}-permissions-boundary"

    def with_role(self, arn: str, identity: Sequence[Document], boundary: str | None = None) -> Account:
        """The account with one more role: its identity policies, and the ARN of its permissions boundary."""
        boundary_of = {key: value for key, value in self.boundary_of.items() if key != arn}
        if boundary is not None:
            assert boundary in self.policies, f"{boundary} is not a policy the bootstrap creates"
            boundary_of[arn] = boundary
        return replace(
            self,
            managed={**self.managed, arn: list(identity)},
            inline={**self.inline, arn: []},
            boundary_of=boundary_of,
        )

    def identity(self, principal: str) -> list[Document]:
        if principal in self.managed:
            return self.managed[principal] + self.inline[principal]
        return list(self.admin_identity)

    def decide(self, principal: str, action: str, resource: str, context: Mapping[str, str] | None = None) -> Decision:
        """One request, with the resource's policy (the bucket's for S3, the key's for a KMS key), the principal's
        permissions boundary, and the request's ``context`` (``iam:PermissionsBoundary``)."""
        bucket_policy = self.bucket_policy if resource.startswith("arn:aws:s3:::") else None
        boundary = self.boundary_of.get(principal)
        return evaluate(
            action=action,
            resource=resource,
            principal=principal,
            identity_policies=self.identity(principal),
            resource_policy=bucket_policy,
            key_policy=self.key_policies.get(resource),
            permissions_boundary=None if boundary is None else self.policies[boundary],
            context=context,
        )

    def can(self, principal: str, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        return self.decide(principal, action, resource, context).allowed

    # --- one layer at a time: each must hold on its own ----------------------------------------------------------

    def managed_only(self) -> Account:
        """The roles with their AWS-managed policies only: what the resource policies alone guarantee."""
        return replace(self, inline={arn: [] for arn in self.inline})

    def without_bucket_policy(self) -> Account:
        return replace(self, bucket_policy=None)

    def without_boundaries(self) -> Account:
        """No principal with a permissions boundary: what the bucket and key policies alone guarantee."""
        return replace(self, boundary_of={})

    def with_delegating_key_policies(self) -> Account:
        """Every key delegating to IAM (the old single key's policy): what the identity policies alone guarantee."""
        return replace(self, key_policies={arn: delegating_key_policy(self.account_id) for arn in self.key_policies})

    def trusting(self, subject: str) -> list[str]:
        return sorted(arn for arn, subjects in self.trust.items() if subject in subjects)


def denied_all(
    account: Account,
    principal: str,
    actions: Sequence[str],
    resources: Sequence[str],
    context: Mapping[str, str] | None = None,
) -> list[str]:
    """The (action, resource) pairs of the product that ``principal`` IS allowed, as readable lines (want: none)."""
    return [
        f"{action} {resource}: {account.decide(principal, action, resource, context)}"
        for action in actions
        for resource in resources
        if account.can(principal, action, resource, context)
    ]
