"""Entry point the Pulumi CLI runs (``python -m pulumi.policy <engine> policies``): builds and serves the pack.

The rules live in importable modules (importing a file that constructs `PolicyPack` would block: it serves
forever). The repository root goes on ``sys.path`` so that the pack shares ``components.naming`` and
``components.tagging`` with the program.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.catalog import PACK_NAME, build_policies
from policies.settings import PackContext

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(PackContext.from_environment()),
    enforcement_level=EnforcementLevel.ADVISORY,
)
