"""CiRunner: a CodeBuild-hosted GitHub Actions runner in the cluster's private subnets.

Deploy, preview and drift jobs of a stack run here (``runs-on: codebuild-<project>-<run id>-<attempt>``), inside
the VPC, so they reach the private API endpoint; the cluster security group admits the runner's group on 443
(``EksClusterArgs.api_client_security_groups``). The runner's own role can write its logs and attach its ENIs,
nothing more: jobs assume the environment's deploy or preview role through GitHub OIDC. The webhook starts a
runner only for the delivery workflows' queued jobs. See docs/decisions/0003-in-vpc-runner.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam_documents as iam
from components.context import AwsContext
from components.delivery import RUNNER_ROLE, RUNNER_WORKFLOWS, codebuild_runs_on, runner_workflow_pattern
from components.naming import NamingContext


@dataclass(frozen=True)
class CiRunnerArgs:
    """Inputs of a CiRunner."""

    naming: NamingContext
    #: The runner's CodeBuild project name (`components.delivery.runner_project_name`).
    project_name: str
    vpc_id: pulumi.Input[str]
    #: Private subnets (with a NAT route: the runner reaches GitHub, PyPI and AWS APIs through it).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: ``owner/name`` of the GitHub repository whose workflows run here.
    github_repository: str
    #: The AWS CodeConnections connection to GitHub (created and authorised once per account, in the console).
    connection_arn: str
    #: Account, partition and region of the runner's ENI permissions; the permissions boundary of its role.
    account: AwsContext
    compute_type: str = "BUILD_GENERAL1_MEDIUM"
    image: str = "aws/codebuild/standard:7.0"
    log_retention_days: int = 365
    build_timeout_minutes: int = 120
    workflows: Sequence[str] = RUNNER_WORKFLOWS


class CiRunner(pulumi.ComponentResource):
    """Outputs: ``project_name``, ``security_group_id``, ``role_arn``; ``runs_on`` is the jobs' label (plain)."""

    project_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    runs_on: str

    def __init__(self, name: str, args: CiRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eksplatform:platform:CiRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.runs_on = codebuild_runs_on(args.project_name)

        group = self._security_group(name, args, child)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{args.project_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role, role_policy = self._role(name, args, log_group, child)
        project = aws.codebuild.Project(
            f"{name}-project",
            name=args.project_name,
            description=f"GitHub Actions runner of {args.github_repository} in the {args.naming.stack} VPC",
            service_role=role.arn,
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "compute_type": args.compute_type,
                "image": args.image,
                "type": "LINUX_CONTAINER",
                "image_pull_credentials_type": "CODEBUILD",
            },
            source={
                "type": "GITHUB",
                "location": f"https://github.com/{args.github_repository}.git",
                "auth": {"type": "CODECONNECTIONS", "resource": args.connection_arn},
            },
            vpc_config={"vpc_id": args.vpc_id, "subnets": list(args.subnet_ids), "security_group_ids": [group.id]},
            logs_config={"cloudwatch_logs": {"group_name": log_group.name, "status": "ENABLED"}},
            build_timeout=args.build_timeout_minutes,
            opts=pulumi.ResourceOptions(
                parent=self,
                # CodeBuild checks at CreateProject that the service role may create ENIs in the VPC; the
                # inline policy is not an input of the project.
                depends_on=[role_policy],
            ),
        )
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=project.name,
            build_type="BUILD",
            filter_groups=[
                {
                    "filters": [
                        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                        {"type": "WORKFLOW_NAME", "pattern": runner_workflow_pattern(args.workflows)},
                    ]
                }
            ],
            opts=child,
        )

        self.project_name = project.name
        self.security_group_id = group.id
        self.role_arn = role.arn
        self.register_outputs(
            {"projectName": self.project_name, "securityGroupId": self.security_group_id, "roleArn": self.role_arn}
        )

    @staticmethod
    def _security_group(name: str, args: CiRunnerArgs, child: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
        """The runner's group: no ingress; egress on 443 only (GitHub, package indexes, AWS and the EKS API)."""
        group = aws.ec2.SecurityGroup(
            f"{name}-security-group",
            name=args.naming.name(RUNNER_ROLE),
            description="CI runner: HTTPS out only",
            vpc_id=args.vpc_id,
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-https",
            security_group_id=group.id,
            description="HTTPS to GitHub, package indexes, AWS APIs and the cluster API",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        return group

    @staticmethod
    def _role(
        name: str, args: CiRunnerArgs, log_group: aws.cloudwatch.LogGroup, child: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The CodeBuild service role: its log group and its ENIs, nothing else."""
        role = aws.iam.Role(
            f"{name}-role",
            name=args.naming.platform_role(RUNNER_ROLE),
            assume_role_policy=json.dumps(iam.service_trust_policy("codebuild.amazonaws.com")),
            permissions_boundary=args.account.permissions_boundary,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.all(log_group.arn, *args.subnet_ids).apply(
                lambda values: json.dumps(
                    iam.codebuild_runner_policy(
                        partition=args.account.partition,
                        region=args.account.region,
                        account_id=args.account.account_id,
                        log_group_arn=values[0],
                        subnet_ids=list(values[1:]),
                        connection_arn=args.connection_arn,
                    )
                )
            ),
            opts=child,
        )
        return role, policy
