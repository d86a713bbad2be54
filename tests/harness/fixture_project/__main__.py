"""Throwaway program for tests/harness: one of each thing the harness must record.

An explicit AWS provider, a VPC, a component with a child IAM role whose tags consume the VPC id,
a Kubernetes ServiceAccount through an explicit Kubernetes provider, an invoke, and a
`pulumi.RunError` when ``fixture:settings.cidr`` is not an IPv4 network (or, inside an apply after
the VPC exists, when ``fixture:settings.lateError`` is set).
"""

from __future__ import annotations

import ipaddress
import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()
settings = config.require_object("settings")
try:
    cidr = ipaddress.IPv4Network(settings["cidr"])
except ValueError as exc:
    msg = f"Pulumi.{pulumi.get_stack()}.yaml: fixture:settings.cidr: {exc}"
    raise pulumi.RunError(msg) from exc
api_token = config.require_secret("apiToken")

aws_provider = aws.Provider("aws", region="us-west-2", default_tags={"tags": {"owner": config.require("owner")}})
identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_provider))
vpc = aws.ec2.Vpc(
    "main",
    cidr_block=str(cidr),
    enable_dns_hostnames=True,
    opts=pulumi.ResourceOptions(provider=aws_provider),
)


def fail_late(vpc_id: str) -> str:
    """Raise the configured late error once the VPC id is known (a RunError inside an apply)."""
    msg = f"Pulumi.{pulumi.get_stack()}.yaml: fixture:settings.lateError: {settings['lateError']} ({vpc_id})"
    raise pulumi.RunError(msg)


if settings.get("lateError"):
    vpc.id.apply(fail_late)


class Team(pulumi.ComponentResource):
    """A team: one IAM role tagged with the VPC it works in."""

    def __init__(self, name: str, vpc_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fixture:platform:Team", name, None, opts)
        trust = identity.account_id.apply(
            lambda account: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        }
                    ],
                }
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            max_session_duration=3600,
            tags={"VpcId": vpc_id},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"roleArn": self.role.arn})


teams = [Team(team, vpc.id, opts=pulumi.ResourceOptions(providers={"aws": aws_provider})) for team in settings["teams"]]

k8s_provider = k8s.Provider("k8s", kubeconfig="{}", namespace="apps")
service_account = k8s.core.v1.ServiceAccount(
    "app",
    metadata={
        "namespace": "apps",
        "annotations": {"eks.amazonaws.com/role-arn": teams[0].role.arn},
    },
    opts=pulumi.ResourceOptions(provider=k8s_provider),
)

pulumi.export("vpcId", vpc.id)
pulumi.export("accountId", identity.account_id)
pulumi.export("roleArns", [team.role.arn for team in teams])
pulumi.export("serviceAccount", service_account.metadata.name)
pulumi.export("apiToken", api_token)
# Not answered by the mocks: unknown in preview, absent in an update.
pulumi.export("ipv6AssociationId", vpc.ipv6_association_id)
