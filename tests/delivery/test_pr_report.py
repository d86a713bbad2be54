"""The pull-request workflow posts the offline report diffed against the base branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tools.harness import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pull-request.yml"


def offline_plan_job() -> dict[str, Any]:
    workflow = yaml.safe_load(Path(WORKFLOW).read_text(encoding="utf-8"))
    job: dict[str, Any] = workflow["jobs"]["offline-plan"]
    return job


def test_the_plan_step_diffs_against_the_base_commit_it_fetched():
    steps = offline_plan_job()["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    # A shallow clone holds only the merge commit: the base must be fetched for `git archive` to read it.
    assert checkout["with"]["fetch-depth"] == 0
    plan = next(s for s in steps if "--markdown" in str(s.get("run", "")))
    assert plan["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert plan["run"].startswith('./dev plan "$STACK" --base "$BASE_SHA" ')


def test_the_comment_posts_the_markdown_the_plan_wrote():
    steps = offline_plan_job()["steps"]
    plan = next(s for s in steps if "--markdown" in str(s.get("run", "")))
    comment = next(s for s in steps if str(s.get("uses", "")).startswith("actions/github-script@"))
    assert '--markdown "plan-$STACK.md"' in plan["run"]
    assert "const file = `plan-${process.env.STACK}.md`;" in comment["with"]["script"]
