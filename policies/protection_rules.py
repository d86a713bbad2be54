"""Protection: on production stacks, stateful resources carry Pulumi's ``protect`` option.

The analyzer sees ``protect`` in every request's resource options. Deleting or replacing a cluster, its
secrets key, its OIDC provider (every IRSA trust names it) or the account's GuardDuty detector loses state
that cannot be recreated as it was.
"""

from __future__ import annotations

from functools import partial

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policies.settings import PackContext, policy_config, schema, string_list

PROTECTED_SCHEMA = schema(
    {
        "types": string_list(
            "Resource types that must be protected on production stacks.",
            [
                "aws:eks/cluster:Cluster",
                "aws:kms/key:Key",
                "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                "aws:guardduty/detector:Detector",
            ],
        )
    }
)


def check_protected(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """Stateful resources of a production stack have ``protect=True``."""
    if not ctx.production:
        return
    cfg = policy_config(args.get_config(), PROTECTED_SCHEMA)
    if args.resource_type in cfg["types"] and not args.opts.protect:
        report(
            "this stateful resource of a production stack is not protected.\n"
            "Remediation: pass opts=ResourceOptions(protect=True) (settings.production drives it in this program).",
            None,
        )


def policies(ctx: PackContext) -> list[Policy]:
    """The protection policy: mandatory on production stacks (it checks nothing elsewhere)."""
    return [
        ResourceValidationPolicy(
            name="stateful-resources-protected",
            description="On production stacks the EKS cluster, KMS keys, OIDC provider and GuardDuty detector "
            "are protected.",
            validate=partial(check_protected, ctx=ctx),
            enforcement_level=ctx.security_level,
            config_schema=PROTECTED_SCHEMA,
            remediation_steps="Set protect=True on the resource.",
        )
    ]
