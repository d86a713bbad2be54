"""The locked setup: pyproject.toml pins, uv.lock, the venv `./dev` builds and what the Pulumi CLI does with them.

One place holds the Python pins: pyproject.toml (``[project] dependencies``, ``[dependency-groups] dev``), resolved
with every transitive package and file hash in uv.lock. No requirements*.txt is committed: Renovate's pep621
manager updates pyproject.toml and uv.lock together (``uv lock --upgrade-package``), and a committed export would
drift from them on every such pull request; ``./dev export`` writes one from the lock for pip users.

The CLI's side (pulumi/pulumi ``sdk/python/toolchain/uv.go``, ``toolchain.go``): with ``toolchain: uv`` it runs uv
with ``UV_PROJECT_ENVIRONMENT=<virtualenv>``, ``uv sync`` on ``pulumi install`` and ``uv sync --inexact`` before every
run, in the program's (or pack's) directory, where uv finds the project by searching up for pyproject.toml.

Each check is a function that returns its problems, run on the real files (no problem) and on a broken copy (the
problem found), so none of them can pass vacuously.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools.harness import REPO_ROOT

VENV = REPO_ROOT / "venv"
HASH = re.compile(r"sha256:[0-9a-f]{64}")
PYPI = "https://pypi.org/simple"


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


PYPROJECT = load_toml(REPO_ROOT / "pyproject.toml")
LOCK = load_toml(REPO_ROOT / "uv.lock")


def uv() -> str:
    # `./dev` installs the pinned uv into .tools/bin and puts it first on PATH, where the Pulumi CLI looks for it.
    found = shutil.which("uv") or str(REPO_ROOT / ".tools/bin/uv")
    assert Path(found).exists(), "no uv: run the tests with ./dev test"
    return found


def pins(pyproject: Mapping[str, Any]) -> dict[str, str]:
    """The specifier of every requirement of the runtime and the dependency groups (``==1.2``), by canonical name."""
    groups = pyproject.get("dependency-groups", {})
    requirements = [*pyproject["project"]["dependencies"], *(r for group in groups.values() for r in group)]
    return {canonicalize_name(r.name): str(r.specifier) for r in map(Requirement, requirements)}


def locked(lock: Mapping[str, Any]) -> dict[str, str]:
    return {package["name"]: package["version"] for package in lock["package"] if not is_root(package)}


def is_root(package: Mapping[str, Any]) -> bool:
    return "virtual" in package.get("source", {})


# --- pins and lock ------------------------------------------------------------------------------------------------


def pin_problems(pyproject: Mapping[str, Any], lock: Mapping[str, Any]) -> list[str]:
    """Pins that are not exact, or whose version the lock does not hold."""
    problems = []
    versions = locked(lock)
    for name, specifier in pins(pyproject).items():
        version = specifier.removeprefix("==")
        if not re.fullmatch(r"==[\w.]+", specifier):
            problems.append(f"{name}: not an exact pin ({specifier or 'no version'})")
        elif versions.get(name) != version:
            problems.append(f"{name}=={version} in pyproject.toml, {versions.get(name)} in uv.lock")
    root = next(package for package in lock["package"] if is_root(package))
    metadata = root.get("metadata", {})
    requires = [*metadata["requires-dist"], *(r for group in metadata.get("requires-dev", {}).values() for r in group)]
    recorded = {canonicalize_name(r["name"]): r.get("specifier", "") for r in requires}
    if recorded != pins(pyproject):
        problems.append("uv.lock was locked from other pyproject.toml pins: run ./dev lock")
    return problems


def test_pyproject_pins_are_exact_and_are_the_locked_versions():
    assert pin_problems(PYPROJECT, LOCK) == []
    assert pins(PYPROJECT)["pulumi"] == "==3.272.0"
    bumped = copy.deepcopy(PYPROJECT)
    bumped["project"]["dependencies"] = [
        "pulumi==3.999.0" if d.startswith("pulumi==") else d for d in bumped["project"]["dependencies"]
    ]
    assert pin_problems(bumped, LOCK) == [
        "pulumi==3.999.0 in pyproject.toml, 3.272.0 in uv.lock",
        "uv.lock was locked from other pyproject.toml pins: run ./dev lock",
    ]
    loose = copy.deepcopy(PYPROJECT)
    loose["dependency-groups"]["dev"] = [
        d.replace("==", ">=") if d.startswith("ruff") else d for d in loose["dependency-groups"]["dev"]
    ]
    assert "ruff: not an exact pin (>=0.17.6)" in pin_problems(loose, LOCK)


def hash_problems(lock: Mapping[str, Any]) -> list[str]:
    """Packages without a file, files without a sha256, or sources other than PyPI."""
    problems = []
    for package in lock["package"]:
        if is_root(package):
            continue
        name = package["name"]
        if package.get("source") != {"registry": PYPI}:
            problems.append(f"{name}: source {package.get('source')} (not {PYPI})")
        files = [*([package["sdist"]] if "sdist" in package else []), *package.get("wheels", [])]
        if not files:
            problems.append(f"{name}: no files")
        problems += [
            f"{name}: {file.get('url')} has no sha256" for file in files if not HASH.fullmatch(file.get("hash", ""))
        ]
    return problems


def test_the_lock_has_a_hash_for_every_file_of_every_package_all_from_pypi():
    assert hash_problems(LOCK) == []
    assert len(locked(LOCK)) > 60
    broken = copy.deepcopy(LOCK)
    package = next(p for p in broken["package"] if p["name"] == "pulumi")
    del package["wheels"][0]["hash"]
    package["source"] = {"registry": "file:///opt/pypi/simple"}
    assert hash_problems(broken) == [
        f"pulumi: source {package['source']} (not {PYPI})",
        f"pulumi: {package['wheels'][0]['url']} has no sha256",
    ]


def test_uv_lock_check_passes_and_fails_once_pyproject_moves(tmp_path):
    command = [uv(), "lock", "--check", "--offline"]
    assert subprocess.run(command, cwd=REPO_ROOT, capture_output=True, check=False).returncode == 0
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"ruff==', '"ruff>=', 1))
    # Deciding that a moved requirement needs a new lock means resolving it, which reads the index: offline that
    # works only from a cache holding the index pages (a fresh machine's `uv sync` cached wheels only). PyPI is
    # reachable from CI machines; without it the stale check cannot be judged.
    stale = subprocess.run(command[:-1], cwd=tmp_path, capture_output=True, text=True, check=False)
    if "network" in stale.stderr and "needs to be updated" not in stale.stderr:
        pytest.skip(f"PyPI unreachable: {stale.stderr.strip().splitlines()[-1]}")
    assert stale.returncode != 0
    assert "needs to be updated" in stale.stderr


def test_the_uv_pin_is_exact_and_is_the_uv_on_path():
    required = PYPROJECT["tool"]["uv"]["required-version"]
    assert re.fullmatch(r"==\d+\.\d+\.\d+", required)
    version = subprocess.run([uv(), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    assert f"=={version}" == required
    assert Path(uv()).resolve() == (REPO_ROOT / f".tools/uv-{version}/bin/uv").resolve()


# --- requirements files --------------------------------------------------------------------------------------------


def parse_requirements(text: str) -> dict[str, tuple[str, set[str]]]:
    """``name -> (version, hashes)`` of an exported requirements file."""
    found: dict[str, tuple[str, set[str]]] = {}
    for entry in re.split(r"\n(?=\S)", text.replace("\\\n", " ")):
        line = entry.split("#", 1)[0].strip() if not entry.startswith("#") else ""
        if not line:
            continue
        spec, *hashes = line.split(" --hash=")
        name, version = spec.split(";")[0].strip().split("==")
        found[canonicalize_name(name)] = (version, {h.strip() for h in hashes})
    return found


def lock_files(lock: Mapping[str, Any]) -> dict[str, tuple[str, set[str]]]:
    return {
        package["name"]: (
            package["version"],
            {
                file["hash"]
                for file in [*([package["sdist"]] if "sdist" in package else []), *package.get("wheels", [])]
            },
        )
        for package in lock["package"]
        if not is_root(package)
    }


def requirement_problems(exported: Mapping[str, tuple[str, set[str]]], lock: Mapping[str, Any]) -> list[str]:
    files = lock_files(lock)
    return [f"{name}: {entry}" for name, entry in sorted(exported.items()) if files.get(name) != entry]


def test_dev_export_writes_the_lock_for_pip_and_no_requirements_file_is_committed(tmp_path):
    for directory in (REPO_ROOT, REPO_ROOT / "policies", REPO_ROOT / "bootstrap"):
        assert not list(directory.glob("requirements*.txt")), directory  # one source of pins: pyproject + uv.lock
    subprocess.run([str(REPO_ROOT / "dev"), "export", str(tmp_path)], check=True, capture_output=True)
    runtime = parse_requirements((tmp_path / "requirements.txt").read_text())
    everything = parse_requirements((tmp_path / "requirements-dev.txt").read_text())
    assert requirement_problems(everything, LOCK) == []
    assert requirement_problems(runtime, LOCK) == []
    assert set(everything) == set(lock_files(LOCK))  # every locked package, each with all its hashes
    assert {"pulumi", "pulumi-aws", "pulumi-policy", "pydantic", "pyyaml"} <= set(runtime)
    assert not {"pytest", "ruff", "mypy", "parliament"} & set(runtime)
    drifted = dict(everything, pulumi=("3.271.0", everything["pulumi"][1]))
    assert requirement_problems(drifted, LOCK) == [f"pulumi: {drifted['pulumi']}"]


# --- the venv, Pulumi.yaml and bootstrap/ ---------------------------------------------------------------------------


def runtime_options(path: Path) -> dict[str, Any]:
    runtime = yaml.safe_load(path.read_text())["runtime"]
    assert runtime["name"] == "python"
    return dict(runtime["options"])


PROJECT_FILES = {
    REPO_ROOT / "Pulumi.yaml": REPO_ROOT,
    REPO_ROOT / "bootstrap/Pulumi.yaml": REPO_ROOT / "bootstrap",
    REPO_ROOT / "policies/PulumiPolicy.yaml": REPO_ROOT / "policies",
}


def venv_problems(dev_script: str, files: Mapping[Path, Path]) -> list[str]:
    """Each Pulumi.yaml/PulumiPolicy.yaml must name toolchain uv and the venv `./dev` creates."""
    match = re.search(r"^venv=(\S+)", dev_script, re.MULTILINE)
    created = REPO_ROOT / match[1] if match else None
    problems = [] if 'UV_PROJECT_ENVIRONMENT="$PWD/$venv"' in dev_script else ["./dev does not sync into $venv"]
    for path, root in files.items():
        options = runtime_options(path)
        venv = Path(os.path.normpath(root / options.get("virtualenv", ".venv")))
        if options.get("toolchain") != "uv" or venv != created:
            problems.append(f"{path}: toolchain {options.get('toolchain')}, venv {venv}")
    return problems


def test_every_pulumi_project_file_names_toolchain_uv_and_the_venv_dev_creates(tmp_path):
    dev_script = (REPO_ROOT / "dev").read_text()
    assert venv_problems(dev_script, PROJECT_FILES) == []
    assert (VENV / "bin/python").is_file()
    other = tmp_path / "Pulumi.yaml"
    other.write_text("runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: .venv\n")
    problems = venv_problems(dev_script.replace("venv=venv", "venv=.venv"), {**PROJECT_FILES, other: REPO_ROOT})
    assert len(problems) == 3 + 1  # the three real files point at ./venv, not ./.venv; the other names pip


def test_the_venv_is_exactly_the_lock():
    # What ./dev ran (exact sync), read-only: nothing missing, nothing of another version, nothing extra.
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    command = [uv(), "sync", "--locked", "--check", "--offline"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def installs(lock: Mapping[str, Any], environment: Mapping[str, Any]) -> set[str]:
    """``name==version`` of what a sync of the project and its default (dev) group installs in ``environment``."""
    by_name = {package["name"]: package for package in lock["package"]}
    root = next(package for package in lock["package"] if is_root(package))
    pending = [
        *root.get("dependencies", []),
        *(d for group in root.get("dev-dependencies", {}).values() for d in group),
    ]
    seen: set[str] = set()
    while pending:
        dependency = pending.pop()
        if dependency["name"] in seen or (
            "marker" in dependency and not Marker(dependency["marker"]).evaluate(dict(environment))
        ):
            continue
        seen.add(dependency["name"])
        pending += by_name[dependency["name"]].get("dependencies", [])
    return {f"{name}=={by_name[name]['version']}" for name in seen}


def dry_run_installs(output: str) -> Iterator[str]:
    for line in output.splitlines():
        if line.startswith(" + "):
            yield line[3:].strip()


def test_bootstrap_from_a_fresh_clone_gets_the_project_venv_from_the_root_lock(tmp_path):
    # bootstrap/ declares nothing of its own: from there the CLI's uv finds ../pyproject.toml and ../uv.lock.
    for name in ("pyproject.toml", "uv.lock", "requirements.txt", "poetry.lock", ".python-version"):
        assert not (REPO_ROOT / "bootstrap" / name).exists(), name
    options = runtime_options(REPO_ROOT / "bootstrap/Pulumi.yaml")
    assert options == {"toolchain": "uv", "virtualenv": "../venv"}
    # A fresh clone: the project files, no venv. The CLI's `uv sync --inexact` in bootstrap/ (dry run, offline).
    clone = tmp_path / "clone"
    (clone / "bootstrap").mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock", "bootstrap/Pulumi.yaml"):
        shutil.copy(REPO_ROOT / name, clone / name)
    venv = Path(os.path.normpath(clone / "bootstrap" / options["virtualenv"]))
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    command = [uv(), "sync", "--inexact", "--locked", "--offline", "--dry-run"]
    done = subprocess.run(command, cwd=clone / "bootstrap", env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"Would create project environment at: {clone}/venv" in done.stderr
    environment = default_environment()  # the tests run on the venv's interpreter
    assert set(dry_run_installs(done.stderr)) == installs(LOCK, environment)
    assert {f"pulumi{pins(PYPROJECT)['pulumi']}", f"pulumi-aws{pins(PYPROJECT)['pulumi-aws']}"} <= installs(
        LOCK, environment
    )


def test_what_bootstrap_imports_is_in_the_runtime_pins():
    # bootstrap imports the repo's own modules (config, components) and, through them, these distributions.
    imported = set()
    for path in [
        *(REPO_ROOT / "bootstrap").glob("*.py"),
        REPO_ROOT / "config.py",
        *(REPO_ROOT / "components").glob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):  # statements, not docstring lines that start "import"
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"bootstrap", "components", "config", "__future__"}
    assert {"pulumi", "pulumi_aws", "pydantic"} <= third_party
    owners = packages_distributions()  # module -> distributions, in the venv the tests run on
    runtime = {canonicalize_name(Requirement(d).name) for d in PYPROJECT["project"]["dependencies"]}
    needed = {canonicalize_name(owners[module][0]) for module in third_party}
    assert needed <= runtime, needed - runtime  # runtime pins, not only the dev group's


# --- Renovate --------------------------------------------------------------------------------------------------


def renovate_group_problems(config: Mapping[str, Any], pyproject: Mapping[str, Any]) -> list[str]:
    """pyproject pins Renovate's pep621 manager would not group as intended."""
    problems = (
        [] if "pip_requirements" not in json.dumps(config) else ["renovate.json still configures pip_requirements"]
    )

    def group_of(name: str) -> str | None:
        group = None
        for rule in config["packageRules"]:
            if "pep621" not in rule.get("matchManagers", []):
                continue
            for pattern in rule.get("matchPackageNames", []):
                hit = re.search(pattern[1:-1], name) if pattern.startswith("/") else pattern == name
                if hit:
                    group = rule.get("groupName")
        return group

    for name in pins({"project": {"dependencies": pyproject["project"]["dependencies"]}}):
        want = "pulumi packages" if name.startswith("pulumi") else None
        if group_of(name) != want:
            problems.append(f"{name}: group {group_of(name)!r}, not {want!r}")
    for requirement in pyproject["dependency-groups"]["dev"]:
        name = canonicalize_name(requirement.partition("==")[0])
        if group_of(name) != "dev tooling":
            problems.append(f"{name}: group {group_of(name)!r}, not 'dev tooling'")
    return problems


def test_renovate_bumps_pyproject_and_uv_lock_with_the_pulumi_and_tooling_groups():
    config = json.loads((REPO_ROOT / "renovate.json").read_text())
    assert renovate_group_problems(config, PYPROJECT) == []
    old = copy.deepcopy(config)
    for rule in old["packageRules"]:
        rule["matchManagers"] = ["pip_requirements" if m == "pep621" else m for m in rule.get("matchManagers", [])]
    runtime_pulumi = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("pulumi")]
    expected = 1 + len(runtime_pulumi) + len(PYPROJECT["dependency-groups"]["dev"])
    assert len(renovate_group_problems(old, PYPROJECT)) == expected
