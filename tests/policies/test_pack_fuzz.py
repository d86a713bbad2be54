"""Fuzz the whole pack over its real gRPC Analyzer protocol: no input shape a preview can send may crash a policy.

How a crash shows: pulumi_policy's servicer (``pulumi_policy/policy.py``, ``Analyze``/``AnalyzeStack``) catches
only ``UnknownValueError`` (turned into an advisory "can't run policy ... during preview" diagnostic) and its own
not-applicable signal around ``policy.validate``; any other exception leaves the servicer method, and gRPC
aborts the RPC with status UNKNOWN ("Exception calling application: ..."). The CLI then fails the whole
``pulumi preview --policy-pack``. So a crash here is an Analyze or AnalyzeStack call that ends in a
``grpc.RpcError``; a policy that let an unknown value escape (the advisory "can't run policy" diagnostic) fails
the test too, since every policy promises to skip what it cannot know.

The variants start from the captured dev and prod graphs in both modes and change them with a seeded generator
(deterministic, so a failure reproduces): IAM documents as objects (the SDK accepts ``PolicyDocumentArgs``) with
the unknown sentinel or odd values at every level, any property replaced by a number, bool, list, dict, null,
the unknown sentinel or a random nested structure, properties removed, empty objects, odd provider inputs and
types the pack has never seen. Resource variants are sent as single, pipelined ``Analyze`` calls; stack variants
as whole-graph ``AnalyzeStack`` calls.
"""

from __future__ import annotations

import copy
import json
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc  # type: ignore[import-untyped, unused-ignore]
import pytest
from google.protobuf import struct_pb2
from google.protobuf.json_format import ParseDict
from pulumi.runtime.proto import analyzer_pb2

from tests.policies.support import running_packs
from tests.policies.test_pack_grpc import STACKS, plan_for
from tools.harness import MODES, Plan, Registration
from tools.policy_runner import RunningPack, default_policy_config_path, load_policy_config

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: Pulumi's special-signature key: objects carrying it are secrets, assets or resource references on the wire.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SEED = 20240609
#: Random property-level variants per resource (besides the systematic ones) and random whole-graph variants.
RANDOM_VARIANTS_PER_RESOURCE = 2
STACK_VARIANTS = 12
#: Resources whose provider inputs are changed, per graph.
PROVIDER_SAMPLE = 4
CANNOT_RUN = "can't run policy"
#: Analyze calls outstanding at once (the engine analyzes resources as its steps run, a few at a time).
IN_FLIGHT = 16

ODD_VALUES: tuple[Any, ...] = (
    UNKNOWN,
    None,
    0,
    -1,
    1.5,
    1e300,
    True,
    False,
    "",
    "x",
    "*",
    "0.0.0.0/0",
    "::/0",
    "true",
    "443",
    "{",
    "[]",
    [],
    [UNKNOWN],
    [None, 1, True],
    [[]],
    [{}],
    {},
    {"": UNKNOWN},
    {"Statement": UNKNOWN},
    {"tags": UNKNOWN},
    {"Version": "2012-10-17", "Statement": [UNKNOWN]},
    2**70,
)
UNSEEN_TYPES = (
    "aws:made/up:Thing",
    "aws:iam/futurePolicy:FuturePolicy",
    "kubernetes:example.com/v1:Widget",
    "kubernetes:core/v2:Namespace",
    "random:index/randomString:RandomString",
    "eksplatform:platform:Unheard",
    "x",
    "",
)
#: A document exercising every statement field the policies read: an IRSA trust and a grant (as objects).
DOCUMENT_TEMPLATE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.example/id/X"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "oidc.eks.example/id/X:sub": "system:serviceaccount:a:b",
                    "oidc.eks.example/id/X:aud": "sts.amazonaws.com",
                }
            },
        },
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
    ],
}
#: Where IAM documents live (type -> property), also for types the graphs do not hold.
DOCUMENT_PROPERTIES = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
}
#: Attachment types and the property naming the managed policy (one ARN, or a list).
ATTACHMENT_PROPERTIES = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/role:Role": "managedPolicyArns",
}
#: Odd shapes of one IAM statement.
STATEMENT_FIELDS = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition", "Sid")


@dataclass(frozen=True)
class Variant:
    """One changed registration to analyze: what was changed, the type and the inputs sent."""

    label: str
    reg: Registration
    type: str
    inputs: dict[str, Any]
    provider_inputs: dict[str, Any] | None = None


# --- generators -----------------------------------------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value (with unknown sentinels) up to three levels deep."""
    roll = rng.random()
    if depth >= 3 or roll < 0.5:
        return copy.deepcopy(rng.choice(ODD_VALUES))
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["Statement", "Effect", "Action", "Resource", "tags", "name", "metadata", "spec", "x", ""]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def paths(value: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every path into a plain value (secrets and other signature objects count as leaves)."""
    if isinstance(value, dict) and SIG_KEY not in value:
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def replaced(data: dict[str, Any], path: tuple[str | int, ...], value: object, *, delete: bool = False) -> dict:
    """A copy of ``data`` with the value at ``path`` replaced (or removed)."""
    result = copy.deepcopy(data)
    parent: Any = result  # dicts and lists along the path
    for key in path[:-1]:
        parent = parent[key]
    last: Any = path[-1]
    in_dict = isinstance(parent, dict) and isinstance(last, str) and last in parent
    in_list = isinstance(parent, list) and isinstance(last, int) and last < len(parent)
    if not (in_dict or in_list):
        raise KeyError(last)  # an earlier change reshaped the path
    if delete:
        del parent[last]
    else:
        parent[last] = value
    return result


def json_documents(data: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], dict]]:
    """(path, parsed document) for every string property holding a JSON object (IAM documents, default tags)."""
    if isinstance(data, str):
        try:
            parsed = json.loads(data)
        except ValueError:
            return
        if isinstance(parsed, dict) and prefix:
            yield prefix, parsed
    elif isinstance(data, dict) and SIG_KEY not in data:
        for key, item in data.items():
            yield from json_documents(item, (*prefix, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from json_documents(item, (*prefix, index))


def document_shapes(document: dict[str, Any], rng: random.Random) -> Iterator[tuple[str, object]]:
    """A document as an object, as text, and with unknowns and odd values at every level."""
    yield "as-object", document
    yield "unknown", UNKNOWN
    yield "text-with-unknown", json.dumps(document).replace('"', f'"{UNKNOWN}', 1)
    yield "empty-object", {}
    for odd in rng.sample(ODD_VALUES, 8):
        yield f"Statement={odd!r}", {**document, "Statement": odd}
    statements = document.get("Statement")
    first = statements[0] if isinstance(statements, list) and statements else statements
    if isinstance(first, dict):
        yield "one-statement-object", {**document, "Statement": first}
        yield "statement-list-odd", {**document, "Statement": [first, UNKNOWN, None, 1, [first]]}
        for key in STATEMENT_FIELDS:
            for odd in rng.sample(ODD_VALUES, 3):
                yield f"Statement[0].{key}={odd!r}", {**document, "Statement": [{**first, key: odd}]}
            yield f"Statement[0].{key}-as-text", json.dumps({**document, "Statement": [{**first, key: [UNKNOWN]}]})
        condition = first.get("Condition")
        if isinstance(condition, dict):
            for operator, block in condition.items():
                for odd in rng.sample(ODD_VALUES, 2):
                    yield (
                        f"Condition.{operator}={odd!r}",
                        {**document, "Statement": [{**first, "Condition": {**condition, operator: odd}}]},
                    )
                if isinstance(block, dict):
                    for key in block:
                        odd = rng.choice(ODD_VALUES)
                        changed = {**condition, operator: {**block, key: odd}}
                        yield (
                            f"Condition.{operator}.{key}={odd!r}",
                            {**document, "Statement": [{**first, "Condition": changed}]},
                        )
    for _ in range(2):
        yield "random", random_value(rng, 1)


def resource_variants(plan: Plan, rng: random.Random) -> Iterator[Variant]:  # noqa: PLR0912 - one list of shapes
    """Changed copies of every registration of ``plan``."""
    for reg in plan.resources:
        inputs = reg.inputs
        yield Variant("empty-props", reg, reg.type, {})
        unseen = rng.choice(UNSEEN_TYPES)
        yield Variant(f"type={unseen!r}", reg, unseen, inputs)
        for key in inputs:
            if rng.random() < 0.5:
                yield Variant(f"drop {key}", reg, reg.type, replaced(inputs, (key,), None, delete=True))
            else:
                odd = rng.choice(ODD_VALUES)
                yield Variant(f"{key}={odd!r}", reg, reg.type, replaced(inputs, (key,), odd))
        for path, document in json_documents(inputs):
            for label, shape in document_shapes(document, rng):
                yield Variant(f"{path}: {label}", reg, reg.type, replaced(inputs, path, shape))
        document_key = DOCUMENT_PROPERTIES.get(reg.type)
        if document_key is not None and not any(path == (document_key,) for path, _ in json_documents(inputs)):
            # The document is unknown in this graph (a preview): try object shapes of a known one.
            for label, shape in document_shapes(DOCUMENT_TEMPLATE, rng):
                changed = {**inputs, document_key: shape}
                yield Variant(f"{document_key}: template {label}", reg, reg.type, changed)
        if reg.type == "aws:iam/role:Role":
            for label, shape in document_shapes(DOCUMENT_TEMPLATE, rng):
                inline = [
                    {"name": "inline", "policy": shape},
                    {"name": UNKNOWN, "policy": json.dumps(DOCUMENT_TEMPLATE)},
                ]
                yield Variant(f"inlinePolicies: {label}", reg, reg.type, {**inputs, "inlinePolicies": inline})
        all_paths = list(paths(inputs))
        for _ in range(RANDOM_VARIANTS_PER_RESOURCE if all_paths else 0):
            changed = inputs
            for path in rng.sample(all_paths, min(len(all_paths), rng.randint(1, 3))):
                try:
                    if rng.random() < 0.2 and isinstance(path[-1], str):
                        changed = replaced(changed, path, None, delete=True)
                    else:
                        changed = replaced(changed, path, random_value(rng))
                except (KeyError, IndexError, TypeError):
                    continue  # an earlier change removed the path
            yield Variant("random properties", reg, reg.type, changed)


def unseen_resource_variants(plan: Plan, rng: random.Random) -> Iterator[Variant]:
    """Types the graph does not hold (attachments, user and group policies), with odd and admin-like inputs."""
    base = next(reg for reg in plan.resources if reg.custom and reg.type.startswith("aws:"))
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    for type_token, key in ATTACHMENT_PROPERTIES.items():
        for value in (admin, [admin, UNKNOWN], *ODD_VALUES):
            yield Variant(f"{key}={value!r}", base, type_token, {key: value, "role": UNKNOWN})
    for type_token, key in DOCUMENT_PROPERTIES.items():
        for label, shape in document_shapes(DOCUMENT_TEMPLATE, rng):
            yield Variant(f"{key}: {label}", base, type_token, {key: shape})
    for type_token in (*UNSEEN_TYPES, "aws:ec2/securityGroup:SecurityGroup", "aws:eks/cluster:Cluster"):
        for _ in range(8):
            yield Variant(
                "random props",
                base,
                type_token,
                {"ingress": random_value(rng), "vpcConfig": random_value(rng), "tags": random_value(rng)},
            )


def provider_variants(plan: Plan, rng: random.Random) -> Iterator[Variant]:
    """Taggable resources analyzed with odd inputs of their AWS provider (defaultTags as objects, unknowns)."""
    by_urn = {reg.urn: reg for reg in plan.resources}
    aws = [r for r in plan.resources if r.custom and r.type.startswith("aws:") and r.provider]
    for reg in rng.sample(aws, min(len(aws), PROVIDER_SAMPLE)):
        provider = by_urn.get(reg.provider.rsplit("::", 1)[0])
        if provider is None:
            continue
        props = provider.inputs
        shapes: list[tuple[str, object]] = [("UNKNOWN", UNKNOWN), ("absent", None)]
        for path, document in json_documents(props):
            shapes += [(f"{path}: {label}", shape) for label, shape in document_shapes(document, rng)]
            shapes += [(f"{path}: tags={odd!r}", {**document, "tags": odd}) for odd in ODD_VALUES]
            tags = document.get("tags")
            if isinstance(tags, dict):
                for key in tags:
                    odd = rng.choice(ODD_VALUES)
                    shapes.append((f"{path}: tags.{key}={odd!r}", {**document, "tags": {**tags, key: odd}}))
        for label, shape in shapes:
            changed = replaced(props, ("defaultTags",), shape) if shape is not None else {}
            yield Variant(f"provider {label}", reg, reg.type, reg.inputs, provider_inputs=changed)


def stack_variants(plan: Plan, rng: random.Random) -> Iterator[tuple[str, dict[str, dict[str, Any]], dict[str, str]]]:
    """(label, outputs by URN, types by URN): whole graphs with many resources' outputs changed at once."""
    custom = [reg for reg in plan.resources if reg.custom]
    yield "every output empty", {reg.urn: {} for reg in custom}, {}
    yield "every output UNKNOWN", {reg.urn: dict.fromkeys(reg.outputs, UNKNOWN) for reg in custom}, {}
    yield "every type unseen", {}, {reg.urn: rng.choice(UNSEEN_TYPES) for reg in custom}
    for _ in range(STACK_VARIANTS):
        outputs: dict[str, dict[str, Any]] = {}
        for reg in rng.sample(custom, len(custom) // 3):
            changed = reg.outputs
            for path in rng.sample(list(paths(reg.outputs)), min(3, len(list(paths(reg.outputs))))):
                try:
                    changed = replaced(changed, path, random_value(rng))
                except (KeyError, IndexError, TypeError):
                    continue
            for path, document in json_documents(changed):
                _label, shape = rng.choice(list(document_shapes(document, rng)))
                changed = replaced(changed, path, shape)
            outputs[reg.urn] = changed
        yield "random outputs", outputs, {}


# --- the wire -------------------------------------------------------------------------------------------


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    ParseDict(data, message)
    return message


def _options(reg: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=reg.protect, parent=reg.parent)


def analyze_request(plan: Plan, variant: Variant) -> analyzer_pb2.AnalyzeRequest:
    """The engine's Analyze request for a changed registration (with its provider's inputs)."""
    reg = variant.reg
    request = analyzer_pb2.AnalyzeRequest(
        type=variant.type, properties=_struct(variant.inputs), urn=reg.urn, name=reg.name, options=_options(reg)
    )
    provider = next((r for r in plan.resources if reg.provider and r.urn == reg.provider.rsplit("::", 1)[0]), None)
    if provider is not None:
        props = provider.inputs if variant.provider_inputs is None else variant.provider_inputs
        request.provider.CopyFrom(
            analyzer_pb2.AnalyzerProviderResource(
                type=provider.type, properties=_struct(props), urn=provider.urn, name=provider.name
            )
        )
    return request


def stack_request(
    plan: Plan, outputs: dict[str, dict[str, Any]], types: dict[str, str]
) -> analyzer_pb2.AnalyzeStackRequest:
    """The engine's AnalyzeStack request for the graph with some outputs and types changed."""
    resources = []
    for reg in plan.resources:
        resource = analyzer_pb2.AnalyzerResource(
            type=types.get(reg.urn, reg.type),
            properties=_struct(outputs.get(reg.urn, reg.outputs if reg.custom else {})),
            urn=reg.urn,
            name=reg.name,
            options=_options(reg),
            parent=reg.parent,
            dependencies=reg.dependencies,
        )
        for prop, urns in reg.property_dependencies.items():
            resource.propertyDependencies[prop].urns.extend(urns)
        resources.append(resource)
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def rpc_error(exc: grpc.RpcError) -> str:
    """The status and the last line of an aborted call's details (the exception the servicer raised)."""
    lines = (exc.details() or "").splitlines()
    return f"{exc.code().name}: {lines[-1][:300] if lines else ''}"


def pipelined(stub: Any, plan: Plan, variants: list[Variant]) -> Iterator[tuple[Variant, Any]]:
    """(variant, finished Analyze call) with at most `IN_FLIGHT` calls outstanding, as the engine pipelines them."""
    window: deque[tuple[Variant, Any]] = deque()
    for variant in variants:
        window.append((variant, stub.Analyze.future(analyze_request(plan, variant), timeout=60)))
        if len(window) >= IN_FLIGHT:
            variant_done, call = window.popleft()
            call.exception()  # wait for it
            yield variant_done, call
    while window:
        variant_done, call = window.popleft()
        call.exception()
        yield variant_done, call


@pytest.fixture(scope="module")
def fuzz_packs() -> Iterator[dict[str, RunningPack]]:
    yield from running_packs(STACKS)


#: Variants run per (stack, mode), for the report of the issue.
VARIANTS_RUN: dict[str, int] = {}


@pytest.mark.parametrize(("stack", "mode"), [(s, m) for s in STACKS for m in MODES], ids=str)
def test_no_policy_crashes_on_any_variant_of_the_graph(fuzz_packs, stack, mode):
    plan = plan_for(stack, mode)
    pack = fuzz_packs[stack]
    # Configures the pack (ConfigureStack, Configure) exactly as the runner does, on the unchanged graph.
    assert pack.analyze(plan, load_policy_config(default_policy_config_path(stack))).violations == []
    stub, rng = pack.stub(), random.Random(f"{SEED}-{stack}-{mode}")  # noqa: S311 - reproducible, not secret
    variants = list(resource_variants(plan, rng))
    if mode == "preview":  # the same in both modes: once per stack
        variants += [*unseen_resource_variants(plan, rng), *provider_variants(plan, rng)]
    failures: dict[str, str] = {}
    for variant, call in pipelined(stub, plan, variants):
        where = f"{variant.reg.name} ({variant.type}) {variant.label}"
        try:
            response = call.result()
        except grpc.RpcError as exc:
            failures.setdefault(rpc_error(exc), where)
            continue
        for diagnostic in response.diagnostics:
            if CANNOT_RUN in diagnostic.message:
                failures.setdefault(f"{diagnostic.policyName}: {diagnostic.message[:300]}", where)
    graphs = list(stack_variants(plan, rng))
    for label, outputs, types in graphs:
        try:
            response = stub.AnalyzeStack(stack_request(plan, outputs, types), timeout=60)
        except grpc.RpcError as exc:
            failures.setdefault(rpc_error(exc), f"stack: {label}")
            continue
        for diagnostic in response.diagnostics:
            if CANNOT_RUN in diagnostic.message:
                failures.setdefault(f"{diagnostic.policyName}: {diagnostic.message[:300]}", f"stack: {label}")
    VARIANTS_RUN[f"{stack}/{mode}"] = len(variants) + len(graphs)
    tracebacks = pack.stderr_text()[-4000:] if failures else ""
    assert failures == {}, "\n".join(f"{e}\n    first seen: {w}" for e, w in failures.items()) + "\n" + tracebacks
    assert len(variants) > 1000
