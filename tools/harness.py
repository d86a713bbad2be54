"""Run the real Pulumi program offline under recording mocks and return what it registered.

No CLI, plugins or cloud: `run_program` executes ``__main__.py`` the way the Python language host
does (cwd = project dir, ``runpy.run_path`` inside ``pulumi.runtime.run_in_stack``), with stack config
read from ``Pulumi.<stack>.yaml`` and providers replaced by `PlatformMocks`. Each run gets its own
thread, event loop and copy of the caller's context, so runs repeat cleanly in one process. `RecordingMonitor` keeps
every ``RegisterResourceRequest`` (parent, provider, dependencies and the raw input Struct a policy
pack would receive) and the result is a `Plan`.

This module uses a few internal Pulumi runtime APIs (marked "internal API" below); pulumi is pinned
exactly, so they are stable for this project. See shared/notes/offline-pulumi.md for the traps.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import runpy
import shutil
import sys
import threading
import types
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pulumi
import pulumi.runtime
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped, unused-ignore]
from pulumi.runtime.mocks import MockCallArgs, MockMonitor
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.settings import SETTINGS, get_project, get_stack, set_root_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await
from typing_extensions import override

from components.stack_secrets import PROGRAM_SECRETS
from tools.mocks import UNKNOWN, PlatformMocks
from tools.stack_config import (
    PLACEHOLDER_SECRET,
    StackConfigError,
    full_key,
    load_stack_config,
    project_name,
    to_wire_config,
)

__all__ = [
    "MODES",
    "PLACEHOLDER_SECRET",
    "REDACTED",
    "REPO_ROOT",
    "UNKNOWN",
    "ConfigurationError",
    "DuplicateUrnError",
    "Mode",
    "Plan",
    "PlatformMocks",
    "RecordingMonitor",
    "Registration",
    "load_stack_config",
    "redact",
    "run_program",
    "secret_values",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: This repository's project name (``Pulumi.yaml``).
PROJECT = "eks-platform"
STACK_TYPE = "pulumi:pulumi:Stack"
#: The wire form of a secret value (``MessageToDict`` of it): ``{SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": ...}``.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - the SDK's sentinel, not a secret
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - the SDK's sentinel, not a secret
#: What a secret value becomes in every report (``--json``, Markdown, stdout), as ``pulumi preview`` shows it.
REDACTED = "[secret]"
#: Secret strings shorter than this are redacted where they are wrapped, not searched for in other text.
MIN_SEARCHED_SECRET = 8
Mode = Literal["preview", "update"]
MODES: tuple[Mode, ...] = ("preview", "update")


class ConfigurationError(Exception):
    """The stack's configuration is unusable: the program raised `pulumi.RunError`, or a file is bad.

    ``message`` is the one-line text meant for the user (e.g.
    ``Pulumi.dev.yaml: eks-platform:settings.vpc.cidr: ...``); ``registrations`` holds what the
    program had registered before it stopped (the root Stack at most, for a check at start-up).
    """

    def __init__(self, message: str, registrations: list[Registration] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.registrations = registrations or []


class DuplicateUrnError(Exception):
    """Two resources with one URN: the engine fails the run with this message (diag error 2001)."""

    def __init__(self, urn: str) -> None:
        # pulumi/pulumi sdk/go/common/diag/errors.go GetDuplicateResourceURNError.
        super().__init__(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        self.urn = urn


@dataclass(frozen=True)
class Registration:
    """One ``RegisterResource`` call as the engine would have received it.

    ``inputs`` is the wire Struct as a plain dict (camelCase keys, numbers as floats, secrets and
    unknowns in their wire sentinel form); ``raw_object`` is that Struct itself, for a policy pack.
    ``outputs`` is the state the mock answered with. ``dependencies`` and the lists in
    ``property_dependencies`` are sorted, so registrations compare equal across runs.
    """

    urn: str
    type: str
    name: str
    parent: str
    provider: str
    inputs: dict[str, Any]
    raw_object: struct_pb2.Struct = field(repr=False, compare=False)
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    custom: bool
    protect: bool
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    deleted_with: str = ""
    import_id: str = ""
    remote: bool = False
    version: str = ""
    #: The ``replacement_trigger`` option as plain data (None when unset or unknown).
    replacement_trigger: Any = None

    @property
    def reference(self) -> str:
        """``<urn>::<id>``, how resources name this provider (the id is the unknown sentinel in a preview)."""
        return f"{self.urn}::{self.id or UNKNOWN}"

    @property
    def component(self) -> bool:
        """True for component resources (including the Stack), False for custom resources."""
        return not self.custom

    @classmethod
    def from_request(
        cls,
        request: resource_pb2.RegisterResourceRequest,
        response: resource_pb2.RegisterResourceResponse,
    ) -> Registration:
        """Build a registration from the request and the monitor's response to it."""
        raw_object = struct_pb2.Struct()
        raw_object.CopyFrom(request.object)
        aliases = [MessageToDict(alias) for alias in request.aliases]
        aliases += [{"urn": urn} for urn in request.aliasURNs]
        return cls(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            provider=request.provider,
            inputs=MessageToDict(request.object),
            raw_object=raw_object,
            dependencies=sorted(request.dependencies),
            property_dependencies={prop: sorted(deps.urns) for prop, deps in request.propertyDependencies.items()},
            custom=request.custom,
            protect=request.protect,
            id=response.id,
            outputs=MessageToDict(response.object),
            providers=dict(request.providers),
            aliases=aliases,
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            delete_before_replace=request.deleteBeforeReplace,
            retain_on_delete=request.retainOnDelete,
            deleted_with=request.deletedWith,
            import_id=request.importId,
            remote=request.remote,
            version=request.version,
            replacement_trigger=MessageToDict(request.replacement_trigger)
            if request.HasField("replacement_trigger")
            else None,
        )


def is_secret_wrapped(value: object) -> bool:
    """Whether ``value`` is a wire secret (``{SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": ...}``)."""
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


def unwrap(value: Any) -> Any:  # noqa: ANN401 - any wire value
    """A wire value with Pulumi's secret wrappers replaced by what they wrap, at any depth."""
    if is_secret_wrapped(value):
        return unwrap(cast("dict[str, Any]", value).get("value"))
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def secret_values(*documents: object) -> set[str]:
    """Every string held by a secret-wrapped value in ``documents`` (wire dicts), and each such value as JSON."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if is_secret_wrapped(value):
            inner = cast("dict[str, Any]", value).get("value")
            found.update(_strings(inner))
            if not isinstance(inner, str) and inner is not None:
                found.add(json.dumps(inner, separators=(",", ":")))
                found.add(json.dumps(inner))
            walk(inner)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for document in documents:
        walk(document)
    return {text for text in found if text and text != UNKNOWN}


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:  # noqa: ANN401 - any JSON value
    """``value`` with every secret-wrapped value, and every one of ``secrets`` inside a string, `REDACTED`.

    Only ``secrets`` of `MIN_SEARCHED_SECRET` characters or more are searched for (a policy message or a lint
    finding may quote one); shorter ones would blank out ordinary words.
    """
    searched = sorted((s for s in secrets if len(s) >= MIN_SEARCHED_SECRET), key=len, reverse=True)

    def scrub(item: Any) -> Any:  # noqa: ANN401 - any JSON value
        if is_secret_wrapped(item):
            return REDACTED
        if isinstance(item, dict):
            return {key: scrub(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [scrub(inner) for inner in item]
        if isinstance(item, str):
            for secret in searched:
                if secret in item:
                    item = item.replace(secret, REDACTED)
            return item
        return item

    return scrub(value)


@dataclass
class Plan:
    """Everything one run of the program registered, sorted by URN."""

    stack: str
    project: str
    mode: Mode
    resources: list[Registration]
    outputs: dict[str, Any] = field(default_factory=dict)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Secret keys the stack file does not set that the run stood in for (a real `pulumi up` needs them set).
    offline_secrets: list[str] = field(default_factory=list)

    def by_type(self, type_token: str) -> list[Registration]:
        """All registrations of ``type_token`` (e.g. ``aws:iam/role:Role``)."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> Registration:
        """The single registration with this type and logical name; LookupError otherwise."""
        found = [r for r in self.by_type(type_token) if r.name == name]
        if len(found) != 1:
            msg = f"expected exactly one {type_token} named {name!r}, found {len(found)}"
            raise LookupError(msg)
        return found[0]

    def seen(self, registration: Registration, key: str) -> Any:  # noqa: ANN401 - any output
        """What a consumer of output ``key`` (or ``"id"``) of ``registration`` receives in this plan's mode.

        The output in an update (KeyError when the mocks did not answer it); the wire unknown in a preview,
        where a created resource's computed outputs are not known yet (checked: the mocks answered none).
        """
        if self.mode == "preview" and registration.custom and registration.type.startswith("aws:"):
            if registration.id or registration.outputs.get(key, UNKNOWN) != UNKNOWN:
                msg = f"{registration.urn}: {key} is known in a preview"
                raise AssertionError(msg)
            return UNKNOWN
        return registration.id if key == "id" else registration.outputs[key]

    def computed(self, value: Any) -> Any:  # noqa: ANN401 - any value
        """A value computed from a created resource's outputs: ``value`` in an update, the unknown in a preview."""
        return UNKNOWN if self.mode == "preview" else value

    def children_of(self, urn: str) -> list[Registration]:
        """Registrations whose parent is ``urn``."""
        return [r for r in self.resources if r.parent == urn]

    @property
    def stack_resource(self) -> Registration:
        """The root ``pulumi:pulumi:Stack`` registration."""
        return self.one(STACK_TYPE, f"{self.project}-{self.stack}")

    def type_counts(self) -> dict[str, int]:
        """Number of registrations per type, sorted by type."""
        return dict(sorted(Counter(r.type for r in self.resources).items()))

    def secret_values(self) -> set[str]:
        """The values of every secret this plan holds (inputs, outputs, component and stack outputs), as text."""
        return secret_values(
            [r.inputs for r in self.resources],
            [r.outputs for r in self.resources],
            self.outputs,
            self.component_outputs,
        )

    def redact(self, value: Any) -> Any:  # noqa: ANN401 - any JSON value
        """``value`` (a report section, a message) with this plan's secret values replaced by `REDACTED`."""
        return redact(value, self.secret_values())

    def to_json(self) -> dict[str, Any]:
        """A stable, JSON-ready view: ``{"stack", "offlineSecrets", "resources": [...]}``, resources sorted by URN.

        Secret inputs (secret-wrapped on the wire) are `REDACTED`. Their values are not searched for in the other
        inputs: a Kubernetes Secret's data is secret as a whole, and its ``server`` URL is plain elsewhere.
        """
        view: dict[str, Any] = redact(
            {
                "stack": self.stack,
                "offlineSecrets": list(self.offline_secrets),
                "resources": [
                    {
                        "urn": r.urn,
                        "type": r.type,
                        "name": r.name,
                        "parent": r.parent,
                        "provider": r.provider,
                        "inputs": r.inputs,
                        "dependencies": r.dependencies,
                    }
                    for r in sorted(self.resources, key=lambda r: r.urn)
                ],
            }
        )
        return view


class RecordingMonitor(MockMonitor):
    """`MockMonitor` that records every registration, registered outputs and method calls.

    Monitor methods run on worker threads with their own event loop. Payloads that may hold
    resource references (component outputs, a method's ``__self__``) are therefore kept raw and
    never deserialized here: doing so makes the run wait forever.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []
        self.registered_outputs: dict[str, dict[str, Any]] = {}
        self._urns: set[str] = set()

    @override
    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives a resource: the parent's whole qualified type chain, then ``$`` and the type.

        pulumi/pulumi ``pkg/resource/deploy/deployment.go`` ``generateURN``: "Skip empty parents and don't
        use the root stack type; otherwise, use the full qualified type" (``parent.QualifiedType()``), and
        ``sdk/go/common/resource/urn/urn.go`` ``New``: ``typ = string(parentType) + TypeDelimiter + typ`` when
        ``parentType != "" && parentType != tokens.RootStackType``. So a role in an IrsaRole in an EksCluster is
        ``...::eksplatform:platform:EksCluster$eksplatform:platform:IrsaRole$aws:iam/role:Role::<name>``. The
        stock `MockMonitor.make_urn` keeps only the parent's last type (and chains the Stack's type).
        """
        qualified = type_
        if parent:
            # urn:pulumi:<stack>::<project>::<qualified type>::<name> (the name may itself contain "::").
            parent_type = parent.removeprefix("urn:pulumi:").split("::", 3)[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), qualified, name])

    def _claim_urn(self, urn: str) -> None:
        """Fail a second resource with ``urn`` as the engine does (step_generator.go ``generateURN``)."""
        with self._lock:
            if urn in self._urns:
                raise DuplicateUrnError(urn)
            self._urns.add(urn)

    @override
    def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> resource_pb2.ReadResourceResponse:
        """Answer via the mocks (stock behaviour) after checking the URN is new."""
        self._claim_urn(self.make_urn(request.parent, request.type, request.name))
        return cast(
            "resource_pb2.ReadResourceResponse",
            super().ReadResource(request),  # type: ignore[no-untyped-call]
        )

    @override
    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> resource_pb2.RegisterResourceResponse:
        """Answer via the mocks (stock behaviour) and record the request; a duplicate URN fails the run."""
        urn = self.make_urn(request.parent, request.type, request.name)
        self._claim_urn(urn)
        registering = getattr(self.mocks, "registering", None)
        with registering(urn) if registering is not None else contextlib.nullcontext():
            response = cast(
                "resource_pb2.RegisterResourceResponse",
                super().RegisterResource(request),  # type: ignore[no-untyped-call]
            )
        registration = Registration.from_request(request, response)
        with self._lock:
            self.registrations.append(registration)
        return response

    @override
    def RegisterResourceOutputs(self, request: resource_pb2.RegisterResourceOutputsRequest) -> empty_pb2.Empty:
        """Record a component's (or the Stack's) registered outputs, raw."""
        outputs = MessageToDict(request.outputs)
        with self._lock:
            self.registered_outputs[request.urn] = outputs
        return empty_pb2.Empty()

    def Call(  # noqa: N802 - gRPC method name
        self, request: resource_pb2.ResourceCallRequest
    ) -> provider_pb2.CallResponse:
        """Answer a resource method call through the mocks, with its arguments kept raw."""
        args = MessageToDict(request.args)
        result, failures = self.mocks.call(MockCallArgs(token=request.tok, args=args, provider=request.provider))
        response = provider_pb2.CallResponse(
            failures=[provider_pb2.CheckFailure(property=prop, reason=reason) for prop, reason in failures or []]
        )
        getattr(response, "return").update(result)  # "return" is a Python keyword
        return response


def _wire_config(
    project_dir: Path, project: str, stack: str, overrides: Mapping[str, object] | None
) -> tuple[dict[str, str], set[str]]:
    """Stack file config with ``overrides`` applied (a None value removes a key)."""
    config, secret_keys = load_stack_config(project_dir, stack)
    if not overrides:
        return config, secret_keys
    keyed = {full_key(key, project): value for key, value in overrides.items()}
    for key in keyed:
        config.pop(key, None)
        secret_keys.discard(key)
    extra_config, extra_secrets = to_wire_config(keyed)
    return config | extra_config, secret_keys | extra_secrets


def _is_project_source(module_file: str, project_dir: Path) -> bool:
    path = Path(module_file).resolve()
    installed = (Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
    return (
        path.is_relative_to(project_dir)
        and "site-packages" not in path.parts
        and not any(path.is_relative_to(prefix) for prefix in installed)
    )


@contextlib.contextmanager
def _program_environment(project_dir: Path) -> Iterator[None]:
    """Set the working directory and sys.path as the language host does; restore them afterwards.

    Project modules first imported by the run (``config``, ``components.*``) are forgotten again,
    so every run imports them afresh, as a new process would, and a second project with modules of
    the same names is not handed the first one's.
    """
    shadowed = _shadowed_modules(project_dir)
    for name in shadowed:
        del sys.modules[name]
    old_cwd, old_path, old_modules = Path.cwd(), list(sys.path), set(sys.modules)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        for name in set(sys.modules) - old_modules:
            module_file = getattr(sys.modules[name], "__file__", None)
            if module_file and _is_project_source(module_file, project_dir):
                del sys.modules[name]
        sys.modules.update(shadowed)


#: Top-level packages of a project the harness itself runs on: never set aside for another project's run.
_HARNESS_PACKAGES = frozenset({"tools", "tests"})


def _shadowed_modules(project_dir: Path) -> dict[str, types.ModuleType]:
    """Loaded modules of another checkout that ``project_dir`` has modules of the same name for.

    The harness imports this checkout's ``components`` (and ``naming``, ``versions``...) before any run; a run of
    another project (a base commit's tree) must import its own, so they are set aside for the run and restored after.
    """
    local = {
        path.stem if path.suffix == ".py" else path.name
        for path in project_dir.iterdir()
        if ((path.suffix == ".py" and path.is_file()) or (path / "__init__.py").is_file())
        and not path.name.startswith("__")  # __main__ is the interpreter's, run_path runs the program apart
    } - _HARNESS_PACKAGES
    shadowed: dict[str, types.ModuleType] = {}
    for name, module in list(sys.modules.items()):
        module_file = getattr(module, "__file__", None)
        if (
            name.split(".", 1)[0] in local
            and module_file
            and not Path(module_file).resolve().is_relative_to(project_dir)
        ):
            shadowed[name] = module
    return shadowed


@contextlib.contextmanager
def _own_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Give this thread a new event loop, and its executor threads loops of their own; close all after.

    Monitor methods run on the loop's executor threads and need a loop there. Pulumi creates those
    on demand and never closes them, which can print "Invalid file descriptor" noise at exit.
    """
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def give_worker_a_loop() -> None:
        worker_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(worker_loop)
        worker_loops.append(worker_loop)

    executor = ThreadPoolExecutor(thread_name_prefix="mock-monitor", initializer=give_worker_a_loop)
    loop = asyncio.new_event_loop()
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        # A failed run can leave tasks pending; cancel them, as the automation API's server does.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        executor.shutdown(wait=True)
        for worker_loop in worker_loops:
            worker_loop.close()
        asyncio.set_event_loop(None)
        loop.close()


def _find_run_error(exc: BaseException) -> pulumi.RunError | None:
    """The `pulumi.RunError` that ``exc`` is or was raised from, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, pulumi.RunError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@dataclass(frozen=True)
class _RunSpec:
    """What one run needs: where the program is, which stack, which mode, which config."""

    project_dir: Path
    project: str
    stack: str
    preview: bool
    config: dict[str, str]
    secret_keys: set[str]
    #: What to run: the project's ``__main__.py`` by default, or any function that declares resources.
    body: Callable[[], None] | None = None


def _execute(spec: _RunSpec, monitor: RecordingMonitor) -> None:
    """Configure a fresh mocked runtime and run the program (on its own thread, see `_run_isolated`)."""
    # Internal API: per-run runtime state (trap 2). A fresh set, because the copied context still
    # shares the set object with the caller's context.
    SETTINGS.outputs = set()
    pulumi.runtime.set_all_config(spec.config, sorted(spec.secret_keys))
    # set_mocks registers a root Stack of its own when none is set. Hide the root while it runs
    # so that run_in_stack below registers the one Stack and its outputs, as the language host does.
    set_root_resource(cast("pulumi.Resource", object()))
    pulumi.runtime.set_mocks(
        monitor.mocks, project=spec.project, stack=spec.stack, preview=spec.preview, monitor=monitor
    )
    set_root_resource(cast("pulumi.Resource", None))

    # Internal API: the language host runs `run_in_stack(lambda: runpy.run_path(...))`;
    # run_in_stack wraps run_pulumi_func, which waits for every RPC and pending Output.
    # _sync_await runs it on this thread's loop, set up by _own_event_loop.
    with _own_event_loop(), _program_environment(spec.project_dir):
        body = spec.body or (lambda: _run_main(spec.project_dir))
        _sync_await(run_in_stack(body))


def _run_isolated(spec: _RunSpec, monitor: RecordingMonitor) -> None:
    """Run `_execute` on a new thread in a copy of the caller's context; re-raise its exception.

    The run's Pulumi settings, root resource and event loop then never touch the caller's, and the
    caller may itself be inside a running event loop.
    """
    errors: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            context.run(_execute, spec, monitor)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, re-raised there
            errors.append(exc)

    thread = threading.Thread(target=target, name=f"pulumi-program-{spec.stack}", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _run_main(project_dir: Path) -> None:
    runpy.run_path(str(project_dir), run_name="__main__")


def copy_project(destination: Path, source: Path = REPO_ROOT) -> Path:
    """A working copy of the project at ``destination`` (no git, tests, caches or node_modules), sharing its venv.

    The copy's ``venv`` links to the source's, so the policy pack there runs on ``../venv`` as under the CLI (its
    ``uv sync --inexact`` check reads the copy's pyproject.toml and uv.lock). ``.tools`` (uv, found on PATH) stays out.
    """
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns("venv", ".tools", ".git", "tests", ".*cache*", "__pycache__", "node_modules"),
    )
    (destination / "venv").symlink_to(source / "venv")
    return destination


def offline_secret_stand_ins(
    config: Mapping[str, str], project: str, keys: Iterable[str]
) -> tuple[dict[str, object], list[str]]:
    """Placeholders for the secrets ``keys`` the stack does not set, as overrides, and their names.

    The stand-in for ``pulumi config set --secret`` on a fresh clone: a real ``pulumi up`` stops until they are
    set, and the plan says so (`Plan.offline_secrets`).
    """
    missing = [key for key in keys if full_key(key, project) not in config]
    return {key: {"secure": "offline-stand-in"} for key in missing}, missing


def run_program(
    stack: str,
    mode: Mode = "preview",
    project_dir: Path = REPO_ROOT,
    config_overrides: Mapping[str, object] | None = None,
    offline_secrets: Iterable[str] | None = None,
    *,
    ci_role: str = "deploy",
    existing: Iterable[str] = (),
    updated: Iterable[str] = (),
) -> Plan:
    """Run ``project_dir``'s ``__main__.py`` for ``stack`` under mocks and return its `Plan`.

    ``config_overrides`` maps config keys (``"eks-platform:settings"``; a key without namespace gets
    the project's) to Python values that replace or add to the stack file's config; dicts and lists
    become JSON, None removes the key. Safe to call many times in one process, also from inside a
    running event loop; the caller's Pulumi runtime state, cwd and sys.path are left as they were
    (cwd and sys.path are process-wide: do not run the program concurrently with code that needs them).

    ``ci_role`` is the bootstrap role the emulated STS session assumed: ``deploy`` (``pulumi up``) or ``preview``.

    ``existing`` (a preview only): URNs the stack's state holds and the preview keeps (``same`` or ``update``);
    they answer with known outputs, everything else as a create, as the engine previews an existing stack; those also
    in ``updated`` leave out what an update recomputes (`tools.mocks.UNKNOWN_AFTER_UPDATE`).

    ``offline_secrets`` are secret keys the stack file may not set yet (default: `PROGRAM_SECRETS` for this
    project, ``eks-platform``; pass ``()`` to run exactly as the stack file is): unset ones get a placeholder, listed
    in `Plan.offline_secrets`.

    Raises `ConfigurationError` when the program raises `pulumi.RunError` (also when wrapped) or a
    config file is unusable; other program errors propagate unchanged.
    """
    if mode not in MODES:
        msg = f"mode must be one of {MODES}, not {mode!r}"
        raise ValueError(msg)
    project_dir = Path(project_dir).resolve()
    try:
        project = project_name(project_dir)
        if offline_secrets is None:  # this project's secrets (also in copies of it), nobody else's
            offline_secrets = PROGRAM_SECRETS if project == PROJECT else ()
        config, secret_keys = _wire_config(project_dir, project, stack, config_overrides)
        stand_ins, missing = offline_secret_stand_ins(config, project, offline_secrets)
        if stand_ins:
            config, secret_keys = _wire_config(project_dir, project, stack, {**stand_ins, **(config_overrides or {})})
    except StackConfigError as exc:
        raise ConfigurationError(str(exc)) from exc
    spec = _RunSpec(project_dir, project, stack, mode == "preview", config, secret_keys)
    mocks = PlatformMocks(
        preview=spec.preview,
        project=project,
        stack=stack,
        ci_role=ci_role,
        existing=frozenset(existing),
        updated=frozenset(updated),
    )
    monitor = RecordingMonitor(mocks)
    try:
        _run_isolated(spec, monitor)
    except Exception as exc:
        run_error = _find_run_error(exc)
        if run_error is None:
            raise
        registrations = sorted(monitor.registrations, key=lambda r: r.urn)
        raise ConfigurationError(str(run_error).strip(), registrations) from exc
    plan = _plan(project, stack, mode, monitor)
    plan.offline_secrets = missing
    return plan


def run_callable(
    body: Callable[[], object],
    *,
    mode: Mode = "preview",
    project: str = "eks-platform",
    stack: str = "test",
    config: Mapping[str, object] | None = None,
) -> Plan:
    """Run ``body`` (a function declaring resources, e.g. one component) under the same recording mocks.

    For component tests: no stack file is read; ``config`` (keys with or without namespace) is all the
    config there is. Errors propagate unchanged.
    """
    if mode not in MODES:
        msg = f"mode must be one of {MODES}, not {mode!r}"
        raise ValueError(msg)
    keyed = {full_key(key, project): value for key, value in (config or {}).items()}
    wire_config, secret_keys = to_wire_config(keyed)

    def declare() -> None:
        body()

    spec = _RunSpec(REPO_ROOT, project, stack, mode == "preview", wire_config, secret_keys, declare)
    monitor = RecordingMonitor(PlatformMocks(preview=spec.preview, project=project, stack=stack))
    _run_isolated(spec, monitor)
    return _plan(project, stack, mode, monitor)


def _plan(project: str, stack: str, mode: Mode, monitor: RecordingMonitor) -> Plan:
    resources = sorted(monitor.registrations, key=lambda r: r.urn)
    stack_urns = [r.urn for r in resources if r.type == STACK_TYPE]
    outputs = monitor.registered_outputs.get(stack_urns[0], {}) if stack_urns else {}
    return Plan(
        stack=stack,
        project=project,
        mode=mode,
        resources=resources,
        outputs=outputs,
        component_outputs={urn: out for urn, out in monitor.registered_outputs.items() if urn not in stack_urns},
    )
