"""The offline CrossGuard runner: config as the CLI computes it, pack start-up failures, no leaked processes."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import grpc  # type: ignore[import-untyped, unused-ignore]
import pytest
from google.protobuf.json_format import ParseDict
from pulumi.runtime.proto import analyzer_pb2, engine_pb2, engine_pb2_grpc

from tools.policy_runner import (
    PolicyReport,
    PolicyRunError,
    RunningPack,
    Violation,
    effective_config,
    load_policy_config,
    render_report,
    start_engine,
)


def info() -> analyzer_pb2.AnalyzerInfo:
    return ParseDict(
        {
            "name": "pack",
            "version": "0.0.1",
            "policies": [
                {
                    "name": "ports",
                    "enforcementLevel": "MANDATORY",
                    "configSchema": {
                        "properties": {
                            "allowed": {"type": "array", "default": [443]},
                            "strict": {"type": "boolean", "default": True},
                        }
                    },
                },
                {"name": "tags", "enforcementLevel": "ADVISORY"},
            ],
            "initialConfig": {"tags": {"enforcementLevel": "MANDATORY"}},
        },
        analyzer_pb2.AnalyzerInfo(),
    )


def test_defaults_initial_config_and_user_config_are_layered_as_the_cli_does():
    assert effective_config(info(), {}) == {
        "ports": ("mandatory", {"allowed": [443], "strict": True}),
        "tags": ("mandatory", {}),
    }
    user = {"all": "advisory", "ports": {"allowed": [22]}}
    assert effective_config(info(), user) == {
        "ports": ("advisory", {"allowed": [22], "strict": True}),
        "tags": ("advisory", {}),
    }
    assert effective_config(info(), {"tags": "disabled"})["tags"] == ("disabled", {})


@pytest.mark.parametrize(
    ("user", "error"),
    [
        ({"nope": "advisory"}, "policy config names unknown policies: nope"),
        ({"ports": {"other": 1}}, "unknown property 'other'"),
        ({"ports": {"allowed": "443"}}, "ports.allowed: expected array"),
        ({"ports": {"strict": 1}}, "ports.strict: expected boolean"),
        ({"ports": "block"}, "unknown enforcement level 'block'"),
        ({"ports": 3}, "expected a level or an object"),
    ],
)
def test_bad_policy_config_is_refused(user, error):
    with pytest.raises(PolicyRunError, match=error):
        effective_config(info(), user)


def test_policy_config_files(tmp_path):
    assert load_policy_config(None) == {}
    path = tmp_path / "c.json"
    path.write_text('{"ports": "advisory"}')
    assert load_policy_config(path) == {"ports": "advisory"}
    path.write_text("[1]")
    with pytest.raises(PolicyRunError, match="expected a JSON object"):
        load_policy_config(path)
    with pytest.raises(PolicyRunError, match=r"missing\.json"):
        load_policy_config(tmp_path / "missing.json")


def test_the_engine_stub_keeps_log_lines():
    server, engine, address = start_engine()
    try:
        with grpc.insecure_channel(address) as channel:
            stub = engine_pb2_grpc.EngineStub(channel)
            stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message="careful"), timeout=5)
            stub.SetRootResource(engine_pb2.SetRootResourceRequest(urn="urn:root"), timeout=5)
            assert stub.GetRootResource(engine_pb2.GetRootResourceRequest(), timeout=5).urn == "urn:root"
        assert engine.logs == ["warning: careful"]
    finally:
        server.stop(grace=None)


def fake_pack(tmp_path: Path, main: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 9.9.9\n")
    (pack / "__main__.py").write_text(textwrap.dedent(main))
    return pack


def test_a_pack_that_crashes_reports_its_stderr_and_is_gone(tmp_path):
    pack_dir = fake_pack(tmp_path, "raise SystemExit('boom: bad pack')\n")
    pack = RunningPack(project="p", stack="s", stack_config={}, pack_dir=pack_dir, timeout=20)
    with pack, pytest.raises(PolicyRunError, match="exited with code 1 before serving") as caught:
        pack.stub()
    assert "boom: bad pack" in str(caught.value)
    assert pack._process.poll() is not None


def test_a_pack_that_never_serves_times_out_and_is_killed(tmp_path):
    pack_dir = fake_pack(tmp_path, "import time\ntime.sleep(60)\n")
    start = time.monotonic()
    pack = RunningPack(project="p", stack="s", stack_config={}, pack_dir=pack_dir, timeout=1)
    with pack, pytest.raises(PolicyRunError, match="printed no port within 1 s"):
        pack.stub()
    assert pack._process.poll() is not None
    assert time.monotonic() - start < 15


def test_the_pack_gets_the_cli_environment(tmp_path):
    main = """
        import json, os, sys
        keys = ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_CONFIG")
        sys.stderr.write(json.dumps({k: os.environ[k] for k in keys}))
        sys.stderr.write("\\nargs=" + repr(sys.argv))
        raise SystemExit(3)
    """
    pack = RunningPack(
        project="proj", stack="st", stack_config={"proj:k": "v"}, dry_run=False, pack_dir=fake_pack(tmp_path, main)
    )
    with pack, pytest.raises(PolicyRunError, match="exited with code 3") as caught:
        pack.stub()
    text = str(caught.value)
    assert '"PULUMI_PROJECT": "proj", "PULUMI_STACK": "st", "PULUMI_DRY_RUN": "false"' in text
    assert '"PULUMI_CONFIG": "{\\"proj:k\\": \\"v\\"}"' in text
    assert "127.0.0.1:" in text  # the engine address is the first argument


def test_violations_are_printed_grouped_by_policy_with_level_and_resource():
    report = PolicyReport(
        pack="eks-platform",
        version="0.1.0",
        stack="prod",
        policies=[],
        violations=[
            Violation("b-policy", "advisory", "urn:b", "B description\nsecond problem."),
            Violation("a-policy", "mandatory", "urn:a", "A description\nfirst problem.\nRemediation: fix it."),
            Violation("b-policy", "advisory", "", "B description\nstack problem."),
        ],
        analyzed=3,
    )
    assert list(render_report(report)) == [
        "Policy pack eks-platform@0.1.0 on prod: 0 policies, 3 resources analyzed",
        "  a-policy [mandatory]: 1 violation(s)",
        "    urn:a",
        "      first problem.",
        "      Remediation: fix it.",
        "  b-policy [advisory]: 2 violation(s)",
        "    (stack)",
        "      stack problem.",
        "    urn:b",
        "      second problem.",
        "Policy violations: 1 mandatory, 2 advisory",
    ]
    assert report.to_json()["violations"][0] == {
        "policy": "a-policy",
        "level": "mandatory",
        "urn": "urn:a",
        "message": "A description\nfirst problem.\nRemediation: fix it.",
    }
