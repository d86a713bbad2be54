"""policies/taggable_types.txt is in sync with the installed pulumi-aws SDK."""

import importlib.metadata

import pytest

from policies.tag_rules import TAGGABLE_TYPES_FILE, taggable_types
from tools.aws_schema import is_taggable, resource_tokens
from tools.gen_taggable_types import HEADER, render
from tools.harness import run_program


def test_the_file_was_generated_from_the_installed_sdk():
    header = TAGGABLE_TYPES_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert header == HEADER.format(version=importlib.metadata.version("pulumi-aws")), (
        "pulumi-aws changed: run `python -m tools.gen_taggable_types`"
    )
    assert taggable_types() <= set(resource_tokens())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_aws_type_of_the_plans_is_classified_as_the_sdk_does(stack):
    used = {r.type for r in run_program(stack, "preview").resources if r.type.startswith("aws:")}
    assert len(used) > 25
    mismatched = {t for t in used if (t in taggable_types()) != is_taggable(t)}
    assert not mismatched, "run `python -m tools.gen_taggable_types`"


def test_the_file_format_is_sorted_and_headed():
    assert render(["b", "a"], "1.2.3") == HEADER.format(version="1.2.3") + "\na\nb\n"
    lines = [line for line in TAGGABLE_TYPES_FILE.read_text().splitlines() if not line.startswith("#")]
    assert lines == sorted(lines)
