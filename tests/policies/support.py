"""Calling the pack's validators directly with pulumi_policy's own argument classes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from components.tagging import required_tags
from policies.catalog import build_policies
from policies.settings import PackContext
from tools.harness import REPO_ROOT
from tools.policy_runner import RunningPack
from tools.stack_config import load_stack_config

PROJECT = "eks-platform"
DEV = PackContext(PROJECT, "dev", production=False)
PROD = PackContext(PROJECT, "prod", production=True)
#: The wire sentinel of an unknown string (a computed value during preview).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: Policies whose level does not follow the stack's production flag.
ALWAYS_MANDATORY = frozenset(
    {
        "aws-required-tags",
        "launched-resources-tagged",
        "kubernetes-built-in-namespace-undeclared",
        "iam-role-permissions-boundary",
        "eks-access-policy-exists",
    }
)
#: Visibility only: advisory in every stack.
ALWAYS_ADVISORY = frozenset({"irsa-wildcard-subject"})
ACCOUNT = "123456789012"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"


def urn(type_token: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_token}::{name}"


def options(*, protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def policy(name: str, ctx: PackContext = PROD) -> Policy:
    return next(p for p in build_policies(ctx) if p.name == name)


def aws_provider(tags: Mapping[str, str] | None = None, stack: str = "prod") -> PolicyProviderResource:
    """An AWS provider as the engine passes it: its inputs, with defaultTags as JSON text."""
    tags = (
        required_tags(project=PROJECT, environment=stack, owner="platform-team", cost_center="CC-1")
        if tags is None
        else tags
    )
    props = {"region": "us-west-2", "defaultTags": json.dumps({"tags": dict(tags)})}
    return PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy(props), urn("pulumi:providers:aws", "aws"), "aws"
    )


def check(
    name: str,
    type_token: str,
    props: Mapping[str, Any],
    *,
    ctx: PackContext = PROD,
    provider: PolicyProviderResource | None = None,
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
    logical_name: str = "res",
) -> list[str]:
    """Run one resource policy on one resource; return the messages it reported."""
    found = policy(name, ctx)
    assert isinstance(found, ResourceValidationPolicy)
    messages: list[str] = []
    args = ResourceValidationArgs(
        type_token,
        unknown_checking_proxy(dict(props)),
        urn(type_token, logical_name, ctx.stack),
        logical_name,
        options(protect=protect),
        provider,
        dict(config) if config is not None else None,
    )

    def report(message: str, _urn: str | None = None) -> None:
        messages.append(message)

    found.validate(args, report)
    return messages


def resource(
    type_token: str,
    name: str,
    props: Mapping[str, Any],
    *,
    property_dependencies: Mapping[str, list[PolicyResource]] | None = None,
    protect: bool = False,
) -> PolicyResource:
    """A resource as a stack policy sees it (outputs as props)."""
    return PolicyResource(
        type_token,
        unknown_checking_proxy(dict(props)),
        urn(type_token, name),
        name,
        options(protect=protect),
        None,
        None,
        [],
        dict(property_dependencies or {}),
    )


def check_stack(
    name: str, resources: list[PolicyResource], *, ctx: PackContext = PROD, config: Mapping[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    """Run one stack policy; return (message, urn) pairs."""
    found = policy(name, ctx)
    assert isinstance(found, StackValidationPolicy)
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs(resources, dict(config) if config is not None else None)

    def report(message: str, at: str | None = None) -> None:
        reported.append((message, at))

    found.validate(args, report)
    return reported


def running_packs(stacks: Iterable[str]) -> Iterator[dict[str, RunningPack]]:
    """One pack per stack, started as the CLI starts it with that stack's config; all closed afterwards."""
    started: dict[str, RunningPack] = {}
    try:
        for stack in stacks:
            config, secret_keys = load_stack_config(REPO_ROOT, stack)
            started[stack] = RunningPack(
                project="eks-platform", stack=stack, stack_config=config, secret_keys=secret_keys
            )
        yield started
    finally:
        for pack in started.values():
            pack.close()
