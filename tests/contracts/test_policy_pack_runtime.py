"""How the CLI starts the policy pack: ``<virtualenv>/bin/python -u -m pulumi.policy <engine> <pack dir>``.

Source: pulumi/pulumi ``sdk/python/toolchain/pip.go`` (the ``virtualenv`` option is joined to the pack directory
unless absolute), ``pkg/engine/update.go`` (a local ``--policy-pack`` gets no dependency install) and
``sdk/python/cmd/pulumi-language-python`` (``-u -m pulumi.policy``). The offline runner starts the pack the same
way, so a pack whose virtualenv is missing, or lacks pulumi-policy, fails here as it would under the CLI.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tools.harness import REPO_ROOT
from tools.policy_runner import PACK_DIR, PolicyRunError, RunningPack, pack_interpreter


def requirements(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==") for line in lines if line and not line.startswith("-r"))


def test_the_pack_runs_on_the_venv_setup_creates():
    runtime = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    assert (PACK_DIR / runtime["options"]["virtualenv"]).resolve() == REPO_ROOT / "venv"
    assert pack_interpreter(PACK_DIR) == (REPO_ROOT / "venv" / "bin" / "python")


def test_the_venv_the_cli_builds_from_requirements_txt_holds_the_pack_runtime():
    # `pulumi install` (and the CLI on first run) installs requirements.txt into venv: the pack needs its pins there.
    runtime = requirements(REPO_ROOT / "requirements.txt")
    pack = requirements(PACK_DIR / "requirements.txt")
    assert pack.items() <= runtime.items()
    python = pack_interpreter(PACK_DIR)
    code = "import importlib.metadata as m, pulumi_policy; print(m.version('pulumi'), m.version('pulumi-policy'))"
    probe = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [runtime["pulumi"], runtime["pulumi-policy"]]


def copy_pack(tmp_path: Path, virtualenv: str | None) -> Path:
    pack = tmp_path / "policies"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    spec = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    if virtualenv is None:
        del spec["runtime"]["options"]["virtualenv"]
    else:
        spec["runtime"]["options"]["virtualenv"] = virtualenv
    (pack / "PulumiPolicy.yaml").write_text(yaml.safe_dump(spec))
    return pack


def test_a_pack_whose_virtualenv_does_not_exist_fails_to_start(tmp_path):
    # The old layout: `virtualenv: venv` means policies/venv, which nothing creates.
    pack = copy_pack(tmp_path, "venv")
    with pytest.raises(PolicyRunError, match=r"virtualenv 'venv' has no .*/policies/venv/bin/python"):
        RunningPack(project="eks-platform", stack="dev", stack_config={}, pack_dir=pack)


def test_a_pack_without_a_virtualenv_runs_on_the_python_on_path_and_one_without_a_manifest_is_refused(tmp_path):
    assert pack_interpreter(copy_pack(tmp_path, None)) == Path(shutil.which("python3") or "")
    with pytest.raises(PolicyRunError, match=r"has no PulumiPolicy\.yaml"):
        pack_interpreter(tmp_path / "nowhere")
