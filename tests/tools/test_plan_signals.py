"""Ctrl-C and SIGTERM stop ``python -m tools.plan`` in one line, and the policy pack never outlives the plan.

The plan runs in a subprocess with a pack that serves nothing: it starts a grandchild (``sleep``), writes both
pids, and sleeps, so the plan is waiting on it when the signal arrives. Afterwards neither the pack (the
``pulumi.policy`` process) nor what it started may be alive. A plan killed outright (SIGKILL, no cleanup) still
takes the pack with it: the pack runs with a parent-death signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.harness import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "harness" / "fixture_project"
PACK_MAIN = """\
import os, pathlib, subprocess, time
child = subprocess.Popen(["sleep", "300"])
pathlib.Path(os.environ["PLAN_TEST_PIDS"]).write_text(f"{os.getpid()} {child.pid}")
time.sleep(300)
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def pack_processes(pack_dir: Path) -> list[int]:
    """Running ``pulumi.policy`` processes serving ``pack_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pulumi.policy" in argv and str(pack_dir).encode() in argv and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def sleeping_pack(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {REPO_ROOT / 'venv'}\n"
    )
    (pack / "__main__.py").write_text(PACK_MAIN)
    pids = tmp_path / "pids"
    yield pack, pids
    if pids.exists():  # never leave the test's own processes behind, whatever happened
        for pid in map(int, pids.read_text().split()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def start_plan(pack: Path, pids: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tools.plan", "--stack", "test", "--project-dir", str(FIXTURE)]
    return subprocess.Popen(
        [*command, "--policy-pack", str(pack), "--no-lint"],
        cwd=REPO_ROOT,
        env={**os.environ, "PLAN_TEST_PIDS": str(pids)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def pack_started(pids: Path) -> tuple[int, int]:
    assert wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 2), "the pack never started"
    pack_pid, child_pid = map(int, pids.read_text().split())
    return pack_pid, child_pid


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_plan_in_one_line_and_the_pack_with_it(sleeping_pack, signum, code):
    pack, pids = sleeping_pack
    plan = start_plan(pack, pids)
    try:
        pack_pid, child_pid = pack_started(pids)
        assert pack_processes(pack) == [pack_pid]
        time.sleep(0.5)  # the program is running or done; the plan waits on the pack either way
        plan.send_signal(signum)
        _, err = plan.communicate(timeout=60)
    finally:
        if plan.poll() is None:
            plan.kill()
    assert plan.returncode == code
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"error: stopped by {signal.Signals(signum).name}; the policy pack was stopped too",
    ], err
    assert wait_until(lambda: not alive(pack_pid) and not alive(child_pid), timeout=10)
    assert pack_processes(pack) == []


def test_a_signal_while_the_program_runs_stops_it_too(sleeping_pack):
    pack, pids = sleeping_pack
    plan = start_plan(pack, pids)
    try:
        pack_pid, child_pid = pack_started(pids)  # the program starts after the pack, so it is running now
        plan.send_signal(signal.SIGTERM)
        _, err = plan.communicate(timeout=60)
    finally:
        if plan.poll() is None:
            plan.kill()
    assert plan.returncode == 143
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "error: stopped by SIGTERM; the policy pack was stopped too"
    assert wait_until(lambda: not alive(pack_pid) and not alive(child_pid), timeout=10)


def test_a_plan_killed_outright_takes_the_pack_with_it(sleeping_pack):
    pack, pids = sleeping_pack
    plan = start_plan(pack, pids)
    try:
        pack_pid, _ = pack_started(pids)
        plan.kill()  # SIGKILL: no handler, no cleanup runs in the plan
        plan.communicate(timeout=60)
    finally:
        if plan.poll() is None:
            plan.kill()
    assert wait_until(lambda: not alive(pack_pid), timeout=10)  # the parent-death signal
    assert pack_processes(pack) == []
