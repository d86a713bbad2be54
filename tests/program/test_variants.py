"""Variant stacks (`examples/variants/*.yaml`): one per engine or mode the platform offers beside the dev and prod
stacks' own (GitOps engine, Vault mode, node autoscaler, add-on install modes, manifest directories). Each is a
whole settings file planned under the prod stack: it must pass the whole policy pack at production levels and the
linters, in both modes. Their Helm releases and custom resources are checked against upstream in
`tests/contracts/test_chart_fidelity.py`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.config.test_settings import KEY
from tests.policies.test_pack_grpc import started_with
from tools.harness import MODES, Mode, Plan, run_program
from tools.linters import lint_plan

VARIANTS_DIR = Path(__file__).resolve().parents[2] / "examples" / "variants"
VARIANTS = sorted(path.stem for path in VARIANTS_DIR.glob("*.yaml"))


def variant_settings(variant: str) -> dict[str, Any]:
    """The settings of ``examples/variants/<variant>.yaml``."""
    settings = yaml.safe_load((VARIANTS_DIR / f"{variant}.yaml").read_text())[KEY]
    assert isinstance(settings, dict)
    return settings


@cache
def variant_plan(variant: str, mode: Mode = "update") -> Plan:
    """The variant planned as the prod stack."""
    return run_program("prod", mode, config_overrides={KEY: variant_settings(variant)})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_passes_the_production_gate_and_the_linters(variant, mode):
    plan = variant_plan(variant, mode)
    pack = started_with("prod", variant_settings(variant))
    try:
        report = pack.analyze(plan, {})
    finally:
        pack.close()
    assert [(v.policy, v.urn.rsplit("::", 1)[-1], v.message) for v in report.violations] == []
    assert report.analyzed == len(plan.resources)
    if mode == "update":
        assert lint_plan(plan).failing == []
