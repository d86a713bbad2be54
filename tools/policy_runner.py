"""Run the CrossGuard policy pack over a captured plan exactly as the Pulumi CLI drives it, offline.

The CLI starts a Python pack as ``python -u -m pulumi.policy <engineAddress> <packDir>`` with
``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` and ``PULUMI_CONFIG`` (the stack's config, JSON) in the
environment; the pack prints the port of its Analyzer gRPC server on stdout. `RunningPack` does the same, with
a small Engine service of our own (`EngineStub`, it accepts ``Log``) as the engine address, then speaks the
Analyzer protocol with the stubs bundled in pulumi:

1. ``GetAnalyzerInfo`` (policies, declared levels, config schemas) and ``Handshake`` (the Python pack does not
   implement it; UNIMPLEMENTED is ignored, as the CLI does);
2. ``ConfigureStack`` (stack, project, dry run, config) and ``Configure``: every policy's enforcement level and
   properties, the schema defaults overlaid with the policy config file (``--policy-pack-config`` format:
   ``{"<policy>": "<level>" | {"enforcementLevel": ..., "<property>": ...}, "all": "<level>"}``);
3. ``Analyze`` for every registration (inputs as the captured wire Struct, options with ``protect``, the
   resolved provider resource with its inputs), pipelined;
4. ``AnalyzeStack`` with every resource's outputs (registered outputs for components), parents, dependencies,
   property dependencies, providers and options.

The interpreter, working directory and environment are the ones the CLI's Python toolchain gives the pack
(`pack_runtime`, sources cited on `PackRuntime`): with ``toolchain: uv`` (policies/PulumiPolicy.yaml) the venv the
``virtualenv`` option names, started only after checking that the ``uv sync --inexact`` the CLI runs first would
change nothing, with ``<venv>/bin`` first on PATH and ``VIRTUAL_ENV`` set.

`RunningPack` starts the process when it is constructed, so ``tools.plan`` creates it before running the program
and the pack's start-up overlaps the plan. The process is always killed afterwards, and every wait has a timeout.
It runs in a process group of its own (a Ctrl-C in the terminal reaches the plan only, which then stops the whole
group) and, on Linux, with a parent-death signal: if the plan itself is killed, the pack goes with it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import grpc  # type: ignore[import-untyped, unused-ignore]
import yaml
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.json_format import MessageToDict, ParseDict  # type: ignore[import-untyped, unused-ignore]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from tools.harness import REPO_ROOT, Plan, Registration

PACK_DIR = REPO_ROOT / "policies"
#: Per-stack policy config files (``<stack>.json``), as passed to ``pulumi preview --policy-pack-config``.
POLICY_CONFIG_DIR = PACK_DIR / "stack-config"
DEFAULT_TIMEOUT = 60.0
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)]

LEVEL_NAMES: dict[int, str] = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVEL_NAMES.items()}
ALL_POLICIES = "all"


class PolicyRunError(Exception):
    """The pack could not be started, configured or run (the message says why; stderr is attached)."""


@dataclass(frozen=True, order=True)
class Violation:
    """One policy diagnostic: the policy, its enforcement level, the resource and the message."""

    policy: str
    level: str
    urn: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{"policy", "level", "urn", "message"}``."""
        return {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


@dataclass(frozen=True)
class PolicyInfo:
    """A policy as the pack describes it, with the level it was configured to."""

    name: str
    description: str
    level: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    #: The policy's remediation steps (GetAnalyzerInfo's PolicyInfo.remediation_steps), shown with its violations.
    remediation: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        """Name, kind (resource/stack), level, description and the effective config properties."""
        return {
            "name": self.name,
            "kind": self.kind,
            "level": self.level,
            "description": self.description,
            "config": self.config,
        }


@dataclass
class PolicyReport:
    """What the pack reported for one plan."""

    pack: str
    version: str
    stack: str
    policies: list[PolicyInfo]
    violations: list[Violation]
    engine_logs: list[str] = field(default_factory=list)
    analyzed: int = 0

    @property
    def mandatory(self) -> list[Violation]:
        """Violations that fail the run (as they fail ``pulumi preview``)."""
        return [v for v in self.violations if v.level == "mandatory"]

    def headline(self) -> str:
        """``Policy pack eks-platform@0.1.0 on dev: 29 policies, 146 resources analyzed``."""
        return (
            f"Policy pack {self.pack}@{self.version} on {self.stack}: {len(self.policies)} policies, "
            f"{self.analyzed} resources analyzed"
        )

    def summary_line(self) -> str:
        """``Policy violations: 1 mandatory, 2 advisory``."""
        mandatory = len(self.mandatory)
        return f"Policy violations: {mandatory} mandatory, {len(self.violations) - mandatory} advisory"

    def to_json(self) -> dict[str, Any]:
        """The ``"policy"`` section of ``tools.plan --json``: stable order, no timestamps."""
        return {
            "pack": {"name": self.pack, "version": self.version},
            "policies": [p.to_json() for p in sorted(self.policies, key=lambda p: p.name)],
            "violations": [v.to_json() for v in sorted(self.violations)],
        }


class EngineStub(engine_pb2_grpc.EngineServicer):
    """The engine's side of the callbacks a pack may make: log lines are kept, the root resource echoed."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self._root = ""
        self._lock = threading.Lock()

    def Log(self, request: engine_pb2.LogRequest, _context: object) -> empty_pb2.Empty:  # noqa: N802 - gRPC name
        """Keep a pack's log line (severity and message)."""
        with self._lock:
            self.logs.append(f"{engine_pb2.LogSeverity.Name(request.severity).lower()}: {request.message}")
        return empty_pb2.Empty()

    def GetRootResource(  # noqa: N802 - gRPC name
        self, _request: engine_pb2.GetRootResourceRequest, _context: object
    ) -> engine_pb2.GetRootResourceResponse:
        """The root resource last set (none at first)."""
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(  # noqa: N802 - gRPC name
        self, request: engine_pb2.SetRootResourceRequest, _context: object
    ) -> engine_pb2.SetRootResourceResponse:
        """Remember the root resource."""
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()


def start_engine() -> tuple[grpc.Server, EngineStub, str]:
    """An `EngineStub` served on 127.0.0.1 at a free port: (server, servicer, address)."""
    stub = EngineStub()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_CHANNEL_OPTIONS)
    engine_pb2_grpc.add_EngineServicer_to_server(stub, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, stub, f"127.0.0.1:{port}"


def pack_version(pack_dir: Path) -> str | None:
    """The ``version`` in PulumiPolicy.yaml (the CLI prefers it over what a Python pack reports)."""
    try:
        data = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version is not None else None


#: The CLI's Python toolchains a pack may name (``runtime.options.toolchain``); absent means auto-detection.
TOOLCHAINS = ("pip", "poetry", "uv")


@dataclass(frozen=True)
class PackRuntime:
    """How the CLI's Python language host starts a local pack: toolchain, virtualenv and interpreter.

    Verified in pulumi/pulumi at commit 1b5949891b3c (2026-08-21, 3.260.0 in development: the newest source at hand;
    the SDK pin, 3.272.0, is a later release, so re-read these files when the pin moves):

    - ``pkg/resource/plugin/plugin.go``: a pack directory is run through the language host's ``RunPlugin`` with
      ``NewProgramInfo(pluginDir, pluginDir, ".", options)``: root and program directory are both the pack's
      absolute directory (``filepath.Abs``: lexical, symlinks kept).
    - ``sdk/python/cmd/pulumi-language-python/main.go`` (``parseOptions``, ``RunPlugin``): an analyzer gets no
      ``virtualenv`` default (``isPlugin`` is false for it); the toolchain runs ``-u -m pulumi.policy <engine
      address> <pack dir>`` with the pack directory as working directory.
    - ``sdk/python/toolchain/toolchain.go`` (``ResolveToolchain``): ``uv`` and ``pip`` join a relative
      ``virtualenv`` to the root; auto-detection picks uv when a ``uv.lock`` is found searching up from the
      program directory, else poetry for a ``poetry.lock``, else pip. ``ActivateVirtualEnv``: the process gets
      ``<venv>/bin`` first on PATH, ``VIRTUAL_ENV=<venv>`` and no ``PYTHONHOME``.
    - ``sdk/python/toolchain/uv.go``: ``newUv`` fails without ``uv`` on PATH; without a ``virtualenv`` option the
      venv is ``$UV_PROJECT_ENVIRONMENT`` (joined to the directory of the nearest ``uv.lock``, else
      ``pyproject.toml``, else the root) or ``.venv`` there. ``Command`` runs ``uv sync --inexact`` in the root
      with ``UV_PROJECT_ENVIRONMENT=<venv>`` (uv finds the project by searching up from there) whenever a
      ``pyproject.toml`` is found searching up, refuses a ``pyproject.toml`` without ``[project]`` when no
      ``uv.lock`` is found, then starts ``<venv>/bin/python`` itself (not ``uv run``).
    - ``sdk/python/toolchain/pip.go``: pip runs ``<venv>/bin/python``; without a ``virtualenv`` option
      ``$PULUMI_PYTHON_CMD``, else the first ``python3`` (then ``python``) on PATH, with the environment unchanged.
    """

    toolchain: str
    #: The virtualenv directory, as the CLI spells it (None: pip without a virtualenv, the Python on PATH).
    virtualenv: Path | None
    python: Path
    #: uv only: the directory the CLI runs ``uv sync --inexact`` in (the pack directory).
    sync_dir: Path | None = None

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` as the toolchain hands it to the pack (``ActivateVirtualEnv`` when there is a virtualenv)."""
        env = dict(base)
        if self.virtualenv is None:
            return env
        for key in [key for key in env if key.upper() in ("PYTHONHOME", "VIRTUAL_ENV")]:
            del env[key]
        path = env.get("PATH")
        env["PATH"] = (
            f"{self.virtualenv / 'bin'}{os.pathsep}{path}" if path is not None else str(self.virtualenv / "bin")
        )
        env["VIRTUAL_ENV"] = str(self.virtualenv)
        return env

    def check_synced(self, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        """uv: fail unless the CLI's ``uv sync --inexact`` would leave the venv as it is.

        The CLI syncs before every start; offline, `./dev` has already synced the venv exactly (``uv sync
        --locked``), so this runs the CLI's command read-only (``--check --locked --offline``) in the same
        directory with the same ``UV_PROJECT_ENVIRONMENT``: a venv that is missing, or stale against uv.lock, fails
        here as it would change under the CLI. Nothing is written and nothing is downloaded.

        Raises:
            PolicyRunError: uv reports the venv out of sync, the lock stale, or another uv version required.
        """
        if self.toolchain != "uv" or self.sync_dir is None or self.virtualenv is None:
            return
        uv = shutil.which("uv", path=env.get("PATH"))
        command = [uv or "uv", "sync", "--inexact", "--check", "--locked", "--offline", "--quiet"]
        try:
            done = subprocess.run(  # noqa: S603 - uv from PATH, as the CLI runs it
                command,
                cwd=self.sync_dir,
                env={**env, "UV_PROJECT_ENVIRONMENT": str(self.virtualenv)},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"cannot run `uv sync --check` for the policy pack in {self.sync_dir}: {exc}"
            raise PolicyRunError(msg) from exc
        if done.returncode != 0:
            detail = " ".join((done.stderr or done.stdout).split())
            msg = (
                f"{self.sync_dir}: the venv {self.virtualenv} is not what the CLI's `uv sync --inexact` would leave "
                f"(run `./dev setup`): {detail}"
            )
            raise PolicyRunError(msg)


def _searchup(start: Path, name: str) -> Path | None:
    """The nearest directory at or above ``start`` holding ``name`` (the toolchain's ``searchup``)."""
    for directory in (start, *start.parents):
        if (directory / name).exists():
            return directory
    return None


def _pack_spec(pack_dir: Path) -> tuple[str, dict[str, Any]]:
    """PulumiPolicy.yaml's runtime name and options (``runtime: python`` or ``runtime: {name, options}``)."""
    try:
        data = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{pack_dir} has no PulumiPolicy.yaml: it is not a policy pack"
        raise PolicyRunError(msg) from exc
    runtime = data.get("runtime") if isinstance(data, dict) else None
    if isinstance(runtime, str):
        return runtime, {}
    name = runtime.get("name") if isinstance(runtime, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return str(name), options if isinstance(options, dict) else {}


def pack_runtime(pack_dir: Path, environ: Mapping[str, str] | None = None) -> PackRuntime:
    """The toolchain, virtualenv and interpreter the CLI would start the pack in ``pack_dir`` with (`PackRuntime`).

    Raises:
        PolicyRunError: no PulumiPolicy.yaml, not a Python pack, an unknown or unsupported toolchain, no ``uv`` on
            PATH for the uv toolchain, or no interpreter where the virtualenv option (or PATH) points.
    """
    env = os.environ if environ is None else environ
    root = Path(os.path.normpath(Path(pack_dir).absolute()))  # filepath.Abs: lexical, symlinks kept
    spec = f"{root}/PulumiPolicy.yaml"
    name, options = _pack_spec(root)
    if name != "python":
        msg = f"{spec}: runtime {name!r}: only Python packs run offline"
        raise PolicyRunError(msg)
    toolchain = options.get("toolchain")
    if toolchain is None:
        toolchain = "uv" if _searchup(root, "uv.lock") else "poetry" if _searchup(root, "poetry.lock") else "pip"
    if toolchain not in TOOLCHAINS:
        msg = f"{spec}: unsupported toolchain option: {toolchain} (the CLI knows {', '.join(TOOLCHAINS)})"
        raise PolicyRunError(msg)
    if toolchain == "poetry":
        msg = f"{spec}: toolchain poetry is not emulated offline (use uv or pip)"
        raise PolicyRunError(msg)
    virtualenv = options.get("virtualenv")
    if virtualenv is not None and not isinstance(virtualenv, str):
        msg = f"{spec}: virtualenv option must be a string"
        raise PolicyRunError(msg)
    if toolchain == "uv":
        return _uv_runtime(root, spec, virtualenv, env)
    if virtualenv is None:
        command = env.get("PULUMI_PYTHON_CMD")
        path = env.get("PATH")
        found = next(
            (hit for cmd in ([command] if command else ["python3", "python"]) if (hit := shutil.which(cmd, path=path))),
            None,
        )
        if found is None:
            msg = f"{spec}: no runtime.options.virtualenv and no python3 on PATH"
            raise PolicyRunError(msg)
        return PackRuntime("pip", None, Path(found))
    venv = Path(os.path.normpath(root / virtualenv))
    python = venv / "bin" / "python"
    if not python.is_file():
        msg = (
            f"{spec}: virtualenv {virtualenv!r} has no {python}: the CLI would fail to start the pack "
            "(run `./dev setup`)"
        )
        raise PolicyRunError(msg)
    return PackRuntime("pip", venv, python)


def _uv_runtime(root: Path, spec: str, virtualenv: str | None, env: Mapping[str, str]) -> PackRuntime:
    if shutil.which("uv", path=env.get("PATH")) is None:
        msg = (
            f"{spec}: toolchain uv and no `uv` on PATH: the CLI fails the same way ('Could not find `uv` "
            "executable'); run `./dev setup` and put .tools/bin first on PATH"
        )
        raise PolicyRunError(msg)
    lock_dir = _searchup(root, "uv.lock")
    pyproject_dir = _searchup(root, "pyproject.toml")
    if lock_dir is None and pyproject_dir is not None:
        with (pyproject_dir / "pyproject.toml").open("rb") as handle:
            has_project = "project" in tomllib.load(handle)
        if not has_project:
            msg = f"{pyproject_dir}/pyproject.toml is missing a [project] section, which uv requires (toolchain uv)"
            raise PolicyRunError(msg)
    if virtualenv is None:
        project_dir = lock_dir or pyproject_dir or root
        venv = Path(os.path.normpath(project_dir / (env.get("UV_PROJECT_ENVIRONMENT") or ".venv")))
    else:
        venv = Path(os.path.normpath(root / virtualenv))
    python = venv / "bin" / "python"
    if not python.is_file():
        msg = (
            f"{spec}: virtualenv {virtualenv or str(venv)!r} has no {python}: the CLI would create it with `uv "
            "sync`, offline it must exist (run `./dev setup`)"
        )
        raise PolicyRunError(msg)
    return PackRuntime("uv", venv, python, sync_dir=root if pyproject_dir is not None else None)


def pack_interpreter(pack_dir: Path) -> Path:
    """The Python the CLI runs the pack in ``pack_dir`` with (`pack_runtime`'s interpreter)."""
    return pack_runtime(pack_dir).python


def default_policy_config_path(stack: str, config_dir: Path = POLICY_CONFIG_DIR) -> Path | None:
    """``policies/stack-config/<stack>.json`` if it exists."""
    path = config_dir / f"{stack}.json"
    return path if path.is_file() else None


def load_policy_config(path: Path | None) -> dict[str, Any]:
    """A ``--policy-pack-config`` JSON file (empty without a path)."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"policy config {path}: {exc}"
        raise PolicyRunError(msg) from exc
    if not isinstance(data, dict):
        msg = f"policy config {path}: expected a JSON object keyed by policy name"
        raise PolicyRunError(msg)
    return data


_SCHEMA_TYPES: dict[str, tuple[type, ...]] = {
    "array": (list,),
    "object": (dict,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def effective_config(info: analyzer_pb2.AnalyzerInfo, user: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per policy: (level, properties), as the CLI computes them before ``Configure``.

    Level: the user's entry, else the user's ``all``, else the pack's initial config, else the declared level.
    Properties: schema defaults < the pack's initial config < the user's entry. Unknown policy names, unknown
    properties and values of the wrong JSON type are errors.
    """
    names = {policy.name for policy in info.policies}
    unknown = sorted(set(user) - names - {ALL_POLICIES})
    if unknown:
        msg = f"policy config names unknown policies: {', '.join(unknown)}"
        raise PolicyRunError(msg)
    default_level = _level_name(user.get(ALL_POLICIES)) if ALL_POLICIES in user else None
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for policy in info.policies:
        schema = MessageToDict(policy.configSchema.properties)
        properties = {name: spec.get("default") for name, spec in schema.items() if "default" in spec}
        level = LEVEL_NAMES[policy.enforcementLevel]
        if policy.name in info.initialConfig:
            initial = info.initialConfig[policy.name]
            level = LEVEL_NAMES.get(initial.enforcementLevel, level)
            properties |= MessageToDict(initial.properties)
        level = default_level or level
        entry = user.get(policy.name)
        if isinstance(entry, str):
            level = _level_name(entry)
        elif isinstance(entry, dict):
            level = _level_name(entry["enforcementLevel"]) if "enforcementLevel" in entry else level
            overrides = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            _check_properties(policy.name, overrides, schema)
            properties |= overrides
        elif entry is not None:
            msg = f"policy config for {policy.name}: expected a level or an object, got {entry!r}"
            raise PolicyRunError(msg)
        result[policy.name] = (level, properties)
    return result


def _level_name(value: object) -> str:
    if not isinstance(value, str) or value not in LEVEL_VALUES:
        msg = f"unknown enforcement level {value!r} (one of {', '.join(sorted(LEVEL_VALUES))})"
        raise PolicyRunError(msg)
    return value


def _check_properties(policy: str, values: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name not in schema:
            msg = f"policy config for {policy}: unknown property {name!r} (known: {', '.join(sorted(schema))})"
            raise PolicyRunError(msg)
        expected = schema[name].get("type")
        types = _SCHEMA_TYPES.get(expected) if isinstance(expected, str) else None
        if types and (not isinstance(value, types) or (expected != "boolean" and isinstance(value, bool))):
            msg = f"policy config for {policy}.{name}: expected {expected}, got {value!r}"
            raise PolicyRunError(msg)


# --- requests ---------------------------------------------------------------------------------------------


def _struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    ParseDict(dict(data), message)
    return message


#: The wire signature of a resource reference (pulumi ``resource.ResourceReferenceSig``) under the signature key.
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


def _downgrade_references(value: Any) -> Any:  # noqa: ANN401 - any wire value
    """``value`` with each resource reference replaced as the engine sends it to an analyzer.

    The engine marshals analyzer payloads without ``KeepResources`` (pulumi ``pkg/resource/plugin``
    ``analyzer_plugin.go`` ``AnalyzeStack``, ``rpc.go`` ``MarshalPropertyValue``): a reference becomes the
    resource's id when it has one (a custom resource), else its URN (a component, e.g. the resources a v1
    ``kustomize.Directory`` registers as its outputs). pulumi_policy cannot unmarshal a reference at all.
    """
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _RESOURCE_REFERENCE_SIG:
            return value["id"] if "id" in value else value.get("urn", "")
        return {key: _downgrade_references(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_downgrade_references(item) for item in value]
    return value


def _options(reg: Registration, *, with_parent: bool) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=reg.protect,
        ignoreChanges=reg.ignore_changes,
        deleteBeforeReplace=reg.delete_before_replace,
        deleteBeforeReplaceDefined=reg.delete_before_replace,
        additionalSecretOutputs=reg.additional_secret_outputs,
        aliases=[alias["urn"] for alias in reg.aliases if isinstance(alias.get("urn"), str)],
        parent=reg.parent if with_parent else "",
    )


class _Graph:
    """Registrations by URN, providers resolved from ``<urn>::<id>`` references."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.by_urn = {reg.urn: reg for reg in plan.resources}

    def provider(self, reg: Registration) -> analyzer_pb2.AnalyzerProviderResource | None:
        urn = reg.provider.rsplit("::", 1)[0] if reg.provider else ""
        provider = self.by_urn.get(urn)
        if provider is None:
            return None
        return analyzer_pb2.AnalyzerProviderResource(
            type=provider.type, properties=provider.raw_object, urn=provider.urn, name=provider.name
        )

    def analyze_request(self, reg: Registration) -> analyzer_pb2.AnalyzeRequest:
        """What the engine sends before operating on a resource: its (checked) inputs."""
        request = analyzer_pb2.AnalyzeRequest(
            type=reg.type,
            properties=reg.raw_object,
            urn=reg.urn,
            name=reg.name,
            options=_options(reg, with_parent=True),
        )
        provider = self.provider(reg)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def outputs(self, reg: Registration) -> Mapping[str, Any]:
        """A resource's final state: custom resources' outputs, components' registered outputs."""
        if reg.custom:
            return reg.outputs
        if reg.parent == "" and reg.type == "pulumi:pulumi:Stack":
            return self.plan.outputs
        return self.plan.component_outputs.get(reg.urn, {})

    def stack_request(self) -> analyzer_pb2.AnalyzeStackRequest:
        """What the engine sends once the program finished: every resource's outputs and relations."""
        resources = []
        for reg in self.plan.resources:
            resource = analyzer_pb2.AnalyzerResource(
                type=reg.type,
                properties=_struct(_downgrade_references(self.outputs(reg))),
                urn=reg.urn,
                name=reg.name,
                options=_options(reg, with_parent=False),
                parent=reg.parent,
                dependencies=reg.dependencies,
            )
            for prop, urns in reg.property_dependencies.items():
                resource.propertyDependencies[prop].urns.extend(urns)
            provider = self.provider(reg)
            if provider is not None:
                resource.provider.CopyFrom(provider)
            resources.append(resource)
        return analyzer_pb2.AnalyzeStackRequest(resources=resources)


# --- the pack process ------------------------------------------------------------------------------------

#: Run as ``python -c _DIE_WITH_PARENT <parent pid> <command...>``: ask Linux to SIGKILL this process when the
#: thread that started it dies (``prctl(PR_SET_PDEATHSIG)``, kept across ``execv``), then become the command.
#: A trampoline rather than a ``preexec_fn``: forking a process that runs gRPC threads corrupts the child's gRPC
#: state (the pack then aborts), and a ``preexec_fn`` forces a real ``fork`` where ``vfork`` is used otherwise.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(70)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _dying_with_parent(command: list[str]) -> list[str]:
    """``command`` wrapped in `_DIE_WITH_PARENT` on Linux from the main thread; unchanged elsewhere.

    The death signal follows the *thread* that starts the child, so it is only asked for from the main thread,
    whose end is the process's end.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return command
    return [command[0], "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


def _drain(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    """Hand the first line (the port) over, then keep reading so the pack never blocks on a full pipe."""
    first = True
    for line in iter(stream.readline, b""):
        if first:
            lines.put(line)
            first = False
    if first:
        lines.put(b"")


class RunningPack:
    """A policy pack process started as the CLI starts it; use as a context manager (always killed)."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, str],
        secret_keys: set[str] | None = None,
        dry_run: bool = True,
        pack_dir: Path = PACK_DIR,
        timeout: float = DEFAULT_TIMEOUT,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.stack_config, self.secret_keys = dict(stack_config), set(secret_keys or ())
        # The CLI's plugin loader makes the pack directory absolute lexically (filepath.Abs), symlinks kept.
        self.pack_dir, self.timeout = Path(os.path.normpath(Path(pack_dir).absolute())), timeout
        base = {**os.environ, **(extra_env or {})}
        self.runtime = pack_runtime(self.pack_dir, base)
        self.runtime.check_synced(base, timeout)
        self._engine, self.engine, address = start_engine()
        env = {
            **self.runtime.environ(base),
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
            "PULUMI_CONFIG": json.dumps(self.stack_config, sort_keys=True),
        }
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        try:
            # The toolchain's interpreter running pulumi's pack entry point in the pack directory, as the CLI runs it.
            command = [str(self.runtime.python), "-u", "-m", "pulumi.policy", address, str(self.pack_dir)]
            self._process = subprocess.Popen(  # noqa: S603
                _dying_with_parent(command),
                cwd=self.pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,  # its own process group: stopped as a whole in close()
            )
        except OSError as exc:
            self._stderr.close()
            self._engine.stop(grace=None)
            msg = f"cannot start the policy pack in {self.pack_dir}: {exc}"
            if exc.errno == errno.E2BIG:  # one environment variable over 128 KiB (MAX_ARG_STRLEN)
                size = len(env["PULUMI_CONFIG"].encode()) // 1024
                msg += (
                    f" (the stack config, {size} KiB, travels in one environment variable, PULUMI_CONFIG, and Linux "
                    "refuses one over 128 KiB; the real CLI fails the same way: move large rosters into "
                    "appRolesFiles / vault.usersFiles)"
                )
            raise PolicyRunError(msg) from exc
        self._lines: queue.Queue[bytes] = queue.Queue()
        stdout = cast("IO[bytes]", self._process.stdout)
        self._reader = threading.Thread(target=_drain, args=(stdout, self._lines), daemon=True)
        self._reader.start()
        self._channel: grpc.Channel | None = None

    def __enter__(self) -> RunningPack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def stderr_text(self) -> str:
        """What the pack wrote on stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _fail(self, message: str) -> PolicyRunError:
        stderr = self.stderr_text().strip()
        return PolicyRunError(f"{message}\n{stderr}" if stderr else message)

    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """A client of the pack's Analyzer service (waits for the port it prints)."""
        if self._channel is None:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                raise self._fail(f"policy pack printed no port within {self.timeout:.0f} s") from None
            try:
                port = int(line.decode().strip())
            except ValueError:
                self._process.wait(timeout=self.timeout)
                raise self._fail(f"policy pack exited with code {self._process.returncode} before serving") from None
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self._channel).result(timeout=self.timeout)
        return analyzer_pb2_grpc.AnalyzerStub(self._channel)

    @property
    def pid(self) -> int:
        """The pack process's id (also its process group's)."""
        return self._process.pid

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    def close(self) -> None:
        """Stop the pack and anything it started (its process group: terminate, then kill) and the engine stub."""
        if self._channel is not None:
            self._channel.close()
        if self._process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._process.wait(timeout=5)
            # What the pack started and left behind in its group (just reaped, so the group id is not reused yet).
            self._signal_group(signal.SIGKILL)
        self._reader.join(timeout=5)  # the pipe reached EOF when the process ended
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()
        self._engine.stop(grace=None)

    def analyze(self, plan: Plan, policy_config: Mapping[str, Any] | None = None) -> PolicyReport:
        """Configure the pack for ``plan``'s stack and analyze every resource and the stack."""
        try:
            return self._analyze(plan, policy_config or {})
        except grpc.RpcError as exc:
            raise self._fail(f"policy pack call failed: {exc.code().name}: {exc.details()}") from exc
        except grpc.FutureTimeoutError as exc:
            raise self._fail(f"policy pack did not answer within {self.timeout:.0f} s") from exc

    def _analyze(self, plan: Plan, policy_config: Mapping[str, Any]) -> PolicyReport:
        stub, timeout = self.stub(), self.timeout
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=timeout)
        with contextlib.suppress(grpc.RpcError):  # not implemented by Python packs; the CLI ignores that too
            stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(root_directory=str(REPO_ROOT), program_directory=str(REPO_ROOT)),
                timeout=timeout,
            )
        stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization="organization",
                dry_run=self.dry_run,
                config=self.stack_config,
                config_secret_keys=sorted(self.secret_keys),
            ),
            timeout=timeout,
        )
        configured = effective_config(info, policy_config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, properties) in configured.items():
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(
                    enforcementLevel=cast("analyzer_pb2.EnforcementLevel.ValueType", LEVEL_VALUES[level]),
                    properties=_struct(properties),
                )
            )
        stub.Configure(request, timeout=timeout)

        graph = _Graph(plan)
        pending = [(reg, stub.Analyze.future(graph.analyze_request(reg), timeout=timeout)) for reg in plan.resources]
        violations = [
            Violation(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), reg.urn, d.message)
            for reg, call in pending
            for d in call.result().diagnostics
        ]
        stack = stub.AnalyzeStack(graph.stack_request(), timeout=timeout)
        violations += [
            Violation(d.policyName, LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.urn, d.message)
            for d in stack.diagnostics
        ]
        policies = [
            PolicyInfo(
                name=p.name,
                description=p.description,
                remediation=p.remediation_steps,
                level=configured[p.name][0],
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                config=configured[p.name][1],
            )
            for p in info.policies
        ]
        return PolicyReport(
            pack=info.name,
            version=pack_version(self.pack_dir) or info.version,
            stack=self.stack,
            policies=policies,
            violations=sorted(set(violations)),
            engine_logs=list(self.engine.logs),
            analyzed=len(pending),
        )


def check_plan(
    plan: Plan,
    *,
    stack_config: Mapping[str, str],
    secret_keys: set[str] | None = None,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path = PACK_DIR,
    timeout: float = DEFAULT_TIMEOUT,
    extra_env: Mapping[str, str] | None = None,
) -> PolicyReport:
    """Start the pack for ``plan``'s stack, analyze the plan, stop the pack."""
    with RunningPack(
        project=plan.project,
        stack=plan.stack,
        stack_config=stack_config,
        secret_keys=secret_keys,
        dry_run=plan.mode == "preview",
        pack_dir=pack_dir,
        timeout=timeout,
        extra_env=extra_env,
    ) as pack:
        return pack.analyze(plan, policy_config)


# --- text output ----------------------------------------------------------------------------------------


def render_report(report: PolicyReport) -> Iterator[str]:
    """Violations grouped by policy, with level and resource, then a one-line summary."""
    yield report.headline()
    by_policy: dict[str, list[Violation]] = {}
    for violation in sorted(report.violations):
        by_policy.setdefault(violation.policy, []).append(violation)
    levels = {p.name: p.level for p in report.policies}
    for policy, found in sorted(by_policy.items()):
        yield f"  {policy} [{levels.get(policy, found[0].level)}]: {len(found)} violation(s)"
        for violation in found:
            lines = violation.message.splitlines()
            detail = lines[1:] or lines
            yield f"    {violation.urn or '(stack)'}"
            yield from (f"      {line}" for line in detail)
    yield report.summary_line()
