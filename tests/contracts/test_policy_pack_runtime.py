"""How the CLI starts the policy pack, and that `tools.policy_runner` starts it the same way.

Verified in pulumi/pulumi at commit 1b5949891b3c (2026-08-21, 3.260.0 in development; the sources
`tools.policy_runner.PackRuntime` cites):

- ``pkg/resource/plugin/plugin.go``: a pack runs through the language host's ``RunPlugin`` with root = program
  directory = the pack's absolute directory;
- ``sdk/python/cmd/pulumi-language-python/main.go``: ``parseOptions`` gives an analyzer no ``virtualenv`` default,
  ``RunPlugin`` runs ``<python> -u -m pulumi.policy <engine> <pack dir>`` with the pack directory as cwd;
- ``sdk/python/toolchain/toolchain.go``: ``ResolveToolchain`` joins a relative ``virtualenv`` to the root (uv and
  pip alike), ``ActivateVirtualEnv`` puts ``<venv>/bin`` first on PATH and sets ``VIRTUAL_ENV``;
- ``sdk/python/toolchain/uv.go``: ``newUv`` needs ``uv`` on PATH; ``Command`` runs ``uv sync --inexact`` in the pack
  directory with ``UV_PROJECT_ENVIRONMENT=<venv>`` (uv finds ../pyproject.toml and ../uv.lock), then
  ``<venv>/bin/python``; without ``virtualenv`` the venv is ``.venv`` beside the nearest uv.lock (or
  ``$UV_PROJECT_ENVIRONMENT`` there).

So with ``toolchain: uv`` and ``virtualenv: ../venv`` the pack runs on the venv `./dev` builds from uv.lock, and
needs no dependency file of its own (a pyproject.toml in policies/ would make uv treat it as another project).
"""

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tools.harness import REPO_ROOT
from tools.policy_runner import PACK_DIR, PolicyRunError, RunningPack, pack_interpreter, pack_runtime

VENV = REPO_ROOT / "venv"


def runtime_options(pack: Path) -> dict:
    runtime = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    return runtime["options"]


def test_the_pack_runs_with_uv_on_the_venv_setup_creates():
    options = runtime_options(PACK_DIR)
    assert options["toolchain"] == "uv"
    assert Path(os.path.normpath(PACK_DIR / options["virtualenv"])) == VENV
    runtime = pack_runtime(PACK_DIR)
    assert (runtime.toolchain, runtime.virtualenv, runtime.python) == ("uv", VENV, VENV / "bin" / "python")
    assert runtime.sync_dir == PACK_DIR  # the CLI's `uv sync --inexact` runs in the pack directory
    assert pack_interpreter(PACK_DIR) == VENV / "bin" / "python"


def test_uv_finds_the_projects_lock_from_the_pack_directory_and_the_pack_has_no_dependency_file_of_its_own():
    for name in ("pyproject.toml", "uv.lock", "requirements.txt", "poetry.lock"):
        assert not (PACK_DIR / name).exists(), name
    assert (REPO_ROOT / "uv.lock").is_file()
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        runtime = {dep.split("==")[0].lower() for dep in tomllib.load(handle)["project"]["dependencies"]}
    assert {"pulumi", "pulumi-policy", "pydantic", "pyyaml"} <= runtime  # what the pack imports, as runtime pins


def test_the_clis_sync_would_change_nothing_and_the_venv_holds_the_pack_runtime():
    # The command the CLI runs before starting the pack, read-only: exit 0 means the venv is what it would leave.
    runtime = pack_runtime(PACK_DIR)
    runtime.check_synced(os.environ)
    code = "import importlib.metadata as m, pulumi_policy; print(m.version('pulumi'), m.version('pulumi-policy'))"
    probe = subprocess.run([str(runtime.python), "-c", code], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    with (REPO_ROOT / "uv.lock").open("rb") as handle:
        locked = {package["name"]: package["version"] for package in tomllib.load(handle)["package"]}
    assert probe.stdout.split() == [locked["pulumi"], locked["pulumi-policy"]]


def test_the_pack_process_gets_the_toolchains_environment(tmp_path):
    env = pack_runtime(PACK_DIR).environ({"PATH": "/usr/bin", "PYTHONHOME": "/elsewhere", "VIRTUAL_ENV": "/other"})
    assert env == {"PATH": f"{VENV / 'bin'}:/usr/bin", "VIRTUAL_ENV": str(VENV)}
    main = """
        import os, sys
        sys.stderr.write(repr((sys.prefix, os.getcwd(), os.environ["VIRTUAL_ENV"], sys.orig_argv)))
        raise SystemExit(5)
    """
    pack = copy_pack(tmp_path, "../venv")
    (pack / "__main__.py").write_text(main.replace("\n        ", "\n"))
    (tmp_path / "venv").symlink_to(VENV)
    running = RunningPack(project="p", stack="s", stack_config={}, pack_dir=pack)
    with running, pytest.raises(PolicyRunError, match="exited with code 5") as caught:
        running.stub()
    prefix, cwd, virtual_env, argv = eval(str(caught.value).splitlines()[-1])  # noqa: S307 - our own repr
    assert (Path(prefix).resolve(), Path(cwd), virtual_env) == (VENV, pack, str(tmp_path / "venv"))
    python, *flags, engine, pack_dir = argv
    assert (python, flags, pack_dir) == (str(tmp_path / "venv/bin/python"), ["-u", "-m", "pulumi.policy"], str(pack))
    assert engine.startswith("127.0.0.1:")


def copy_pack(tmp_path: Path, virtualenv: str | None, toolchain: str | None = "uv") -> Path:
    pack = tmp_path / "policies"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    spec = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    options = spec["runtime"]["options"]
    for key, value in (("virtualenv", virtualenv), ("toolchain", toolchain)):
        if value is None:
            options.pop(key, None)
        else:
            options[key] = value
    (pack / "PulumiPolicy.yaml").write_text(yaml.safe_dump(spec))
    return pack


def project_beside(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)


def test_a_pack_whose_virtualenv_does_not_exist_fails_to_start(tmp_path):
    # `virtualenv: venv` would mean policies/venv, which nothing creates.
    pack = copy_pack(tmp_path, "venv")
    with pytest.raises(PolicyRunError, match=r"virtualenv 'venv' has no .*/policies/venv/bin/python"):
        RunningPack(project="eks-platform", stack="dev", stack_config={}, pack_dir=pack)


def test_without_uv_on_path_the_pack_fails_as_under_the_cli(tmp_path, monkeypatch):
    pack = copy_pack(tmp_path, str(VENV))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PolicyRunError, match=r"no `uv` on PATH: the CLI fails the same way"):
        pack_runtime(pack)


def test_a_stale_lock_fails_the_pack_start_before_the_cli_would_re_lock(tmp_path):
    project_beside(tmp_path)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pulumi-aws==', '"pulumi-aws>=', 1))
    pack = copy_pack(tmp_path, str(VENV))
    with pytest.raises(PolicyRunError, match=r"is not what the CLI's `uv sync --inexact` would leave"):
        RunningPack(project="eks-platform", stack="dev", stack_config={}, pack_dir=pack)


def test_without_a_virtualenv_option_uv_uses_dot_venv_beside_the_lock_or_uv_project_environment(tmp_path):
    project_beside(tmp_path)
    pack = copy_pack(tmp_path, None)
    env = {key: value for key, value in os.environ.items() if key != "UV_PROJECT_ENVIRONMENT"}
    with pytest.raises(PolicyRunError, match=rf"has no {tmp_path}/\.venv/bin/python"):
        pack_runtime(pack, env)
    (tmp_path / "shared").symlink_to(VENV)
    runtime = pack_runtime(pack, {**env, "UV_PROJECT_ENVIRONMENT": "shared"})
    assert runtime.virtualenv == tmp_path / "shared"


def test_auto_detection_picks_uv_from_a_lock_above_the_pack_and_pip_without_one(tmp_path):
    project_beside(tmp_path)
    pack = copy_pack(tmp_path, str(VENV), toolchain=None)
    assert pack_runtime(pack).toolchain == "uv"
    (tmp_path / "uv.lock").unlink()
    runtime = pack_runtime(pack)
    assert (runtime.toolchain, runtime.python) == ("pip", VENV / "bin" / "python")


def test_a_pip_pack_without_a_virtualenv_runs_on_the_python_on_path_and_one_without_a_manifest_is_refused(tmp_path):
    pack = copy_pack(tmp_path, None, toolchain="pip")
    assert pack_interpreter(pack) == Path(shutil.which("python3") or "")
    assert pack_runtime(pack).environ({"PATH": "/x"}) == {"PATH": "/x"}  # no venv: the environment as it is
    with pytest.raises(PolicyRunError, match=r"has no PulumiPolicy\.yaml"):
        pack_interpreter(tmp_path / "nowhere")


def test_an_unknown_toolchain_is_refused_as_the_language_host_refuses_it(tmp_path):
    with pytest.raises(PolicyRunError, match=r"unsupported toolchain option: conda"):
        pack_runtime(copy_pack(tmp_path, "../venv", toolchain="conda"))
