"""Fresh-setup benchmark: the uv install `./dev` does against a plain pip install of the same pins, side by side.

    python3 -m tools.bench_setup [--runs N] [--workdir DIR]      (or ./dev bench-setup)

What is measured, wall clock, one side after the other in this one invocation (uv first, so any warmth the package
index's CDN gains from the first side favours pip), each from nothing in a new temporary directory:

- **uv**, what ``./dev setup`` does on a fresh machine: ``python3 -m pip install --no-cache-dir --target <tools>
  uv==<[tool.uv] required-version>``, then ``uv sync --locked`` of a copy of pyproject.toml and uv.lock into a new
  venv (``UV_PROJECT_ENVIRONMENT``), with an empty ``UV_CACHE_DIR`` in the same directory;
- **pip**: ``python3 -m venv <venv>``, then ``<venv>/bin/pip install --no-cache-dir -r requirements-dev.txt``, the file
  ``./dev export`` writes from uv.lock (the runtime and the dev group: the same pins and hashes as the uv side).

pip byte-compiles every installed module by default and uv does not (Python compiles what it imports on first
use); ``--compile-bytecode`` makes the uv side compile too, for a like-for-like figure.

Both sides download every package from the index and install the same versions; neither reads a pip or uv
configuration of this machine (``PIP_CONFIG_FILE=/dev/null``, no ``PIP_*``/``UV_*`` variables: a local wheel
directory or mirror in a pip.conf would otherwise serve pip from disk). Not timed: writing requirements-dev.txt
before the first run, and the check afterwards that both venvs import the program's and the tests' packages. The
target is a uv side at most a third of the pip side. A figure, not a test: it fails only when an install fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1 / 3
#: What both venvs must import afterwards: the program's runtime and the tools the tests run.
IMPORT_CHECK = "import pulumi, pulumi_aws, pulumi_kubernetes, pulumi_vault, pulumi_policy, pydantic, yaml, parliament"


class SetupError(Exception):
    """An install step failed (the message has its output)."""


@dataclass(frozen=True)
class Side:
    """One side's timed steps: (label, seconds) in order."""

    name: str
    steps: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        """Seconds of all steps."""
        return sum(seconds for _, seconds in self.steps)


def uv_version(pyproject: Path) -> str:
    """The exact uv pin, ``[tool.uv] required-version = "==X.Y.Z"``."""
    with pyproject.open("rb") as handle:
        required = str(tomllib.load(handle)["tool"]["uv"]["required-version"])
    if not required.startswith("=="):
        msg = f"{pyproject}: [tool.uv] required-version {required!r} is not an exact pin"
        raise SetupError(msg)
    return required.removeprefix("==")


def clean_environ(base: Mapping[str, str], **extra: str) -> dict[str, str]:
    """``base`` without pip, uv and virtualenv settings, plus ``extra``; pip reads no configuration file."""
    drop = ("PIP_", "UV_", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")
    env = {key: value for key, value in base.items() if not key.startswith(drop)}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def run(command: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> float:
    """Run ``command`` and return its wall time in seconds.

    Raises:
        SetupError: it exited non-zero (with its output).
    """
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own commands
        list(command), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        msg = f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        raise SetupError(msg)
    return took


def uv_side(work: Path, python: str, version: str, *, compile_bytecode: bool = False) -> tuple[Side, Path]:
    """``./dev setup`` from nothing: pip-install the pinned uv, then ``uv sync --locked`` into a new venv."""
    project, tools, venv = work / "project", work / "tools", work / "venv"
    project.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(REPO_ROOT / name, project / name)
    env = clean_environ(os.environ, PIP_ROOT_USER_ACTION="ignore")
    install = run(
        [python, "-m", "pip", "install", "--no-cache-dir", "--quiet", "--target", str(tools), f"uv=={version}"], env
    )
    sync_env = clean_environ(
        os.environ, UV_CACHE_DIR=str(work / "uv-cache"), UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=python
    )
    flags = ["--compile-bytecode"] if compile_bytecode else []
    sync = run([str(tools / "bin" / "uv"), "sync", "--locked", "--quiet", *flags], sync_env, cwd=project)
    label = " ".join(["uv sync --locked", *flags])
    return Side("uv", ((f"pip install uv=={version}", install), (label, sync))), venv


def pip_side(work: Path, python: str, requirements: Path) -> tuple[Side, Path]:
    """A plain pip setup: a new venv, then ``pip install --no-cache-dir -r requirements-dev.txt``."""
    venv = work / "venv"
    env = clean_environ(os.environ)
    create = run([python, "-m", "venv", str(venv)], env)
    install = run([str(venv / "bin" / "pip"), "install", "--no-cache-dir", "--quiet", "-r", str(requirements)], env)
    return Side("pip", (("python -m venv", create), ("pip install -r requirements-dev.txt", install))), venv


def check_imports(venv: Path) -> None:
    """Both sides must have built a working environment (not timed)."""
    run([str(venv / "bin" / "python"), "-W", "ignore", "-c", IMPORT_CHECK], clean_environ(os.environ))


def export_requirements(directory: Path) -> Path:
    """``./dev export DIR``: requirements-dev.txt from uv.lock (installs the pinned uv into .tools/ if needed)."""
    run([str(REPO_ROOT / "dev"), "export", str(directory)], os.environ)
    return directory / "requirements-dev.txt"


def describe(side: Side) -> str:
    """``"12.3 s (pip install uv==X 1.8 s + uv sync --locked 10.5 s)"``."""
    steps = " + ".join(f"{label} {seconds:.1f} s" for label, seconds in side.steps)
    return f"{side.total:6.1f} s  ({steps})"


def main(argv: Sequence[str] | None = None) -> int:
    """Time both fresh setups ``--runs`` times and print both figures and their ratio."""
    parser = argparse.ArgumentParser(
        prog="python3 -m tools.bench_setup",
        description="Time a fresh setup: ./dev's uv install against pip install -r of the same pins.",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each side (default: 1; medians are printed)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary directories go")
    parser.add_argument(
        "--compile-bytecode", action="store_true", help="uv side: byte-compile on install, as pip does by default"
    )
    args = parser.parse_args(argv)
    python, out = sys.executable, sys.stdout
    version = uv_version(REPO_ROOT / "pyproject.toml")
    with (REPO_ROOT / "uv.lock").open("rb") as handle:
        packages = [p for p in tomllib.load(handle)["package"] if "virtual" not in p.get("source", {})]
    with tempfile.TemporaryDirectory(prefix="bench-setup-", dir=args.workdir) as temp:
        base = Path(temp)
        requirements = export_requirements(base / "exported")
        out.write(
            f"Fresh setup of uv.lock ({len(packages)} locked packages: runtime + dev group) with {python} "
            f"(Python {sys.version.split()[0]}), {args.runs} run(s), fresh caches for both sides\n"
        )
        uv_totals, pip_totals = [], []
        for number in range(1, args.runs + 1):
            try:
                work = Path(tempfile.mkdtemp(prefix="uv-", dir=base))
                uv, uv_venv = uv_side(work, python, version, compile_bytecode=args.compile_bytecode)
                pip, pip_venv = pip_side(Path(tempfile.mkdtemp(prefix="pip-", dir=base)), python, requirements)
                check_imports(uv_venv)
                check_imports(pip_venv)
            except SetupError as exc:
                sys.stderr.write(f"error: {exc}\n")
                return 1
            out.write(f"run {number}:\n  uv   {describe(uv)}\n  pip  {describe(pip)}\n")
            uv_totals.append(uv.total)
            pip_totals.append(pip.total)
        uv_median, pip_median = statistics.median(uv_totals), statistics.median(pip_totals)
        ratio = uv_median / pip_median
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        out.write(
            f"uv {uv_median:.1f} s, pip {pip_median:.1f} s (medians): uv/pip = {ratio:.2f}, "
            f"pip/uv = {pip_median / uv_median:.1f}x; target uv/pip <= {TARGET_RATIO:.2f}: {verdict}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
