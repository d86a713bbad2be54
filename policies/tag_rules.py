"""Tags: every taggable AWS resource carries the required tags, and so does what nodes launch. Always mandatory.

A resource's effective tags are its provider's ``defaultTags`` (the explicit provider's inputs reach the pack
with every resource, as JSON text), its own ``tags`` and, when the engine computed it, ``tagsAll``. Which
types are taggable is read from ``taggable_types.txt``, generated from the pinned pulumi-aws SDK by
``tools/gen_taggable_types.py`` (the pack cannot afford importing the SDK).

Default tags never reach the instances, volumes and network interfaces that node groups and Karpenter launch:
launch templates carry them in ``tagSpecifications`` and Karpenter's EC2NodeClass in ``spec.tags``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from components.tagging import REQUIRED_TAG_KEYS
from policies.common import UNKNOWN, Unknown, as_list, dig, is_unknown, plain_props, provider_default_tags, tag_map
from policies.settings import PackContext, policy_config, schema, string_list

TAGGABLE_TYPES_FILE = Path(__file__).resolve().parent / "taggable_types.txt"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_NODE_CLASS_TYPE = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
#: Spot Ocean tags its instances with ``tags`` (a list of key/value pairs) and, with
#: ``resourceTagSpecifications[].shouldTagVolumes``, their volumes too; no provider default tags reach them.
OCEAN_TYPE = "spotinst:aws/ocean:Ocean"

REQUIRED_TAGS_SCHEMA = schema(
    {
        "requiredKeys": string_list("Tag keys every taggable resource carries.", list(REQUIRED_TAG_KEYS)),
        "environmentKey": {
            "type": "string",
            "description": "Tag whose value must equal the stack name ('' to skip).",
            "default": "Environment",
        },
    }
)
PROPAGATED_TAGS_SCHEMA = schema(
    {
        "requiredKeys": string_list("Tag keys launched instances and volumes carry.", list(REQUIRED_TAG_KEYS)),
        "environmentKey": {
            "type": "string",
            "description": "Tag whose value must equal the stack name ('' to skip).",
            "default": "Environment",
        },
        "launchTemplateResourceTypes": string_list(
            "Launch template tagSpecifications resource types that must carry the tags.", ["instance", "volume"]
        ),
    }
)


@cache
def taggable_types(path: Path = TAGGABLE_TYPES_FILE) -> frozenset[str]:
    """Type tokens whose SDK resource accepts ``tags`` (comment lines start with ``#``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def tag_problems(tags: Mapping[str, Any], *, required: list[str], environment_key: str, stack: str) -> list[str]:
    """What is wrong with an effective tag set: missing or blank keys, a wrong environment."""
    problems = []
    missing = [key for key in required if key not in tags or (isinstance(tags[key], str) and not tags[key].strip())]
    if missing:
        problems.append(f"missing or empty required tags: {', '.join(missing)}")
    environment = tags.get(environment_key) if environment_key else None
    if isinstance(environment, str) and environment.strip() and environment != stack:
        problems.append(f"tag {environment_key}={environment!r} does not match the stack {stack!r}")
    return problems


def effective_tags(props: dict[str, Any], provider_props: object) -> dict[str, Any] | Unknown:
    """Provider default tags, overlaid by the resource's ``tags`` and ``tagsAll``; `UNKNOWN` if unknowable."""
    defaults = provider_default_tags(provider_props) if provider_props is not None else {}
    own, computed = tag_map(props.get("tags")), tag_map(props.get("tagsAll"))
    if not isinstance(own, dict) or not isinstance(computed, dict):
        return UNKNOWN
    if not isinstance(defaults, dict):
        # Without the provider's defaults only a complete tagsAll (computed by the engine) can be judged.
        return computed or UNKNOWN
    return {**defaults, **own, **computed}


def check_required_tags(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """Every taggable AWS resource carries the required tags, counting the provider's default tags."""
    if not args.resource_type.startswith("aws:") or args.resource_type not in taggable_types():
        return
    cfg = policy_config(args.get_config(), REQUIRED_TAGS_SCHEMA)
    provider_props = plain_props(args.provider.props) if args.provider is not None else None
    tags = effective_tags(plain_props(args.props), provider_props)
    if not isinstance(tags, dict):
        return
    for problem in tag_problems(
        tags, required=cfg["requiredKeys"], environment_key=cfg["environmentKey"], stack=ctx.stack
    ):
        report(
            f"{problem}.\nRemediation: create the resource through the stack's AWS provider, whose default_tags "
            "carry components.tagging.required_tags(...); set explicit tags only where default tags do not reach.",
            None,
        )


def _key_value_tags(value: object) -> dict[str, Any] | Unknown:
    """A ``[{key, value}]`` tags input (Spot's) as a dict; `UNKNOWN` when it or any key is unknown."""
    if is_unknown(value):
        return UNKNOWN
    tags: dict[str, Any] = {}
    for item in as_list(value):
        key = dig(item, "key")
        if is_unknown(key):
            return UNKNOWN
        if isinstance(key, str):
            tags[key] = dig(item, "value")
    return tags


def check_propagated_tags(args: ResourceValidationArgs, report: ReportViolation, *, ctx: PackContext) -> None:
    """Launch templates, Karpenter EC2NodeClasses and Spot Oceans tag what they launch with the required tags."""
    cfg = policy_config(args.get_config(), PROPAGATED_TAGS_SCHEMA)
    props = plain_props(args.props)
    found: dict[str, Any] = {}
    if args.resource_type == LAUNCH_TEMPLATE_TYPE:
        specs = props.get("tagSpecifications")
        if is_unknown(specs):
            return
        for spec in as_list(specs):
            kind = dig(spec, "resourceType")
            if isinstance(kind, str):
                found[kind] = tag_map(dig(spec, "tags"))
        targets = {kind: found.get(kind, {}) for kind in cfg["launchTemplateResourceTypes"]}
    elif args.resource_type == EC2_NODE_CLASS_TYPE:
        targets = {"spec.tags": tag_map(dig(props, "spec", "tags"))}
    elif args.resource_type == OCEAN_TYPE:
        targets = {"tags": _key_value_tags(props.get("tags"))}
        specs = props.get("resourceTagSpecifications")
        if not is_unknown(specs) and not any(dig(spec, "shouldTagVolumes") is True for spec in as_list(specs)):
            report(
                "resourceTagSpecifications does not tag volumes (shouldTagVolumes): Ocean's volumes carry no tags.\n"
                "Remediation: set resource_tag_specifications=[{'should_tag_volumes': True}].",
                None,
            )
    else:
        return
    for target, tags in sorted(targets.items()):
        if not isinstance(tags, dict):
            continue
        for problem in tag_problems(
            tags, required=cfg["requiredKeys"], environment_key=cfg["environmentKey"], stack=ctx.stack
        ):
            report(
                f"{target}: {problem}.\nRemediation: pass the required tags explicitly (provider default_tags never "
                "reach launched instances, volumes and network interfaces).",
                None,
            )


def policies(ctx: PackContext) -> list[Policy]:
    """The tag policies: mandatory on every stack."""
    return [
        ResourceValidationPolicy(
            name="aws-required-tags",
            description="Taggable AWS resources carry the required tags (provider default tags count); "
            "Environment equals the stack.",
            validate=partial(check_required_tags, ctx=ctx),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=REQUIRED_TAGS_SCHEMA,
            remediation_steps="Use the stack's AWS provider with default_tags=required_tags(...).",
        ),
        ResourceValidationPolicy(
            name="launched-resources-tagged",
            description="Launch templates and Karpenter EC2NodeClasses put the required tags on what they launch.",
            validate=partial(check_propagated_tags, ctx=ctx),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PROPAGATED_TAGS_SCHEMA,
            remediation_steps="Set tagSpecifications (launch templates) or spec.tags (EC2NodeClass) to the tags.",
        ),
    ]
